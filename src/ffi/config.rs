//! `paytrim_auth_config`: a key/value configuration in the style of
//! librdkafka, validated at set time.

use super::boundary::{run, run_or};
use super::error::paytrim_auth_error;
use super::strings;
use crate::config::ClientConfig;
use crate::error::Error;
use std::ffi::c_char;

/// Client configuration. Create with `paytrim_auth_config_new`, fill with
/// `paytrim_auth_config_set`, pass to `paytrim_auth_client_new` (which copies
/// it), free with `paytrim_auth_config_free`. Not safe to modify from several
/// threads at once.
pub struct paytrim_auth_config {
    pub(crate) inner: ClientConfig,
}

/// A configuration holding the documented defaults (tenant `common`, scope
/// `https://graph.microsoft.com/.default`, ...). Never NULL; the caller owns
/// it and frees it with `paytrim_auth_config_free`.
#[no_mangle]
pub extern "C" fn paytrim_auth_config_new() -> *mut paytrim_auth_config {
    Box::into_raw(Box::new(paytrim_auth_config { inner: ClientConfig::default() }))
}

/// Sets `key` to `value` (both UTF-8 text). Keys: `tenant`, `scope`,
/// `authority_host`, `token_url`, `client_auth`, `ca_file`, `tls_roots`,
/// `connect_timeout_ms`, `timeout_ms`, `total_timeout_ms`, `max_attempts`,
/// `refresh_margin_s`, `proxy`. An unknown key or a bad value is refused
/// (`PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT`, naming the key) and leaves the
/// configuration unchanged. Returns NULL on success.
///
/// # Safety
/// `config` is NULL or a live configuration not used by another thread
/// during the call; `key` and `value` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_config_set(
    config: *mut paytrim_auth_config,
    key: *const c_char,
    value: *const c_char,
) -> *mut paytrim_auth_error {
    run(|| {
        let config = config.as_mut().ok_or_else(|| Error::invalid_argument("config is NULL"))?;
        let key = strings::arg(key, "key")?;
        // A bad value names its key, as every config error does.
        let value = strings::arg(value, &format!("value of config key '{key}'"))?;
        config.inner.set(key, value)
    })
}

/// Frees a configuration. NULL is accepted.
///
/// # Safety
/// `config` is NULL or a configuration from `paytrim_auth_config_new`, not
/// yet freed.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_config_free(config: *mut paytrim_auth_config) {
    run_or((), || {
        if !config.is_null() {
            drop(Box::from_raw(config));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::error::{paytrim_auth_error_free, paytrim_auth_error_message};
    use std::ffi::{CStr, CString};

    #[test]
    fn a_bad_value_names_the_key_even_when_it_is_not_text() {
        unsafe {
            let config = paytrim_auth_config_new();
            let key = CString::new("tenant").unwrap();
            let value = CString::new(vec![b'a', 0xff, b'b']).unwrap();
            for v in [value.as_ptr(), std::ptr::null()] {
                let err = paytrim_auth_config_set(config, key.as_ptr(), v);
                assert!(!err.is_null());
                let msg = CStr::from_ptr(paytrim_auth_error_message(err)).to_str().unwrap().to_owned();
                assert!(msg.contains("'tenant'"), "{msg}");
                paytrim_auth_error_free(err);
            }
            paytrim_auth_config_free(config);
        }
    }
}

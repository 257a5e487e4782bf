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

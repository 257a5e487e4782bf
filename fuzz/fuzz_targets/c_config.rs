//! Arbitrary bytes (invalid UTF-8 included) through the C ABI's config and
//! client constructors: an error or success, never a crash, and every
//! object freed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use paytrim_auth::ffi::*;
use std::ffi::CString;

fuzz_target!(|input: (Vec<u8>, Vec<u8>, Vec<u8>)| {
    let (key, value, id) = input;
    let (Ok(key), Ok(value), Ok(id)) = (CString::new(key), CString::new(value), CString::new(id)) else {
        return;
    };
    unsafe {
        let config = paytrim_auth_config_new();
        let err = paytrim_auth_config_set(config, key.as_ptr(), value.as_ptr());
        if !err.is_null() {
            assert_eq!(paytrim_auth_error_code(err), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT);
            assert!(!paytrim_auth_error_message(err).is_null());
        }
        paytrim_auth_error_free(err);
        let mut client = std::ptr::null_mut();
        let err = paytrim_auth_client_new(id.as_ptr(), value.as_ptr(), config, &mut client);
        assert!(err.is_null() != client.is_null());
        paytrim_auth_error_free(err);
        paytrim_auth_client_free(client);
        paytrim_auth_config_free(config);
    }
});

//! Arbitrary sequences of C ABI calls with arbitrary bytes (invalid UTF-8,
//! huge strings, NULL pointers): configs, clients, cached-token reads, every
//! error accessor, the log callback, frees. Each call answers an error or
//! success, never a crash; every object is freed (leaks show under ASan).
//! No call here can send a request.
#![no_main]
use libfuzzer_sys::fuzz_target;
use paytrim_auth::ffi::*;
use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;

fn text(bytes: &[u8]) -> CString {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).unwrap()
}

unsafe extern "C" fn on_log(_user: *mut c_void, level: u32, message: *const c_char) {
    assert!((1..=5).contains(&level));
    assert!(!CStr::from_ptr(message).to_bytes().is_empty());
}

unsafe fn read_error(err: *mut paytrim_auth_error) {
    if err.is_null() {
        return;
    }
    let code = paytrim_auth_error_code(err);
    assert!((1..=10).contains(&code), "code {code}");
    assert!(!CStr::from_ptr(paytrim_auth_error_message(err)).to_bytes().is_empty());
    assert!(!paytrim_auth_error_code_name(code).is_null());
    let _ = paytrim_auth_error_is_retryable(err);
    let _ = paytrim_auth_error_http_status(err);
    let _ = paytrim_auth_error_retry_after_ms(err);
    let mut n = 0usize;
    let _ = paytrim_auth_error_aadsts_codes(err, &mut n);
    for s in [
        paytrim_auth_error_oauth_error(err),
        paytrim_auth_error_oauth_error_description(err),
        paytrim_auth_error_trace_id(err),
        paytrim_auth_error_correlation_id(err),
        paytrim_auth_error_client_request_id(err),
        paytrim_auth_error_timestamp(err),
    ] {
        if !s.is_null() {
            let _ = CStr::from_ptr(s).to_bytes().len();
        }
    }
    paytrim_auth_error_free(err);
}

fuzz_target!(|ops: Vec<(u8, Vec<u8>, Vec<u8>)>| {
    unsafe {
        let config = paytrim_auth_config_new();
        let mut clients: Vec<*mut paytrim_auth_client> = Vec::new();
        for (op, a, b) in ops.iter().take(64) {
            let (a, b) = (text(a), text(b));
            match op % 9 {
                0 => read_error(paytrim_auth_config_set(config, a.as_ptr(), b.as_ptr())),
                1 => read_error(paytrim_auth_config_set(
                    if op & 0x10 != 0 { ptr::null_mut() } else { config },
                    if op & 0x20 != 0 { ptr::null() } else { a.as_ptr() },
                    if op & 0x40 != 0 { ptr::null() } else { b.as_ptr() },
                )),
                2 | 3 => {
                    let mut client = ptr::null_mut();
                    let cfg = if op & 0x10 != 0 { ptr::null() } else { config as *const _ };
                    let err = paytrim_auth_client_new(a.as_ptr(), b.as_ptr(), cfg, &mut client);
                    assert!(err.is_null() != client.is_null());
                    read_error(err);
                    if !client.is_null() {
                        clients.push(client);
                    }
                }
                4 => {
                    let client = clients.last().copied().unwrap_or(ptr::null_mut());
                    let mut token = ptr::null_mut();
                    let mut expires = 0i64;
                    read_error(paytrim_auth_client_get_cached_token(client, &mut token, &mut expires));
                    assert!(token.is_null(), "a token without any request");
                    paytrim_auth_string_free(token);
                }
                5 => read_error(paytrim_auth_client_get_cached_token(ptr::null(), ptr::null_mut(), ptr::null_mut())),
                6 => {
                    let level = a.as_bytes().first().copied().unwrap_or(0) as u32;
                    let cb = if op & 0x10 != 0 { None } else { Some(on_log as unsafe extern "C" fn(_, _, _)) };
                    read_error(paytrim_auth_set_log_callback(level, cb, ptr::null_mut()));
                    paytrim_auth_set_log_pii(op & 0x20 != 0);
                }
                7 => {
                    if let Some(c) = clients.pop() {
                        paytrim_auth_client_free(c);
                    }
                    paytrim_auth_client_free(ptr::null_mut());
                    paytrim_auth_string_free(ptr::null_mut());
                    paytrim_auth_error_free(ptr::null_mut());
                }
                _ => {
                    assert_eq!(paytrim_auth_abi_version(), PAYTRIM_AUTH_ABI_VERSION);
                    assert!(!CStr::from_ptr(paytrim_auth_version()).to_bytes().is_empty());
                }
            }
        }
        for c in clients {
            paytrim_auth_client_free(c);
        }
        paytrim_auth_config_free(config);
        read_error(paytrim_auth_set_log_callback(0, None, ptr::null_mut()));
    }
});

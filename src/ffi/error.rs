//! `paytrim_auth_error`: an immutable error object, safe to read from any
//! thread (there is no thread-local "last error"), freed by its owner.

use super::boundary::run_or;
use crate::error::{Error, ErrorCode};
use std::ffi::{c_char, CString};
use std::ptr;

/// Invalid argument or configuration, caught before any request.
pub const PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT: u32 = 1;
/// The identity provider rejected the client id or its secret
/// (`invalid_client`, `unauthorized_client`, AADSTS7000215, 7000222, 700016).
pub const PAYTRIM_AUTH_ERROR_CREDENTIAL_REJECTED: u32 = 2;
/// The tenant does not exist or a tenant-less authority was refused
/// (AADSTS90002, 50059, 900023).
pub const PAYTRIM_AUTH_ERROR_TENANT_NOT_FOUND: u32 = 3;
/// Throttled (429, or 503 with Retry-After); see `paytrim_auth_error_retry_after_ms`.
pub const PAYTRIM_AUTH_ERROR_THROTTLED: u32 = 4;
/// Connection failed, was reset, or timed out.
pub const PAYTRIM_AUTH_ERROR_NETWORK: u32 = 5;
/// TLS handshake failed (untrusted certificate, wrong host name...).
pub const PAYTRIM_AUTH_ERROR_TLS: u32 = 6;
/// The identity provider failed (HTTP 5xx).
pub const PAYTRIM_AUTH_ERROR_SERVER: u32 = 7;
/// The answer could not be understood (not JSON, no token, too large...).
pub const PAYTRIM_AUTH_ERROR_PROTOCOL: u32 = 8;
/// The identity provider refused the request for another reason
/// (`invalid_scope`, `invalid_request`...).
pub const PAYTRIM_AUTH_ERROR_REQUEST_REJECTED: u32 = 9;
/// A bug in paytrim-auth (a caught panic, a failed thread start).
pub const PAYTRIM_AUTH_ERROR_INTERNAL: u32 = 10;

/// An error: a stable code, a message safe to log, and the identity
/// provider's details. Owned by whoever received it; free it with
/// `paytrim_auth_error_free`. Immutable: any thread may read it, and strings
/// it returns stay valid until it is freed.
pub struct paytrim_auth_error {
    error: Error,
    message: CString,
    oauth_error: Option<CString>,
    oauth_error_description: Option<CString>,
    trace_id: Option<CString>,
    correlation_id: Option<CString>,
    client_request_id: Option<CString>,
    timestamp: Option<CString>,
}

fn c(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

impl paytrim_auth_error {
    pub(crate) fn new(error: Error) -> Self {
        let oauth = error.oauth();
        paytrim_auth_error {
            message: c(error.message()),
            oauth_error: oauth.error.as_deref().map(c),
            oauth_error_description: oauth.error_description.as_deref().map(c),
            trace_id: oauth.trace_id.as_deref().map(c),
            correlation_id: oauth.correlation_id.as_deref().map(c),
            client_request_id: error.client_request_id().map(c),
            timestamp: oauth.timestamp.as_deref().map(c),
            error,
        }
    }

    pub(crate) fn boxed(error: Error) -> *mut paytrim_auth_error {
        Box::into_raw(Box::new(paytrim_auth_error::new(error)))
    }
}

fn get<'a>(e: *const paytrim_auth_error) -> Option<&'a paytrim_auth_error> {
    // SAFETY: the caller passes NULL or a live error from this library.
    unsafe { e.as_ref() }
}

fn opt(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(ptr::null(), |s| s.as_ptr())
}

/// The error's category, one of `PAYTRIM_AUTH_ERROR_*`; 0 for NULL.
#[no_mangle]
pub extern "C" fn paytrim_auth_error_code(error: *const paytrim_auth_error) -> u32 {
    run_or(0, || get(error).map_or(0, |e| e.error.code().as_u32()))
}

/// A one-paragraph description, safe to log (never holds a secret or token).
/// Borrowed from `error`; NULL for NULL.
#[no_mangle]
pub extern "C" fn paytrim_auth_error_message(error: *const paytrim_auth_error) -> *const c_char {
    run_or(ptr::null(), || get(error).map_or(ptr::null(), |e| e.message.as_ptr()))
}

/// Whether the same call may succeed later (throttled, network, server,
/// protocol); false for NULL.
#[no_mangle]
pub extern "C" fn paytrim_auth_error_is_retryable(error: *const paytrim_auth_error) -> bool {
    run_or(false, || get(error).is_some_and(|e| e.error.is_retryable()))
}

/// The HTTP status of the answer that caused the error; 0 when there was none.
#[no_mangle]
pub extern "C" fn paytrim_auth_error_http_status(error: *const paytrim_auth_error) -> u16 {
    run_or(0, || get(error).and_then(|e| e.error.http_status()).unwrap_or(0))
}

/// The OAuth `error` field (e.g. `invalid_client`); NULL when absent.
/// Borrowed from `error`.
#[no_mangle]
pub extern "C" fn paytrim_auth_error_oauth_error(error: *const paytrim_auth_error) -> *const c_char {
    run_or(ptr::null(), || get(error).map_or(ptr::null(), |e| opt(&e.oauth_error)))
}

/// The OAuth `error_description` field, verbatim; NULL when absent.
/// Borrowed from `error`.
#[no_mangle]
pub extern "C" fn paytrim_auth_error_oauth_error_description(error: *const paytrim_auth_error) -> *const c_char {
    run_or(ptr::null(), || get(error).map_or(ptr::null(), |e| opt(&e.oauth_error_description)))
}

/// Entra's AADSTS codes (`error_codes`). Writes their count to `*out_len`
/// (if `out_len` is not NULL) and returns the array, borrowed from `error`;
/// NULL when there are none.
///
/// # Safety
/// `error` is NULL or a live error; `out_len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_error_aadsts_codes(
    error: *const paytrim_auth_error,
    out_len: *mut usize,
) -> *const u32 {
    run_or(ptr::null(), || {
        let codes = get(error).map_or(&[][..], |e| e.error.aadsts_codes());
        if !out_len.is_null() {
            // SAFETY: checked for NULL; the caller passes a writable size_t.
            unsafe { out_len.write(codes.len()) };
        }
        if codes.is_empty() {
            ptr::null()
        } else {
            codes.as_ptr()
        }
    })
}

/// Entra's `trace_id`; NULL when absent. Borrowed from `error`.
#[no_mangle]
pub extern "C" fn paytrim_auth_error_trace_id(error: *const paytrim_auth_error) -> *const c_char {
    run_or(ptr::null(), || get(error).map_or(ptr::null(), |e| opt(&e.trace_id)))
}

/// Entra's `correlation_id`; NULL when absent. Borrowed from `error`.
#[no_mangle]
pub extern "C" fn paytrim_auth_error_correlation_id(error: *const paytrim_auth_error) -> *const c_char {
    run_or(ptr::null(), || get(error).map_or(ptr::null(), |e| opt(&e.correlation_id)))
}

/// The `client-request-id` this library sent with the failing request; NULL
/// when no request was sent. Borrowed from `error`.
#[no_mangle]
pub extern "C" fn paytrim_auth_error_client_request_id(error: *const paytrim_auth_error) -> *const c_char {
    run_or(ptr::null(), || get(error).map_or(ptr::null(), |e| opt(&e.client_request_id)))
}

/// Entra's `timestamp` field; NULL when absent. Borrowed from `error`.
#[no_mangle]
pub extern "C" fn paytrim_auth_error_timestamp(error: *const paytrim_auth_error) -> *const c_char {
    run_or(ptr::null(), || get(error).map_or(ptr::null(), |e| opt(&e.timestamp)))
}

/// How long to wait before trying again, in milliseconds (from `Retry-After`
/// or a remembered throttle); -1 when unknown.
#[no_mangle]
pub extern "C" fn paytrim_auth_error_retry_after_ms(error: *const paytrim_auth_error) -> i64 {
    run_or(-1, || {
        get(error).and_then(|e| e.error.retry_after()).map_or(-1, |d| d.as_millis().min(i64::MAX as u128) as i64)
    })
}

/// The stable snake_case name of an error code (e.g. `credential_rejected`),
/// or `unknown`. Static storage; never free it.
#[no_mangle]
pub extern "C" fn paytrim_auth_error_code_name(code: u32) -> *const c_char {
    let name: &'static [u8] = match ErrorCode::from_u32(code) {
        Some(ErrorCode::InvalidArgument) => b"invalid_argument\0",
        Some(ErrorCode::CredentialRejected) => b"credential_rejected\0",
        Some(ErrorCode::TenantNotFound) => b"tenant_not_found\0",
        Some(ErrorCode::Throttled) => b"throttled\0",
        Some(ErrorCode::Network) => b"network\0",
        Some(ErrorCode::Tls) => b"tls\0",
        Some(ErrorCode::Server) => b"server\0",
        Some(ErrorCode::Protocol) => b"protocol\0",
        Some(ErrorCode::RequestRejected) => b"request_rejected\0",
        Some(ErrorCode::Internal) => b"internal\0",
        None => b"unknown\0",
    };
    name.as_ptr() as *const c_char
}

/// Frees an error. NULL is accepted.
///
/// # Safety
/// `error` is NULL or an error from this library, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_error_free(error: *mut paytrim_auth_error) {
    run_or((), || {
        if !error.is_null() {
            drop(Box::from_raw(error));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn constants_match_the_core_codes() {
        let pairs = [
            (PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, ErrorCode::InvalidArgument),
            (PAYTRIM_AUTH_ERROR_CREDENTIAL_REJECTED, ErrorCode::CredentialRejected),
            (PAYTRIM_AUTH_ERROR_TENANT_NOT_FOUND, ErrorCode::TenantNotFound),
            (PAYTRIM_AUTH_ERROR_THROTTLED, ErrorCode::Throttled),
            (PAYTRIM_AUTH_ERROR_NETWORK, ErrorCode::Network),
            (PAYTRIM_AUTH_ERROR_TLS, ErrorCode::Tls),
            (PAYTRIM_AUTH_ERROR_SERVER, ErrorCode::Server),
            (PAYTRIM_AUTH_ERROR_PROTOCOL, ErrorCode::Protocol),
            (PAYTRIM_AUTH_ERROR_REQUEST_REJECTED, ErrorCode::RequestRejected),
            (PAYTRIM_AUTH_ERROR_INTERNAL, ErrorCode::Internal),
        ];
        assert_eq!(pairs.len(), ErrorCode::ALL.len());
        for (n, code) in pairs {
            assert_eq!(n, code.as_u32());
            let name = unsafe { CStr::from_ptr(paytrim_auth_error_code_name(n)) };
            assert_eq!(name.to_str().unwrap(), code.name());
        }
    }
}

//! Per-call scopes: the token getters of `client.rs` and `notify.rs` for a
//! scope set named per call. `scopes` is one space-separated string (as the
//! `scope` config key); each scope set has its own cache entry, single
//! flight, background refresh and throttle memory, and the client's
//! configured scopes give its own entry.

use super::boundary::run;
use super::client::{c_callback, client_ref, get_token, paytrim_auth_client, paytrim_auth_token_callback, Which};
use super::error::paytrim_auth_error;
use super::notify::{deliver, notify_call};
use super::strings;
use crate::client::Client;
use crate::error::Error;
use std::ffi::{c_char, c_void};
use std::ptr;

/// `client` for the scope set `scopes` names.
///
/// # Safety
/// `client` is NULL or live; `scopes` is NULL or NUL-terminated.
unsafe fn scoped(client: *const paytrim_auth_client, scopes: *const c_char) -> Result<Client, Error> {
    client_ref(client)?.for_scopes_text(strings::arg(scopes, "scopes")?)
}

unsafe fn token_call(
    client: *const paytrim_auth_client,
    scopes: *const c_char,
    out_token: *mut *mut c_char,
    out_expires: *mut i64,
    which: Which,
) -> *mut paytrim_auth_error {
    run(|| {
        strings::clear(out_expires, 0);
        let out = strings::out(out_token, "out_token", ptr::null_mut())?;
        get_token(&scoped(client, scopes)?, out, out_expires, which)
    })
}

/// `paytrim_auth_client_get_token` for the scopes `scopes` names (space
/// separated, e.g. `"api://orders/.default"`) instead of the configured ones:
/// same credential and configuration, a cache entry of its own (shared, like
/// any key, with every client of the same key), one request however many
/// callers ask. The configured scopes give the client's own entry. The first
/// call for a scope set prepares its request (no I/O); up to 64 scope sets
/// are kept per client, least recently used dropped first (its cached token
/// stays cached). A cache hit costs one short lock more than
/// `paytrim_auth_client_get_token`.
///
/// Errors (`PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT`): `scopes` NULL, not UTF-8,
/// empty or only spaces, with a control character, more than 64 scopes or a
/// scope longer than 2048 bytes; for a managed identity, more than one scope
/// (a token is for one resource). Outputs as for
/// `paytrim_auth_client_get_token`.
///
/// # Safety
/// `client` is NULL or live; `scopes` is NULL or NUL-terminated;
/// `out_token` is NULL or writable; `out_expires_on_unix_ms` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_get_token_for_scopes(
    client: *const paytrim_auth_client,
    scopes: *const c_char,
    out_token: *mut *mut c_char,
    out_expires_on_unix_ms: *mut i64,
) -> *mut paytrim_auth_error {
    token_call(client, scopes, out_token, out_expires_on_unix_ms, Which::Valid)
}

/// `paytrim_auth_client_get_cached_token` for the scopes `scopes` names
/// (see `paytrim_auth_client_get_token_for_scopes`). Never blocks.
///
/// # Safety
/// As for `paytrim_auth_client_get_token_for_scopes`.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_get_cached_token_for_scopes(
    client: *const paytrim_auth_client,
    scopes: *const c_char,
    out_token: *mut *mut c_char,
    out_expires_on_unix_ms: *mut i64,
) -> *mut paytrim_auth_error {
    token_call(client, scopes, out_token, out_expires_on_unix_ms, Which::Cached)
}

/// `paytrim_auth_client_refresh_token` for the scopes `scopes` names (see
/// `paytrim_auth_client_get_token_for_scopes`): drops that scope set's cached
/// token only.
///
/// # Safety
/// As for `paytrim_auth_client_get_token_for_scopes`.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_refresh_token_for_scopes(
    client: *const paytrim_auth_client,
    scopes: *const c_char,
    out_token: *mut *mut c_char,
    out_expires_on_unix_ms: *mut i64,
) -> *mut paytrim_auth_error {
    token_call(client, scopes, out_token, out_expires_on_unix_ms, Which::Refreshed)
}

unsafe fn async_call(
    client: *const paytrim_auth_client,
    scopes: *const c_char,
    callback: paytrim_auth_token_callback,
    user_data: *mut c_void,
    refresh: bool,
) -> *mut paytrim_auth_error {
    run(|| {
        let callback = callback.ok_or_else(|| Error::invalid_argument("callback is NULL"))?;
        let client = scoped(client, scopes)?;
        let deliver = c_callback(callback, user_data);
        if refresh {
            client.force_refresh_async(deliver);
        } else {
            client.token_async(deliver);
        }
        Ok(())
    })
}

/// `paytrim_auth_client_get_token_async` for the scopes `scopes` names (see
/// `paytrim_auth_client_get_token_for_scopes`). Bad arguments, bad scopes
/// included, are returned as an error and the callback is not called.
///
/// # Safety
/// As for `paytrim_auth_client_get_token_async`; `scopes` is NULL or
/// NUL-terminated (read before this returns).
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_get_token_for_scopes_async(
    client: *const paytrim_auth_client,
    scopes: *const c_char,
    callback: paytrim_auth_token_callback,
    user_data: *mut c_void,
) -> *mut paytrim_auth_error {
    async_call(client, scopes, callback, user_data, false)
}

/// `paytrim_auth_client_refresh_token_async` for the scopes `scopes` names.
///
/// # Safety
/// As for `paytrim_auth_client_get_token_for_scopes_async`.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_refresh_token_for_scopes_async(
    client: *const paytrim_auth_client,
    scopes: *const c_char,
    callback: paytrim_auth_token_callback,
    user_data: *mut c_void,
) -> *mut paytrim_auth_error {
    async_call(client, scopes, callback, user_data, true)
}

unsafe fn notify(
    client: *const paytrim_auth_client,
    scopes: *const c_char,
    notifier: u64,
    request: u64,
    refresh: bool,
) -> *mut paytrim_auth_error {
    run(|| {
        notify_call(client, notifier, request)?;
        let client = scoped(client, scopes)?;
        let done: crate::flight::Callback = Box::new(move |result| deliver(notifier, request, result));
        if refresh {
            client.force_refresh_async(done);
        } else {
            client.token_async(done);
        }
        Ok(())
    })
}

/// `paytrim_auth_client_get_token_notify` for the scopes `scopes` names (see
/// `paytrim_auth_client_get_token_for_scopes`). Bad scopes are returned as
/// an error and nothing is queued.
///
/// # Safety
/// `client` is NULL or live; `scopes` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_get_token_for_scopes_notify(
    client: *const paytrim_auth_client,
    scopes: *const c_char,
    notifier: u64,
    request: u64,
) -> *mut paytrim_auth_error {
    notify(client, scopes, notifier, request, false)
}

/// `paytrim_auth_client_refresh_token_notify` for the scopes `scopes` names.
///
/// # Safety
/// As for `paytrim_auth_client_get_token_for_scopes_notify`.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_refresh_token_for_scopes_notify(
    client: *const paytrim_auth_client,
    scopes: *const c_char,
    notifier: u64,
    request: u64,
) -> *mut paytrim_auth_error {
    notify(client, scopes, notifier, request, true)
}

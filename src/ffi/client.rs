//! `paytrim_auth_client`: create, get a token (blocking, cached-only, or with
//! a callback), force a refresh, free.

use super::boundary::{free_boxed, run};
use super::config::paytrim_auth_config;
use super::error::paytrim_auth_error;
use super::strings;
use crate::client::Client;
use crate::config::ClientConfig;
use crate::credentials::Credential;
use crate::error::Error;
use crate::token::AccessToken;
use std::ffi::{c_char, c_void};
use std::ptr;

/// A token client. Create with `paytrim_auth_client_new`, free with
/// `paytrim_auth_client_free`. Every function taking a
/// `const paytrim_auth_client *` may be called from any number of threads at
/// once; `paytrim_auth_client_free` must not race with them. Clients with the
/// same authority, tenant, client id, secret and scopes share one cached
/// token, within the process.
pub struct paytrim_auth_client {
    pub(crate) inner: Client,
}

/// Receives the result of `paytrim_auth_client_get_token_async`. Exactly one
/// of `token` and `error` is non-NULL. Both are borrowed and valid only during
/// the call: copy what you need. `expires_on_unix_ms` is the token's expiry
/// in milliseconds since the Unix epoch (0 on error). Runs on the calling
/// thread (cache hit, or immediate failure) or on a library-owned thread; it
/// must not block for long and must not free the client.
pub type paytrim_auth_token_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        token: *const c_char,
        expires_on_unix_ms: i64,
        error: *const paytrim_auth_error,
    ),
>;

impl paytrim_auth_client {
    /// A new C handle owning `client` (for the constructors in other files).
    pub(super) fn boxed(client: Client) -> *mut paytrim_auth_client {
        Box::into_raw(Box::new(paytrim_auth_client { inner: client }))
    }
}

pub(super) unsafe fn client_ref<'a>(client: *const paytrim_auth_client) -> Result<&'a Client, Error> {
    client.as_ref().map(|c| &c.inner).ok_or_else(|| Error::invalid_argument("client is NULL"))
}

/// Creates a client for `client_id` and `client_secret`, with `config` (NULL
/// for the defaults; it is copied, so it may be freed afterwards). Sends no
/// request. On success writes the new client, owned by the caller, to
/// `*out_client` and returns NULL.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `config` is NULL or live;
/// `out_client` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_new(
    client_id: *const c_char,
    client_secret: *const c_char,
    config: *const paytrim_auth_config,
    out_client: *mut *mut paytrim_auth_client,
) -> *mut paytrim_auth_error {
    run(|| {
        let out = strings::out(out_client, "out_client", ptr::null_mut())?;
        let id = strings::arg(client_id, "client_id")?;
        let secret = strings::arg(client_secret, "client_secret")?;
        let default;
        let cfg = match config.as_ref() {
            Some(c) => &c.inner,
            None => {
                default = ClientConfig::default();
                &default
            }
        };
        let client = Client::new(id, Credential::client_secret(secret), cfg)?;
        *out = Box::into_raw(Box::new(paytrim_auth_client { inner: client }));
        Ok(())
    })
}

/// Frees a client. NULL is accepted. Never blocks: a fetch in progress ends
/// on its own thread within its time budget (`total_timeout_ms`).
///
/// # Safety
/// `client` is NULL or a client from `paytrim_auth_client_new`, not yet
/// freed, and no other thread is using it.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_free(client: *mut paytrim_auth_client) {
    free_boxed(client)
}

/// Which token a getter wants.
pub(super) enum Which {
    /// Cached if valid, else fetched now.
    Valid,
    /// Cached if valid, else none; never waits.
    Cached,
    /// Fetched now, replacing the cached one.
    Refreshed,
}

/// The shared body of the token getters: checks and clears the outputs,
/// then writes the token (owned) and its expiry.
unsafe fn token_call(
    client: *const paytrim_auth_client,
    out_token: *mut *mut c_char,
    out_expires: *mut i64,
    which: Which,
) -> *mut paytrim_auth_error {
    run(|| {
        strings::clear(out_expires, 0);
        let out = strings::out(out_token, "out_token", ptr::null_mut())?;
        // The default getters' hit path, written out (not through `get_token`):
        // sharing that function cost ~35 instructions per hit (callgrind).
        let client = client_ref(client)?;
        let write = |t: &AccessToken| write_token(t, out, out_expires);
        match which {
            Which::Valid => client.with_token(write)?,
            Which::Cached => client.with_cached_token(write).unwrap_or(Ok(())),
            Which::Refreshed => client.with_refreshed_token(write)?,
        }
    })
}

/// Writes the token `which` names (owned) and its expiry, from `client`
/// (the per-call-scopes getters).
pub(super) fn get_token(
    client: &Client,
    out: &mut *mut c_char,
    out_expires: *mut i64,
    which: Which,
) -> Result<(), Error> {
    let write = |t: &AccessToken| write_token(t, out, out_expires);
    match which {
        Which::Valid => client.with_token(write)?,
        Which::Cached => client.with_cached_token(write).unwrap_or(Ok(())),
        Which::Refreshed => client.with_refreshed_token(write)?,
    }
}

fn write_token(t: &AccessToken, out_token: &mut *mut c_char, out_expires: *mut i64) -> Result<(), Error> {
    *out_token = strings::owned_or_err(t.secret())?;
    if !out_expires.is_null() {
        // SAFETY: checked for NULL; documented as writable.
        unsafe { out_expires.write(t.expires_on_unix_ms()) };
    }
    Ok(())
}

/// A valid access token: from the cache (no I/O, no lock) or fetched now,
/// with every concurrent caller of the same key sharing one request. Blocks
/// during a fetch, at most `total_timeout_ms` plus a few seconds; the HTTP
/// request runs on a library-owned thread. Writes the token (owned; free
/// with `paytrim_auth_string_free`) to `*out_token` and, if
/// `out_expires_on_unix_ms` is not NULL, its expiry in milliseconds since
/// the Unix epoch. Returns NULL on success.
///
/// # Safety
/// `client` is NULL or live; `out_token` is NULL or writable;
/// `out_expires_on_unix_ms` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_get_token(
    client: *const paytrim_auth_client,
    out_token: *mut *mut c_char,
    out_expires_on_unix_ms: *mut i64,
) -> *mut paytrim_auth_error {
    token_call(client, out_token, out_expires_on_unix_ms, Which::Valid)
}

/// Like `paytrim_auth_client_get_token`, but the answer is the documented
/// JSON `{"token_type":"Bearer","expires_in":<seconds left>,"access_token":"..."}`
/// (owned; free with `paytrim_auth_string_free`).
///
/// # Safety
/// `client` is NULL or live; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_get_token_json(
    client: *const paytrim_auth_client,
    out_json: *mut *mut c_char,
) -> *mut paytrim_auth_error {
    run(|| {
        let out = strings::out(out_json, "out_json", ptr::null_mut())?;
        let json = client_ref(client)?.with_token(|t| t.to_json())?;
        *out = strings::owned_or_err(json.expose())?;
        Ok(())
    })
}

/// Never blocks: writes a valid cached token to `*out_token` (owned) and its
/// expiry to `*out_expires_on_unix_ms` (if not NULL), or leaves `*out_token`
/// NULL when no valid token is cached. Returns NULL in both cases; an error
/// only for bad arguments. Within the refresh margin it also starts a
/// background refresh. Wrappers call it first, and go async only on a miss.
///
/// # Safety
/// As for `paytrim_auth_client_get_token`.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_get_cached_token(
    client: *const paytrim_auth_client,
    out_token: *mut *mut c_char,
    out_expires_on_unix_ms: *mut i64,
) -> *mut paytrim_auth_error {
    token_call(client, out_token, out_expires_on_unix_ms, Which::Cached)
}

/// Drops the cached token of this client's key and fetches a new one
/// (joining a fetch already in progress). Call it after the API answered 401
/// to a token. Outputs as for `paytrim_auth_client_get_token`.
///
/// # Safety
/// As for `paytrim_auth_client_get_token`.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_refresh_token(
    client: *const paytrim_auth_client,
    out_token: *mut *mut c_char,
    out_expires_on_unix_ms: *mut i64,
) -> *mut paytrim_auth_error {
    token_call(client, out_token, out_expires_on_unix_ms, Which::Refreshed)
}

struct UserData(*mut c_void);
// SAFETY: the caller of get_token_async promises `user_data` may be used from
// the library's threads (documented).
unsafe impl Send for UserData {}

/// Never blocks on the network: calls `callback(user_data, ...)` exactly once
/// with a valid token or an error, on this thread for a cache hit or an
/// immediate failure, else on a library-owned thread when the shared fetch
/// lands. Returns NULL when the callback has been or will be called; an error
/// (and no callback) for bad arguments.
///
/// # Safety
/// `client` is NULL or live; `user_data` must stay valid until the callback
/// runs and may be used from another thread.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_get_token_async(
    client: *const paytrim_auth_client,
    callback: paytrim_auth_token_callback,
    user_data: *mut c_void,
) -> *mut paytrim_auth_error {
    run(|| {
        let (client, deliver) = async_call(client, callback, user_data)?;
        client.token_async(deliver);
        Ok(())
    })
}

/// The non-blocking form of `paytrim_auth_client_refresh_token`: drops the
/// cached token of this client's key and fetches a new one (joining a fetch
/// in progress); `callback` as for `paytrim_auth_client_get_token_async`,
/// except that it never runs with a cached token.
///
/// # Safety
/// As for `paytrim_auth_client_get_token_async`.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_refresh_token_async(
    client: *const paytrim_auth_client,
    callback: paytrim_auth_token_callback,
    user_data: *mut c_void,
) -> *mut paytrim_auth_error {
    run(|| {
        let (client, deliver) = async_call(client, callback, user_data)?;
        client.force_refresh_async(deliver);
        Ok(())
    })
}

/// Checks the arguments of an async call and wraps the C callback as the
/// core's: the token is lent as a NUL-terminated copy, wiped afterwards.
unsafe fn async_call<'a>(
    client: *const paytrim_auth_client,
    callback: paytrim_auth_token_callback,
    user_data: *mut c_void,
) -> Result<(&'a Client, crate::flight::Callback), Error> {
    let callback = callback.ok_or_else(|| Error::invalid_argument("callback is NULL"))?;
    let client = client_ref(client)?;
    Ok((client, c_callback(callback, user_data)))
}

/// The C callback as the core's: the token is lent as a NUL-terminated copy,
/// wiped afterwards.
///
/// # Safety
/// `user_data` may be used from the library's threads until the callback runs.
pub(super) unsafe fn c_callback(
    callback: unsafe extern "C" fn(*mut c_void, *const c_char, i64, *const paytrim_auth_error),
    user_data: *mut c_void,
) -> crate::flight::Callback {
    let user_data = UserData(user_data);
    let deliver: crate::flight::Callback = Box::new(move |result| {
        let user_data = user_data;
        match result {
            Ok(t) => {
                let mut token = zeroize::Zeroizing::new(Vec::with_capacity(t.secret().len() + 1));
                token.extend_from_slice(t.secret().as_bytes());
                token.push(0);
                callback(user_data.0, token.as_ptr() as *const c_char, t.expires_on_unix_ms(), ptr::null());
            }
            Err(e) => {
                let error = paytrim_auth_error::new(e.clone());
                callback(user_data.0, ptr::null(), 0, &error);
            }
        }
    });
    deliver
}

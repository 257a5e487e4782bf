//! Diagnostic logging for C hosts: one process-wide callback receiving each
//! event's level and message.

use super::boundary::run;
use super::error::paytrim_auth_error;
use crate::error::Error;
use crate::log::{self, Level};
use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

/// Errors: the library cannot do what was asked.
pub const PAYTRIM_AUTH_LOG_ERROR: u32 = 1;
/// Warnings: a fetch attempt or a background refresh failed, throttling.
pub const PAYTRIM_AUTH_LOG_WARN: u32 = 2;
/// A token fetched, a retry scheduled, a background refresh started or
/// finished, a fork detected.
pub const PAYTRIM_AUTH_LOG_INFO: u32 = 3;
/// Cache misses, each attempt's start and end with its duration and
/// client-request-id.
pub const PAYTRIM_AUTH_LOG_DEBUG: u32 = 4;
/// Everything, including the most verbose events.
pub const PAYTRIM_AUTH_LOG_TRACE: u32 = 5;

/// Receives one log event: `level` is one of `PAYTRIM_AUTH_LOG_*`, `message`
/// is UTF-8 text without a trailing newline, borrowed and valid only during
/// the call (copy it to keep it). Messages never contain a secret or a token.
///
/// Threading: called on the thread where the event happens (a thread calling
/// this library, or a library-owned fetch thread), possibly from several
/// threads at once, so it must be thread-safe. It should return quickly (it
/// delays the fetch that logs). It must not call back into this library: such
/// calls are not supported, and events they would raise are dropped.
pub type paytrim_auth_log_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, level: u32, message: *const c_char)>;

/// The user's pointer, handed back to the callback as is. The caller
/// promises (see `paytrim_auth_set_log_callback`) it may be used from any
/// thread.
struct UserData(*mut c_void);
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

/// Sets the process-wide log callback: events at `level` and more severe ones
/// (`PAYTRIM_AUTH_LOG_INFO` delivers error, warn and info) are passed to
/// `callback` with `user_data`. A NULL `callback` turns logging off. Replaces
/// any previous callback. With no callback set, logging costs nothing
/// measurable: the cache-hit path never logs.
///
/// Returns NULL on success, or `PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT` naming
/// `level` if it is not 1 (error) to 5 (trace) while `callback` is not NULL.
///
/// Never blocks: a callback already running on another thread may still be
/// running (with the previous `user_data`) when this returns; keep
/// `user_data` valid until you know it has returned (typically: for the life
/// of the process).
///
/// # Safety
/// `callback` is NULL or a function as described by
/// `paytrim_auth_log_callback`; `user_data` may be used from any thread.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_set_log_callback(
    level: u32,
    callback: paytrim_auth_log_callback,
    user_data: *mut c_void,
) -> *mut paytrim_auth_error {
    run(|| {
        let Some(callback) = callback else {
            log::set_sink(Level::Error, None);
            return Ok(());
        };
        let level = Level::from_u32(level).ok_or_else(|| {
            Error::invalid_argument(format!(
                "level {level} is not a log level (1 error, 2 warn, 3 info, 4 debug, 5 trace)"
            ))
        })?;
        let user_data = UserData(user_data);
        let sink: log::Sink = Arc::new(move |level: Level, message: &str| {
            let user_data = &user_data;
            // Server text may hold a NUL; a C string cannot.
            let text = CString::new(message.replace('\0', "\u{FFFD}")).unwrap_or_default();
            unsafe { callback(user_data.0, level.as_u32(), text.as_ptr()) };
        });
        log::set_sink(level, Some(sink));
        Ok(())
    })
}

/// Whether log messages may include personal data: tenant ids, client ids and
/// full error messages (which name the token endpoint, and with it the
/// tenant). Off by default. Secrets and tokens are never logged either way.
#[no_mangle]
pub extern "C" fn paytrim_auth_set_log_pii(enabled: bool) {
    log::set_include_pii(enabled);
}

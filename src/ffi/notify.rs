//! Notifiers: token results delivered to an event loop without the library
//! ever calling into the host's code from its own threads.
//!
//! A host with an event loop and environments that can end at any time (a
//! Node.js worker thread ended with `terminate()` or `process.exit()`) must
//! not be called back from a fetch thread: by the time the fetch lands, the
//! code the callback pointed to may be gone. A notifier turns the callback
//! around. The host creates one per environment and watches its descriptor
//! with its event loop; a request made with `_notify` puts its result in the
//! notifier's queue and writes one byte to the descriptor (only when the queue
//! was empty); the event loop wakes, and the host takes every queued result
//! with `paytrim_auth_notifier_next` on its own thread. Where the host cannot
//! watch a socket pair's descriptor (Node on Windows), the wake-up bytes go
//! over a loopback TCP connection the library makes to the host instead
//! (`paytrim_auth_notifier_new_loopback`, `wake_loopback.rs`).
//!
//! A notifier can also receive the library's log events
//! (`paytrim_auth_notifier_set_log_level`), queued the same way and taken with
//! `paytrim_auth_notifier_next_log`.
//!
//! A notifier can carry assertion requests too
//! (`paytrim_auth_credential_from_assertion_notifier`): the library queues the
//! request with its completion, and the host takes it with
//! `paytrim_auth_notifier_next_assertion` on its own thread and answers with
//! `paytrim_auth_assertion_complete` / `_fail`. Requests for a notifier that
//! is gone, and requests still queued when it is dropped, are failed at once
//! ("the Node environment that created this client has ended"), never leaked.
//!
//! Notifiers are named by a number, not a pointer: a stale or unknown number
//! is harmless. After `paytrim_auth_notifier_free`, or once the host closed
//! the descriptor (an ended environment's handles are closed by its runtime),
//! results for that notifier are dropped (tokens wiped) and the notifier is
//! forgotten. Nothing here waits for the host, so nothing can deadlock with it.

use super::boundary::{run, run_or};
use super::client::{client_ref, paytrim_auth_client};
use super::credential::{new_credential, paytrim_auth_assertion_completion, paytrim_auth_credential};
use super::error::paytrim_auth_error;
use super::strings;
use super::wake_loopback::{LoopbackWake, COOKIE_LEN};
use super::wake_socket::{close_fd, Wake, WakeSocket};
use crate::credentials::{AssertionCallback, AssertionCompletion, AssertionRequest, Credential};
use crate::error::Error;
use crate::log::{self, Level};
use crate::token::AccessToken;
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::ffi::c_char;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use zeroize::Zeroizing;

struct Completion {
    request: u64,
    result: Result<(Zeroizing<String>, i64), Error>,
}

/// Log events queued beyond this (an event loop that does not keep up) are
/// dropped and counted.
const MAX_QUEUED_LOGS: usize = 10_000;

/// An assertion request waiting for the host.
struct AssertionAsk {
    provider: u64,
    request: AssertionRequest,
    completion: AssertionCompletion,
}

/// Why an assertion request cannot reach its notifier.
const ENVIRONMENT_ENDED: &str =
    "the Node environment that created this client has ended (its notifier is gone); no assertion can be asked for";

#[derive(Default)]
struct Queue {
    completions: VecDeque<Completion>,
    assertions: VecDeque<AssertionAsk>,
    logs: VecDeque<(Level, String)>,
    dropped_logs: u64,
    /// A wake-up byte was written and the queues have not been emptied since.
    woken: bool,
}

impl Queue {
    fn empty(&self) -> bool {
        self.completions.is_empty() && self.assertions.is_empty() && self.logs.is_empty() && self.dropped_logs == 0
    }
}

impl Drop for Queue {
    /// Requests nobody will take any more fail now (their fetches end at once).
    fn drop(&mut self) {
        for ask in self.assertions.drain(..) {
            ask.completion.fail(ENVIRONMENT_ENDED);
        }
    }
}

struct Notifier {
    wake: WakeChannel,
    queue: Mutex<Queue>,
}

/// How a notifier wakes its host: a socket pair's write end (Unix), or a
/// loopback TCP connection to the host (everywhere; Node on Windows).
enum WakeChannel {
    Pair(WakeSocket),
    Loopback(LoopbackWake),
}

impl WakeChannel {
    fn wake(&self) -> Wake {
        match self {
            WakeChannel::Pair(w) => w.wake(),
            WakeChannel::Loopback(w) => w.wake(),
        }
    }

    fn reader_gone(&self) -> bool {
        match self {
            WakeChannel::Pair(w) => w.reader_gone(),
            WakeChannel::Loopback(w) => w.reader_gone(),
        }
    }
}

fn register(wake: WakeChannel) -> u64 {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    NOTIFIERS.lock().insert(id, Arc::new(Notifier { wake, queue: Mutex::new(Queue::default()) }));
    id
}

static NOTIFIERS: Lazy<Mutex<HashMap<u64, Arc<Notifier>>>> = Lazy::new(|| Mutex::new(HashMap::new()));
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn lookup(id: u64) -> Option<Arc<Notifier>> {
    NOTIFIERS.lock().get(&id).cloned()
}

/// `lookup` for an entry point: an unknown (or freed) notifier is an error.
fn known(id: u64) -> Result<Arc<Notifier>, Error> {
    lookup(id).ok_or_else(|| Error::invalid_argument("notifier is unknown or freed"))
}

fn forget(id: u64) {
    // Dropped outside the registry lock: dropping a notifier wipes tokens and
    // closes a descriptor.
    let gone = NOTIFIERS.lock().remove(&id);
    if gone.is_some() {
        set_log_level(id, None);
    }
    drop(gone);
}

/// Forgets notifiers whose host closed the descriptor without freeing them
/// (an environment that ended): bounds what such hosts leave behind.
fn sweep_abandoned() {
    let gone: Vec<(u64, Arc<Notifier>)> = {
        let mut map = NOTIFIERS.lock();
        let ids: Vec<u64> = map.iter().filter(|(_, n)| n.wake.reader_gone()).map(|(id, _)| *id).collect();
        ids.iter().filter_map(|id| map.remove(id).map(|n| (*id, n))).collect()
    };
    for (id, _) in &gone {
        set_log_level(*id, None);
    }
    drop(gone);
}

/// Queues a result for `notifier` and wakes its event loop; dropped if the
/// notifier was freed or its reader is gone.
pub(super) fn deliver(notifier: u64, request: u64, result: Result<&AccessToken, &Error>) {
    let Some(n) = lookup(notifier) else { return };
    let result = match result {
        Ok(t) => Ok((Zeroizing::new(t.secret().to_owned()), t.expires_on_unix_ms())),
        Err(e) => Err(e.clone()),
    };
    enqueue(notifier, &n, |q| q.completions.push_back(Completion { request, result }));
}

/// Changes `n`'s queues and wakes its event loop if they were drained.
fn enqueue(id: u64, n: &Notifier, push: impl FnOnce(&mut Queue)) {
    let must_wake = {
        let mut q = n.queue.lock();
        push(&mut q);
        !std::mem::replace(&mut q.woken, true)
    };
    if must_wake && n.wake.wake() == Wake::ReaderGone {
        forget(id);
    }
}

/// Takes what `pop` takes from the queues of notifier `id`; once they are
/// drained, the next `enqueue` wakes the event loop again.
fn dequeue<T>(id: u64, pop: impl FnOnce(&mut Queue) -> Option<T>) -> Result<Option<T>, Error> {
    let n = known(id)?;
    let mut q = n.queue.lock();
    let next = pop(&mut q);
    if q.empty() {
        q.woken = false;
    }
    Ok(next)
}

// ------------------------------------------------------------------ assertion requests

/// Queues an assertion request for `notifier` and wakes its event loop, or
/// fails it at once when the notifier is gone or its reader closed.
fn ask_assertion(notifier: u64, provider: u64, request: &AssertionRequest, completion: AssertionCompletion) {
    let Some(n) = lookup(notifier) else { return completion.fail(ENVIRONMENT_ENDED) };
    if n.wake.reader_gone() {
        forget(notifier);
        return completion.fail(ENVIRONMENT_ENDED);
    }
    let ask = AssertionAsk { provider, request: request.clone(), completion };
    // If the reader closes after this, forget() drops the queue, which fails it.
    enqueue(notifier, &n, |q| q.assertions.push_back(ask));
}

/// A credential whose assertions are asked for through `notifier`: each
/// request is queued there (with `provider`, a number of the caller's
/// choosing that names its signer) and taken with
/// `paytrim_auth_notifier_next_assertion` on the event loop's own thread; the
/// library never calls the host from its threads. When the notifier is freed
/// or its descriptor closed (the environment ended), queued and later
/// requests fail at once with a clear error. Returns NULL on success; an
/// error for an unknown notifier or a NULL output.
///
/// # Safety
/// `out_credential` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_credential_from_assertion_notifier(
    notifier: u64,
    provider: u64,
    out_credential: *mut *mut paytrim_auth_credential,
) -> *mut paytrim_auth_error {
    new_credential(out_credential, || {
        known(notifier)?;
        Ok(Credential::AssertionCallback(AssertionCallback::new(move |request, completion| {
            ask_assertion(notifier, provider, request, completion)
        })))
    })
}

/// Takes the oldest queued assertion request of `notifier`: writes its
/// provider number to `*out_provider`, the client id and audience (owned;
/// free with `paytrim_auth_string_free`) to `*out_client_id` and
/// `*out_audience`, and the completion (answer it exactly once with
/// `paytrim_auth_assertion_complete` or `_fail`) to `*out_completion`; or
/// NULL completion when none is queued. Returns NULL on success; an error for
/// NULL outputs or an unknown notifier. Drain it with the other queues after
/// each wake-up.
///
/// # Safety
/// Every output is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_notifier_next_assertion(
    notifier: u64,
    out_provider: *mut u64,
    out_client_id: *mut *mut c_char,
    out_audience: *mut *mut c_char,
    out_completion: *mut *mut paytrim_auth_assertion_completion,
) -> *mut paytrim_auth_error {
    run(|| {
        strings::clear(out_client_id, ptr::null_mut());
        strings::clear(out_audience, ptr::null_mut());
        strings::clear(out_completion, ptr::null_mut());
        let out_p = strings::out(out_provider, "out_provider", 0)?;
        let out_i = strings::out(out_client_id, "out_client_id", ptr::null_mut())?;
        let out_a = strings::out(out_audience, "out_audience", ptr::null_mut())?;
        let out_c = strings::out(out_completion, "out_completion", ptr::null_mut())?;
        let Some(ask) = dequeue(notifier, |q| q.assertions.pop_front())? else { return Ok(()) };
        let id = match strings::owned_or_err(&ask.request.client_id) {
            Ok(s) => s,
            Err(e) => {
                ask.completion.fail("the client id holds a NUL byte");
                return Err(e);
            }
        };
        let aud = match strings::owned_or_err(&ask.request.audience) {
            Ok(s) => s,
            Err(e) => {
                super::strings::paytrim_auth_string_free(id);
                ask.completion.fail("the audience holds a NUL byte");
                return Err(e);
            }
        };
        *out_i = id;
        *out_a = aud;
        *out_p = ask.provider;
        *out_c = paytrim_auth_assertion_completion::into_raw(ask.completion);
        Ok(())
    })
}

// ------------------------------------------------------------------ logs

/// Notifiers that want log events, with the most verbose level each wants.
static LOG_SUBSCRIBERS: Lazy<Mutex<HashMap<u64, Level>>> = Lazy::new(|| Mutex::new(HashMap::new()));

/// Subscribes (`Some`) or unsubscribes (`None`) a notifier, and installs the
/// process-wide log sink at the most verbose level any notifier wants (or
/// removes it when the last one leaves).
fn set_log_level(id: u64, level: Option<Level>) {
    let mut subs = LOG_SUBSCRIBERS.lock();
    let had = !subs.is_empty();
    match level {
        Some(l) => subs.insert(id, l),
        None => subs.remove(&id),
    };
    match subs.values().max() {
        Some(&max) => log::set_sink(max, Some(std::sync::Arc::new(log_to_notifiers))),
        // Only take down the sink if it was ours.
        None if had => log::set_sink(Level::Error, None),
        None => {}
    }
}

/// The log sink while notifiers subscribe: queues the event for each that
/// wants its level. Runs on the thread of the event, never calls the host.
fn log_to_notifiers(level: Level, message: &str) {
    let wanted: Vec<u64> = LOG_SUBSCRIBERS.lock().iter().filter(|(_, &l)| level <= l).map(|(&id, _)| id).collect();
    for id in wanted {
        let Some(n) = lookup(id) else { continue };
        enqueue(id, &n, |q| {
            if q.logs.len() < MAX_QUEUED_LOGS {
                q.logs.push_back((level, message.to_owned()));
            } else {
                q.dropped_logs += 1;
            }
        });
    }
}

/// Sends this library's log events (see `paytrim_auth_set_log_callback` for
/// levels and content; never a secret or a token) to `notifier`: events at
/// `level` and more severe ones are queued and taken with
/// `paytrim_auth_notifier_next_log`. `level` 0 stops them. While any notifier
/// subscribes, the process-wide log callback is the notifiers' (this replaces
/// a callback set with `paytrim_auth_set_log_callback`, and that function
/// replaces the notifiers'); when the last one stops, logging is off.
/// Returns NULL on success; an error for an unknown notifier or a level
/// above 5.
#[no_mangle]
pub extern "C" fn paytrim_auth_notifier_set_log_level(notifier: u64, level: u32) -> *mut paytrim_auth_error {
    run(|| {
        let level = match level {
            0 => None,
            n => Some(Level::from_u32(n).ok_or_else(|| {
                Error::invalid_argument(format!(
                    "level {n} is not a log level (0 off, 1 error, 2 warn, 3 info, 4 debug, 5 trace)"
                ))
            })?),
        };
        known(notifier)?;
        set_log_level(notifier, level);
        Ok(())
    })
}

/// Takes the oldest queued log event of `notifier`: writes its level (1 error
/// to 5 trace) to `*out_level` and its text (owned; free with
/// `paytrim_auth_string_free`) to `*out_message`, or 0 and NULL when none is
/// queued. Events the queue could not hold (more than 10,000 waiting) come
/// back as one warning saying how many were dropped. Returns NULL on success;
/// an error for NULL outputs or an unknown notifier.
///
/// # Safety
/// Every output is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_notifier_next_log(
    notifier: u64,
    out_level: *mut u32,
    out_message: *mut *mut c_char,
) -> *mut paytrim_auth_error {
    run(|| {
        strings::clear(out_message, ptr::null_mut());
        let out_l = strings::out(out_level, "out_level", 0)?;
        let out_m = strings::out(out_message, "out_message", ptr::null_mut())?;
        let next = dequeue(notifier, |q| match q.logs.pop_front() {
            Some(e) => Some(e),
            None if q.dropped_logs > 0 => {
                let dropped = std::mem::take(&mut q.dropped_logs);
                Some((Level::Warn, format!("{dropped} log event(s) dropped: the event loop did not keep up")))
            }
            None => None,
        })?;
        if let Some((level, message)) = next {
            *out_m = strings::owned_or_err(&message)?;
            *out_l = level.as_u32();
        }
        Ok(())
    })
}

// ------------------------------------------------------------------ entry points

/// Creates a notifier for one event loop. Writes its number (never 0) to
/// `*out_notifier` and the descriptor to watch for readability to `*out_fd`.
/// The descriptor (a close-on-exec Unix stream socket) belongs to the caller,
/// who closes it after `paytrim_auth_notifier_free`; bytes read from it carry
/// no meaning. Returns NULL on success.
///
/// # Safety
/// `out_notifier` and `out_fd` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_notifier_new(
    out_notifier: *mut u64,
    out_fd: *mut i32,
) -> *mut paytrim_auth_error {
    run(|| {
        strings::clear(out_fd, -1);
        let out_n = strings::out(out_notifier, "out_notifier", 0)?;
        let out_f = strings::out(out_fd, "out_fd", -1)?;
        sweep_abandoned();
        let (wake, fd) = WakeSocket::pair()
            .map_err(|e| Error::internal(format!("cannot create the notifier's socket pair: {e}")))?;
        *out_n = register(WakeChannel::Pair(wake));
        *out_f = fd;
        Ok(())
    })
}

/// Creates a notifier that wakes its event loop over loopback TCP, for hosts
/// that cannot watch a socket pair's descriptor (Node on Windows). The host
/// makes `cookie` (`cookie_len` bytes, 16 to 64, random) and starts listening
/// on 127.0.0.1; the notifier can be used at once (requests, logs, assertion
/// credentials), and once the host listens it calls
/// `paytrim_auth_notifier_connect_loopback` with the port. The library then
/// connects, writes the cookie, and from then on writes wake-up bytes exactly
/// as `paytrim_auth_notifier_new`'s socket does (a wake-up due before the
/// connection follows the cookie). The host should accept only the
/// connection that starts with the cookie and then stop listening. Once the
/// host closes the connection (or never connects within 60 seconds, or the
/// connection fails), the notifier is dropped as when a socket pair's reader
/// closes. Writes the notifier's number (never 0) to `*out_notifier`. Returns
/// NULL on success; an error for a NULL output or cookie, or a cookie of the
/// wrong length.
///
/// # Safety
/// `cookie` is NULL or readable for `cookie_len` bytes; `out_notifier` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_notifier_new_loopback(
    cookie: *const u8,
    cookie_len: usize,
    out_notifier: *mut u64,
) -> *mut paytrim_auth_error {
    run(|| {
        let out_n = strings::out(out_notifier, "out_notifier", 0)?;
        if cookie.is_null() {
            return Err(Error::invalid_argument("cookie is NULL"));
        }
        if !COOKIE_LEN.contains(&cookie_len) {
            return Err(Error::invalid_argument(format!(
                "cookie_len is {cookie_len}; the cookie must be {} to {} random bytes",
                COOKIE_LEN.start(),
                COOKIE_LEN.end()
            )));
        }
        let cookie = std::slice::from_raw_parts(cookie, cookie_len);
        sweep_abandoned();
        *out_n = register(WakeChannel::Loopback(LoopbackWake::new(cookie)));
        Ok(())
    })
}

/// Connects a notifier made by `paytrim_auth_notifier_new_loopback` to the
/// host's listener at 127.0.0.1:`port` (within 5 seconds) and writes its
/// cookie. Once only. Returns NULL on success; an error for port 0, an
/// unknown notifier, one that is not a loopback notifier or already
/// connected, or a failed connection (nothing listening, timeout), naming
/// the port; after a failed connection the notifier is dropped as when its
/// reader closes.
#[no_mangle]
pub extern "C" fn paytrim_auth_notifier_connect_loopback(notifier: u64, port: u16) -> *mut paytrim_auth_error {
    run(|| {
        if port == 0 {
            return Err(Error::invalid_argument("port is 0; give the port the host listens on at 127.0.0.1"));
        }
        let n = known(notifier)?;
        let WakeChannel::Loopback(wake) = &n.wake else {
            return Err(Error::invalid_argument(
                "notifier was made by paytrim_auth_notifier_new, not paytrim_auth_notifier_new_loopback",
            ));
        };
        match wake.connect(port) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(Error::invalid_argument("notifier is already connected (or failed to connect before)"))
            }
            Err(e) => {
                forget(notifier);
                Err(Error::internal(format!(
                    "cannot connect the notifier to the host's listener at 127.0.0.1:{port}: {e}"
                )))
            }
        }
    })
}

/// Frees a notifier: results not yet taken are dropped (tokens wiped), and
/// results that land later are dropped too. Never blocks and never waits for
/// a fetch. Unknown numbers (0, freed, never created) are ignored. Close the
/// descriptor afterwards.
#[no_mangle]
pub extern "C" fn paytrim_auth_notifier_free(notifier: u64) {
    run_or((), || forget(notifier))
}

/// Closes a notifier descriptor that the caller could not take over (for
/// example when its event loop refused it). Negative values are ignored.
#[no_mangle]
pub extern "C" fn paytrim_auth_notifier_close_fd(fd: i32) {
    if fd >= 0 {
        close_fd(fd);
    }
}

/// Takes the oldest queued result of `notifier`. Writes the request number
/// given to the `_notify` call to `*out_request`, or 0 when the queue is empty
/// (then nothing else is written). For a token: `*out_token` (owned; free with
/// `paytrim_auth_string_free`) and `*out_expires_on_unix_ms`; for a failure:
/// `*out_error` (owned; free with `paytrim_auth_error_free`). Returns NULL on
/// success; an error for NULL outputs or an unknown notifier. After each
/// wake-up, call it and `paytrim_auth_notifier_next_log` until both queues
/// are empty (the next wake-up comes only after that).
///
/// # Safety
/// Every output is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_notifier_next(
    notifier: u64,
    out_request: *mut u64,
    out_token: *mut *mut c_char,
    out_expires_on_unix_ms: *mut i64,
    out_error: *mut *mut paytrim_auth_error,
) -> *mut paytrim_auth_error {
    run(|| {
        strings::clear(out_token, ptr::null_mut());
        strings::clear(out_expires_on_unix_ms, 0);
        strings::clear(out_error, ptr::null_mut());
        let out_r = strings::out(out_request, "out_request", 0)?;
        let out_t = strings::out(out_token, "out_token", ptr::null_mut())?;
        let out_x = strings::out(out_expires_on_unix_ms, "out_expires_on_unix_ms", 0)?;
        let out_e = strings::out(out_error, "out_error", ptr::null_mut())?;
        let Some(c) = dequeue(notifier, |q| q.completions.pop_front())? else { return Ok(()) };
        match c.result {
            Ok((token, expires)) => {
                *out_t = strings::owned_or_err(&token)?;
                *out_x = expires;
            }
            Err(e) => *out_e = paytrim_auth_error::boxed(e),
        }
        *out_r = c.request;
        Ok(())
    })
}

/// Like `paytrim_auth_client_get_token_async`, but the result goes to
/// `notifier`'s queue under the number `request` (not 0) instead of to a
/// callback: taken later with `paytrim_auth_notifier_next`, on the caller's
/// own thread. A cache hit or an immediate failure is queued before this
/// returns. Returns NULL when a result has been or will be queued; an error
/// (and nothing queued) for bad arguments.
///
/// # Safety
/// `client` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_get_token_notify(
    client: *const paytrim_auth_client,
    notifier: u64,
    request: u64,
) -> *mut paytrim_auth_error {
    run(|| {
        let client = notify_call(client, notifier, request)?;
        client.token_async(Box::new(move |result| deliver(notifier, request, result)));
        Ok(())
    })
}

/// Like `paytrim_auth_client_refresh_token_async` (drops the cached token and
/// fetches a new one), with the result queued as for
/// `paytrim_auth_client_get_token_notify`.
///
/// # Safety
/// `client` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_refresh_token_notify(
    client: *const paytrim_auth_client,
    notifier: u64,
    request: u64,
) -> *mut paytrim_auth_error {
    run(|| {
        let client = notify_call(client, notifier, request)?;
        client.force_refresh_async(Box::new(move |result| deliver(notifier, request, result)));
        Ok(())
    })
}

pub(super) unsafe fn notify_call<'a>(
    client: *const paytrim_auth_client,
    notifier: u64,
    request: u64,
) -> Result<&'a crate::client::Client, Error> {
    let client = client_ref(client)?;
    if request == 0 {
        return Err(Error::invalid_argument("request must not be 0"));
    }
    known(notifier)?;
    Ok(client)
}

// Unix only: the tests read the socket pair (which other platforms do not have).
#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn pending_bytes(fd: i32) -> isize {
        let mut b = [0u8; 64];
        // SAFETY: a valid descriptor and buffer.
        unsafe { libc::recv(fd, b.as_mut_ptr() as *mut libc::c_void, b.len(), libc::MSG_DONTWAIT) }
    }

    fn next(id: u64) -> Result<Option<(u64, u32)>, u32> {
        let (mut r, mut t, mut x, mut e) = (0u64, ptr::null_mut(), 0i64, ptr::null_mut());
        let err = unsafe { paytrim_auth_notifier_next(id, &mut r, &mut t, &mut x, &mut e) };
        if !err.is_null() {
            let code = super::super::error::paytrim_auth_error_code(err);
            unsafe { super::super::error::paytrim_auth_error_free(err) };
            return Err(code);
        }
        if r == 0 {
            return Ok(None);
        }
        assert!(t.is_null() && !e.is_null(), "these tests deliver errors");
        let code = super::super::error::paytrim_auth_error_code(e);
        unsafe { super::super::error::paytrim_auth_error_free(e) };
        Ok(Some((r, code)))
    }

    fn new_notifier() -> (u64, i32) {
        let (mut id, mut fd) = (0u64, -1i32);
        assert!(unsafe { paytrim_auth_notifier_new(&mut id, &mut fd) }.is_null());
        (id, fd)
    }

    #[test]
    fn one_wake_up_per_drain_and_results_in_order() {
        let (id, fd) = new_notifier();
        deliver(id, 7, Err(&Error::internal("first")));
        deliver(id, 8, Err(&Error::internal("second")));
        assert_eq!(pending_bytes(fd), 1, "one byte for two results");
        assert_eq!(next(id).unwrap().map(|r| r.0), Some(7));
        assert_eq!(next(id).unwrap().map(|r| r.0), Some(8));
        assert_eq!(next(id).unwrap(), None);
        deliver(id, 9, Err(&Error::internal("third")));
        assert_eq!(pending_bytes(fd), 1, "drained: the next result wakes again");
        paytrim_auth_notifier_free(id);
        assert!(next(id).is_err(), "a freed notifier is unknown");
        deliver(id, 10, Err(&Error::internal("dropped"))); // no panic, nothing queued
        paytrim_auth_notifier_close_fd(fd);
    }

    #[test]
    fn a_closed_reader_makes_the_library_forget_the_notifier() {
        let (id, fd) = new_notifier();
        paytrim_auth_notifier_close_fd(fd); // what Node does when a worker ends
        deliver(id, 1, Err(&Error::internal("for nobody")));
        assert!(lookup(id).is_none(), "forgotten on the first delivery after the reader closed");

        let (id2, fd2) = new_notifier();
        paytrim_auth_notifier_close_fd(fd2);
        let (id3, fd3) = new_notifier(); // sweeps abandoned ones
        assert!(lookup(id2).is_none(), "forgotten by the next notifier_new");
        assert!(lookup(id3).is_some());
        paytrim_auth_notifier_free(id3);
        paytrim_auth_notifier_close_fd(fd3);
    }

    fn ask(notifier: u64) -> std::thread::JoinHandle<Result<String, String>> {
        use crate::credentials::jwt_bearer::AssertionSource;
        let cb = AssertionCallback::new(move |request, completion| ask_assertion(notifier, 5, request, completion));
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            cb.assertion("app", "https://aud", deadline)
                .map(|s| s.expose().to_owned())
                .map_err(|e| e.message().to_owned())
        })
    }

    #[test]
    fn assertion_requests_are_queued_answered_or_failed_when_the_notifier_goes() {
        let (id, fd) = new_notifier();
        let answered = ask(id);
        let taken = loop {
            if let Some(a) = n_pop(id) {
                break a;
            }
            std::thread::yield_now();
        };
        assert_eq!((taken.provider, taken.request.client_id.as_str()), (5, "app"));
        taken.completion.succeed("a.b.c");
        assert_eq!(answered.join().unwrap().unwrap(), "a.b.c");

        let pending = ask(id); // queued, never taken: freeing the notifier fails it
        while lookup(id).is_some_and(|n| n.queue.lock().assertions.is_empty()) {
            std::thread::yield_now();
        }
        paytrim_auth_notifier_free(id);
        assert!(pending.join().unwrap().unwrap_err().contains("has ended"));
        assert!(ask(id).join().unwrap().unwrap_err().contains("has ended"), "a gone notifier fails at once");
        paytrim_auth_notifier_close_fd(fd);
    }

    fn n_pop(id: u64) -> Option<AssertionAsk> {
        lookup(id)?.queue.lock().assertions.pop_front()
    }

    // Log delivery is tested end to end by bindings/node/test/logging.test.js:
    // the log sink is process-wide, and src/log.rs owns it among unit tests.
}

// Portable: the loopback wake channel (std::net only).
#[cfg(test)]
mod loopback_tests {
    use super::*;
    use std::io::Read;
    use std::net::{Ipv4Addr, TcpListener};
    use std::time::{Duration, Instant};

    const COOKIE: &[u8; 32] = b"cookie-cookie-cookie-cookie-cook";

    fn failure(err: *mut paytrim_auth_error) -> Result<(), (u32, String)> {
        if err.is_null() {
            return Ok(());
        }
        let code = super::super::error::paytrim_auth_error_code(err);
        let message = err_message(err);
        unsafe { super::super::error::paytrim_auth_error_free(err) };
        Err((code, message))
    }

    fn new_loopback(cookie: &[u8]) -> Result<u64, (u32, String)> {
        let mut id = 42u64;
        let r = failure(unsafe { paytrim_auth_notifier_new_loopback(cookie.as_ptr(), cookie.len(), &mut id) });
        if r.is_err() {
            assert_eq!(id, 0, "the output is cleared on failure");
        }
        r.map(|()| id)
    }

    fn connect(id: u64, port: u16) -> Result<(), (u32, String)> {
        failure(paytrim_auth_notifier_connect_loopback(id, port))
    }

    fn err_message(err: *mut paytrim_auth_error) -> String {
        let m = super::super::error::paytrim_auth_error_message(err);
        unsafe { std::ffi::CStr::from_ptr(m) }.to_string_lossy().into_owned()
    }

    #[test]
    fn the_host_reads_the_cookie_then_one_wake_up_per_drain() {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let id = new_loopback(COOKIE).unwrap();
        deliver(id, 1, Err(&Error::internal("first, before the host listens")));
        connect(id, l.local_addr().unwrap().port()).unwrap();
        let (mut host, _) = l.accept().unwrap();
        host.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut cookie = [0u8; 33];
        host.read_exact(&mut cookie).unwrap();
        assert_eq!(&cookie[..32], COOKIE);
        assert_eq!(cookie[32], b'!', "the wake-up due before the connection follows the cookie");
        deliver(id, 2, Err(&Error::internal("second")));
        host.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let mut b = [0u8; 8];
        assert!(host.read(&mut b).is_err(), "not drained yet: no second wake-up");
        assert_eq!(lookup(id).unwrap().queue.lock().completions.len(), 2);
        paytrim_auth_notifier_free(id);
    }

    #[test]
    fn a_host_that_closed_the_connection_makes_the_library_drop_the_notifier() {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let id = new_loopback(COOKIE).unwrap();
        connect(id, l.local_addr().unwrap().port()).unwrap();
        let (mut host, _) = l.accept().unwrap();
        host.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut cookie = [0u8; 32];
        host.read_exact(&mut cookie).unwrap(); // as Node does: the close is then a clean end of stream
        drop(host); // what Node does when the environment ends
        let deadline = Instant::now() + Duration::from_secs(10);
        while !lookup(id).unwrap().wake.reader_gone() {
            assert!(Instant::now() < deadline, "the closed connection was never seen");
            std::thread::sleep(Duration::from_millis(5));
        }
        deliver(id, 1, Err(&Error::internal("for nobody")));
        assert!(lookup(id).is_none(), "forgotten on the first delivery after the host closed");
    }

    #[test]
    fn nothing_listening_is_a_clear_error_naming_the_port() {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let id = new_loopback(COOKIE).unwrap();
        let (code, message) = connect(id, port).unwrap_err();
        assert_eq!(code, crate::error::ErrorCode::Internal.as_u32());
        assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
        assert!(message.contains("refused"), "{message}");
        assert!(!message.contains("cookie-cookie"), "the cookie never appears in errors: {message}");
        assert!(lookup(id).is_none(), "a notifier that cannot connect is dropped");
    }

    #[test]
    fn bad_arguments_are_refused_and_the_output_cleared() {
        assert!(new_loopback(&COOKIE[..15]).unwrap_err().1.contains("cookie_len"));
        assert!(new_loopback(&[0u8; 65]).unwrap_err().1.contains("cookie_len"));
        let mut id = 42u64;
        let e = failure(unsafe { paytrim_auth_notifier_new_loopback(ptr::null(), 32, &mut id) }).unwrap_err();
        assert!(e.1.contains("cookie is NULL") && id == 0);
        let e = failure(unsafe { paytrim_auth_notifier_new_loopback(COOKIE.as_ptr(), 32, ptr::null_mut()) });
        assert!(e.unwrap_err().1.contains("out_notifier"));

        let id = new_loopback(COOKIE).unwrap();
        assert!(connect(id, 0).unwrap_err().1.contains("port"));
        assert!(connect(u64::MAX, 9).unwrap_err().1.contains("unknown"));
        paytrim_auth_notifier_free(id);
        assert!(connect(id, 9).unwrap_err().1.contains("unknown"), "a freed notifier");
    }
}

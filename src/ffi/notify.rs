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
//! with `paytrim_auth_notifier_next` on its own thread.
//!
//! Notifiers are named by a number, not a pointer: a stale or unknown number
//! is harmless. After `paytrim_auth_notifier_free`, or once the host closed
//! the descriptor (an ended environment's handles are closed by its runtime),
//! results for that notifier are dropped (tokens wiped) and the notifier is
//! forgotten. Nothing here waits for the host, so nothing can deadlock with it.

use super::boundary::{run, run_or};
use super::client::{client_ref, paytrim_auth_client};
use super::error::paytrim_auth_error;
use super::strings;
use super::wake_socket::{close_fd, Wake, WakeSocket};
use crate::error::Error;
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

#[derive(Default)]
struct Queue {
    completions: VecDeque<Completion>,
    /// A wake-up byte was written and the queue has not been emptied since.
    woken: bool,
}

struct Notifier {
    wake: WakeSocket,
    queue: Mutex<Queue>,
}

static NOTIFIERS: Lazy<Mutex<HashMap<u64, Arc<Notifier>>>> = Lazy::new(|| Mutex::new(HashMap::new()));
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn lookup(id: u64) -> Option<Arc<Notifier>> {
    NOTIFIERS.lock().get(&id).cloned()
}

fn forget(id: u64) {
    // Dropped outside the registry lock: dropping a notifier wipes tokens and
    // closes a descriptor.
    let gone = NOTIFIERS.lock().remove(&id);
    drop(gone);
}

/// Forgets notifiers whose host closed the descriptor without freeing them
/// (an environment that ended): bounds what such hosts leave behind.
fn sweep_abandoned() {
    let gone: Vec<Arc<Notifier>> = {
        let mut map = NOTIFIERS.lock();
        let ids: Vec<u64> = map.iter().filter(|(_, n)| n.wake.reader_gone()).map(|(id, _)| *id).collect();
        ids.iter().filter_map(|id| map.remove(id)).collect()
    };
    drop(gone);
}

/// Queues a result for `notifier` and wakes its event loop; dropped if the
/// notifier was freed or its reader is gone.
fn deliver(notifier: u64, request: u64, result: Result<&AccessToken, &Error>) {
    let Some(n) = lookup(notifier) else { return };
    let result = match result {
        Ok(t) => Ok((Zeroizing::new(t.secret().to_owned()), t.expires_on_unix_ms())),
        Err(e) => Err(e.clone()),
    };
    let must_wake = {
        let mut q = n.queue.lock();
        q.completions.push_back(Completion { request, result });
        !std::mem::replace(&mut q.woken, true)
    };
    if must_wake && n.wake.wake() == Wake::ReaderGone {
        forget(notifier);
    }
}

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
        let out_n = strings::out(out_notifier, "out_notifier", 0)?;
        let out_f = strings::out(out_fd, "out_fd", -1)?;
        sweep_abandoned();
        let (wake, fd) = WakeSocket::pair()
            .map_err(|e| Error::internal(format!("cannot create the notifier's socket pair: {e}")))?;
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        NOTIFIERS.lock().insert(id, Arc::new(Notifier { wake, queue: Mutex::new(Queue::default()) }));
        *out_n = id;
        *out_f = fd;
        Ok(())
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
/// success; an error for NULL outputs or an unknown notifier. Call it until
/// `*out_request` is 0 after each wake-up.
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
        let out_r = strings::out(out_request, "out_request", 0)?;
        let out_t = strings::out(out_token, "out_token", ptr::null_mut())?;
        let out_x = strings::out(out_expires_on_unix_ms, "out_expires_on_unix_ms", 0)?;
        let out_e = strings::out(out_error, "out_error", ptr::null_mut())?;
        let n = lookup(notifier).ok_or_else(|| Error::invalid_argument("notifier is unknown or freed"))?;
        let next = {
            let mut q = n.queue.lock();
            let next = q.completions.pop_front();
            if next.is_none() {
                q.woken = false;
            }
            next
        };
        let Some(c) = next else { return Ok(()) };
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

unsafe fn notify_call<'a>(
    client: *const paytrim_auth_client,
    notifier: u64,
    request: u64,
) -> Result<&'a crate::client::Client, Error> {
    let client = client_ref(client)?;
    if request == 0 {
        return Err(Error::invalid_argument("request must not be 0"));
    }
    if lookup(notifier).is_none() {
        return Err(Error::invalid_argument("notifier is unknown or freed"));
    }
    Ok(client)
}

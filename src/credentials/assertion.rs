//! Assertion callback: the application signs the client assertion itself
//! (a key in an HSM or a key vault) and hands it over when one is needed.
//!
//! The provider is called on the fetch thread, once per attempt, with the
//! client id and audience (the token endpoint) and an [`AssertionCompletion`]
//! to answer through, exactly once, from any thread, before or after it
//! returns (so async callers in other languages can answer later). The fetch
//! waits for the answer at most until the end of its time budget; a provider
//! that is slow, fails, panics, or answers with something that is not a JWT
//! makes the fetch fail with a clear error, and callers waiting for a token
//! are bounded as always by the fetch's budget.

use super::jwt_bearer::{check_compact_jwt, AssertionSource};
use crate::error::Error;
use crate::secret::Secret;
use parking_lot::{Condvar, Mutex};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What an assertion is asked for.
#[derive(Debug, Clone)]
pub struct AssertionRequest {
    /// The client id: the assertion's `iss` and `sub`.
    pub client_id: String,
    /// The token endpoint: the assertion's `aud`.
    pub audience: String,
}

/// The provider's signature: answer through the completion, exactly once.
pub type AssertionProvider = dyn Fn(&AssertionRequest, AssertionCompletion) + Send + Sync;

/// An application-supplied source of client assertions. Clones share the
/// provider and its identity (and so the cache key).
#[derive(Clone)]
pub struct AssertionCallback {
    provider: Arc<AssertionProvider>,
    id: u64,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl AssertionCallback {
    /// A provider answering through an [`AssertionCompletion`] (now or later).
    pub fn new(provider: impl Fn(&AssertionRequest, AssertionCompletion) + Send + Sync + 'static) -> Self {
        AssertionCallback { provider: Arc::new(provider), id: NEXT_ID.fetch_add(1, Ordering::Relaxed) }
    }

    /// A provider that answers by returning: `Ok(assertion)` or `Err(message)`.
    pub fn from_fn(f: impl Fn(&AssertionRequest) -> Result<String, String> + Send + Sync + 'static) -> Self {
        AssertionCallback::new(move |request, completion| match f(request) {
            Ok(assertion) => completion.succeed(assertion),
            Err(message) => completion.fail(message),
        })
    }

    /// Identifies this callback (not its answers) for the cache key.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }
}

impl fmt::Debug for AssertionCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AssertionCallback(#{})", self.id)
    }
}

/// Where a provider puts its answer. Answer exactly once with
/// [`succeed`](Self::succeed) or [`fail`](Self::fail); dropping it
/// unanswered fails the request.
pub struct AssertionCompletion {
    slot: Arc<Slot>,
}

#[derive(Default)]
struct Slot {
    answer: Mutex<Option<Result<Secret, String>>>,
    ready: Condvar,
}

impl AssertionCompletion {
    pub fn succeed(self, assertion: impl Into<String>) {
        self.answer(Ok(Secret::new(assertion)));
    }

    pub fn fail(self, message: impl Into<String>) {
        self.answer(Err(message.into()));
    }

    fn answer(&self, answer: Result<Secret, String>) {
        let mut slot = self.slot.answer.lock();
        if slot.is_none() {
            *slot = Some(answer);
            self.slot.ready.notify_all();
        }
    }
}

impl Drop for AssertionCompletion {
    fn drop(&mut self) {
        self.answer(Err("the callback dropped its completion without answering".to_owned()));
    }
}

impl fmt::Debug for AssertionCompletion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AssertionCompletion")
    }
}

fn callback_error(why: impl fmt::Display) -> Error {
    Error::invalid_argument(format!("assertion callback: {why}"))
}

impl AssertionSource for AssertionCallback {
    fn assertion(&self, client_id: &str, audience: &str, deadline: Instant) -> Result<Secret, Error> {
        let slot = Arc::new(Slot::default());
        let request = AssertionRequest { client_id: client_id.to_owned(), audience: audience.to_owned() };
        let completion = AssertionCompletion { slot: slot.clone() };
        let started = Instant::now();
        let call = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.provider)(&request, completion)));
        if call.is_err() {
            return Err(callback_error("the callback panicked"));
        }
        let mut answer = slot.answer.lock();
        while answer.is_none() {
            if slot.ready.wait_until(&mut answer, deadline).timed_out() && answer.is_none() {
                return Err(callback_error(format!(
                    "no answer within the fetch's time budget ({} ms); raise total_timeout_ms if signing is slow",
                    started.elapsed().as_millis()
                )));
            }
        }
        match answer.take().expect("checked above") {
            Ok(assertion) => {
                check_compact_jwt(assertion.expose())
                    .map_err(|why| callback_error(format!("unusable answer: {why}")))?;
                Ok(assertion)
            }
            Err(message) => Err(callback_error(format!(
                "the callback reported an error: {}",
                message.chars().take(500).collect::<String>()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ask(cb: &AssertionCallback, budget: Duration) -> Result<Secret, Error> {
        cb.assertion("cid", "https://aud", Instant::now() + budget)
    }

    #[test]
    fn answers_now_later_or_never() {
        let now = AssertionCallback::from_fn(|r| Ok(format!("a.{}.c", r.client_id)));
        assert_eq!(ask(&now, Duration::from_secs(5)).unwrap().expose(), "a.cid.c");
        let later = AssertionCallback::new(|_, c| {
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                c.succeed("x.y.z");
            });
        });
        assert_eq!(ask(&later, Duration::from_secs(5)).unwrap().expose(), "x.y.z");
        // Kept, never answered nor dropped (a leak checker still sees it).
        static NEVER_ANSWERED: parking_lot::Mutex<Vec<AssertionCompletion>> = parking_lot::const_mutex(Vec::new());
        let never = AssertionCallback::new(|_, c| NEVER_ANSWERED.lock().push(c));
        let e = ask(&never, Duration::from_millis(50)).unwrap_err();
        assert!(e.message().contains("no answer within"), "{}", e.message());
        let dropped = AssertionCallback::new(|_, _| {});
        assert!(ask(&dropped, Duration::from_secs(5)).unwrap_err().message().contains("without answering"));
        let failing = AssertionCallback::from_fn(|_| Err("HSM offline".into()));
        assert!(ask(&failing, Duration::from_secs(5)).unwrap_err().message().contains("HSM offline"));
        let garbage = AssertionCallback::from_fn(|_| Ok("not-a-jwt".into()));
        let e = ask(&garbage, Duration::from_secs(5)).unwrap_err();
        assert!(e.message().contains("not a compact JWT") && !e.message().contains("not-a-jwt"), "{}", e.message());
        let panics = AssertionCallback::from_fn(|_| panic!("boom"));
        assert!(ask(&panics, Duration::from_secs(5)).unwrap_err().message().contains("panicked"));
    }
}

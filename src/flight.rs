//! Single flight: one fetch per key at a time, on a thread this library owns.
//! Callers join the flight in progress and wait (with a bound) or register a
//! callback; the result, token or error, reaches them all.

use crate::error::Error;
use crate::token::AccessToken;
use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub type FlightResult = Result<Arc<AccessToken>, Error>;
/// Called once with the result, on the fetch thread (or inline if done).
pub type Callback = Box<dyn FnOnce(Result<&AccessToken, &Error>) + Send + 'static>;

pub struct Flight {
    inner: Mutex<Inner>,
    done: Condvar,
    /// The process (fork generation) whose fetch thread runs this flight.
    generation: u64,
}

#[derive(Default)]
struct Inner {
    result: Option<FlightResult>,
    callbacks: Vec<Callback>,
    /// Threads blocked in `wait`.
    waiting: usize,
}

impl Flight {
    pub fn new() -> Flight {
        Flight { inner: Mutex::default(), done: Condvar::new(), generation: crate::fork::generation() }
    }

    /// False in a forked child for a flight started by the parent: its fetch
    /// thread does not exist here and it will never land.
    pub fn in_this_process(&self) -> bool {
        self.generation == crate::fork::generation()
    }

    /// Blocks until the flight lands or `bound` passes.
    pub fn wait(&self, bound: Duration) -> FlightResult {
        let deadline = Instant::now() + bound;
        let mut inner = self.inner.lock();
        inner.waiting += 1;
        while inner.result.is_none() {
            if self.done.wait_until(&mut inner, deadline).timed_out() && inner.result.is_none() {
                inner.waiting -= 1;
                return Err(Error::new(
                    crate::error::ErrorCode::Network,
                    format!("timed out after {} ms waiting for the token fetch in progress", bound.as_millis()),
                ));
            }
        }
        inner.waiting -= 1;
        inner.result.clone().expect("checked above")
    }

    /// Whether anyone is waiting for this flight or has a callback on it.
    pub fn has_waiters(&self) -> bool {
        let inner = self.inner.lock();
        inner.waiting > 0 || !inner.callbacks.is_empty()
    }

    /// Runs `cb` with the result: now if landed, else when it lands.
    pub fn on_complete(&self, cb: Callback) {
        let mut inner = self.inner.lock();
        match &inner.result {
            Some(r) => {
                let r = r.clone();
                drop(inner);
                run_callback(cb, &r);
            }
            None => inner.callbacks.push(cb),
        }
    }

    /// Lands the flight: wakes every waiter, then runs the callbacks.
    pub fn complete(&self, result: FlightResult) {
        let callbacks = {
            let mut inner = self.inner.lock();
            inner.result = Some(result.clone());
            std::mem::take(&mut inner.callbacks)
        };
        self.done.notify_all();
        for cb in callbacks {
            run_callback(cb, &result);
        }
    }
}

/// A panicking callback must not take the fetch thread (and the other
/// callbacks) down with it.
fn run_callback(cb: Callback, result: &FlightResult) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match result {
        Ok(t) => cb(Ok(t)),
        Err(e) => cb(Err(e)),
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    /// A waiter whose flight does not land within its bound gets a `network`
    /// error naming the bound, stops counting as a waiter (so an unneeded
    /// fetch can stop), and the flight still reaches the waiters that stayed.
    #[test]
    fn a_waiter_gives_up_at_its_bound() {
        let flight = Arc::new(Flight::new());
        let patient = {
            let f = flight.clone();
            std::thread::spawn(move || f.wait(Duration::from_secs(60)))
        };
        let start = Instant::now();
        let e = flight.wait(Duration::from_millis(300)).unwrap_err();
        let took = start.elapsed();
        assert_eq!(e.code(), ErrorCode::Network);
        assert!(e.message().contains("timed out after 300 ms waiting"), "{}", e.message());
        assert!(took >= Duration::from_millis(300), "gave up early: {took:?}");
        assert!(flight.has_waiters(), "the patient waiter is still counted");
        flight.complete(Err(Error::new(ErrorCode::Server, "landed")));
        assert_eq!(patient.join().unwrap().unwrap_err().message(), "landed");
        assert!(!flight.has_waiters(), "a waiter that left is still counted");
    }
}

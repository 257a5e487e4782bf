//! The threads that fetch tokens: at most [`MAX_CONCURRENT_FETCHES`] at once,
//! process-wide. A fetch beyond the bound waits in a FIFO queue (its flight
//! is already registered, so single flight is unchanged: later callers join
//! it) and runs when a thread frees up; the fetch's time budget counts from
//! when it was queued. Threads exist only while there is work: an idle pool
//! holds none.
//!
//! Every pool thread blocks SIGPIPE (see `signals`) and keeps its panics off
//! the host's stderr (see `panics`). After fork() the child starts an empty
//! pool: the parent's threads and queue stay behind, untouched.

use crate::error::Error;
use crate::{fork, panics, signals};
use arc_swap::ArcSwap;
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;

/// Most token fetches running at once in one process (so at most this many
/// fetch threads). Fetches for one key are one fetch (single flight).
pub const MAX_CONCURRENT_FETCHES: usize = 64;

pub type Job = Box<dyn FnOnce() + Send + 'static>;

struct Pool {
    generation: u64,
    /// The process that made it (the parent's, seen from a forked child).
    pid: u32,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    running: usize,
    queue: VecDeque<Job>,
}

static CURRENT: Lazy<ArcSwap<Pool>> = Lazy::new(|| ArcSwap::from_pointee(Pool::new()));

impl Pool {
    fn new() -> Pool {
        Pool { generation: fork::generation(), pid: std::process::id(), state: Mutex::new(State::default()) }
    }
}

/// This process's pool: a fresh one in a forked child.
fn current() -> Arc<Pool> {
    fork::watch();
    let pool = CURRENT.load_full();
    if pool.generation == fork::generation() {
        return pool;
    }
    let previous = CURRENT.rcu(|p| if p.generation == fork::generation() { p.clone() } else { Arc::new(Pool::new()) });
    if previous.generation != fork::generation() {
        crate::log::fork_detected(previous.pid, std::process::id());
    }
    // The parent's pool is leaked on purpose: its threads and queued jobs do
    // not exist in this process.
    std::mem::forget(previous);
    CURRENT.load_full()
}

/// Runs `job` on a pool thread: now if fewer than the bound are busy, else
/// when one frees up. Fails only if no thread can be started at all.
pub fn submit(job: Job) -> Result<(), Error> {
    #[cfg(test)]
    let job = crate::clock::carried(job);
    let pool = current();
    let mut st = pool.state.lock();
    if st.running >= MAX_CONCURRENT_FETCHES {
        st.queue.push_back(job);
        return Ok(());
    }
    let worker_pool = pool.clone();
    // The job moves into the thread only if it starts; keep it reachable
    // for the queue otherwise.
    let slot = Arc::new(Mutex::new(Some(job)));
    let first = slot.clone();
    let spawned = std::thread::Builder::new()
        .name("paytrim-auth-fetch".into())
        .spawn(move || work(&worker_pool, first.lock().take()));
    match spawned {
        Ok(_) => {
            st.running += 1;
            Ok(())
        }
        Err(e) => {
            let job = slot.lock().take();
            match job {
                Some(job) if st.running > 0 => {
                    st.queue.push_back(job);
                    Ok(())
                }
                _ => Err(Error::internal(format!("could not start a fetch thread: {e}"))),
            }
        }
    }
}

fn work(pool: &Pool, first: Option<Job>) {
    signals::block_sigpipe_on_this_thread();
    panics::silence_this_thread();
    let mut next = first;
    loop {
        if let Some(job) = next.take() {
            // A job catches its own panics; this is the last line of defence
            // so the running count stays right.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        }
        let mut st = pool.state.lock();
        match st.queue.pop_front() {
            Some(job) => next = Some(job),
            None => {
                st.running -= 1;
                return;
            }
        }
    }
}

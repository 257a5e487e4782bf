//! fork() awareness. A forked child has one thread: the fetch threads, their
//! flights and the connections they pooled stay behind in the parent. A
//! `pthread_atfork` child handler bumps a generation counter (one atomic add,
//! async-signal-safe); the slow paths compare the generation their state was
//! made in with the current one and rebuild what came from the parent,
//! never touching the parent's copy (its sockets and TLS sessions belong to
//! the parent). The cache-hit path reads nothing from here.
//!
//! Platforms: every Unix has `pthread_atfork` (macOS included). Windows has
//! no fork(): the generation stays 0 and nothing is ever rebuilt.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

static GENERATION: AtomicU64 = AtomicU64::new(0);
static WATCH: Once = Once::new();

#[cfg(unix)]
extern "C" fn in_child_after_fork() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Registers the fork handler (once per process; idempotent, cheap after).
pub fn watch() {
    WATCH.call_once(|| {
        // SAFETY: registers a handler that only does an atomic add.
        #[cfg(unix)]
        unsafe {
            libc::pthread_atfork(None, None, Some(in_child_after_fork));
        }
    });
}

/// Which process image state belongs to: 0 in the original process, +1 in
/// each generation of forked children.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::SeqCst)
}

/// A value that belongs to one process, built on first use. After fork()
/// the first `get` in the child builds a new value and forgets (leaks, never
/// drops) the parent's: dropping it could close a TLS session the parent
/// still uses. A failed build is tried again by the next `get`.
pub struct PerProcess<T> {
    cell: Mutex<(u64, Option<T>)>,
}

impl<T: Clone> PerProcess<T> {
    /// Empty: the first `get` builds the value.
    pub fn lazy() -> PerProcess<T> {
        watch();
        PerProcess { cell: Mutex::new((generation(), None)) }
    }

    /// The value for this process, built by `build` on first use and after a fork.
    pub fn get<E>(&self, build: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let mut cell = self.cell.lock();
        let now = generation();
        if cell.0 != now {
            std::mem::forget(cell.1.take());
            cell.0 = now;
        }
        if let Some(value) = &cell.1 {
            return Ok(value.clone());
        }
        let fresh = build()?;
        cell.1 = Some(fresh.clone());
        Ok(fresh)
    }
}

/// A process-wide map (or other collection) whose entries belong to one
/// process: in a forked child, `current` forgets the parent's entries
/// (leaked, never dropped) and starts empty.
#[derive(Default)]
pub struct PerGeneration<T: Default> {
    generation: u64,
    value: T,
}

impl<T: Default> PerGeneration<T> {
    pub fn current(&mut self) -> &mut T {
        let now = generation();
        if self.generation != now {
            std::mem::forget(std::mem::take(&mut self.value));
            self.generation = now;
        }
        &mut self.value
    }
}

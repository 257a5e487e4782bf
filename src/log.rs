//! Diagnostic events (cache miss, fetch start and end, retry, throttling,
//! background refresh, fork detected) delivered to one process-wide sink.
//!
//! With no sink set, an event costs one relaxed atomic load and nothing else:
//! the message is never formatted. The cache-hit fast path emits nothing.
//!
//! What a line may contain: levels, durations, attempt numbers, HTTP statuses,
//! error codes (`network`, `invalid_client`, AADSTS numbers), the endpoint's
//! host and the client-request-id. Never a secret, a token, a request body or
//! an `Authorization` header. Tenant and client ids (which identify a
//! customer) and full error messages (which name the endpoint, and with it
//! the tenant) only appear when [`set_include_pii`] is on; it is off by
//! default.
//!
//! The sink is called on the thread where the event happens: a caller's
//! thread (cache miss, throttled call) or a library-owned fetch thread, from
//! several threads at once. An event raised while the sink is running on the
//! same thread (the sink called back into the library) is dropped, so a sink
//! can never recurse into itself.

use arc_swap::ArcSwapOption;
use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

/// How important an event is. `Error` is the most severe; `Trace` the most
/// verbose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

impl Level {
    pub fn from_u32(n: u32) -> Option<Level> {
        Some(match n {
            1 => Level::Error,
            2 => Level::Warn,
            3 => Level::Info,
            4 => Level::Debug,
            5 => Level::Trace,
            _ => return None,
        })
    }

    pub fn as_u32(self) -> u32 {
        self as u32
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Receives each event at or above the chosen level: its level and message.
pub type Sink = Arc<dyn Fn(Level, &str) + Send + Sync + 'static>;

/// The most verbose level delivered; 0 when no sink is set.
static MAX_LEVEL: AtomicU8 = AtomicU8::new(0);
/// The sink in use (a sized wrapper, as `ArcSwapOption` needs).
struct Installed(Sink);
static SINK: ArcSwapOption<Installed> = ArcSwapOption::const_empty();
static INCLUDE_PII: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Set while this thread runs the sink, to drop re-entrant events.
    static IN_SINK: Cell<bool> = const { Cell::new(false) };
}

/// Sets the process-wide sink, delivering events at `level` and more severe
/// ones; `None` turns logging off. Never blocks: a sink call already running
/// on another thread may still finish after this returns.
pub fn set_sink(level: Level, sink: Option<Sink>) {
    match sink {
        Some(s) => {
            SINK.store(Some(Arc::new(Installed(s))));
            MAX_LEVEL.store(level as u8, Ordering::Release);
        }
        None => {
            MAX_LEVEL.store(0, Ordering::Release);
            SINK.store(None);
        }
    }
}

/// Whether tenant ids, client ids and full error messages may appear in
/// events. Off by default.
pub fn set_include_pii(on: bool) {
    INCLUDE_PII.store(on, Ordering::Relaxed);
}

pub fn include_pii() -> bool {
    INCLUDE_PII.load(Ordering::Relaxed)
}

/// True if an event at `level` would be delivered: one relaxed load.
#[inline(always)]
pub fn enabled(level: Level) -> bool {
    level as u8 <= MAX_LEVEL.load(Ordering::Relaxed)
}

/// Formats and delivers one event. Call through [`event!`](crate::log_event),
/// which checks [`enabled`] first so nothing is formatted when logging is off.
#[cold]
pub fn emit(level: Level, args: fmt::Arguments<'_>) {
    if !enabled(level) || IN_SINK.with(Cell::get) {
        return;
    }
    let Some(sink) = SINK.load_full() else { return };
    let message = fmt::format(args);
    IN_SINK.with(|f| f.set(true));
    // A panicking sink must not take a fetch thread (or a caller) with it.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (sink.0)(level, &message)));
    IN_SINK.with(|f| f.set(false));
}

/// `log_event!(Level::Info, "format {}", args)`: formats and delivers only
/// when a sink wants this level.
#[macro_export]
#[doc(hidden)]
macro_rules! log_event {
    ($level:expr, $($arg:tt)+) => {{
        let level = $level;
        if $crate::log::enabled(level) {
            $crate::log::emit(level, format_args!($($arg)+));
        }
    }};
}

/// Who a fetch is for, as it may appear in a line: tenant and client id only
/// with PII on; otherwise nothing.
pub struct Who<'a> {
    pub tenant: &'a str,
    pub client_id: &'a str,
}

impl fmt::Display for Who<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if include_pii() {
            write!(f, " [tenant {}, client {}]", self.tenant, self.client_id)
        } else {
            Ok(())
        }
    }
}

/// Why an attempt failed, for a line: the error code, HTTP status, OAuth
/// error and AADSTS codes; the full message (which names the endpoint and
/// so the tenant) only with PII on. Error messages never hold secrets.
pub struct Reason<'a>(pub &'a crate::Error);

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        f.write_str(e.code().name())?;
        if let Some(s) = e.http_status() {
            write!(f, ", HTTP {s}")?;
        }
        if let Some(o) = e.oauth_error() {
            write!(f, ", {o}")?;
        }
        for c in e.aadsts_codes() {
            write!(f, ", AADSTS{c}")?;
        }
        if include_pii() {
            write!(f, ": {}", e.message())?;
        }
        Ok(())
    }
}

/// Reports that the process forked since the library last ran in it; called
/// by the fork handling in the child.
pub fn fork_detected(parent_pid: u32, child_pid: u32) {
    crate::log_event!(
        Level::Info,
        "fork detected: now in child process {child_pid} (parent {parent_pid}); in-flight fetches and pooled connections of the parent are not used"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;

    #[test]
    fn levels_round_trip_and_order() {
        for n in 1..=5 {
            assert_eq!(Level::from_u32(n).unwrap().as_u32(), n);
        }
        assert!(Level::from_u32(0).is_none() && Level::from_u32(6).is_none());
        assert!(Level::Error < Level::Trace);
    }

    // The sink is process-wide: this is the only unit test that sets it.
    #[test]
    fn filters_by_level_drops_reentrant_events_and_survives_a_panicking_sink() {
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let l2 = lines.clone();
        set_sink(
            Level::Info,
            Some(Arc::new(move |level, msg: &str| {
                l2.lock().push(format!("{level}: {msg}"));
                // Re-entrant: dropped, and no deadlock.
                crate::log_event!(Level::Error, "qa-unit nested");
                if msg == "qa-unit boom" {
                    panic!("sink panics");
                }
            })),
        );
        crate::log_event!(Level::Debug, "qa-unit too verbose {}", 1);
        crate::log_event!(Level::Info, "qa-unit kept {}", 2);
        crate::log_event!(Level::Error, "qa-unit boom");
        crate::log_event!(Level::Warn, "qa-unit after the panic");
        set_sink(Level::Trace, None);
        crate::log_event!(Level::Error, "qa-unit after off");
        let ours: Vec<String> = lines.lock().iter().filter(|l| l.contains("qa-unit")).cloned().collect();
        assert_eq!(ours, ["info: qa-unit kept 2", "error: qa-unit boom", "warn: qa-unit after the panic"]);
        assert!(!enabled(Level::Error));
    }
}

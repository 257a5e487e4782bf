//! The clock token lifetimes are measured on: `CLOCK_BOOTTIME`, which keeps
//! counting while the machine (laptop, VM) is suspended. `std::time::Instant`
//! is `CLOCK_MONOTONIC`, which stops during a suspend: after a resume it
//! would call a token that expired hours ago still valid. Reading either
//! costs the same (one `clock_gettime`), so the cache hit stays as fast.
//!
//! Like `Instant`, a [`Stamp`] ignores wall-clock changes (NTP steps, manual
//! changes), so neither can stretch or cut a token's life.
//!
//! Platforms (only Linux is compiled and run here; the others reviewed):
//! - Linux, Android: `CLOCK_BOOTTIME`.
//! - macOS, iOS: `CLOCK_MONOTONIC`, which on Apple's systems keeps counting
//!   while asleep (it is `mach_continuous_time`; `mach_absolute_time`, under
//!   `Instant`, is the one that stops).
//! - FreeBSD and the other Unixes: `CLOCK_MONOTONIC`; whether it counts a
//!   suspend varies, so there a token may outlive a suspend until the
//!   server's 401 (then `refresh_token`).
//! - Windows: `Instant`, which is `QueryPerformanceCounter`: Microsoft
//!   documents it as counting sleep and hibernation (unlike
//!   `QueryUnbiasedInterruptTime`), so it is the suspend-aware clock there.

use std::ops::{Add, Sub};
use std::time::Duration;

/// A point in time since boot, suspend included, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp(u64);

#[cfg(any(target_os = "linux", target_os = "android"))]
const CLOCK: libc::clockid_t = libc::CLOCK_BOOTTIME;
// Elsewhere (macOS: counts suspend; the BSDs: see above) CLOCK_MONOTONIC.
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
const CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC;

/// Now, on the suspend-aware clock.
#[cfg(unix)]
#[inline]
pub fn now() -> Stamp {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: writes one timespec we own; CLOCK is supported (it cannot
    // fail with a valid pointer and clock id).
    unsafe { libc::clock_gettime(CLOCK, &mut ts) };
    Stamp((ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64) + suspended_ns())
}

/// Now, on the suspend-aware clock: time since the first reading in this
/// process (plus one second, so that no stamp is zero).
#[cfg(not(unix))]
#[inline]
pub fn now() -> Stamp {
    static BASE: once_cell::sync::Lazy<std::time::Instant> = once_cell::sync::Lazy::new(std::time::Instant::now);
    let since = BASE.elapsed() + Duration::from_secs(1);
    Stamp(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX) + suspended_ns())
}

impl Stamp {
    /// Time since this stamp.
    pub fn elapsed(self) -> Duration {
        now().saturating_duration_since(self)
    }

    /// Time from `earlier` to `self`; zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Stamp) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Stamp {
    type Output = Stamp;
    fn add(self, d: Duration) -> Stamp {
        Stamp(self.0.saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)))
    }
}

/// Saturating: zero when `rhs` is later.
impl Sub<Stamp> for Stamp {
    type Output = Duration;
    fn sub(self, rhs: Stamp) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

#[cfg(not(test))]
#[inline(always)]
fn suspended_ns() -> u64 {
    0
}

// The test-only seam: unit tests simulate a suspend of the calling thread's
// view of the machine (time CLOCK_BOOTTIME counts and `Instant` does not).
// Thread-local so that tests running in parallel are not disturbed; it does
// not exist outside `cargo test` of this crate.
#[cfg(test)]
thread_local! {
    static SUSPENDED_NS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
fn suspended_ns() -> u64 {
    SUSPENDED_NS.with(std::cell::Cell::get)
}

/// As seen from this thread, the machine sleeps for `d` now.
#[cfg(test)]
pub fn simulate_suspend(d: Duration) {
    SUSPENDED_NS.with(|s| s.set(s.get() + d.as_nanos() as u64));
}

/// A job for a library thread sees the simulated suspend of the thread that
/// queued it (a fetch stamps its token and throttle with the caller's view).
#[cfg(test)]
pub fn carried(job: crate::fetch_pool::Job) -> crate::fetch_pool::Job {
    let offset = suspended_ns();
    Box::new(move || {
        SUSPENDED_NS.with(|s| s.set(offset));
        job();
        SUSPENDED_NS.with(|s| s.set(0));
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Client, ClientConfig, Credential};
    use paytrim_entra_emulator::{Emulator, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};

    #[test]
    fn stamps_advance_and_saturate() {
        let a = now();
        let b = a + Duration::from_millis(5);
        assert_eq!(b - a, Duration::from_millis(5));
        assert_eq!(a - b, Duration::ZERO);
        assert!(now() >= a);
    }

    /// After a suspend longer than the token's life, the cached token is
    /// expired (never served), and the next call fetches a new one; the
    /// monotonic clock (which stood still) would have served the old one.
    #[test]
    fn a_token_expires_across_a_suspend() {
        let emu = Emulator::start().unwrap();
        let mut cfg = ClientConfig::default();
        cfg.set("token_url", &emu.http_token_url("contoso.onmicrosoft.com")).unwrap();
        cfg.set("scope", "api://suspend/.default").unwrap();
        cfg.set("proxy", "none").unwrap();
        let client = Client::new(DEFAULT_CLIENT_ID, Credential::client_secret(DEFAULT_CLIENT_SECRET), &cfg).unwrap();
        let first = client.token().unwrap();
        assert!(client.with_cached_token(|t| t.serial()).is_some(), "cached before the suspend");

        simulate_suspend(Duration::from_secs(2 * 3600));

        assert_eq!(client.with_cached_token(|t| t.serial()), None, "a token that expired during a suspend was served");
        assert_eq!(first.expires_in(), Duration::ZERO);
        let second = client.token().unwrap();
        assert_ne!(second.serial(), first.serial());
        assert_eq!(emu.token_requests(), 2);
    }
}

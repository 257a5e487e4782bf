//! Numbers from the server are clamped, never trusted: an absurd `expires_in`
//! must not panic the fetch thread or produce a negative or 31,000-year
//! expiry, and an absurd `Retry-After` must not block a key for the life of
//! the process.

mod common;
use common::*;
use paytrim_auth::ErrorCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DAY_MS: i64 = 24 * 3600 * 1000;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

#[test]
fn absurd_expires_in_is_clamped_to_a_day() {
    for secs in [10_000_000_000_000_000_000u64, 10_000_000_000_000_000, 1_000_000_000_000] {
        let mut s = setup();
        s.set("scope", &format!("api://expires-{secs}/.default")).set("max_attempts", "1");
        s.emu.set_expires_in(secs);
        let before = now_ms();
        let t = s.client().token().unwrap_or_else(|e| panic!("expires_in {secs}: {e}"));
        let on = t.expires_on_unix_ms();
        assert!(on > before && on <= now_ms() + DAY_MS, "expires_in {secs}: expires_on {on}");
        assert_eq!(t.lifetime(), Duration::from_secs(24 * 3600), "expires_in {secs}");
    }
}

#[test]
fn absurd_retry_after_is_capped_at_an_hour() {
    let mut s = setup();
    s.set("max_attempts", "1");
    s.emu.push_fault(Fault::status(429).retry_after("3000000000"));
    let e = s.client().token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::Throttled);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3600)), "{}", e.message());
}

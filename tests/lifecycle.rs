//! Freeing a client never hangs, and no fetch thread outlives the last
//! client that needs it. Alone in its binary: it counts this process's
//! fetch threads.

mod common;
use common::*;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The tests here count threads: run them one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn fetch_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim() == "paytrim-auth-fe") // "paytrim-auth-fetch", cut to 15 bytes
        .count()
}

#[test]
fn freeing_the_last_client_ends_a_background_refresh_that_waits_out_a_retry_after() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut s = setup();
    s.set("refresh_margin_s", "4");
    s.emu.set_expires_in(6);
    let c = s.client();
    c.token().unwrap();
    assert!(eventually(Duration::from_secs(2), || fetch_threads() == 0), "first fetch thread lingers");

    // The background refresh meets a 503 asking for 20 s: it waits to retry.
    // The margin is capped at half the 6 s life: the refresh point is ~3 s.
    s.emu.push_fault(Fault::status(503).retry_after("20"));
    std::thread::sleep(Duration::from_millis(3100));
    c.token().unwrap();
    assert!(eventually(Duration::from_secs(2), || s.emu.token_requests() == 2));
    assert_eq!(fetch_threads(), 1, "one background refresh waiting");

    let t = Instant::now();
    drop(c);
    // The fetch waits out a 20 s Retry-After; a free that waited for it would take that long.
    assert!(t.elapsed() < Duration::from_secs(2), "free blocked for {:?}", t.elapsed());
    assert!(
        eventually(Duration::from_millis(500), || fetch_threads() == 0),
        "the fetch thread outlived the last client"
    );
    assert_eq!(s.emu.token_requests(), 2, "an abandoned fetch sends nothing more");
}

// `a_fetch_with_a_waiter_is_not_abandoned_when_its_starter_is_freed` is a unit
// test in src/client.rs: it needs the test clock to start a fetch nobody waits for.

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn many_clients_share_a_few_connections() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let s = setup();
    s.client().token().unwrap();
    let before = open_fds();
    let clients: Vec<_> =
        (0..300).map(|i| s.client_with(|c| c.set("scope", &format!("api://fd-{i}/.default")).unwrap())).collect();
    for c in &clients {
        c.token().unwrap();
    }
    let grown = open_fds().saturating_sub(before);
    assert!(grown < 20, "300 cached keys hold {grown} more file descriptors");
    assert_eq!(s.emu.token_requests(), 301);
}

//! The cache: hits without requests, sharing between clients of one key,
//! isolation between keys, expiry, background refresh and force refresh.

mod common;
use common::*;
use paytrim_auth::{Client, Credential};
use std::time::Duration;

#[test]
fn repeated_calls_are_served_from_memory() {
    let s = setup();
    let c = s.client();
    let first = c.token().unwrap();
    for _ in 0..1000 {
        assert_eq!(c.token().unwrap().secret(), first.secret());
    }
    assert_eq!(s.emu.token_requests(), 1);
}

#[test]
fn clients_with_the_same_credentials_share_one_token() {
    let s = setup();
    let a = s.client().token().unwrap();
    let second = s.client();
    assert_eq!(second.token().unwrap().secret(), a.secret());
    drop(second);
    // Even after every client is gone, a new one finds the token.
    assert_eq!(s.client().token().unwrap().secret(), a.secret());
    assert_eq!(s.emu.token_requests(), 1);
}

#[test]
fn a_different_secret_never_receives_another_clients_token() {
    let s = setup();
    let good = s.client().token().unwrap();
    let wrong = Client::new(&s.client_id, Credential::client_secret("not-the-secret"), &s.config).unwrap();
    let e = wrong.token().unwrap_err();
    assert_eq!(e.code(), paytrim_auth::ErrorCode::CredentialRejected);
    assert!(!e.message().contains(good.secret()));
    assert_eq!(s.emu.token_requests(), 2);
}

#[test]
fn different_scopes_and_tenants_are_different_keys() {
    let s = setup();
    let a = s.client().token().unwrap();
    let b = s.client_with(|c| c.set("scope", "api://other/.default").unwrap()).token().unwrap();
    let t = s.client_with(|c| c.set("tenant", "fabrikam.onmicrosoft.com").unwrap()).token().unwrap();
    assert_ne!(a.secret(), b.secret());
    assert_ne!(a.secret(), t.secret());
    assert_eq!(s.emu.token_requests(), 3);
}

#[test]
fn an_expired_token_is_fetched_again() {
    let mut s = setup();
    s.set("refresh_margin_s", "0");
    s.emu.set_expires_in(1);
    let c = s.client();
    let first = c.token().unwrap();
    assert_eq!(c.token().unwrap().secret(), first.secret());
    std::thread::sleep(Duration::from_millis(1100));
    let second = c.token().unwrap();
    assert_ne!(second.secret(), first.secret());
    assert!(s.emu.token_requests() >= 2);
}

#[test]
fn within_the_refresh_margin_the_current_token_is_served_while_one_refresh_runs() {
    let mut s = setup();
    s.set("refresh_margin_s", "2");
    s.emu.set_expires_in(4);
    let c = s.client();
    let first = c.token().unwrap();
    s.emu.set_latency(Duration::from_millis(1500));
    std::thread::sleep(Duration::from_millis(2100));
    // In the margin: served at once, the refresh (1.5 s) runs in the background.
    let (during, took) = timed(|| (0..200).map(|_| c.token().unwrap().secret().to_owned()).collect::<Vec<_>>());
    assert!(during.iter().all(|t| t == first.secret()));
    assert!(took < Duration::from_millis(1000), "hits waited for the refresh: {took:?}");
    assert!(eventually(Duration::from_secs(5), || c.token().unwrap().secret() != first.secret()));
    assert_eq!(s.emu.token_requests(), 2, "exactly one background refresh");
}

#[test]
fn refresh_in_starts_an_early_background_refresh() {
    let s = setup();
    s.emu.set_refresh_in(Some(1));
    let c = s.client();
    let first = c.token().unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(c.token().unwrap().secret(), first.secret(), "served without waiting");
    assert!(eventually(Duration::from_secs(3), || c.token().unwrap().secret() != first.secret()));
    assert_eq!(s.emu.token_requests(), 2);
}

#[test]
fn force_refresh_replaces_the_token_for_every_client_of_the_key() {
    let s = setup();
    let a = s.client();
    let b = s.client();
    let first = a.token().unwrap();
    let fresh = a.force_refresh().unwrap();
    assert_ne!(fresh.secret(), first.secret());
    assert_eq!(b.token().unwrap().secret(), fresh.secret());
    assert_eq!(s.emu.token_requests(), 2);
}

#[test]
fn concurrent_force_refreshes_share_one_request() {
    let s = setup();
    let c = s.client();
    c.token().unwrap();
    s.emu.set_latency(Duration::from_millis(200));
    let tokens: Vec<String> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..16).map(|_| sc.spawn(|| c.force_refresh().unwrap().secret().to_owned())).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(tokens.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(s.emu.token_requests(), 2);
}

#[test]
fn cached_only_lookup_never_fetches() {
    let s = setup();
    let c = s.client();
    assert!(c.with_cached_token(|t| t.secret().to_owned()).is_none());
    assert_eq!(s.emu.token_requests(), 0);
    let t = c.token().unwrap();
    assert_eq!(c.with_cached_token(|x| x.secret().to_owned()).as_deref(), Some(t.secret()));
}

#[test]
fn async_callback_gets_the_token_on_a_miss_and_inline_on_a_hit() {
    let s = setup();
    s.emu.set_latency(Duration::from_millis(200));
    let c = s.client();
    let (tx, rx) = std::sync::mpsc::channel();
    let caller = std::thread::current().id();
    let tx2 = tx.clone();
    let (_, took) = timed(|| {
        c.token_async(Box::new(move |r| {
            tx2.send((r.map(|t| t.secret().to_owned()).map_err(|e| e.clone()), std::thread::current().id())).unwrap();
        }))
    });
    // Returned before the fetch (200 ms at the server) could have landed.
    assert!(rx.try_recv().is_err(), "token_async waited for the fetch ({took:?})");
    let (tok, thread) = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    let tok = tok.unwrap();
    assert_ne!(thread, caller, "a miss completes on a library thread");
    c.token_async(Box::new(move |r| {
        tx.send((r.map(|t| t.secret().to_owned()).map_err(|e| e.clone()), std::thread::current().id())).unwrap();
    }));
    let (hit, thread) = rx.recv_timeout(Duration::from_secs(1)).unwrap();
    assert_eq!(hit.unwrap(), tok);
    assert_eq!(thread, caller, "a hit completes inline");
    assert_eq!(s.emu.token_requests(), 1);
}

#[test]
fn force_refresh_async_never_blocks_and_lands_a_new_token() {
    let s = setup();
    let c = s.client();
    let first = c.token().unwrap();
    s.emu.set_latency(Duration::from_millis(300));
    let (tx, rx) = std::sync::mpsc::channel();
    let (_, took) = timed(|| {
        c.force_refresh_async(Box::new(move |r| {
            tx.send(r.map(|t| t.secret().to_owned()).map_err(|e| e.clone())).unwrap()
        }))
    });
    assert!(rx.try_recv().is_err(), "force_refresh_async waited for the fetch ({took:?})");
    let fresh = rx.recv_timeout(Duration::from_secs(20)).unwrap().unwrap();
    assert_ne!(fresh, first.secret());
    assert_eq!(c.token().unwrap().secret(), fresh);
    assert_eq!(s.emu.token_requests(), 2);
}

//! Per-call scopes: one client (one credential) asks for tokens for several
//! scope sets; each set has its own cache entry, single flight, force refresh
//! and throttle memory, and the configured scopes stay the default.

mod common;

use base64::Engine as _;
use common::*;
use paytrim_auth::{Client, ClientConfig, ErrorCode, ManagedIdentityId};
use paytrim_entra_emulator::Emulator;
use std::sync::{Arc, Barrier};
use std::time::Duration;

/// The `aud` claim of an emulator token: the resource of its first scope.
fn aud(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("JWT-shaped");
    let claims: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["aud"].as_str().unwrap().to_owned()
}

#[test]
fn each_scope_set_gets_its_own_token_and_cache_entry() {
    let s = setup();
    let c = s.client();
    let default = c.token().unwrap();
    assert_eq!(aud(default.secret()), "https://graph.microsoft.com");
    let orders = c.for_scopes(&["api://orders/.default"]).unwrap().token().unwrap();
    assert_eq!(aud(orders.secret()), "api://orders");
    assert_eq!(s.emu.last_request().unwrap().form_field("scope"), Some("api://orders/.default"));
    let billing = c.for_scopes(&["api://billing/.default"]).unwrap().token().unwrap();
    assert_eq!(aud(billing.secret()), "api://billing");
    assert_eq!(s.emu.token_requests(), 3);
    // Each from its own entry now, without a request; the default unchanged.
    for _ in 0..100 {
        assert_eq!(c.token().unwrap().secret(), default.secret());
        assert_eq!(c.for_scopes(&["api://orders/.default"]).unwrap().token().unwrap().secret(), orders.secret());
        assert_eq!(c.for_scopes(&["api://billing/.default"]).unwrap().token().unwrap().secret(), billing.secret());
    }
    assert_eq!(s.emu.token_requests(), 3);
}

#[test]
fn the_configured_scopes_are_the_default_entry_in_any_order() {
    let mut s = setup();
    s.set("scope", "api://b/.default api://a/.default");
    let c = s.client();
    let t = c.token().unwrap();
    let same = c.for_scopes(&["api://a/.default", "api://b/.default", "api://a/.default"]).unwrap();
    assert!(same.shares_cache_entry_with(&c));
    assert_eq!(same.token().unwrap().secret(), t.secret());
    assert_eq!(s.emu.token_requests(), 1);
    // A scoped client asked for the configured scopes gives the default back.
    let other = c.for_scopes(&["api://other/.default"]).unwrap();
    assert!(!other.shares_cache_entry_with(&c));
    assert!(other.for_scopes(&["api://a/.default", "api://b/.default"]).unwrap().shares_cache_entry_with(&c));
}

#[test]
fn another_client_of_the_same_credential_shares_the_scope_sets_entry() {
    let s = setup();
    let t = s.client().for_scopes(&["api://shared/.default"]).unwrap().token().unwrap();
    let configured = s.client_with(|c| c.set("scope", "api://shared/.default").unwrap());
    assert_eq!(configured.token().unwrap().secret(), t.secret());
    assert_eq!(s.emu.token_requests(), 1);
}

#[test]
fn concurrent_callers_of_one_scope_set_share_one_request_while_others_fetch_their_own() {
    let s = setup();
    s.emu.set_latency(Duration::from_millis(300));
    let c = s.client();
    let barrier = Arc::new(Barrier::new(24));
    let handles: Vec<_> = (0..24)
        .map(|i| {
            let (c, b) = (c.clone(), barrier.clone());
            std::thread::spawn(move || {
                let scope = format!("api://set{}/.default", i % 3);
                b.wait();
                let t = c.for_scopes(&[scope.as_str()]).unwrap().token().unwrap();
                (i % 3, t.secret().to_owned())
            })
        })
        .collect();
    let results: Vec<(usize, String)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for set in 0..3 {
        let tokens: std::collections::HashSet<&String> =
            results.iter().filter(|(s, _)| *s == set).map(|(_, t)| t).collect();
        assert_eq!(tokens.len(), 1, "one token per scope set");
        assert_eq!(aud(tokens.into_iter().next().unwrap()), format!("api://set{set}"));
    }
    assert_eq!(s.emu.token_requests(), 3, "one request per scope set");
}

#[test]
fn force_refresh_and_throttle_are_per_scope_set() {
    let s = setup();
    let c = s.client();
    let default = c.token().unwrap();
    let orders = c.for_scopes(&["api://orders/.default"]).unwrap();
    let first = orders.token().unwrap();
    let refreshed = orders.force_refresh().unwrap();
    assert_ne!(refreshed.secret(), first.secret());
    assert_eq!(c.token().unwrap().secret(), default.secret(), "the default entry kept its token");
    assert_eq!(s.emu.token_requests(), 3);
    // A 429 for one scope set throttles that set only.
    s.emu.push_fault(Fault::status(429).retry_after("30"));
    let throttled = c.for_scopes(&["api://throttled/.default"]).unwrap();
    assert_eq!(throttled.token().unwrap_err().code(), ErrorCode::Throttled);
    let before = s.emu.token_requests();
    assert_eq!(throttled.token().unwrap_err().code(), ErrorCode::Throttled, "remembered");
    assert_eq!(s.emu.token_requests(), before, "no request while throttled");
    c.for_scopes(&["api://unthrottled/.default"]).unwrap().token().expect("another set is not throttled");
}

#[test]
fn bad_scope_lists_are_refused_clearly() {
    let s = setup();
    let c = s.client();
    let empty: [&str; 0] = [];
    for (scopes, says) in [
        (&empty[..], "the list is empty"),
        (&["api://a/.default", ""][..], "scope 1 is empty"),
        (&["api://a/.default api://b/.default"][..], "whitespace"),
        (&["api://a/\n.default"][..], "control character"),
    ] {
        let e = c.for_scopes(scopes).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidArgument);
        assert!(e.message().contains(says), "{scopes:?}: {}", e.message());
    }
    // A scope the server refuses is the server's answer, for that set only.
    let e = c.for_scopes(&["api://no-default-suffix"]).unwrap().token().unwrap_err();
    assert_eq!(e.oauth_error(), Some("invalid_scope"), "{e:?}");
    c.token().expect("the default still works");
    assert_eq!(s.emu.token_requests(), 2);
}

#[test]
fn managed_identity_takes_the_resource_per_call() {
    let emu = Emulator::start().unwrap();
    let mut cfg = ClientConfig::default();
    cfg.set("imds_endpoint", &emu.imds_endpoint()).unwrap();
    cfg.set("scope", "https://management.azure.com/.default").unwrap();
    cfg.set("proxy", "none").unwrap();
    let c = Client::managed_identity(ManagedIdentityId::SystemAssigned, &cfg).unwrap();
    c.token().unwrap();
    assert_eq!(emu.last_request().unwrap().query_param("resource"), Some("https://management.azure.com"));
    let vault = c.for_scopes(&["https://vault.azure.net/.default"]).unwrap().token().unwrap();
    assert_eq!(emu.last_request().unwrap().query_param("resource"), Some("https://vault.azure.net"));
    assert_eq!(aud(vault.secret()), "https://vault.azure.net");
    assert_eq!(emu.managed_identity_requests(), 2);
    let e = c.for_scopes(&["https://a/.default", "https://b/.default"]).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    assert!(e.message().contains("exactly one resource"), "{}", e.message());
}

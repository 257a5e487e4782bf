//! `connect_timeout_ms` bounds TCP + TLS: a server that accepts the TCP
//! connection and never answers the TLS handshake fails each attempt after
//! about the connect timeout, not after `timeout_ms`; and a slow answer after
//! a quick handshake still gets the whole `timeout_ms`.

mod common;
use common::*;
use paytrim_auth::{Client, ClientConfig, Credential, ErrorCode};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Accepts TCP connections and holds them open without a byte in reply.
fn stalling_server() -> (u16, Arc<Mutex<Vec<TcpStream>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            keep.lock().unwrap().push(conn);
        }
    });
    (port, held)
}

#[test]
fn a_stalled_tls_handshake_fails_after_the_connect_timeout() {
    let (port, held) = stalling_server();
    let mut config = ClientConfig::default();
    for (k, v) in [
        ("token_url", format!("https://127.0.0.1:{port}/oauth2/v2.0/token")),
        ("proxy", "none".into()),
        ("connect_timeout_ms", "800".into()),
        ("timeout_ms", "10000".into()),
        ("total_timeout_ms", "30000".into()),
        ("max_attempts", "2".into()),
    ] {
        config.set(k, &v).unwrap();
    }
    let client = Client::new("stall-client", Credential::client_secret("stall-secret"), &config).unwrap();
    let (result, took) = timed(|| client.token());
    let e = result.unwrap_err();
    eprintln!("two attempts against a TLS-stalling server, connect_timeout_ms=800: {} ms", took.as_millis());
    assert_eq!(e.code(), ErrorCode::Network, "{}", e.message());
    assert!(e.message().contains("connect") && e.message().contains("800 ms"), "{}", e.message());
    assert_eq!(held.lock().unwrap().len(), 2, "two attempts, each accepted by TCP");
    // Two attempts of ~0.8 s plus one backoff (at most 4 s); before the fix
    // each attempt took timeout_ms (10 s).
    assert!(took < Duration::from_millis(7_000), "took {took:?}");
}

#[test]
fn a_slow_answer_after_a_quick_handshake_gets_the_whole_attempt_timeout() {
    let mut s = setup();
    s.set("proxy", "none").set("connect_timeout_ms", "300").set("timeout_ms", "10000").set("max_attempts", "1");
    s.emu.set_latency(Duration::from_millis(1_200));
    let t = s.client().token();
    assert!(t.is_ok(), "the connect budget leaked into the request: {}", t.unwrap_err().message());
}

//! Edges: a query string in `token_url` (which may hold a secret) never
//! reaches an error message or `Debug` output; clients that trust different
//! CAs never share a cached token or a fetch.

mod common;
use common::*;
use paytrim_auth::{Client, Credential, ErrorCode};
use paytrim_entra_emulator::Emulator;

const QUERY_SECRET: &str = "QuErYsEcReT-sig-0123456789";

fn assert_hidden(what: &str, text: &str) {
    assert!(!text.contains(QUERY_SECRET), "{what} shows the query string: {text}");
}

#[test]
fn a_token_url_query_never_appears_in_errors_or_debug() {
    let s = setup();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let cases = [
        // Connection refused.
        format!("https://{dead}/oauth2/v2.0/token?sig={QUERY_SECRET}"),
        // A real answer: wrong secret (401), then a tenant error.
        format!("{}?sig={QUERY_SECRET}", s.emu.token_url("contoso.onmicrosoft.com")),
        // TLS: a host name the certificate does not name.
        format!("https://localhost:{}/t/oauth2/v2.0/token?sig={QUERY_SECRET}", s.emu.https_port()),
    ];
    for url in &cases {
        let c = Client::new(&s.client_id, Credential::client_secret("wrong-secret"), &{
            let mut c = s.config.clone();
            c.set("token_url", url).unwrap();
            c.set("max_attempts", "1").unwrap();
            c.set("proxy", "none").unwrap();
            c
        })
        .unwrap();
        assert_hidden("Client Debug", &format!("{c:?}"));
        assert_hidden("Client::endpoint", c.endpoint());
        assert!(c.endpoint().ends_with("?***"), "{}", c.endpoint());
        let e = c.token().unwrap_err();
        assert_ne!(e.code(), ErrorCode::Internal);
        assert_hidden("error message", e.message());
        assert_hidden("error Debug", &format!("{e:?}"));
    }
    // A config error echoing a bad value hides it too.
    let mut cfg = s.config.clone();
    let e = cfg.set("token_url", &format!("http://10.1.2.3/t?sig={QUERY_SECRET}")).unwrap_err();
    assert_hidden("config error", e.message());
}

#[test]
fn clients_trusting_different_cas_never_share_a_token() {
    let s = setup();
    let stranger = Emulator::start().unwrap();
    let trusting = s.client();
    trusting.token().expect("the right CA");
    // Same id, secret, endpoint and scope, but a CA that did not sign the
    // emulator's certificate: it must fetch (and fail), not reuse the token
    // the other client fetched over a connection it would not trust.
    let distrusting = s.client_with(|c| c.set("ca_file", stranger.ca_file().to_str().unwrap()).unwrap());
    let r = distrusting.token();
    assert!(r.is_err(), "a client got a token fetched under a CA it does not trust");
    assert_eq!(r.unwrap_err().code(), ErrorCode::Tls);
    assert_eq!(s.emu.token_requests(), 1);
}

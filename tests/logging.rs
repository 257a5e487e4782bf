//! The log sink: the events an operator needs (cache miss, fetch start/end
//! with duration and client-request-id, retry with reason and delay,
//! throttling, background refresh), and never a secret, an encoding of it,
//! or a token, in any line of a scenario matrix. Tenant and client ids only
//! with the PII switch on.
//!
//! The sink is process-wide, so the tests here take one lock.

mod common;
use base64::Engine;
use common::*;
use parking_lot::Mutex;
use paytrim_auth::log::{self, Level};
use paytrim_auth::{Client, Credential, ErrorCode};
use std::sync::Arc;
use std::time::Duration;

static SERIAL: Mutex<()> = Mutex::new(());

/// Collects every line at trace level while `f` runs.
fn capture(f: impl FnOnce()) -> Vec<String> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    log::set_sink(Level::Trace, Some(Arc::new(move |l: Level, m: &str| sink.lock().push(format!("{l}: {m}")))));
    f();
    log::set_sink(Level::Trace, None);
    let v = lines.lock().clone();
    v
}

fn any(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

/// Everything secret about a client: the secret, its form and Basic
/// encodings, and each token handed out.
fn forbidden(s: &Setup, tokens: &[String]) -> Vec<String> {
    let mut v = vec![s.secret.clone()];
    let form: String = url::form_urlencoded::byte_serialize(s.secret.as_bytes()).collect();
    v.push(form.clone());
    v.push(base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", s.client_id, s.secret)));
    v.push(base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", s.client_id, form)));
    v.extend(tokens.iter().cloned());
    v
}

#[test]
fn a_scenario_matrix_logs_what_happened_and_never_a_secret_or_token() {
    let _g = SERIAL.lock();
    let mut s = setup();
    s.set("proxy", "none").set("max_attempts", "4").set("total_timeout_ms", "20000");
    let mut tokens = Vec::new();
    let mut all = Vec::new();

    // Success: a cache miss, one attempt, a token.
    let lines = capture(|| tokens.push(s.client().token().unwrap().secret().to_owned()));
    let id = s.emu.last_request().unwrap().header("client-request-id").unwrap().to_owned();
    assert!(any(&lines, "debug: cache miss"), "{lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with("debug: fetch start") && l.contains(&id)), "{lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with("debug: fetch end: attempt 1 succeeded in ") && l.contains(&id)));
    assert!(any(&lines, "info: token fetched from 127.0.0.1 in "), "{lines:#?}");
    all.extend(lines);

    // A cache hit logs nothing at all.
    let lines = capture(|| tokens.push(s.client().token().unwrap().secret().to_owned()));
    assert!(lines.is_empty(), "a cache hit logged: {lines:#?}");

    // Two 503s, then success: each retry with its reason and delay.
    let retry = s.client_with(|c| c.set("scope", "api://retry/.default").unwrap());
    s.emu.push_fault(Fault::status(503).times(2));
    let lines = capture(|| tokens.push(retry.token().unwrap().secret().to_owned()));
    let retries: Vec<_> = lines.iter().filter(|l| l.starts_with("info: retry: attempt ")).collect();
    assert_eq!(retries.len(), 2, "{lines:#?}");
    assert!(retries[0].contains("(server, HTTP 503") && retries[0].contains("attempt 2 in "), "{retries:?}");
    all.extend(lines);

    // Throttled: a 429 whose Retry-After exceeds the budget ends the call and
    // the next call is refused without a request.
    let throttled = s.client_with(|c| c.set("scope", "api://throttle/.default").unwrap());
    s.emu.push_fault(Fault::status(429).retry_after("120"));
    let lines = capture(|| {
        assert_eq!(throttled.token().unwrap_err().code(), ErrorCode::Throttled);
        assert_eq!(throttled.token().unwrap_err().code(), ErrorCode::Throttled);
    });
    assert!(any(&lines, "warn: throttled by 127.0.0.1 (throttled, HTTP 429"), "{lines:#?}");
    assert!(any(&lines, "warn: throttled: call refused without a request"), "{lines:#?}");
    all.extend(lines);

    // 401: a wrong secret, not retried.
    let wrong = Client::new(&s.client_id, Credential::client_secret("wrong-secret-value"), &s.config).unwrap();
    let lines = capture(|| assert_eq!(wrong.token().unwrap_err().code(), ErrorCode::CredentialRejected));
    assert!(any(&lines, "warn: token fetch from 127.0.0.1 failed after 1 attempt(s)"), "{lines:#?}");
    assert!(any(&lines, "invalid_client"), "{lines:#?}");
    assert!(!any(&lines, "wrong-secret-value"), "{lines:#?}");
    all.extend(lines);

    // Background refresh: a 4 s token (margin capped at half its life) is
    // refreshed by the first hit after 2 s.
    s.emu.set_expires_in(4);
    let refresh = s.client_with(|c| {
        c.set("scope", "api://refresh/.default").unwrap();
        c.set("refresh_margin_s", "300").unwrap();
    });
    let lines = capture(|| {
        tokens.push(refresh.token().unwrap().secret().to_owned());
        let before = s.emu.token_requests();
        std::thread::sleep(Duration::from_millis(2200));
        tokens.push(refresh.token().unwrap().secret().to_owned());
        assert!(s.emu.wait_for_requests(before + 1, Duration::from_secs(20)));
        assert!(eventually(Duration::from_secs(20), || refresh.token().unwrap().secret() != tokens[tokens.len() - 1]));
        tokens.push(refresh.token().unwrap().secret().to_owned());
    });
    assert!(any(&lines, "info: background refresh started"), "{lines:#?}");
    assert!(any(&lines, "info: background refresh succeeded: new token for 127.0.0.1 expires in "), "{lines:#?}");
    all.extend(lines);

    assert!(tokens.iter().all(|t| t.len() > 20));
    for line in &all {
        for f in forbidden(&s, &tokens) {
            assert!(!line.contains(&f), "a log line holds a secret or token: {line}");
        }
        // PII is off by default: no tenant, no client id.
        assert!(!line.contains(&s.client_id) && !line.contains("contoso"), "PII in {line}");
    }
    eprintln!("logging: {} lines scanned, no secret, token or PII", all.len());
}

#[test]
fn the_pii_switch_adds_tenant_and_client_id_but_still_no_secret() {
    let _g = SERIAL.lock();
    let s = setup();
    let wrong = Client::new(&s.client_id, Credential::client_secret("another-wrong-secret"), &s.config).unwrap();
    log::set_include_pii(true);
    let mut token = String::new();
    let lines = capture(|| {
        token = s.client().token().unwrap().secret().to_owned();
        wrong.token().unwrap_err();
    });
    log::set_include_pii(false);
    assert!(any(&lines, &format!("[tenant contoso.onmicrosoft.com, client {}]", s.client_id)), "{lines:#?}");
    // With PII, the full error message (which names the endpoint) is there.
    assert!(any(&lines, "AADSTS7000215"), "{lines:#?}");
    for line in &lines {
        assert!(!line.contains(&token) && !line.contains(&s.secret) && !line.contains("another-wrong-secret"));
    }
}

#[test]
fn no_sink_means_no_event_is_enabled() {
    let _g = SERIAL.lock();
    for l in [Level::Error, Level::Warn, Level::Info, Level::Debug, Level::Trace] {
        assert!(!log::enabled(l));
    }
    log::set_sink(Level::Info, Some(Arc::new(|_, _: &str| {})));
    assert!(log::enabled(Level::Warn) && log::enabled(Level::Info) && !log::enabled(Level::Debug));
    log::set_sink(Level::Info, None);
    assert!(!log::enabled(Level::Error));
}

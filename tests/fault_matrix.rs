//! Resilience against the ways an identity provider fails. Each case asserts
//! the result, the requests the emulator saw, and the elapsed time, and
//! prints one `fault-matrix:` line (run with `--nocapture` to see them).

mod common;
use common::*;
use paytrim_auth::ErrorCode;
use std::time::Duration;

fn report(case: &str, requests: u64, took: Duration, outcome: &str) {
    eprintln!("fault-matrix: {case:<48} requests={requests:<2} time={:>6} ms  {outcome}", took.as_millis());
}

fn outcome<T>(r: &Result<T, paytrim_auth::Error>) -> String {
    match r {
        Ok(_) => "token".into(),
        Err(e) => format!("error {}", e.code().name()),
    }
}

#[test]
fn two_503s_then_success() {
    let s = setup();
    s.emu.push_fault(Fault::status(503).times(2));
    let (r, took) = timed(|| s.client().token());
    report("503 twice, then success", s.emu.token_requests(), took, &outcome(&r));
    r.unwrap();
    assert_eq!(s.emu.token_requests(), 3);
    // Two backoffs of at most 200 and 400 ms; generous for a loaded machine.
    assert!(took < Duration::from_secs(6), "{took:?}");
}

#[test]
fn a_429_with_retry_after_one_second_is_waited_out() {
    let s = setup();
    s.emu.push_fault(Fault::status(429).retry_after("1"));
    let (r, took) = timed(|| s.client().token());
    report("429 with Retry-After: 1", s.emu.token_requests(), took, &outcome(&r));
    r.unwrap();
    assert_eq!(s.emu.token_requests(), 2);
    assert!(took >= Duration::from_millis(950) && took < Duration::from_secs(8), "{took:?}");
}

#[test]
fn retry_after_as_an_http_date_beyond_the_cap_is_not_waited_out() {
    let s = setup();
    s.emu.push_fault(Fault::status(429).retry_after("Fri, 31 Dec 2099 23:59:59 GMT"));
    let (r, took) = timed(|| s.client().token());
    report("429 with Retry-After: <HTTP-date in 2099>", s.emu.token_requests(), took, &outcome(&r));
    let e = r.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Throttled);
    // Clamped to MSAL's one-hour maximum, not 2099.
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(s.emu.token_requests(), 1);
    assert!(took < Duration::from_secs(10), "waited for the Retry-After: {took:?}");
}

#[test]
fn a_stall_longer_than_the_timeout_is_cut_and_retried() {
    let mut s = setup();
    s.set("timeout_ms", "400");
    s.emu.push_fault(Fault::stall(Duration::from_secs(10)));
    let (r, took) = timed(|| s.client().token());
    report("stall 10 s (timeout 400 ms), then success", s.emu.token_requests(), took, &outcome(&r));
    r.unwrap();
    assert_eq!(s.emu.token_requests(), 2);
    // Cut at 400 ms, not after the 10 s stall.
    assert!(took >= Duration::from_millis(400) && took < Duration::from_secs(8), "{took:?}");
}

#[test]
fn the_total_budget_bounds_a_call_however_many_attempts_remain() {
    let mut s = setup();
    s.set("timeout_ms", "10000").set("total_timeout_ms", "1000").set("max_attempts", "10");
    s.emu.push_fault(Fault::stall(Duration::from_secs(10)).times(10));
    let (r, took) = timed(|| s.client().token());
    report("stall forever (budget 1 s, 10 attempts)", s.emu.token_requests(), took, &outcome(&r));
    let e = r.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Network);
    assert!(e.message().contains("timed out"), "{}", e.message());
    // Ended by the 1 s budget, not by the 10 s stall or the 10 s attempt timeout.
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(8), "{took:?}");
}

#[test]
fn a_reset_connection_is_retried() {
    let s = setup();
    s.emu.push_fault(Fault::reset());
    let (r, took) = timed(|| s.client().token());
    report("connection reset, then success", s.emu.token_requests(), took, &outcome(&r));
    r.unwrap();
    assert_eq!(s.emu.token_requests(), 2);
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn malformed_json_is_a_protocol_error_and_not_retried() {
    let s = setup();
    s.emu.push_fault(Fault::malformed_json());
    let (r, took) = timed(|| s.client().token());
    report("malformed JSON", s.emu.token_requests(), took, &outcome(&r));
    assert_eq!(r.unwrap_err().code(), ErrorCode::Protocol);
    assert_eq!(s.emu.token_requests(), 1);
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_ten_megabyte_body_is_refused_without_reading_it_all() {
    let s = setup();
    s.emu.push_fault(Fault::oversized(10 * 1024 * 1024));
    let (r, took) = timed(|| s.client().token());
    report("10 MB body", s.emu.token_requests(), took, &outcome(&r));
    let e = r.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Protocol);
    assert!(e.message().contains("exceeds"), "{}", e.message());
    assert_eq!(s.emu.token_requests(), 1);
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn an_html_error_page_is_a_server_error_retried_then_reported() {
    let mut s = setup();
    s.set("max_attempts", "2");
    s.emu.push_fault(Fault::html(502).times(2));
    let (r, took) = timed(|| s.client().token());
    report("HTML 502 page from a proxy (2 attempts)", s.emu.token_requests(), took, &outcome(&r));
    let e = r.unwrap_err();
    assert_eq!((e.code(), e.http_status()), (ErrorCode::Server, Some(502)));
    assert!(e.message().contains("HTML"), "{}", e.message());
    assert_eq!(s.emu.token_requests(), 2);
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn an_html_page_with_status_200_is_a_protocol_error() {
    let s = setup();
    s.emu.push_fault(Fault::body(200, "text/html", "<html><body>Sign in to the proxy</body></html>"));
    let (r, took) = timed(|| s.client().token());
    report("HTML 200 page (captive portal)", s.emu.token_requests(), took, &outcome(&r));
    let e = r.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Protocol);
    assert!(e.message().contains("HTML"));
}

#[test]
fn an_untrusted_certificate_fails_fast_and_is_not_retried() {
    let s = setup();
    let mut c = paytrim_auth::ClientConfig::default();
    c.set("authority_host", &s.emu.https_url()).unwrap();
    c.set("tenant", "contoso.onmicrosoft.com").unwrap();
    let client =
        paytrim_auth::Client::new(&s.client_id, paytrim_auth::Credential::client_secret(&s.secret), &c).unwrap();
    let (r, took) = timed(|| client.token());
    report("untrusted certificate", s.emu.token_requests(), took, &outcome(&r));
    let e = r.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Tls);
    assert!(!e.message().contains("attempts"), "a TLS failure was retried: {}", e.message());
    assert_eq!(s.emu.token_requests(), 0);
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_certificate_for_another_host_fails_fast() {
    let mut s = setup();
    let port = s.emu.https_port();
    s.set("authority_host", &format!("https://localhost:{port}"));
    let (r, took) = timed(|| s.client().token());
    report("certificate for the wrong host name", s.emu.token_requests(), took, &outcome(&r));
    let e = r.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Tls);
    assert!(!e.message().contains("attempts"), "a TLS failure was retried: {}", e.message());
    assert_eq!(s.emu.token_requests(), 0);
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn server_down_with_a_valid_cached_token_serves_it_without_waiting() {
    let s = setup();
    let c = s.client();
    let t = c.token().unwrap();
    let Setup { emu, .. } = s;
    let requests = emu.token_requests();
    let hits = || (0..10_000).map(|_| c.with_token(|x| x.secret() == t.secret())).collect::<Result<Vec<bool>, _>>();
    // Baseline: the same 10,000 hits with the server up.
    let (_, baseline) = timed(hits);
    emu.shutdown();
    // No waiting: each call a lock-free cache read; a fetch against the
    // stopped server would retry with backoff (hundreds of ms at least).
    let (r, took) = timed(hits);
    report("server down, valid token cached (10k calls)", requests, took, &outcome(&r));
    assert!(r.unwrap().into_iter().all(|same| same));
    assert!(took < baseline * 20 + Duration::from_millis(500), "{took:?} (baseline {baseline:?})");
}

#[test]
fn server_down_after_expiry_is_a_clear_network_error_within_the_budget() {
    let mut s = setup();
    s.set("refresh_margin_s", "0").set("total_timeout_ms", "3000");
    s.emu.set_expires_in(1);
    let c = s.client();
    c.token().unwrap();
    let Setup { emu, .. } = s;
    emu.shutdown();
    std::thread::sleep(Duration::from_millis(1100));
    let (r, took) = timed(|| c.token());
    report("server down after expiry (budget 3 s)", 1, took, &outcome(&r));
    let e = r.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Network);
    assert!(e.message().contains("refused") && e.message().contains("attempts"), "{}", e.message());
    // Within its 3 s budget (plus slack), not the default 30 s.
    assert!(took < Duration::from_secs(15), "{took:?}");
}

#[test]
fn a_failed_background_refresh_is_retried_and_the_old_token_served_meanwhile() {
    let mut s = setup();
    s.set("refresh_margin_s", "4").set("max_attempts", "1");
    s.emu.set_expires_in(6);
    let c = s.client();
    let first = c.token().unwrap();
    s.emu.push_fault(Fault::status(500));
    std::thread::sleep(Duration::from_millis(2100));
    let (r, took) = timed(|| {
        // Into the margin: the first hit starts a refresh that fails; hits go on.
        let served = c.token().unwrap();
        assert_eq!(served.secret(), first.secret());
        eventually(Duration::from_secs(4), || c.token().unwrap().secret() != first.secret())
    });
    report("background refresh fails, then succeeds", s.emu.token_requests(), took, if r { "token" } else { "stale" });
    assert!(r, "the background refresh was never retried");
    assert_eq!(s.emu.token_requests(), 3, "initial fetch, failed refresh, successful refresh");
    assert!(took < Duration::from_secs(8), "{took:?}");
}

#[test]
fn a_throttle_is_remembered_per_key_without_touching_the_network() {
    let mut s = setup();
    s.set("total_timeout_ms", "1000");
    s.emu.push_fault(Fault::status(429).retry_after("2"));
    let c = s.client();
    let e = c.token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::Throttled);
    let (r, took) = timed(|| c.token());
    report("throttle remembered (Retry-After 2 s)", s.emu.token_requests(), took, &outcome(&r));
    let again = r.unwrap_err();
    assert_eq!(again.code(), ErrorCode::Throttled);
    assert!(again.retry_after().unwrap() <= Duration::from_secs(2));
    // Refused at once: not after waiting out the 2 s (and no request: below).
    assert!(took < Duration::from_millis(1500), "{took:?}");
    assert_eq!(s.emu.token_requests(), 1, "no request while throttled");
    // Another key is not throttled.
    s.client_with(|c| c.set("scope", "api://other/.default").unwrap()).token().unwrap();
    std::thread::sleep(Duration::from_millis(2050));
    c.token().unwrap();
}

#[test]
fn a_throttled_key_still_serves_its_valid_token_through_force_refresh_attempts() {
    let mut s = setup();
    s.set("total_timeout_ms", "1000");
    let c = s.client();
    let t = c.token().unwrap();
    s.emu.push_fault(Fault::status(503).retry_after("5"));
    let e = c.force_refresh().unwrap_err();
    assert_eq!(e.code(), ErrorCode::Server);
    // The valid cached token is still served, from the cache...
    assert_eq!(c.token().unwrap().secret(), t.secret(), "the failed forced refresh dropped the valid token");
    assert_eq!(c.with_cached_token(|x| x.secret() == t.secret()), Some(true));
    // ...and the throttle holds further refreshes back, with no request sent.
    assert_eq!(c.force_refresh().unwrap_err().code(), ErrorCode::Throttled);
    assert_eq!(c.token().unwrap().secret(), t.secret());
    assert_eq!(s.emu.token_requests(), 2);
}

/// 408 and 504 are transient: retried, then the token arrives.
#[test]
fn a_408_and_a_504_are_retried() {
    let mut s = setup();
    // Attempts are counted: generous timeouts, so a slow attempt is never cut and resent.
    s.set("timeout_ms", "20000").set("total_timeout_ms", "60000").set("max_attempts", "3");
    s.emu.push_fault(Fault::status(408));
    s.emu.push_fault(Fault::status(504));
    let (r, took) = timed(|| s.client().token());
    report("408, then 504, then success", s.emu.token_requests(), took, &outcome(&r));
    r.unwrap();
    assert_eq!(s.emu.token_requests(), 3);
}

/// A 429 with no Retry-After is retried after the usual backoff; when it
/// ends the fetch, the key is throttled for the default 5 s, and the error
/// says so.
#[test]
fn a_429_without_retry_after_is_retried_then_throttles_the_key_for_5_s() {
    let mut s = setup();
    s.set("timeout_ms", "20000").set("total_timeout_ms", "60000").set("max_attempts", "2");
    s.emu.push_fault(Fault::status(429));
    let (r, took) = timed(|| s.client().token());
    report("429 without Retry-After, then success", s.emu.token_requests(), took, &outcome(&r));
    r.unwrap();
    assert_eq!(s.emu.token_requests(), 2, "the 429 was not retried");
    // Backoff after attempt 1 is at most 200 ms, not a guessed Retry-After.
    assert!(took < Duration::from_secs(10), "{took:?}");

    let other = s.client_with(|c| c.set("scope", "api://429-no-retry-after/.default").unwrap());
    s.emu.push_fault(Fault::status(429).times(2));
    let e = other.token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::Throttled);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(5)), "{}", e.message());
    let again = other.token().unwrap_err();
    assert_eq!(again.code(), ErrorCode::Throttled);
    assert!(again.retry_after().unwrap() <= Duration::from_secs(5) && again.retry_after().unwrap() > Duration::ZERO);
    assert_eq!(s.emu.token_requests(), 4, "a request went out while throttled");
}

/// A name that does not resolve (`.invalid` never does, RFC 6761) is a
/// `network` error naming the host, not retried into the budget's end; no
/// network is needed (with no resolver at all the lookup fails or times out
/// within connect_timeout_ms).
#[test]
fn an_unresolvable_host_is_a_network_error_naming_it() {
    let mut s = setup();
    s.set("authority_host", "https://nonexistent.invalid")
        .set("proxy", "none")
        .set("connect_timeout_ms", "3000")
        .set("max_attempts", "1");
    let (r, took) = timed(|| s.client().token());
    report("unresolvable host name", 0, took, &outcome(&r));
    let e = r.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Network, "{}", e.message());
    assert!(e.message().contains("nonexistent.invalid"), "{}", e.message());
    assert!(e.is_retryable());
    assert_eq!(s.emu.token_requests(), 0);
    assert!(took < Duration::from_secs(10), "{took:?}");
}

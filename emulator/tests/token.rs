mod common;

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::*;
use paytrim_entra_emulator::{form_encode, ClientAuth, Emulator, Fault, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use serde_json::json;

const TENANT: &str = "contoso.onmicrosoft.com";

#[test]
fn success_shape_and_unique_tokens() {
    let emu = Emulator::start().unwrap();
    let r = http(
        &emu.http_url(),
        "POST",
        &token_path(TENANT),
        &[("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("client-request-id", "abc-123")],
        &good_form(),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json; charset=utf-8"));
    assert_eq!(r.header("client-request-id"), Some("abc-123"));
    assert_eq!(r.header("x-ms-request-id").map(str::len), Some(36));
    let text = r.text();
    assert!(
        text.starts_with(r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":""#),
        "{text}"
    );
    let j = r.json();
    let tok = j["access_token"].as_str().unwrap();
    assert!(tok.len() > 800 && tok.len() < 2048, "token length {}", tok.len());
    let parts: Vec<&str> = tok.split('.').collect();
    assert_eq!(parts.len(), 3);
    let payload: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(payload["aud"], "api://paytrim");
    assert_eq!(payload["appid"], DEFAULT_CLIENT_ID);
    assert!(payload["exp"].as_u64().unwrap() > payload["iat"].as_u64().unwrap());

    let r2 = post_token(&emu, TENANT, &good_form());
    assert_ne!(r2.json()["access_token"], j["access_token"]);
    assert_eq!(emu.tokens_issued(), 2);
    assert_eq!(emu.token_requests(), 2);
    let rec = emu.last_request().unwrap();
    assert_eq!(rec.seq, 2);
    assert_eq!(rec.tenant.as_deref(), Some(TENANT));
    assert_eq!(rec.client_auth, Some(ClientAuth::ClientSecretPost));
    assert_eq!(rec.form_field("scope"), Some("api://paytrim/.default"));
    assert_eq!(rec.status, Some(200));
}

#[test]
fn https_with_generated_ca_and_localhost_mismatch() {
    let emu = Emulator::start().unwrap();
    assert!(emu.ca_file().exists());
    let r = https(&emu, "127.0.0.1", "POST", &token_path(TENANT), &[("Content-Type", FORM)], &good_form()).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(emu.last_request().unwrap().scheme, "https");
    let e = https(&emu, "localhost", "POST", &token_path(TENANT), &[("Content-Type", FORM)], &good_form()).unwrap_err();
    assert!(format!("{e:?}").contains("NotValidForName"), "{e:?}");
    let ca = emu.ca_file().to_path_buf();
    drop(emu);
    assert!(!ca.exists(), "temp CA file removed on drop");
}

#[test]
fn wrong_secret_is_entra_401() {
    let emu = Emulator::start().unwrap();
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("client_secret", "nope"),
        ("scope", "api://paytrim/.default"),
    ]);
    let r = http(
        &emu.http_url(),
        "POST",
        &token_path(TENANT),
        &[("Content-Type", FORM), ("client-request-id", "corr-1")],
        &body,
    )
    .unwrap();
    assert_eq!(r.status, 401);
    let j = r.json();
    assert_eq!(j["error"], "invalid_client");
    assert_eq!(j["error_codes"], json!([7000215]));
    let d = j["error_description"].as_str().unwrap();
    assert!(d.starts_with("AADSTS7000215: Invalid client secret provided."), "{d}");
    assert!(d.contains("\r\nTrace ID: ") && d.contains("\r\nCorrelation ID: corr-1\r\nTimestamp: "), "{d}");
    assert_eq!(j["correlation_id"], "corr-1");
    assert_eq!(j["trace_id"].as_str(), r.header("x-ms-request-id"));
    assert_eq!(j["error_uri"], "https://login.microsoftonline.com/error?code=7000215");
    assert_eq!(emu.tokens_issued(), 0);
    assert_eq!(emu.token_requests(), 1);
}

#[test]
fn basic_auth_accepted_with_form_encoded_halves() {
    let emu = Emulator::builder().client("odd id:1", "s&c+r:t é").start().unwrap();
    let cred = format!("{}:{}", form_encode("odd id:1"), form_encode("s&c+r:t é"));
    let auth = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(cred));
    let body = form(&[("grant_type", "client_credentials"), ("scope", "https://x/.default")]);
    let r =
        http(&emu.http_url(), "POST", &token_path(TENANT), &[("Content-Type", FORM), ("Authorization", &auth)], &body)
            .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let rec = emu.last_request().unwrap();
    assert_eq!(rec.client_auth, Some(ClientAuth::ClientSecretBasic));
    assert_eq!(rec.basic_client_id.as_deref(), Some("odd id:1"));
    assert_eq!(rec.basic_client_secret.as_deref(), Some("s&c+r:t é"));

    // Both methods at once → invalid_request.
    let both =
        form(&[("grant_type", "client_credentials"), ("client_secret", "s&c+r:t é"), ("scope", "https://x/.default")]);
    let r =
        http(&emu.http_url(), "POST", &token_path(TENANT), &[("Content-Type", FORM), ("Authorization", &auth)], &both)
            .unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_request");
    assert_eq!(emu.last_request().unwrap().client_auth, Some(ClientAuth::Both));
}

fn code_of(r: &Resp) -> (u16, String, u64) {
    let j = r.json();
    (r.status, j["error"].as_str().unwrap().to_string(), j["error_codes"][0].as_u64().unwrap_or(0))
}

#[test]
fn entra_checks_in_order() {
    let emu = Emulator::builder().expired_client("old", "pw").start().unwrap();
    let base = emu.http_url();
    let good = good_form();
    let with = |pairs: &[(&str, &str)]| form(pairs);

    let r = http(&base, "GET", &token_path(TENANT), &[], b"").unwrap();
    assert_eq!(r.status, 405);
    let r = http(&base, "POST", &token_path(TENANT), &[("Content-Type", "application/json")], &good).unwrap();
    assert_eq!(code_of(&r), (400, "invalid_request".into(), 900144));
    let r = post_token(&emu, TENANT, &with(&[("client_id", DEFAULT_CLIENT_ID)]));
    assert_eq!(code_of(&r), (400, "invalid_request".into(), 900144));
    assert!(r.json()["error_description"].as_str().unwrap().contains("'grant_type'"));
    let r = post_token(&emu, TENANT, &with(&[("grant_type", "password")]));
    assert_eq!(code_of(&r), (400, "unsupported_grant_type".into(), 70003));

    // Tenants.
    let r = post_token(&emu, "common", &good);
    assert_eq!(r.status, 200);
    emu.set_reject_tenantless(true);
    let r = post_token(&emu, "organizations", &good);
    assert_eq!(code_of(&r), (400, "invalid_request".into(), 50059));
    let r = post_token(&emu, "unknown-tenant", &good);
    assert_eq!(code_of(&r), (400, "invalid_request".into(), 90002));
    let r = post_token(&emu, "bad_tenant!", &good);
    assert_eq!(code_of(&r), (400, "invalid_request".into(), 900023));
    let r = post_token(&emu, "72f988bf-86f1-41af-91ab-2d7cd011db47", &good);
    assert_eq!(r.status, 200);

    // Client authentication.
    let base_pairs = [("grant_type", "client_credentials"), ("scope", "a/.default")];
    let r = post_token(&emu, TENANT, &with(&base_pairs));
    assert_eq!(code_of(&r), (400, "invalid_request".into(), 900144));
    let r =
        post_token(&emu, TENANT, &with(&[base_pairs[0], base_pairs[1], ("client_id", "who"), ("client_secret", "x")]));
    assert_eq!(code_of(&r), (400, "unauthorized_client".into(), 700016));
    let r = post_token(&emu, TENANT, &with(&[base_pairs[0], base_pairs[1], ("client_id", DEFAULT_CLIENT_ID)]));
    assert_eq!(code_of(&r), (401, "invalid_client".into(), 7000216));
    let r =
        post_token(&emu, TENANT, &with(&[base_pairs[0], base_pairs[1], ("client_id", "old"), ("client_secret", "pw")]));
    assert_eq!(code_of(&r), (401, "invalid_client".into(), 7000222));

    // Scope.
    let cred = [
        ("grant_type", "client_credentials"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("client_secret", DEFAULT_CLIENT_SECRET),
    ];
    let r = post_token(&emu, TENANT, &with(&cred));
    assert_eq!(code_of(&r), (400, "invalid_request".into(), 900144));
    let r = post_token(&emu, TENANT, &with(&[cred[0], cred[1], cred[2], ("scope", "a/.default User.Read")]));
    assert_eq!(code_of(&r), (400, "invalid_scope".into(), 1002012));

    // Generic flavour: RFC 6749 error shape only.
    let r = http(
        &base,
        "POST",
        "/oauth2/token",
        &[("Content-Type", FORM)],
        &with(&[cred[0], cred[1], ("client_secret", "bad"), ("scope", "a/.default")]),
    )
    .unwrap();
    assert_eq!(r.status, 401);
    let j = r.json();
    assert_eq!(j.as_object().unwrap().len(), 2, "{j}");
    assert_eq!(j["error"], "invalid_client");
    let r = http(&base, "POST", "/oauth2/token", &[("Content-Type", FORM)], &good).unwrap();
    assert_eq!(r.status, 200);
}

#[test]
fn queued_503_then_success_via_control_api() {
    let emu = Emulator::start().unwrap();
    let base = emu.http_url();
    let r = http(
        &base,
        "POST",
        "/_emulator/faults",
        &[("Content-Type", "application/json")],
        br#"{"kind":"status","status":503,"retry_after":"1","body":null,"content_type":null}"#,
    )
    .unwrap();
    assert_eq!((r.status, r.json()), (200, json!({"ok": true})));
    let r = post_token(&emu, TENANT, &good_form());
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(code_of(&r), (503, "temporarily_unavailable".into(), 90033));
    let r = post_token(&emu, TENANT, &good_form());
    assert_eq!(r.status, 200);
    let stats = http(&base, "GET", "/_emulator/stats", &[], b"").unwrap().json();
    assert_eq!(stats, json!({"token_requests": 2, "tokens_issued": 1}));
}

#[test]
fn control_api_round_trip() {
    let emu = Emulator::start().unwrap();
    let base = emu.http_url();
    let post = |path: &str, body: &str| {
        http(&base, "POST", path, &[("Content-Type", "application/json")], body.as_bytes()).unwrap()
    };

    assert_eq!(
        post(
            "/_emulator/config",
            r#"{"expires_in":120,"expires_in_as_string":true,"refresh_in":60,"token_type":"bearer"}"#
        )
        .status,
        200
    );
    assert_eq!(post("/_emulator/clients", r#"{"client_id":"c2","client_secret":"s2"}"#).status, 200);
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", "c2"),
        ("client_secret", "s2"),
        ("scope", "x/.default"),
    ]);
    let r = post_token(&emu, TENANT, &body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().starts_with(
            r#"{"token_type":"bearer","expires_in":"120","ext_expires_in":"120","refresh_in":"60","access_token":"#
        ),
        "{}",
        r.text()
    );

    assert_eq!(
        post(
            "/_emulator/faults",
            r#"[{"kind":"body","status":200,"body":"{\"token_type\":\"mac\"}"},{"kind":"html","count":2}]"#
        )
        .status,
        200
    );
    assert_eq!(post_token(&emu, TENANT, &body).text(), r#"{"token_type":"mac"}"#);
    for _ in 0..2 {
        let r = post_token(&emu, TENANT, &body);
        assert_eq!(r.status, 502);
        assert_eq!(r.header("content-type"), Some("text/html"));
        assert!(r.text().contains("Bad Gateway"));
    }
    assert_eq!(post("/_emulator/faults", r#"{"kind":"malformed_json"}"#).status, 200);
    let r = post_token(&emu, TENANT, &body);
    assert_eq!(r.text(), r#"{"token_type":"Bearer","access_token":"ey"#);

    let reqs = http(&base, "GET", "/_emulator/requests", &[], b"").unwrap().json();
    let reqs = reqs.as_array().unwrap();
    assert_eq!(reqs.len(), 5);
    assert_eq!(reqs[0]["form"]["client_id"], "c2");
    assert_eq!(reqs[0]["headers"]["content-type"], FORM);
    assert_eq!(reqs[0]["client_auth"], "client_secret_post");
    assert_eq!(reqs[1]["fault"], "body");
    assert_eq!(reqs[4]["fault"], "malformed_json");

    assert_eq!(post("/_emulator/config", "{nope").status, 400);
    assert_eq!(post("/_emulator/config", r#"{"latency":5}"#).status, 400);
    assert_eq!(post("/_emulator/faults", r#"{"kind":"explode"}"#).status, 400);

    assert_eq!(post("/_emulator/reset", "").status, 200);
    assert_eq!(
        http(&base, "GET", "/_emulator/stats", &[], b"").unwrap().json(),
        json!({"token_requests": 0, "tokens_issued": 0})
    );
    let r = post_token(&emu, TENANT, &body); // clients survive reset, knobs are back
    assert!(r.text().starts_with(r#"{"token_type":"Bearer","expires_in":3599,"#), "{}", r.text());
}

#[test]
fn keep_alive_reset_oversized_and_stall() {
    let emu = Emulator::start().unwrap();
    // Two requests on one connection.
    let mut s = TcpStream::connect(("127.0.0.1", emu.http_port())).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    for _ in 0..2 {
        s.write_all(&request_bytes("POST", &token_path(TENANT), &[("Content-Type", FORM)], &good_form(), false))
            .unwrap();
        assert_eq!(read_response(&mut r).unwrap().status, 200);
    }
    // Reset on the same connection.
    emu.push_fault(Fault::reset());
    s.write_all(&request_bytes("POST", &token_path(TENANT), &[("Content-Type", FORM)], &good_form(), false)).unwrap();
    let e = read_response(&mut r).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e:?}");

    emu.push_fault(Fault::oversized(3_000_000));
    let r = post_token(&emu, TENANT, &good_form());
    assert_eq!(r.body.len(), 3_000_000);
    assert!(r.body.starts_with(b"{\"token_type\":\"Bearer\""));

    // A stalled request is cut promptly by shutdown.
    emu.push_fault(Fault::stall(Duration::from_secs(60)));
    let url = emu.http_url();
    let t =
        std::thread::spawn(move || http(&url, "POST", &token_path(TENANT), &[("Content-Type", FORM)], &good_form()));
    assert!(emu.wait_for_requests(5, Duration::from_secs(5)));
    let started = Instant::now();
    drop(emu);
    assert!(t.join().unwrap().is_err());
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[test]
fn latency_knob_delays_responses() {
    let emu = Emulator::builder().latency(Duration::from_millis(300)).start().unwrap();
    let t = Instant::now();
    assert_eq!(post_token(&emu, TENANT, &good_form()).status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    emu.set_latency(Duration::ZERO);
    emu.push_fault(Fault::status(429).retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
    let r = post_token(&emu, TENANT, &good_form());
    assert_eq!(code_of(&r), (429, "invalid_request".into(), 50196));
    assert_eq!(r.header("retry-after"), Some("Wed, 21 Oct 2015 07:28:00 GMT"));
}

#[test]
fn serves_the_openid_discovery_document_msal_fetches() {
    let emu = Emulator::start().unwrap();
    let base = emu.http_url();
    let r = http(&base, "GET", "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration", &[], b"").unwrap();
    assert_eq!(r.status, 200);
    let doc = r.json();
    let token_endpoint = doc["token_endpoint"].as_str().unwrap();
    assert!(token_endpoint.ends_with("/contoso.onmicrosoft.com/oauth2/v2.0/token"), "{token_endpoint}");
    for key in ["authorization_endpoint", "issuer", "jwks_uri"] {
        assert!(doc[key].as_str().unwrap().contains("/contoso.onmicrosoft.com/"), "{key}");
    }
    assert_eq!(emu.token_requests(), 0, "discovery is not a token request");
}

//! Managed identity end to end against the emulator's IMDS and App Service
//! endpoints: what is sent, what is accepted, retry rules, and the shared
//! cache / single flight. Endpoints are set by config keys (which beat the
//! environment), so these tests never depend on the machine's variables.

mod common;

use base64::Engine as _;
use common::{timed, Fault};
use paytrim_auth::{Client, ClientConfig, ErrorCode, ManagedIdentityId};
use paytrim_entra_emulator::{Emulator, IMDS_PATH};
use std::sync::{Arc, Barrier};
use std::time::Duration;

const RESOURCE: &str = "https://management.azure.com";

fn imds_config(emu: &Emulator) -> ClientConfig {
    let mut c = ClientConfig::default();
    c.set("imds_endpoint", &emu.imds_endpoint()).unwrap();
    c.set("scope", &format!("{RESOURCE}/.default")).unwrap();
    c.set("proxy", "none").unwrap();
    c
}

fn app_service_config(emu: &Emulator) -> ClientConfig {
    let mut c = ClientConfig::default();
    c.set("identity_endpoint", &emu.identity_endpoint()).unwrap();
    c.set("identity_header", &emu.identity_header()).unwrap();
    c.set("scope", &format!("{RESOURCE}/.default")).unwrap();
    c.set("proxy", "none").unwrap();
    c
}

fn client(id: ManagedIdentityId, config: &ClientConfig) -> Client {
    Client::managed_identity(id, config).expect("managed identity client")
}

/// The `appid` claim of an emulator token: which identity it was issued to.
fn appid(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("JWT-shaped");
    let claims: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["appid"].as_str().unwrap().to_owned()
}

#[test]
fn imds_system_assigned_sends_metadata_and_the_resource_and_caches() {
    let emu = Emulator::start().unwrap();
    let c = client(ManagedIdentityId::SystemAssigned, &imds_config(&emu));
    let t = c.token().expect("token");
    assert_eq!(appid(t.secret()), emu.system_identity().unwrap().client_id);
    // expires_in arrived as the string "3599".
    assert!(t.lifetime() == Duration::from_secs(3599), "{:?}", t.lifetime());
    let rec = emu.last_request().unwrap();
    assert_eq!((rec.method.as_str(), rec.path.as_str()), ("GET", IMDS_PATH));
    assert_eq!(rec.header("metadata"), Some("true"));
    assert_eq!(rec.query_param("api-version"), Some("2018-02-01"));
    assert_eq!(rec.query_param("resource"), Some(RESOURCE));
    assert_eq!(rec.query.len(), 2, "no identity selector for system-assigned: {:?}", rec.query);
    // A second client of the same identity and resource hits the cache.
    let again = client(ManagedIdentityId::SystemAssigned, &imds_config(&emu)).token().unwrap();
    assert_eq!(again.secret(), t.secret());
    assert_eq!(emu.managed_identity_requests(), 1);
    assert!(c.endpoint().ends_with(IMDS_PATH), "{}", c.endpoint());
}

#[test]
fn user_assigned_by_client_object_and_resource_id_on_imds() {
    let emu = Emulator::start().unwrap();
    let ua = emu.add_user_assigned_identity("payments");
    let config = imds_config(&emu);
    for (id, param, value) in [
        (ManagedIdentityId::ClientId(ua.client_id.clone()), "client_id", &ua.client_id),
        (ManagedIdentityId::ObjectId(ua.object_id.clone()), "object_id", &ua.object_id),
        (ManagedIdentityId::ResourceId(ua.resource_id.clone()), "msi_res_id", &ua.resource_id),
    ] {
        let t = client(id, &config).token().unwrap_or_else(|e| panic!("{param}: {e}"));
        assert_eq!(appid(t.secret()), ua.client_id, "{param}");
        assert_eq!(emu.last_request().unwrap().query_param(param), Some(value.as_str()));
    }
    // Three kinds of id are three cache keys: three requests.
    assert_eq!(emu.managed_identity_requests(), 3);
}

#[test]
fn switching_identity_never_returns_another_identitys_token() {
    let emu = Emulator::start().unwrap();
    let a = emu.add_user_assigned_identity("identity-a");
    let b = emu.add_user_assigned_identity("identity-b");
    let config = imds_config(&emu);
    let system = client(ManagedIdentityId::SystemAssigned, &config);
    let ca = client(ManagedIdentityId::ClientId(a.client_id.clone()), &config);
    let cb = client(ManagedIdentityId::ClientId(b.client_id.clone()), &config);
    for _ in 0..2 {
        assert_eq!(appid(ca.token().unwrap().secret()), a.client_id);
        assert_eq!(appid(cb.token().unwrap().secret()), b.client_id);
        assert_eq!(appid(system.token().unwrap().secret()), emu.system_identity().unwrap().client_id);
    }
    assert_eq!(emu.managed_identity_requests(), 3);
    // Same identity, another resource: another token.
    let mut graph = config.clone();
    graph.set("scope", "https://graph.microsoft.com/.default").unwrap();
    client(ManagedIdentityId::ClientId(a.client_id.clone()), &graph).token().unwrap();
    assert_eq!(emu.last_request().unwrap().query_param("resource"), Some("https://graph.microsoft.com"));
    assert_eq!(emu.managed_identity_requests(), 4);
}

#[test]
fn app_service_endpoint_with_its_header_and_selectors() {
    let emu = Emulator::start().unwrap();
    let config = app_service_config(&emu);
    let t = client(ManagedIdentityId::SystemAssigned, &config).token().unwrap();
    assert_eq!(appid(t.secret()), emu.system_identity().unwrap().client_id);
    // App Service sends only expires_on (Unix seconds, as a string).
    assert!(t.expires_in() > Duration::from_secs(3500) && t.expires_in() <= Duration::from_secs(3600));
    let rec = emu.last_request().unwrap();
    assert_eq!(rec.header("x-identity-header"), Some(emu.identity_header().as_str()));
    assert_eq!(rec.header("metadata"), None);
    assert_eq!(rec.query_param("api-version"), Some("2019-08-01"));
    assert_eq!(rec.query_param("resource"), Some(RESOURCE));

    let ua = emu.add_user_assigned_identity("web");
    let t = client(ManagedIdentityId::ObjectId(ua.object_id.clone()), &config).token().unwrap();
    assert_eq!(appid(t.secret()), ua.client_id);
    assert_eq!(emu.last_request().unwrap().query_param("principal_id"), Some(ua.object_id.as_str()));
    let t = client(ManagedIdentityId::ResourceId(ua.resource_id.clone()), &config).token().unwrap();
    assert_eq!(appid(t.secret()), ua.client_id);
    assert_eq!(emu.last_request().unwrap().query_param("mi_res_id"), Some(ua.resource_id.as_str()));
}

#[test]
fn app_service_wrong_header_and_unknown_identity_are_credential_errors_without_retry() {
    let emu = Emulator::start().unwrap();
    let mut config = app_service_config(&emu);
    config.set("identity_header", "stale-header-value").unwrap();
    let e = client(ManagedIdentityId::SystemAssigned, &config).token().unwrap_err();
    assert_eq!((e.code(), e.http_status()), (ErrorCode::CredentialRejected, Some(401)));
    assert!(e.message().contains("IDENTITY_HEADER"), "{}", e.message());
    assert!(!e.message().contains("stale-header-value"), "{}", e.message());
    assert_eq!(emu.managed_identity_requests(), 1);

    let e =
        client(ManagedIdentityId::ClientId("00000000-0000-4000-8000-000000000000".into()), &app_service_config(&emu))
            .token()
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CredentialRejected);
    assert!(e.message().contains("No User Assigned"), "{}", e.message());
    assert_eq!(emu.managed_identity_requests(), 2);
}

#[test]
fn imds_unknown_identity_names_it() {
    let emu = Emulator::start().unwrap();
    let e = client(ManagedIdentityId::ClientId("00000000-0000-4000-8000-000000000001".into()), &imds_config(&emu))
        .token()
        .unwrap_err();
    assert_eq!((e.code(), e.http_status()), (ErrorCode::CredentialRejected, Some(400)));
    assert!(e.message().contains("Identity not found"), "{}", e.message());
    assert_eq!(emu.managed_identity_requests(), 1);
}

#[test]
fn imds_410_is_retried_through_the_upgrade_window_past_the_attempt_count() {
    let emu = Emulator::start().unwrap();
    emu.push_fault(Fault::status(410).times(4));
    let mut config = imds_config(&emu);
    config.set("max_attempts", "1").unwrap();
    config.set("imds_upgrade_window_ms", "30000").unwrap();
    let (t, took) = timed(|| client(ManagedIdentityId::SystemAssigned, &config).token());
    t.unwrap_or_else(|e| panic!("after {took:?}: {e}"));
    assert_eq!(emu.managed_identity_requests(), 5);
    let statuses: Vec<Option<u16>> = emu.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(410), Some(410), Some(410), Some(410), Some(200)]);
}

#[test]
fn imds_410_beyond_the_upgrade_window_is_a_clear_error() {
    let emu = Emulator::start().unwrap();
    emu.push_fault(Fault::status(410).times(10_000));
    let mut config = imds_config(&emu);
    config.set("max_attempts", "1").unwrap();
    config.set("imds_upgrade_window_ms", "700").unwrap();
    let (r, took) = timed(|| client(ManagedIdentityId::SystemAssigned, &config).token());
    let e = r.unwrap_err();
    assert_eq!((e.code(), e.http_status()), (ErrorCode::Server, Some(410)));
    assert!(e.message().contains("IMDS is upgrading"), "{}", e.message());
    assert!(e.message().contains("gave up after"), "{}", e.message());
    assert!(emu.managed_identity_requests() >= 2, "{}", emu.managed_identity_requests());
    // The window (plus one backoff of at most 4 s) ends it, far from the 30 s budget.
    assert!(took < Duration::from_secs(15), "{took:?}");
    // Without a window, the attempt count rules: one request.
    let emu = Emulator::start().unwrap();
    emu.push_fault(Fault::status(410).times(10));
    config.set("imds_endpoint", &emu.imds_endpoint()).unwrap();
    config.set("imds_upgrade_window_ms", "0").unwrap();
    let e = client(ManagedIdentityId::SystemAssigned, &config).token().unwrap_err();
    assert_eq!(e.http_status(), Some(410));
    assert_eq!(emu.managed_identity_requests(), 1);
}

#[test]
fn imds_404_429_and_500_are_retried_then_succeed() {
    let emu = Emulator::start().unwrap();
    emu.push_fault(Fault::status(404));
    emu.push_fault(Fault::status(429).retry_after("1"));
    emu.push_fault(Fault::status(500));
    let t = client(ManagedIdentityId::SystemAssigned, &imds_config(&emu)).token();
    t.expect("the fourth attempt succeeds");
    let statuses: Vec<Option<u16>> = emu.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(404), Some(429), Some(500), Some(200)]);
}

#[test]
fn app_service_does_not_retry_what_imds_would() {
    // 404 from App Service is not "identity not yet available": no retry.
    let emu = Emulator::start().unwrap();
    emu.push_fault(Fault::status(404));
    let e = client(ManagedIdentityId::SystemAssigned, &app_service_config(&emu)).token().unwrap_err();
    assert_eq!((e.code(), e.http_status()), (ErrorCode::RequestRejected, Some(404)));
    assert_eq!(emu.managed_identity_requests(), 1);
    // 503 is retried.
    let emu = Emulator::start().unwrap();
    emu.push_fault(Fault::status(503));
    client(ManagedIdentityId::SystemAssigned, &app_service_config(&emu)).token().expect("retried");
    assert_eq!(emu.managed_identity_requests(), 2);
}

#[test]
fn imds_not_there_is_a_clear_network_error_within_the_budget() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut config = ClientConfig::default();
    config.set("imds_endpoint", &format!("http://127.0.0.1:{port}")).unwrap();
    config.set("total_timeout_ms", "5000").unwrap();
    config.set("proxy", "none").unwrap();
    let (r, took) = timed(|| client(ManagedIdentityId::SystemAssigned, &config).token());
    let e = r.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Network);
    assert!(e.message().contains("connection refused"), "{}", e.message());
    assert!(e.message().contains("is this an Azure VM"), "{}", e.message());
    assert!(e.message().contains("config key 'imds_endpoint'"), "{}", e.message());
    assert!(took < Duration::from_secs(5 + 5), "{took:?}");
}

#[test]
fn malformed_answers_are_protocol_errors() {
    for body in [
        r#"{"access_token":"tok","expires_in":"soon","token_type":"Bearer"}"#,
        r#"{"access_token":"tok","expires_on":"1","token_type":"Bearer"}"#,
        r#"{"expires_in":"3599","token_type":"Bearer"}"#,
        r#"{"access_token":"tok","expires_in":"3599","token_type":"pop"}"#,
        "<html>captive portal</html>",
    ] {
        let emu = Emulator::start().unwrap();
        emu.push_fault(Fault::json_body(200, body));
        let e = client(ManagedIdentityId::SystemAssigned, &imds_config(&emu)).token().unwrap_err();
        assert_eq!(e.code(), ErrorCode::Protocol, "{body}: {}", e.message());
        assert!(e.message().contains("unusable managed-identity token answer"), "{}", e.message());
        assert!(!e.message().contains("tok\""), "{}", e.message());
        assert_eq!(emu.managed_identity_requests(), 1, "{body}");
    }
}

#[test]
fn a_herd_of_64_callers_on_a_cold_key_makes_one_request() {
    let emu = Emulator::start().unwrap();
    // The request stays in flight long enough for every caller to pile on.
    emu.set_latency(Duration::from_millis(300));
    let config = imds_config(&emu);
    let barrier = Arc::new(Barrier::new(64));
    let threads: Vec<_> = (0..64)
        .map(|_| {
            // Separate clients: the key, not the client object, is shared.
            let c = client(ManagedIdentityId::SystemAssigned, &config);
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                c.token().map(|t| t.secret().to_owned())
            })
        })
        .collect();
    let tokens: Vec<String> = threads.into_iter().map(|t| t.join().unwrap().expect("token")).collect();
    assert!(tokens.iter().all(|t| t == &tokens[0]));
    assert_eq!(emu.managed_identity_requests(), 1);
}

#[test]
fn configuration_errors_are_caught_at_creation() {
    let emu = Emulator::start().unwrap();
    let mut two = imds_config(&emu);
    two.set("scope", "https://a.example/.default https://b.example/.default").unwrap();
    let e = Client::managed_identity(ManagedIdentityId::SystemAssigned, &two).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    assert!(e.message().contains("exactly one resource"), "{}", e.message());
    let e = Client::managed_identity(ManagedIdentityId::ClientId("not-a-guid".into()), &imds_config(&emu)).unwrap_err();
    assert!(e.message().contains("not a GUID"), "{}", e.message());
    let e = ClientConfig::default().set("imds_endpoint", "http://10.0.0.4").unwrap_err();
    assert!(e.message().contains("plain http"), "{}", e.message());
    assert!(ClientConfig::default().set("imds_endpoint", "http://169.254.169.254").is_ok());
    assert!(ClientConfig::default().set("token_url", "http://169.254.169.254/token").is_err());
    assert_eq!(emu.managed_identity_requests(), 0);
}

#[test]
fn an_echoed_identity_header_never_reaches_the_error() {
    let emu = Emulator::start().unwrap();
    let header = emu.identity_header();
    emu.push_fault(Fault::status(400).with_body(
        "application/json",
        format!(r#"{{"statusCode":400,"message":"bad request, header was {header}"}}"#),
    ));
    let e = client(ManagedIdentityId::SystemAssigned, &app_service_config(&emu)).token().unwrap_err();
    let shown = format!("{} {e:?} {:?}", e.message(), e.oauth());
    assert!(!shown.contains(&header), "{shown}");
    assert!(e.message().contains("header was ***"), "{}", e.message());
}

#[test]
fn throttle_memory_applies_to_managed_identity_keys() {
    let emu = Emulator::start().unwrap();
    // A Retry-After longer than the 60 s we wait inside a call ends the fetch at once.
    emu.push_fault(Fault::status(429).retry_after("120"));
    let c = client(ManagedIdentityId::SystemAssigned, &imds_config(&emu));
    let e = c.token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::Throttled);
    // The key remembers: another client of the same key sends nothing.
    let (r, took) = timed(|| client(ManagedIdentityId::SystemAssigned, &imds_config(&emu)).token());
    let e = r.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Throttled, "{}", e.message());
    assert!(e.retry_after().is_some_and(|left| left > Duration::from_secs(100)), "{:?}", e.retry_after());
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(emu.managed_identity_requests(), 1);
}

#[test]
fn background_refresh_replaces_a_managed_identity_token_before_it_expires() {
    let emu = Emulator::start().unwrap();
    emu.set_expires_in(4); // refreshed after about 2 s (half its life), expires after 4 s
    let c = client(ManagedIdentityId::SystemAssigned, &imds_config(&emu));
    let first = c.token().unwrap();
    assert!(common::eventually(Duration::from_secs(10), || {
        // Every call is answered from memory while one background refresh runs.
        c.token().unwrap().secret() != first.secret()
    }));
    // The new token arrived while the first was still valid: a background
    // refresh, not a fetch after expiry.
    assert!(first.expires_in() > Duration::ZERO, "the first token had expired");
    assert_eq!(emu.managed_identity_requests(), 2);
}

//! Every error category, with the details an operator needs, and never a
//! secret in a message.

mod common;
use common::*;
use paytrim_auth::{Client, Credential, ErrorCode};
use std::time::Duration;

#[test]
fn wrong_secret_is_credential_rejected_with_entra_details() {
    let s = setup();
    let c = Client::new(&s.client_id, Credential::client_secret("wrong-secret-value"), &s.config).unwrap();
    let e = c.token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::CredentialRejected);
    assert_eq!(e.http_status(), Some(401));
    assert_eq!(e.oauth_error(), Some("invalid_client"));
    assert_eq!(e.aadsts_codes(), &[7000215]);
    assert!(e.trace_id().is_some() && e.oauth().timestamp.is_some());
    // Entra echoes our client-request-id as the correlation id.
    assert_eq!(e.correlation_id(), e.client_request_id());
    assert!(e.message().contains("AADSTS7000215"), "{}", e.message());
    assert!(e.message().contains(e.client_request_id().unwrap()));
    assert!(!e.is_retryable());
    assert!(!e.message().contains("wrong-secret-value"));
    assert!(!format!("{e:?}").contains("wrong-secret-value"));
    assert_eq!(s.emu.token_requests(), 1, "a wrong secret is never retried");
}

#[test]
fn unknown_client_and_expired_secret_are_credential_rejected() {
    let s = setup();
    let c = Client::new("22222222-2222-2222-2222-222222222222", Credential::client_secret("x"), &s.config).unwrap();
    let e = c.token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::CredentialRejected);
    assert_eq!(e.oauth_error(), Some("unauthorized_client"));
    assert_eq!(e.aadsts_codes(), &[700016]);
    s.emu.add_expired_client("33333333-3333-3333-3333-333333333333", "old");
    let c = Client::new("33333333-3333-3333-3333-333333333333", Credential::client_secret("old"), &s.config).unwrap();
    let e = c.token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::CredentialRejected);
    assert_eq!(e.aadsts_codes(), &[7000222]);
}

#[test]
fn unknown_tenant_is_tenant_not_found() {
    let s = setup();
    let e = s.client_with(|c| c.set("tenant", "unknown-tenant").unwrap()).token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::TenantNotFound);
    assert_eq!(e.aadsts_codes(), &[90002]);
    assert!(!e.message().contains("configure your tenant ID"), "only for tenant-less authorities");
}

#[test]
fn a_refused_tenantless_authority_tells_the_user_to_configure_the_tenant() {
    let s = setup();
    s.emu.set_reject_tenantless(true);
    let e = s.client_with(|c| c.set("tenant", "common").unwrap()).token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::TenantNotFound);
    assert_eq!(e.aadsts_codes(), &[50059]);
    assert!(e.message().contains("configure your tenant ID"), "{}", e.message());
}

#[test]
fn a_bad_scope_is_request_rejected() {
    let s = setup();
    let e = s.client_with(|c| c.set("scope", "User.Read").unwrap()).token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::RequestRejected);
    assert_eq!(e.oauth_error(), Some("invalid_scope"));
}

#[test]
fn server_errors_network_errors_and_protocol_errors() {
    let mut s = setup();
    s.set("max_attempts", "1");
    s.emu.push_fault(Fault::status(500));
    let e = s.client().token().unwrap_err();
    assert_eq!((e.code(), e.http_status()), (ErrorCode::Server, Some(500)));
    assert!(e.is_retryable());

    s.emu.push_fault(Fault::malformed_json());
    let e = s.client().token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::Protocol);

    s.emu.push_fault(Fault::json_body(200, r#"{"token_type":"Bearer","expires_in":3599}"#));
    let e = s.client().token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::Protocol);
    assert!(e.message().contains("access_token"), "{}", e.message());

    s.emu.push_fault(Fault::json_body(200, r#"{"token_type":"mac","expires_in":3599,"access_token":"x"}"#));
    let e = s.client().token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::Protocol);
    assert!(e.message().contains("mac"));

    // Nothing listens on a port we just closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let e =
        s.client_with(|c| c.set("authority_host", &format!("https://127.0.0.1:{port}")).unwrap()).token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::Network);
    assert!(e.message().contains("refused"), "{}", e.message());
}

#[test]
fn throttling_without_room_to_wait_reports_the_delay() {
    let mut s = setup();
    s.set("total_timeout_ms", "2000");
    s.emu.push_fault(Fault::status(429).retry_after("30"));
    let (r, took) = timed(|| s.client().token());
    let e = r.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Throttled);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(30)));
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[test]
fn tls_errors_explain_themselves() {
    let mut s = setup();
    // Without the emulator's CA the certificate is untrusted.
    let mut untrusted = paytrim_auth::ClientConfig::default();
    untrusted.set("authority_host", &s.emu.https_url()).unwrap();
    untrusted.set("tenant", "contoso.onmicrosoft.com").unwrap();
    let e = Client::new(&s.client_id, Credential::client_secret(&s.secret), &untrusted).unwrap().token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::Tls);
    assert!(e.message().contains("ca_file"), "{}", e.message());
    // The certificate names 127.0.0.1 only, not localhost.
    let port = s.emu.https_port();
    s.set("authority_host", &format!("https://localhost:{port}"));
    let e = s.client().token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::Tls);
    assert!(e.message().to_lowercase().contains("name"), "{}", e.message());
    assert_eq!(s.emu.tokens_issued(), 0);
}

#[test]
fn a_ca_file_without_certificates_is_refused_at_creation() {
    let s = setup();
    let path = std::env::temp_dir().join(format!("paytrim-empty-{}.pem", std::process::id()));
    std::fs::write(&path, "not a certificate\n").unwrap();
    let mut c = s.config.clone();
    c.set("ca_file", path.to_str().unwrap()).unwrap();
    let e = Client::new(&s.client_id, Credential::client_secret(&s.secret), &c).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    assert!(e.message().contains("ca_file"));
    std::fs::remove_file(path).ok();
}

//! The documented request, both client-auth methods, a full token-URL
//! override, and reading the answer.

mod common;
use common::*;
use paytrim_auth::{ClientAuth, ErrorCode};
use paytrim_entra_emulator::ClientAuth as SeenAuth;

#[test]
fn sends_the_documented_request_with_every_value_form_encoded() {
    let s = setup();
    let token = s.client().token().unwrap();
    assert!(!token.secret().is_empty());
    assert_eq!(token.token_type(), "Bearer");
    let r = s.emu.last_request().unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/contoso.onmicrosoft.com/oauth2/v2.0/token");
    assert!(r.headers["content-type"].starts_with("application/x-www-form-urlencoded"));
    assert_eq!(r.form["grant_type"], "client_credentials");
    assert_eq!(r.form["client_id"], s.client_id);
    // The secret holds + % & = : / and non-ASCII: it must arrive intact.
    assert_eq!(r.form["client_secret"], s.secret);
    assert_eq!(r.form["scope"], "https://graph.microsoft.com/.default");
    assert_eq!(r.client_auth, Some(SeenAuth::ClientSecretPost));
    assert_eq!(s.emu.tokens_issued(), 1);
}

#[test]
fn sends_operator_headers() {
    let s = setup();
    s.client().token().unwrap();
    let r = s.emu.last_request().unwrap();
    let id = &r.headers["client-request-id"];
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(r.headers["x-client-sku"], "paytrim-auth");
    assert_eq!(r.headers["x-client-ver"], paytrim_auth::VERSION);
    assert!(r.headers["user-agent"].starts_with("paytrim-auth/"));
}

#[test]
fn client_secret_basic_sends_the_secret_only_in_the_header() {
    let mut s = setup();
    s.set("client_auth", "client_secret_basic");
    assert_eq!(s.config.client_auth, ClientAuth::SecretBasic);
    s.client().token().unwrap();
    let r = s.emu.last_request().unwrap();
    assert_eq!(r.client_auth, Some(SeenAuth::ClientSecretBasic));
    assert_eq!(r.basic_client_id.as_deref(), Some(s.client_id.as_str()));
    assert_eq!(r.basic_client_secret.as_deref(), Some(s.secret.as_str()));
    assert!(!r.form.contains_key("client_secret"));
    assert!(!r.body.contains("s3cr3t"));
}

#[test]
fn token_url_override_talks_to_any_oauth2_server() {
    let mut s = setup();
    let url = s.emu.generic_token_url();
    s.set("token_url", &url).set("scope", "api://paytrim/.default");
    let c = s.client();
    assert_eq!(c.endpoint(), url);
    c.token().unwrap();
    let r = s.emu.last_request().unwrap();
    assert_eq!(r.path, "/oauth2/token");
    assert_eq!(r.form["scope"], "api://paytrim/.default");
}

#[test]
fn multiple_scopes_are_sent_space_separated() {
    let mut s = setup();
    s.set("scope", "api://a/.default   api://b/.default");
    s.client().token().unwrap();
    assert_eq!(s.emu.last_request().unwrap().form["scope"], "api://a/.default api://b/.default");
}

#[test]
fn expires_in_may_arrive_as_a_string() {
    let s = setup();
    s.emu.set_expires_in_as_string(true);
    s.emu.set_expires_in(1234);
    let t = s.client().token().unwrap();
    let left = t.expires_in().as_secs();
    assert!((1230..=1234).contains(&left), "{left}");
}

#[test]
fn plain_http_works_on_loopback() {
    let mut s = setup();
    s.set("authority_host", &s.emu.http_url());
    s.client().token().unwrap();
    assert_eq!(s.emu.last_request().unwrap().scheme, "http");
}

#[test]
fn token_json_has_the_documented_shape() {
    let s = setup();
    let t = s.client().token().unwrap();
    let v: serde_json::Value = serde_json::from_str(t.to_json().expose()).unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["access_token"], t.secret());
    let e = v["expires_in"].as_u64().unwrap();
    assert!((3590..=3599).contains(&e), "{e}");
    assert_eq!(v.as_object().unwrap().len(), 3);
}

#[test]
fn bad_configuration_is_refused_before_any_request() {
    let s = setup();
    let e = paytrim_auth::Client::new("", paytrim_auth::Credential::client_secret("x"), &s.config).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    let e = paytrim_auth::Client::new("id", paytrim_auth::Credential::client_secret(""), &s.config).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    assert_eq!(s.emu.token_requests(), 0);
}

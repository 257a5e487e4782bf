//! Managed identity from the variables Azure hosts set (IMDS_ENDPOINT,
//! IDENTITY_ENDPOINT + IDENTITY_HEADER) and from the environment factory
//! (PAYTRIM_MANAGED_IDENTITY), read from the real process environment. One
//! test in its own binary: it changes the environment, so nothing else may
//! run beside it.

use paytrim_auth::{Client, ClientConfig, ErrorCode, ManagedIdentityId};
use paytrim_entra_emulator::{Emulator, APP_SERVICE_PATH, IMDS_PATH};

const VARIABLES: &[&str] =
    &["IMDS_ENDPOINT", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "PAYTRIM_MANAGED_IDENTITY", "PAYTRIM_SCOPE"];

fn config(scope: &str) -> ClientConfig {
    let mut c = ClientConfig::default();
    c.set("scope", scope).unwrap();
    c.set("proxy", "none").unwrap();
    c
}

fn last_path(emu: &Emulator) -> String {
    emu.last_request().map(|r| r.path).unwrap_or_default()
}

#[test]
fn endpoints_come_from_the_variables_azure_sets_with_config_first() {
    for v in VARIABLES {
        std::env::remove_var(v);
    }
    let emu = Emulator::start().unwrap();

    // IMDS_ENDPOINT moves IMDS.
    std::env::set_var("IMDS_ENDPOINT", emu.imds_endpoint());
    let c = Client::managed_identity(ManagedIdentityId::SystemAssigned, &config("api://env-1/.default")).unwrap();
    c.token().expect("token from IMDS at IMDS_ENDPOINT");
    assert_eq!(last_path(&emu), IMDS_PATH);
    assert_eq!(emu.last_request().unwrap().header("metadata"), Some("true"));

    // IDENTITY_ENDPOINT + IDENTITY_HEADER (App Service) win over IMDS_ENDPOINT.
    std::env::set_var("IDENTITY_ENDPOINT", emu.identity_endpoint());
    std::env::set_var("IDENTITY_HEADER", emu.identity_header());
    let c = Client::managed_identity(ManagedIdentityId::SystemAssigned, &config("api://env-2/.default")).unwrap();
    c.token().expect("token from the App Service endpoint");
    assert_eq!(last_path(&emu), APP_SERVICE_PATH);
    assert_eq!(emu.last_request().unwrap().header("x-identity-header"), Some(emu.identity_header().as_str()));

    // A config key beats every variable.
    let mut cfg = config("api://env-3/.default");
    cfg.set("imds_endpoint", &emu.imds_endpoint()).unwrap();
    Client::managed_identity(ManagedIdentityId::SystemAssigned, &cfg).unwrap().token().unwrap();
    assert_eq!(last_path(&emu), IMDS_PATH);

    // IDENTITY_ENDPOINT + IMDS_ENDPOINT without IDENTITY_HEADER is Azure Arc: refused, clearly.
    std::env::remove_var("IDENTITY_HEADER");
    let e = Client::managed_identity(ManagedIdentityId::SystemAssigned, &config("api://env-4/.default")).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    assert!(e.message().contains("Azure Arc"), "{}", e.message());
    std::env::remove_var("IMDS_ENDPOINT");
    let e = Client::managed_identity(ManagedIdentityId::SystemAssigned, &config("api://env-4/.default")).unwrap_err();
    assert!(e.message().contains("IDENTITY_HEADER"), "{}", e.message());
    std::env::remove_var("IDENTITY_ENDPOINT");

    // The environment factory: PAYTRIM_MANAGED_IDENTITY asks for it; no client id or tenant needed.
    let ua = emu.add_user_assigned_identity("from-env");
    std::env::set_var("IMDS_ENDPOINT", emu.imds_endpoint());
    std::env::set_var("PAYTRIM_MANAGED_IDENTITY", &ua.client_id);
    std::env::set_var("PAYTRIM_SCOPE", "api://env-5/.default");
    let before = emu.managed_identity_requests();
    let c = Client::from_environment(&config("api://ignored/.default")).expect("client from the environment");
    c.token().expect("token for the user-assigned identity");
    let rec = emu.last_request().unwrap();
    assert_eq!(rec.query_param("client_id"), Some(ua.client_id.as_str()));
    assert_eq!(rec.query_param("resource"), Some("api://env-5"));
    assert_eq!(emu.managed_identity_requests(), before + 1);

    for v in VARIABLES {
        std::env::remove_var(v);
    }
}

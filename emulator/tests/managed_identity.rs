//! The IMDS and App Service managed-identity endpoints: answer shapes,
//! required headers, identity selection, faults and counting.

mod common;

use base64::Engine as _;
use common::*;
use paytrim_entra_emulator::{Emulator, Fault, IMDS_PATH};
use serde_json::json;

const RESOURCE: &str = "https://management.azure.com";

fn imds(emu: &Emulator, query: &str, headers: &[(&str, &str)]) -> Resp {
    http(&emu.imds_endpoint(), "GET", &format!("{IMDS_PATH}?{query}"), headers, b"").unwrap()
}

fn app_service(emu: &Emulator, query: &str, headers: &[(&str, &str)]) -> Resp {
    http(&emu.http_url(), "GET", &format!("/msi/token?{query}"), headers, b"").unwrap()
}

fn claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn q(resource: &str) -> String {
    format!("api-version=2018-02-01&resource={}", paytrim_entra_emulator::form_encode(resource))
}

#[test]
fn imds_success_shape_numbers_as_strings() {
    let emu = Emulator::start().unwrap();
    let r = imds(&emu, &q(RESOURCE), &[("Metadata", "true")]);
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    for k in ["access_token", "client_id", "expires_in", "expires_on", "not_before", "resource", "token_type"] {
        assert!(keys.contains(&k), "{k} missing in {keys:?}");
    }
    for k in ["expires_in", "expires_on", "not_before"] {
        assert!(j[k].as_str().unwrap().parse::<u64>().is_ok(), "{k} = {}", j[k]);
    }
    assert_eq!(j["expires_in"], "3599");
    assert_eq!(j["resource"], RESOURCE);
    assert_eq!(j["token_type"], "Bearer");
    let system = emu.system_identity().unwrap();
    assert_eq!(j["client_id"], system.client_id.as_str());
    let c = claims(j["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], RESOURCE);
    assert_eq!(c["appid"], system.client_id.as_str());
    assert_eq!(c["oid"], system.object_id.as_str());
    assert_eq!(emu.managed_identity_requests(), 1);
    assert_eq!(emu.token_requests(), 1);
    assert_eq!(emu.tokens_issued(), 1);
    let rec = emu.last_request().unwrap();
    assert_eq!(rec.method, "GET");
    assert_eq!(rec.path, IMDS_PATH);
    assert_eq!(rec.query_param("resource"), Some(RESOURCE));
    assert_eq!(rec.header("metadata"), Some("true"));
    assert_eq!(rec.status, Some(200));
}

#[test]
fn imds_requires_the_metadata_header_and_parameters() {
    let emu = Emulator::start().unwrap();
    let r = imds(&emu, &q(RESOURCE), &[]);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error_description"], "Required metadata header not specified");
    let r = imds(&emu, &format!("resource={RESOURCE}"), &[("Metadata", "true")]);
    assert_eq!(r.status, 400, "{}", r.text());
    let r = imds(&emu, "api-version=2018-02-01", &[("Metadata", "true")]);
    assert_eq!(r.status, 400);
    let r = imds(&emu, &format!("{}&client_id=a&object_id=b", q(RESOURCE)), &[("Metadata", "true")]);
    assert_eq!(r.status, 400);
    let r = http(&emu.imds_endpoint(), "POST", &format!("{IMDS_PATH}?{}", q(RESOURCE)), &[("Metadata", "true")], b"")
        .unwrap();
    assert_eq!(r.status, 405);
    assert_eq!(emu.tokens_issued(), 0);
    assert_eq!(emu.managed_identity_requests(), 5);
}

#[test]
fn user_assigned_by_each_id_and_unknown_identity() {
    let emu = Emulator::start().unwrap();
    let ua = emu.add_user_assigned_identity("payments");
    for (name, value) in [("client_id", &ua.client_id), ("object_id", &ua.object_id), ("msi_res_id", &ua.resource_id)] {
        let r = imds(
            &emu,
            &format!("{}&{name}={}", q(RESOURCE), paytrim_entra_emulator::form_encode(value)),
            &[("Metadata", "true")],
        );
        assert_eq!(r.status, 200, "{name}: {}", r.text());
        assert_eq!(r.json()["client_id"], ua.client_id.as_str());
        assert_eq!(claims(r.json()["access_token"].as_str().unwrap())["xms_mirid"], ua.resource_id.as_str());
    }
    let r =
        imds(&emu, &format!("{}&client_id=00000000-0000-0000-0000-000000000000", q(RESOURCE)), &[("Metadata", "true")]);
    assert_eq!((r.status, r.json()["error_description"].as_str()), (400, Some("Identity not found")));
    emu.set_system_identity(None);
    let r = imds(&emu, &q(RESOURCE), &[("Metadata", "true")]);
    assert_eq!(r.status, 400);
}

#[test]
fn app_service_shape_header_and_selectors() {
    let emu = Emulator::start().unwrap();
    let header = emu.identity_header();
    let query = format!("api-version=2019-08-01&resource={}", paytrim_entra_emulator::form_encode(RESOURCE));
    let r = app_service(&emu, &query, &[]);
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(r.json()["statusCode"], 401);
    let r = app_service(&emu, &query, &[("X-IDENTITY-HEADER", "wrong")]);
    assert_eq!(r.status, 401);
    let r = app_service(&emu, &query.replace("2019-08-01", "2017-09-01"), &[("X-IDENTITY-HEADER", &header)]);
    assert_eq!(r.status, 400);

    let r = app_service(&emu, &query, &[("X-IDENTITY-HEADER", &header)]);
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    let mut keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["access_token", "client_id", "expires_on", "resource", "token_type"]);
    let on: u64 = j["expires_on"].as_str().unwrap().parse().unwrap();
    assert!(on > 1_700_000_000);

    let ua = emu.add_user_assigned_identity("app");
    for (name, value) in [("client_id", &ua.client_id), ("principal_id", &ua.object_id), ("mi_res_id", &ua.resource_id)]
    {
        let r = app_service(
            &emu,
            &format!("{query}&{name}={}", paytrim_entra_emulator::form_encode(value)),
            &[("X-IDENTITY-HEADER", &header)],
        );
        assert_eq!(r.status, 200, "{name}: {}", r.text());
        assert_eq!(r.json()["client_id"], ua.client_id.as_str());
    }
    // IMDS's selector names mean nothing here.
    let r = app_service(&emu, &format!("{query}&msi_res_id=x"), &[("X-IDENTITY-HEADER", &header)]);
    assert_eq!(r.json()["client_id"], emu.system_identity().unwrap().client_id.as_str());
}

#[test]
fn faults_apply_to_managed_identity_requests() {
    let emu = Emulator::start().unwrap();
    emu.push_fault(Fault::status(410).times(2));
    emu.push_fault(Fault::status(429).retry_after("2"));
    emu.push_fault(Fault::status(500));
    emu.push_fault(Fault::status(404));
    let h = [("Metadata", "true")];
    assert_eq!(imds(&emu, &q(RESOURCE), &h).status, 410);
    assert_eq!(imds(&emu, &q(RESOURCE), &h).status, 410);
    let r = imds(&emu, &q(RESOURCE), &h);
    assert_eq!((r.status, r.header("retry-after")), (429, Some("2")));
    assert_eq!(imds(&emu, &q(RESOURCE), &h).status, 500);
    assert_eq!(imds(&emu, &q(RESOURCE), &h).status, 404);
    assert_eq!(imds(&emu, &q(RESOURCE), &h).status, 200);
    assert_eq!(emu.managed_identity_requests(), 6);
    assert_eq!(emu.tokens_issued(), 1);
    let faults: Vec<Option<String>> = emu.requests().iter().map(|r| r.fault.clone()).collect();
    assert_eq!(faults.iter().filter(|f| f.is_some()).count(), 5);
}

#[test]
fn control_api_manages_identities() {
    let emu = Emulator::start().unwrap();
    let base = emu.http_url();
    let post = |body: serde_json::Value| {
        http(
            &base,
            "POST",
            "/_emulator/managed_identity",
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        )
        .unwrap()
    };
    assert_eq!(post(json!({"identity_header": "rotated", "user_assigned": {"client_id": "ua-1"}})).status, 200);
    assert_eq!(post(json!({"nope": 1})).status, 400);
    let got = http(&base, "GET", "/_emulator/managed_identity", &[], b"").unwrap().json();
    assert_eq!(got["identity_header"], "rotated");
    assert_eq!(got["user_assigned"][0]["client_id"], "ua-1");
    assert_eq!(emu.identity_header(), "rotated");
    assert_eq!(got["requests"], 0);
    emu.reset();
    assert_eq!(emu.identity_header(), paytrim_entra_emulator::DEFAULT_IDENTITY_HEADER);
}

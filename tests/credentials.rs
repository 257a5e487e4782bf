//! Every credential kind end to end against the emulator, and every failure
//! a user can run into: wrong key, expired or not-yet-valid certificate,
//! non-RSA key, wrong password, wrong audience, unreadable or rotated
//! federated token file, a callback that fails, answers garbage or hangs.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::certs::{self, TestCert};
use paytrim_auth::environment;
use paytrim_auth::{
    AssertionCallback, CertificateCredential, Client, ClientConfig, Credential, ErrorCode, SigningAlgorithm,
};
use paytrim_entra_emulator::Emulator;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicU32 = AtomicU32::new(1);

fn new_id() -> String {
    format!("{:08x}-0000-4000-9000-{:012x}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

fn config_for(emu: &Emulator) -> ClientConfig {
    let mut config = ClientConfig::default();
    config.set("authority_host", &emu.https_url()).unwrap();
    config.set("tenant", "contoso.onmicrosoft.com").unwrap();
    config.set("ca_file", emu.ca_file().to_str().unwrap()).unwrap();
    config.set("proxy", "none").unwrap();
    config
}

fn decode_part(jwt: &str, i: usize) -> Value {
    let part = jwt.split('.').nth(i).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The client assertions the emulator received, in order.
fn assertions(emu: &Emulator) -> Vec<String> {
    emu.requests().iter().filter_map(|r| r.form_field("client_assertion").map(str::to_owned)).collect()
}

#[test]
fn certificate_pem_signs_a_fresh_ps256_assertion_per_request() {
    let emu = Emulator::start().unwrap();
    let cert = TestCert::rsa(-1, 30);
    let id = new_id();
    emu.add_certificate_client(&id, cert.cert_pem.as_bytes()).unwrap();
    let credential = Credential::certificate_file(cert.combined_pem_file(), None).unwrap();
    let client = Client::new(&id, credential, &config_for(&emu)).unwrap();
    let t1 = client.token().unwrap();
    // A second fetch must carry a new assertion: the emulator refuses a replayed jti.
    let t2 = client.force_refresh().unwrap();
    assert_ne!(t1.secret(), t2.secret());
    let sent = assertions(&emu);
    assert_eq!(sent.len(), 2);
    let last = emu.last_request().unwrap();
    assert_eq!(
        last.form_field("client_assertion_type"),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    assert_eq!(last.form_field("client_secret"), None);
    assert_eq!(last.header("authorization"), None);
    let (h, c) = (decode_part(&sent[0], 0), decode_part(&sent[0], 1));
    assert_eq!(h["alg"], "PS256");
    assert_eq!(h["typ"], "JWT");
    assert!(h.get("x5t").is_none() && h.get("x5c").is_none());
    let der = rustls_pemfile::certs(&mut cert.cert_pem.as_bytes()).next().unwrap().unwrap();
    assert_eq!(h["x5t#S256"], URL_SAFE_NO_PAD.encode(Sha256::digest(der.as_ref())));
    assert_eq!(c["iss"], id.as_str());
    assert_eq!(c["sub"], id.as_str());
    assert_eq!(c["aud"], format!("{}/contoso.onmicrosoft.com/oauth2/v2.0/token", emu.https_url()));
    let (iat, nbf, exp) = (c["iat"].as_i64().unwrap(), c["nbf"].as_i64().unwrap(), c["exp"].as_i64().unwrap());
    assert_eq!(iat, nbf);
    assert_eq!(exp - iat, 600);
    assert_ne!(c["jti"], decode_part(&sent[1], 1)["jti"]);
    // A cache hit sends nothing and signs nothing.
    client.token().unwrap();
    assert_eq!(assertions(&emu).len(), 2);
}

#[test]
fn rs256_sends_x5t_and_the_chain_on_request() {
    let emu = Emulator::start().unwrap();
    let cert = TestCert::rsa(-1, 30);
    let id = new_id();
    emu.add_certificate_client(&id, cert.cert_pem.as_bytes()).unwrap();
    let credential = CertificateCredential::from_pem(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes(), None)
        .unwrap()
        .with_algorithm(SigningAlgorithm::Rs256)
        .with_chain(true);
    let client = Client::new(&id, Credential::Certificate(credential), &config_for(&emu)).unwrap();
    client.token().unwrap();
    let h = decode_part(&assertions(&emu)[0], 0);
    assert_eq!(h["alg"], "RS256");
    assert!(h["x5t"].is_string() && h["x5t#S256"].is_string());
    assert_eq!(h["x5c"].as_array().unwrap().len(), 1);
}

#[test]
fn every_key_and_file_format_works() {
    let emu = Emulator::start().unwrap();
    let cert = TestCert::rsa(-1, 30);
    let config = config_for(&emu);
    let pkcs1 = cert.write("pkcs1.pem", &format!("{}{}", cert.cert_pem, cert.pkcs1_key_pem()));
    let encrypted = cert.write("enc.pem", &format!("{}{}", cert.cert_pem, cert.encrypted_key_pem("pä ss")));
    let modern = cert.pkcs12("pfx-pw", false);
    let legacy = cert.pkcs12("pfx-pw", true);
    for (path, password) in
        [(&pkcs1, None), (&encrypted, Some("pä ss")), (&modern, Some("pfx-pw")), (&legacy, Some("pfx-pw"))]
    {
        let id = new_id();
        emu.add_certificate_client(&id, cert.cert_pem.as_bytes()).unwrap();
        let credential = Credential::certificate_file(path, password).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        Client::new(&id, credential, &config).unwrap().token().unwrap_or_else(|e| panic!("{path:?}: {e}"));
    }
    // Wrong or missing passwords: clear errors naming the file, never the password.
    for (path, password, expect) in [
        (&encrypted, Some("wrong-pw"), "cannot be decrypted"),
        (&encrypted, None, "no password"),
        (&modern, Some("wrong-pw"), "wrong password"),
        (&legacy, Some("wrong-pw"), "wrong password"),
    ] {
        let e = Credential::certificate_file(path, password).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidArgument);
        assert!(e.message().contains(path.to_str().unwrap()) && e.message().contains(expect), "{}", e.message());
        assert!(!e.message().contains("wrong-pw"), "{}", e.message());
    }
}

#[test]
fn bad_certificates_and_keys_are_refused_at_creation_naming_the_file() {
    let cert = TestCert::rsa(-1, 30);
    let other = TestCert::rsa(-1, 30);
    let check = |pem: String, expect: &str| {
        let path = cert.write("bad.pem", &pem);
        let e = Credential::certificate_file(&path, None).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidArgument);
        assert!(e.message().contains(path.to_str().unwrap()), "{}", e.message());
        assert!(e.message().contains(expect), "expected '{expect}': {}", e.message());
        assert!(!e.message().contains("PRIVATE KEY-----"));
    };
    check(format!("{}{}", cert.cert_pem, other.key_pem), "does not match the certificate");
    check(format!("{}{}", cert.reissue(-30, -1), cert.key_pem), "expired");
    check(format!("{}{}", cert.reissue(2, 30), cert.key_pem), "not valid yet");
    let (ec_key, ec_cert) = certs::ec_key_and_cert();
    check(format!("{ec_cert}{ec_key}"), "not RSA");
    check(cert.key_pem.clone(), "no PEM CERTIFICATE");
    check(cert.cert_pem.clone(), "no PEM PRIVATE KEY");
    let e = Credential::certificate_file("/nonexistent/cert.pem", None).unwrap_err();
    assert!(e.message().contains("/nonexistent/cert.pem"), "{}", e.message());
    // Debug never shows key material.
    let c = Credential::certificate_file(cert.combined_pem_file(), None).unwrap();
    assert!(!format!("{c:?}").contains("MII"), "{c:?}");
}

#[test]
fn a_key_not_registered_is_rejected_by_the_server() {
    let emu = Emulator::start().unwrap();
    let registered = TestCert::rsa(-1, 30);
    let unregistered = TestCert::rsa(-1, 30);
    let id = new_id();
    emu.add_certificate_client(&id, registered.cert_pem.as_bytes()).unwrap();
    let credential = Credential::certificate_file(unregistered.combined_pem_file(), None).unwrap();
    let e = Client::new(&id, credential, &config_for(&emu)).unwrap().token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::CredentialRejected, "{e}");
    assert_eq!(e.aadsts_codes(), &[700027]);
    assert_eq!(emu.token_requests(), 1, "a rejected credential is not retried");
}

#[test]
fn cache_keys_tell_certificates_apart() {
    let emu = Emulator::start().unwrap();
    let (a, b) = (TestCert::rsa(-1, 30), TestCert::rsa(-1, 30));
    let id = new_id();
    emu.add_certificate_client(&id, a.cert_pem.as_bytes()).unwrap();
    emu.add_certificate_client(&id, b.cert_pem.as_bytes()).unwrap();
    let config = config_for(&emu);
    let ca = Client::new(&id, Credential::certificate_file(a.combined_pem_file(), None).unwrap(), &config).unwrap();
    let cb = Client::new(&id, Credential::certificate_file(b.combined_pem_file(), None).unwrap(), &config).unwrap();
    let again = Client::new(&id, Credential::certificate_file(a.combined_pem_file(), None).unwrap(), &config).unwrap();
    let (ta, tb) = (ca.token().unwrap(), cb.token().unwrap());
    assert_ne!(ta.secret(), tb.secret(), "another certificate gets its own token");
    assert_eq!(again.token().unwrap().secret(), ta.secret(), "the same certificate shares the cached token");
    assert_eq!(emu.tokens_issued(), 2);
}

#[test]
fn assertion_callback_supplies_assertions_and_its_failures_are_clear() {
    let emu = Emulator::start().unwrap();
    let cert = TestCert::rsa(-1, 30);
    let id = new_id();
    emu.add_certificate_client(&id, cert.cert_pem.as_bytes()).unwrap();
    let signer = CertificateCredential::from_pem(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes(), None).unwrap();
    let config = config_for(&emu);

    let s = signer.clone();
    let good = Credential::assertion_fn(move |r| {
        s.sign_assertion(&r.client_id, &r.audience).map(|a| a.expose().to_owned()).map_err(|e| e.to_string())
    });
    Client::new(&id, good, &config).unwrap().token().unwrap();

    let s = signer.clone();
    let wrong_aud = Credential::assertion_fn(move |r| {
        s.sign_assertion(&r.client_id, "https://elsewhere.example/token")
            .map(|a| a.expose().to_owned())
            .map_err(|e| e.to_string())
    });
    let e = Client::new(&id, wrong_aud, &config).unwrap().token().unwrap_err();
    assert_eq!((e.code(), e.aadsts_codes()), (ErrorCode::CredentialRejected, &[700023][..]), "{e}");

    let s = signer.clone();
    let wrong_iss = Credential::assertion_fn(move |r| {
        s.sign_assertion("someone-else", &r.audience).map(|a| a.expose().to_owned()).map_err(|e| e.to_string())
    });
    let e = Client::new(&id, wrong_iss, &config).unwrap().token().unwrap_err();
    assert_eq!(e.aadsts_codes(), &[700021], "{e}");

    let before = emu.token_requests();
    for (credential, expect) in [
        (Credential::assertion_fn(|_| Err("HSM unreachable".into())), "HSM unreachable"),
        (Credential::assertion_fn(|_| Ok("garbage".into())), "not a compact JWT"),
        (Credential::assertion_fn(|_| Ok(String::new())), "empty"),
        (Credential::AssertionCallback(AssertionCallback::new(|_, _| {})), "without answering"),
    ] {
        let e = Client::new(&id, credential, &config).unwrap().token().unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidArgument);
        assert!(e.message().contains("assertion callback") && e.message().contains(expect), "{}", e.message());
    }
    assert_eq!(emu.token_requests(), before, "a failed callback sends no request");

    // A callback that never answers is bounded by the fetch's budget.
    let mut short = config.clone();
    short.set("total_timeout_ms", "800").unwrap();
    // It keeps its completion (never answering, never dropping it) where a
    // leak checker still sees it, rather than leaking it with mem::forget.
    static NEVER_ANSWERED: std::sync::Mutex<Vec<paytrim_auth::AssertionCompletion>> = std::sync::Mutex::new(Vec::new());
    let hang = Credential::AssertionCallback(AssertionCallback::new(|_, c| NEVER_ANSWERED.lock().unwrap().push(c)));
    let started = Instant::now();
    let e = Client::new(&id, hang, &short).unwrap().token().unwrap_err();
    assert!(e.message().contains("no answer within"), "{}", e.message());
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

fn federated_token(iss: &str, sub: &str, aud: &str, exp_from_now: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT","kid":"k8s"}"#);
    let c = URL_SAFE_NO_PAD.encode(
        serde_json::json!({"iss": iss, "sub": sub, "aud": aud, "iat": now, "nbf": now, "exp": now + exp_from_now})
            .to_string(),
    );
    format!("{h}.{c}.{}", URL_SAFE_NO_PAD.encode(format!("sig-{}", NEXT.fetch_add(1, Ordering::Relaxed))))
}

#[test]
fn workload_identity_reads_and_rereads_the_federated_token_file() {
    let emu = Emulator::start().unwrap();
    let id = new_id();
    let (iss, sub) = ("https://oidc.example/cluster", "system:serviceaccount:pay:api");
    emu.add_federated_client(&id, iss, sub);
    let dir = certs::temp_dir("wi");
    let path = dir.join("token");
    let aud = paytrim_entra_emulator::FEDERATED_AUDIENCE;
    let first = federated_token(iss, sub, aud, 3600);
    std::fs::write(&path, &first).unwrap();
    let client = Client::new(&id, Credential::federated_token_file(&path).unwrap(), &config_for(&emu)).unwrap();
    client.token().unwrap();
    assert_eq!(assertions(&emu), vec![first.clone()]);
    // Kubernetes rotates by swapping files: the next fetch sends the new token.
    let second = federated_token(iss, sub, aud, 3600);
    let tmp = dir.join("token.tmp");
    std::fs::write(&tmp, &second).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    client.force_refresh().unwrap();
    assert_eq!(assertions(&emu).last(), Some(&second));
    // Gone: a clear error naming the path, and no request.
    std::fs::remove_file(&path).unwrap();
    let e = client.force_refresh().unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
    assert!(e.message().contains(path.to_str().unwrap()), "{}", e.message());
    std::fs::write(&path, "").unwrap();
    let e = Credential::federated_token_file(&path).unwrap_err();
    assert!(e.message().contains("empty") && e.message().contains(path.to_str().unwrap()), "{}", e.message());

    // What Entra checks: the record (70021), the audience (700212), the lifetime (700024).
    for (token, code) in [
        (federated_token(iss, "system:serviceaccount:other:x", aud, 3600), 70021),
        (federated_token(iss, sub, "api://wrong", 3600), 700212),
        (federated_token(iss, sub, aud, -3600), 700024),
    ] {
        std::fs::write(&path, &token).unwrap();
        // Another scope: a cache key of its own (the registered client already holds a token).
        let client = Client::new(&id, Credential::federated_token_file(&path).unwrap(), &{
            let mut cfg = config_for(&emu);
            cfg.set("scope", &format!("api://{code}/.default")).unwrap();
            cfg
        })
        .unwrap();
        let e = client.token().unwrap_err();
        assert_eq!(e.aadsts_codes(), &[code], "{e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn environment_factory_builds_each_kind() {
    let emu = Emulator::start().unwrap();
    let cert = TestCert::rsa(-1, 30);
    let id = new_id();
    emu.add_certificate_client(&id, cert.cert_pem.as_bytes()).unwrap();
    let pfx = cert.pkcs12("env-pw", false);
    let vars: HashMap<&str, String> = HashMap::from([
        ("AZURE_CLIENT_ID", id.clone()),
        ("AZURE_TENANT_ID", "contoso.onmicrosoft.com".to_owned()),
        ("AZURE_AUTHORITY_HOST", emu.https_url()),
        ("AZURE_CLIENT_CERTIFICATE_PATH", pfx.to_str().unwrap().to_owned()),
        ("AZURE_CLIENT_CERTIFICATE_PASSWORD", "env-pw".to_owned()),
        ("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "true".to_owned()),
        ("PAYTRIM_CA_FILE", emu.ca_file().to_str().unwrap().to_owned()),
    ]);
    let mut base = ClientConfig::default();
    base.set("proxy", "none").unwrap();
    let env = environment::resolve(&base, &|k| vars.get(k).cloned()).unwrap();
    assert_eq!(env.credential.kind(), "certificate");
    Client::new(&env.client_id, env.credential, &env.config).unwrap().token().unwrap();
    assert!(decode_part(&assertions(&emu)[0], 0)["x5c"].is_array());

    let mut wrong = vars.clone();
    wrong.insert("AZURE_CLIENT_CERTIFICATE_PASSWORD", "nope".to_owned());
    let e = environment::resolve(&base, &|k| wrong.get(k).cloned()).unwrap_err();
    assert!(
        e.message().contains("AZURE_CLIENT_CERTIFICATE_PATH") && e.message().contains("wrong password"),
        "{}",
        e.message()
    );
    let mut both = vars.clone();
    both.insert("AZURE_CLIENT_SECRET", "s".to_owned());
    let e = environment::resolve(&base, &|k| both.get(k).cloned()).unwrap_err();
    assert!(e.message().contains("AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH"), "{}", e.message());
}

//! The certificate credential against a real third-party OAuth server:
//! panva's oidc-provider (tests/interop/, installed from its lockfile by
//! scripts/test.sh), started here on 127.0.0.1 with one client registered
//! for `private_key_jwt` and the client_credentials grant. Proves our
//! assertions pass validation code that is not ours (signature, `aud`,
//! `iss`/`sub`, lifetime, and a `jti` it refuses to see twice).
//!
//! Needs `npm ci` in tests/interop, so it is ignored by default:
//! `cargo test --test interop -- --ignored` (scripts/test.sh runs it).

mod common;

use common::certs::TestCert;
use paytrim_auth::{CertificateCredential, Client, ClientConfig, Credential, ErrorCode, SigningAlgorithm};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const SCOPE: &str = "paytrim.read";

struct Server {
    child: Child,
    token_url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn start(cert: &TestCert, client_id: &str) -> Server {
    let root = env!("CARGO_MANIFEST_DIR");
    let script = format!("{root}/tests/interop/oidc-provider.mjs");
    assert!(
        std::path::Path::new(&format!("{root}/tests/interop/node_modules/oidc-provider")).is_dir(),
        "run `npm ci` in tests/interop first (scripts/test.sh does)"
    );
    let cert_path = cert.write("interop-cert.pem", &cert.cert_pem);
    let mut child = Command::new("node")
        .args([&script, cert_path.to_str().unwrap(), client_id, SCOPE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node is installed");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let ready: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    Server { token_url: ready["token_url"].as_str().unwrap().to_owned(), child }
}

fn config(server: &Server) -> ClientConfig {
    let mut c = ClientConfig::default();
    c.set("token_url", &server.token_url).unwrap();
    c.set("scope", SCOPE).unwrap();
    c.set("proxy", "none").unwrap();
    c
}

#[test]
#[ignore = "needs tests/interop/node_modules (scripts/test.sh installs it)"]
fn oidc_provider_accepts_our_assertions_ps256_and_rs256() {
    let cert = TestCert::rsa(-1, 30);
    let server = start(&cert, "paytrim-interop");
    let pem = |alg| {
        CertificateCredential::from_pem(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes(), None)
            .unwrap()
            .with_algorithm(alg)
    };
    let client =
        Client::new("paytrim-interop", Credential::Certificate(pem(SigningAlgorithm::Ps256)), &config(&server))
            .unwrap();
    let first = client.token().unwrap();
    // Another fetch: a new assertion (oidc-provider refuses a replayed jti).
    let second = client.force_refresh().unwrap();
    assert_ne!(first.secret(), second.secret());
    let mut rs = config(&server);
    rs.set("scope", SCOPE).unwrap();
    rs.set("max_attempts", "1").unwrap();
    let rs256 = Credential::Certificate(pem(SigningAlgorithm::Rs256).with_chain(true));
    // Same key, another credential option: the cache key is the same certificate, so force a fetch.
    Client::new("paytrim-interop", rs256, &rs).unwrap().force_refresh().unwrap();
}

#[test]
#[ignore = "needs tests/interop/node_modules (scripts/test.sh installs it)"]
fn oidc_provider_refuses_a_replayed_assertion_and_a_wrong_key() {
    let cert = TestCert::rsa(-1, 30);
    let server = start(&cert, "paytrim-interop-2");
    let signer = CertificateCredential::from_pem(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes(), None).unwrap();
    // One assertion, sent twice: the server must refuse the second (which is
    // why every fetch signs a fresh one).
    let once = signer.sign_assertion("paytrim-interop-2", &server.token_url).unwrap().expose().to_owned();
    let replay = Credential::assertion_fn(move |_| Ok(once.clone()));
    let mut cfg = config(&server);
    cfg.set("max_attempts", "1").unwrap();
    let client = Client::new("paytrim-interop-2", replay, &cfg).unwrap();
    client.token().unwrap();
    let e = client.force_refresh().unwrap_err();
    assert_eq!(e.code(), ErrorCode::CredentialRejected, "{e}");
    assert_eq!(e.oauth_error(), Some("invalid_client"), "{e}");

    let other = TestCert::rsa(-1, 30);
    let wrong = Credential::certificate_file(other.combined_pem_file(), None).unwrap();
    let e = Client::new("paytrim-interop-2", wrong, &cfg).unwrap().token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::CredentialRejected, "{e}");
}

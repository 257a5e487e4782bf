//! Trust store: a system store that cannot be loaded is a clear error of the
//! first fetch (unless `ca_file` is given or the bundled roots are chosen
//! with `tls_roots`), never a silent switch to other roots, and never a cost
//! or an error of client creation (which reads no store); and a rotated
//! `ca_file` is re-read by clients created after the rotation.
//!
//! rustls-native-certs reads `SSL_CERT_FILE`/`SSL_CERT_DIR` instead of the
//! platform store when they are set: this binary points them at an empty
//! file and an empty directory before any client exists.

use paytrim_auth::{Client, ClientConfig, Credential, ErrorCode};
use paytrim_entra_emulator::Emulator;
use std::path::PathBuf;
use std::sync::Once;

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("paytrim-trust-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("empty-dir")).unwrap();
    dir
}

/// Every test here runs with an unusable system store.
fn break_the_system_store() -> PathBuf {
    static ONCE: Once = Once::new();
    let dir = scratch_dir();
    ONCE.call_once(|| {
        std::fs::write(dir.join("empty.pem"), "").unwrap();
        std::env::set_var("SSL_CERT_FILE", dir.join("empty.pem"));
        std::env::set_var("SSL_CERT_DIR", dir.join("empty-dir"));
    });
    dir
}

fn config(pairs: &[(&str, &str)]) -> ClientConfig {
    let mut c = ClientConfig::default();
    c.set("tenant", "contoso.onmicrosoft.com").unwrap();
    c.set("proxy", "none").unwrap();
    for (k, v) in pairs {
        c.set(k, v).unwrap();
    }
    c
}

fn new_client(c: &ClientConfig) -> Result<Client, paytrim_auth::Error> {
    Client::new("11111111-2222-3333-4444-555555555555", Credential::client_secret("trust-secret"), c)
}

#[test]
fn an_unloadable_system_store_is_a_clear_error_unless_other_roots_are_chosen() {
    let dir = break_the_system_store();
    let emu = Emulator::start().unwrap();
    // Creation reads no store: it succeeds; the first fetch names the failure,
    // before any request is sent.
    let client = new_client(&config(&[("authority_host", &emu.https_url())])).expect("creation reads no store");
    let e = client.token().unwrap_err();
    assert_eq!(e.code(), ErrorCode::Tls, "{}", e.message());
    assert_eq!(emu.token_requests(), 0, "a request went out without trusted roots");
    let m = e.message();
    assert!(m.contains("system's trusted root certificates"), "{m}");
    assert!(m.contains(&format!("SSL_CERT_FILE={}", dir.join("empty.pem").display())), "{m}");
    assert!(m.contains("'ca_file'") && m.contains("'tls_roots'"), "{m}");
    assert!(!m.contains("trust-secret"));

    // The documented ways out: bundled roots, or a CA file.
    // Other roots: the fetch goes out and fails on the emulator's own CA
    // (not in the bundled set), not on the system store.
    for roots in ["bundled", "system+bundled"] {
        let client = new_client(&config(&[("tls_roots", roots), ("authority_host", &emu.https_url())])).unwrap();
        let m = client.token().unwrap_err().message().to_owned();
        assert!(!m.contains("system's trusted root"), "{roots}: {m}");
        assert!(m.contains("not signed by a trusted CA"), "{roots}: {m}");
    }
    let s = setup_with(&emu);
    s.client().token().expect("a CA file alone is enough");
}

#[test]
fn a_rotated_ca_file_is_re_read() {
    break_the_system_store();
    let (a, b) = (Emulator::start().unwrap(), Emulator::start().unwrap());
    assert_ne!(a.ca_pem(), b.ca_pem(), "two emulators, two CAs");
    let ca = scratch_dir().join("rotating-ca.pem");
    std::fs::write(&ca, a.ca_pem()).unwrap();
    let sa = setup_with(&a);
    let client_a = sa.client_with(|c| c.set("ca_file", ca.to_str().unwrap()).unwrap());
    client_a.token().expect("trusts CA A");

    // Rotate the file in place (same path, same size class), then a new client.
    std::fs::write(&ca, b.ca_pem()).unwrap();
    let sb = setup_with(&b);
    let client_b = sb.client_with(|c| c.set("ca_file", ca.to_str().unwrap()).unwrap());
    let t = client_b.token();
    assert!(t.is_ok(), "the rotated CA file was not re-read: {}", t.unwrap_err().message());
    // The client made before the rotation keeps what it trusted.
    client_a.force_refresh().expect("the older client still trusts CA A");
}

/// `setup()`'s shape for a given emulator.
fn setup_with(emu: &Emulator) -> SetupOn<'_> {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let client_id = format!("trust-{}-{n}", std::process::id());
    emu.add_client(&client_id, "trust-secret");
    let config = config(&[("authority_host", &emu.https_url()), ("ca_file", emu.ca_file().to_str().unwrap())]);
    SetupOn { client_id, config, _emu: emu }
}

struct SetupOn<'a> {
    client_id: String,
    config: ClientConfig,
    _emu: &'a Emulator,
}

impl SetupOn<'_> {
    fn client(&self) -> Client {
        Client::new(&self.client_id, Credential::client_secret("trust-secret"), &self.config).unwrap()
    }

    fn client_with(&self, f: impl FnOnce(&mut ClientConfig)) -> Client {
        let mut c = self.config.clone();
        f(&mut c);
        Client::new(&self.client_id, Credential::client_secret("trust-secret"), &c).unwrap()
    }
}

//! What each credential kind costs: a cold fetch (new key: client creation,
//! request, answer) against the local emulator over HTTPS, a cache hit, and
//! the signing of one client assertion. Plain timed loops, medians printed as
//! one line per measurement:
//!
//!   cargo bench --bench credentials
//!
//! Signing happens only inside fetches: the cache-hit figures are the same
//! for every kind (the hit path never looks at the credential).

#[path = "../tests/common/certs.rs"]
#[allow(dead_code)]
mod certs;

use paytrim_auth::{CertificateCredential, Client, ClientConfig, Credential, SigningAlgorithm};
use paytrim_entra_emulator::Emulator;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn config(emu: &Emulator, scope: &str) -> ClientConfig {
    let mut c = ClientConfig::default();
    c.set("authority_host", &emu.https_url()).unwrap();
    c.set("tenant", "contoso.onmicrosoft.com").unwrap();
    c.set("ca_file", emu.ca_file().to_str().unwrap()).unwrap();
    c.set("proxy", "none").unwrap();
    c.set("scope", scope).unwrap();
    c
}

fn main() {
    let emu = Emulator::start().unwrap();
    let cert = certs::TestCert::rsa(-1, 30);
    let cert_id = "bbbbbbbb-0000-4000-8000-00000000cafe";
    emu.add_certificate_client(cert_id, cert.cert_pem.as_bytes()).unwrap();
    let fed_id = "bbbbbbbb-0000-4000-8000-00000000fed0";
    emu.add_federated_client(fed_id, "https://issuer.example", "bench");
    let fed_path = cert.write("federated.jwt", &{
        use base64::Engine;
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        format!(
            "{}.{}.c2ln",
            b(r#"{"alg":"RS256"}"#),
            b(&format!(
                r#"{{"iss":"https://issuer.example","sub":"bench","aud":"api://AzureADTokenExchange","exp":{}}}"#,
                now + 3600
            ))
        )
    });
    let signer = CertificateCredential::from_pem(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes(), None).unwrap();

    // Signing alone.
    for alg in [SigningAlgorithm::Ps256, SigningAlgorithm::Rs256] {
        let s = signer.clone().with_algorithm(alg);
        let mut us: Vec<f64> = (0..300)
            .map(|_| {
                let t = Instant::now();
                black_box(s.sign_assertion(cert_id, "https://login.example/t/oauth2/v2.0/token").unwrap());
                t.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        println!("sign_assertion {alg:?} RSA-2048: median {:.0} us", median(&mut us));
    }

    type MakeCredential<'a> = Box<dyn Fn() -> Credential + 'a>;
    let kinds: Vec<(&str, &str, MakeCredential)> = vec![
        (
            "client_secret",
            paytrim_entra_emulator::DEFAULT_CLIENT_ID,
            Box::new(|| Credential::client_secret(paytrim_entra_emulator::DEFAULT_CLIENT_SECRET)),
        ),
        ("certificate", cert_id, Box::new(|| Credential::Certificate(signer.clone()))),
        ("assertion_callback", cert_id, {
            let s = signer.clone();
            Box::new(move || {
                let s = s.clone();
                Credential::assertion_fn(move |r| {
                    s.sign_assertion(&r.client_id, &r.audience)
                        .map(|a| a.expose().to_owned())
                        .map_err(|e| e.to_string())
                })
            })
        }),
        ("workload_identity", fed_id, Box::new(|| Credential::federated_token_file(&fed_path).unwrap())),
    ];
    for (name, id, make) in &kinds {
        // Cold: a new key each round (client creation + first token).
        let mut cold: Vec<f64> = (0..30)
            .map(|i| {
                let cfg = config(&emu, &format!("api://bench-{name}-{i}/.default"));
                let credential = make();
                let t = Instant::now();
                let client = Client::new(id, credential, &cfg).unwrap();
                client.with_token(|tok| black_box(tok.secret().len())).unwrap();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        // Hit: the same client, a cached token.
        let client = Client::new(id, make(), &config(&emu, &format!("api://bench-{name}-hit/.default"))).unwrap();
        client.token().unwrap();
        let before = emu.token_requests();
        let mut hit: Vec<f64> = (0..15)
            .map(|_| {
                let n = 200_000;
                let t = Instant::now();
                for _ in 0..n {
                    client.with_token(|tok| black_box(tok.secret().len())).unwrap();
                }
                t.elapsed().as_secs_f64() * 1e9 / n as f64
            })
            .collect();
        assert_eq!(emu.token_requests(), before, "hits sent requests");
        println!(
            "{name}: cold fetch median {:.2} ms (30 new keys); cache hit median {:.1} ns",
            median(&mut cold),
            median(&mut hit)
        );
    }
    std::thread::sleep(Duration::from_millis(10));
}

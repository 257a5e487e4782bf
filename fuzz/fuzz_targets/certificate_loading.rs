//! The certificate credential's parsers (issue 12 item 5, the assertion side):
//! arbitrary bytes as a PEM certificate + key (PKCS#8, PKCS#1, encrypted
//! PKCS#8) or as a PKCS#12 archive, with an arbitrary password and with a
//! canary password. Never a panic; garbage is an `invalid_argument` error
//! that never echoes the password or the key bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use paytrim_auth::{CertificateCredential, ErrorCode};

/// A password no parser message can contain by chance.
const CANARY: &str = "canary-Pw-7f3a9c1e";

fuzz_target!(|input: (&[u8], &[u8], Option<&str>, &[u8], &str)| {
    let (cert_pem, key_pem, password, pkcs12, p12_password) = input;
    let check = |e: &paytrim_auth::Error| {
        assert_eq!(e.code(), ErrorCode::InvalidArgument, "{}", e.message());
        assert!(!e.message().is_empty());
        let debug = format!("{e:?}");
        assert!(!e.message().contains(CANARY) && !debug.contains(CANARY), "the error echoes the password");
    };
    // The key must never be echoed. libFuzzer learns the messages' own words
    // ("PEM certificate: contains no PEM CERTIFICATE block") and puts them into
    // the key, so "the message contains the key" alone is no proof: the same
    // call with the key's letters and digits masked (same length and
    // punctuation) must give a message that contains that text as well.
    let echoes_key = |e: &paytrim_auth::Error, pw: Option<&str>| {
        let Ok(key) = std::str::from_utf8(key_pem) else { return false };
        let key = key.trim();
        let debug = format!("{e:?}");
        if key.len() < 24 || !(e.message().contains(key) || debug.contains(key)) {
            return false;
        }
        let masked: Vec<u8> = key_pem.iter().map(|&b| if b.is_ascii_alphanumeric() { b'#' } else { b }).collect();
        match CertificateCredential::from_pem(cert_pem, &masked, pw) {
            Err(m) => !(m.message().contains(key) || format!("{m:?}").contains(key)),
            Ok(_) => true,
        }
    };
    // Random bytes cannot make a certificate that matches its key, is valid
    // now and is RSA; if one ever does, loading it is fine too.
    for pw in [password, Some(CANARY)] {
        if let Err(e) = CertificateCredential::from_pem(cert_pem, key_pem, pw) {
            check(&e);
            assert!(!echoes_key(&e, pw), "the error echoes the key: {}", e.message());
        }
    }
    for pw in [p12_password, CANARY] {
        if let Err(e) = CertificateCredential::from_pkcs12(pkcs12, pw, "fuzz.pfx") {
            check(&e);
        }
    }
});

//! Certificate credential (RFC 7523 client assertion, as Entra expects it):
//! a certificate and its RSA private key, from PEM (PKCS#8, PKCS#1, or
//! encrypted PKCS#8 with a password) or PKCS#12 (`.pfx`). Each attempt of a
//! fetch signs a fresh JWT (new `jti`), PS256 by default or RS256 on request,
//! with `x5t#S256` (and `x5t` for RS256) and, on request, `x5c`.
//!
//! Everything is checked when the credential is made (and the validity again
//! at client creation): the certificate is valid now, the key is RSA and
//! matches the certificate. Errors name the file, never its content.

use crate::error::Error;
use crate::secret::Secret;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{KeyPair, RsaKeyPair};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

/// Lifetime of an assertion (Entra sets no upper bound; MSAL uses 10 min).
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(600);

/// How assertions are signed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// RSASSA-PSS with SHA-256 (Entra's current form; the default).
    Ps256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (older form; adds `x5t`).
    Rs256,
}

impl SigningAlgorithm {
    pub fn parse(value: &str) -> Result<SigningAlgorithm, Error> {
        match value.trim() {
            v if v.eq_ignore_ascii_case("PS256") => Ok(SigningAlgorithm::Ps256),
            v if v.eq_ignore_ascii_case("RS256") => Ok(SigningAlgorithm::Rs256),
            _ => Err(Error::invalid_argument(format!(
                "signing algorithm '{}' is not supported; use PS256 (default) or RS256",
                value.chars().take(32).collect::<String>()
            ))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            SigningAlgorithm::Ps256 => "PS256",
            SigningAlgorithm::Rs256 => "RS256",
        }
    }
}

/// A certificate with its private key, ready to sign client assertions.
/// Cheap to clone (the key material is shared).
#[derive(Clone)]
pub struct CertificateCredential {
    material: Arc<Material>,
    algorithm: SigningAlgorithm,
    send_chain: bool,
}

struct Material {
    /// Where it came from, for messages: a file name or "PEM text".
    source: String,
    key: RsaKeyPair,
    /// SHA-256 of the leaf certificate's DER.
    thumbprint_sha256: [u8; 32],
    x5t_s256: String,
    x5t: String,
    /// The chain, leaf first, standard base64 of each DER certificate.
    x5c: Vec<String>,
    not_before: i64,
    not_after: i64,
}

impl fmt::Debug for CertificateCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateCredential")
            .field("source", &self.material.source)
            .field("x5t#S256", &self.material.x5t_s256)
            .field("algorithm", &self.algorithm)
            .field("send_chain", &self.send_chain)
            .finish_non_exhaustive()
    }
}

impl CertificateCredential {
    /// Reads a PEM file (certificate(s) and private key) or a PKCS#12
    /// (`.pfx`/`.p12`) file, told apart by content. `password` decrypts an
    /// encrypted PKCS#8 key or the PKCS#12 file.
    pub fn from_file(path: impl AsRef<Path>, password: Option<&str>) -> Result<CertificateCredential, Error> {
        let path = path.as_ref();
        let name = format!("certificate file '{}'", path.display());
        let data = Zeroizing::new(
            std::fs::read(path).map_err(|e| Error::invalid_argument(format!("cannot read {name}: {e}")))?,
        );
        if data.trim_ascii_start().starts_with(b"-----BEGIN") {
            Self::from_pem_parts(&data, &data, password, &name)
        } else {
            Self::from_pkcs12(&data, password.unwrap_or(""), &name)
        }
    }

    /// A certificate (chain, leaf first) and its key, each as PEM text
    /// (they may be the same text).
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8], password: Option<&str>) -> Result<CertificateCredential, Error> {
        Self::from_pem_parts(cert_pem, key_pem, password, "PEM certificate")
    }

    /// A PKCS#12 archive in memory, with its password ("" for none).
    pub fn from_pkcs12(data: &[u8], password: &str, name: &str) -> Result<CertificateCredential, Error> {
        let bad = |why: String| Error::invalid_argument(format!("{name}: {why}"));
        let store = p12_keystore::KeyStore::from_pkcs12(data, password, p12_keystore::Pkcs12ImportPolicy::Relaxed)
            .map_err(|e| {
                bad(format!(
                    "not a readable PKCS#12 file, or wrong password ({}; PEM files must start with -----BEGIN)",
                    pkcs12_reason(&e)
                ))
            })?;
        let (_, chain) = store.private_key_chain().ok_or_else(|| bad("holds no private key".to_owned()))?;
        let certs: Vec<Vec<u8>> = chain.certs().iter().map(|c| c.as_der().to_vec()).collect();
        if certs.is_empty() {
            return Err(bad("holds a private key but no certificate for it".to_owned()));
        }
        let key = Zeroizing::new(chain.key().as_der().to_vec());
        Self::from_der(certs, &key, KeyFormat::Pkcs8, name)
    }

    fn from_pem_parts(
        cert_pem: &[u8],
        key_pem: &[u8],
        password: Option<&str>,
        name: &str,
    ) -> Result<CertificateCredential, Error> {
        let bad = |why: String| Error::invalid_argument(format!("{name}: {why}"));
        let certs: Vec<Vec<u8>> = rustls_pemfile::certs(&mut &cert_pem[..])
            .map(|c| c.map(|c| c.as_ref().to_vec()))
            .collect::<Result<_, _>>()
            .map_err(|_| bad("a CERTIFICATE block is not valid PEM".to_owned()))?;
        if certs.is_empty() {
            return Err(bad("contains no PEM CERTIFICATE block".to_owned()));
        }
        let (key, format) = read_pem_key(key_pem, password).map_err(bad)?;
        Self::from_der(certs, &key, format, name)
    }

    fn from_der(
        chain: Vec<Vec<u8>>,
        key_der: &[u8],
        format: KeyFormat,
        name: &str,
    ) -> Result<CertificateCredential, Error> {
        let bad = |why: String| Error::invalid_argument(format!("{name}: {why}"));
        let leaf = &chain[0];
        let (_, cert) = x509_parser::parse_x509_certificate(leaf)
            .map_err(|e| bad(format!("the certificate cannot be parsed ({e})")))?;
        let spki = cert.public_key();
        let key_alg = spki.algorithm.algorithm.to_id_string();
        if key_alg != "1.2.840.113549.1.1.1" {
            return Err(bad(format!(
                "the certificate's key is not RSA (algorithm {}); Entra client assertions need an RSA key",
                describe_key_oid(&key_alg)
            )));
        }
        let key = match format {
            KeyFormat::Pkcs8 => RsaKeyPair::from_pkcs8(key_der),
            KeyFormat::Pkcs1 => RsaKeyPair::from_der(key_der),
        }
        .map_err(|e| {
            bad(format!(
                "the private key is not a usable RSA key ({e}); EC and other key types are not supported, \
                 RSA keys need 2048 to 8192 bits"
            ))
        })?;
        if key.public_key().as_ref() != &spki.subject_public_key.data[..] {
            return Err(bad("the private key does not match the certificate".to_owned()));
        }
        let thumbprint_sha256: [u8; 32] = Sha256::digest(leaf).into();
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, leaf);
        let validity = cert.validity();
        let material = Material {
            source: name.to_owned(),
            key,
            thumbprint_sha256,
            x5t_s256: URL_SAFE_NO_PAD.encode(thumbprint_sha256),
            x5t: URL_SAFE_NO_PAD.encode(sha1.as_ref()),
            x5c: chain.iter().map(|c| STANDARD.encode(c)).collect(),
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
        };
        let credential = CertificateCredential {
            material: Arc::new(material),
            algorithm: SigningAlgorithm::Ps256,
            send_chain: false,
        };
        credential.check_validity()?;
        Ok(credential)
    }

    /// PS256 (default) or RS256.
    pub fn with_algorithm(mut self, algorithm: SigningAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Sends the chain as `x5c` (for subject name + issuer registration).
    pub fn with_chain(mut self, send: bool) -> Self {
        self.send_chain = send;
        self
    }

    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    pub fn sends_chain(&self) -> bool {
        self.send_chain
    }

    /// SHA-256 thumbprint of the certificate (its DER), as used in `x5t#S256`.
    pub fn thumbprint_sha256(&self) -> [u8; 32] {
        self.material.thumbprint_sha256
    }

    /// The certificate is valid now; else an error naming the file and dates.
    /// A deterministic RSA PKCS#1 v1.5 signature of a fixed text: secret
    /// bytes only this private key can produce (the cache tiers' key).
    pub(crate) fn cache_key_material(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
        let mut sig = zeroize::Zeroizing::new(vec![0u8; self.material.key.public().modulus_len()]);
        self.material
            .key
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                b"paytrim-auth cache tier key v1",
                &mut sig,
            )
            .map_err(|_| Error::internal("the certificate's key could not sign the cache tier key"))?;
        Ok(sig)
    }

    pub(crate) fn check_validity(&self) -> Result<(), Error> {
        let m = &self.material;
        let now = unix_now();
        if now < m.not_before {
            return Err(Error::invalid_argument(format!(
                "{}: the certificate is not valid yet (valid from {} UTC)",
                m.source,
                utc(m.not_before)
            )));
        }
        if now > m.not_after {
            return Err(Error::invalid_argument(format!(
                "{}: the certificate expired at {} UTC",
                m.source,
                utc(m.not_after)
            )));
        }
        Ok(())
    }

    /// A fresh signed client assertion for `client_id` at `audience` (the
    /// token endpoint): new `jti`, `nbf` = `iat` = now, `exp` 10 min later.
    pub fn sign_assertion(&self, client_id: &str, audience: &str) -> Result<Secret, Error> {
        let m = &self.material;
        let mut header = serde_json::json!({ "alg": self.algorithm.name(), "typ": "JWT", "x5t#S256": m.x5t_s256 });
        if self.algorithm == SigningAlgorithm::Rs256 {
            header["x5t"] = m.x5t.clone().into();
        }
        if self.send_chain {
            header["x5c"] = m.x5c.clone().into();
        }
        let now = unix_now();
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": new_jti()?,
            "iat": now,
            "nbf": now,
            "exp": now + ASSERTION_LIFETIME.as_secs() as i64,
        });
        let mut jwt = String::with_capacity(1024 + if self.send_chain { 2048 } else { 0 });
        jwt.push_str(&URL_SAFE_NO_PAD.encode(header.to_string()));
        jwt.push('.');
        jwt.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
        let padding: &'static dyn ring::signature::RsaEncoding = match self.algorithm {
            SigningAlgorithm::Ps256 => &ring::signature::RSA_PSS_SHA256,
            SigningAlgorithm::Rs256 => &ring::signature::RSA_PKCS1_SHA256,
        };
        let mut signature = vec![0u8; m.key.public().modulus_len()];
        m.key
            .sign(padding, &SystemRandom::new(), jwt.as_bytes(), &mut signature)
            .map_err(|_| Error::internal(format!("{}: signing the client assertion failed", m.source)))?;
        jwt.push('.');
        jwt.push_str(&URL_SAFE_NO_PAD.encode(&signature));
        Ok(Secret::new(jwt))
    }
}

impl super::jwt_bearer::AssertionSource for CertificateCredential {
    fn assertion(&self, client_id: &str, audience: &str, _deadline: std::time::Instant) -> Result<Secret, Error> {
        self.sign_assertion(client_id, audience)
    }
}

#[derive(Copy, Clone)]
enum KeyFormat {
    Pkcs8,
    Pkcs1,
}

/// The one private key in `pem`, decrypted if needed.
fn read_pem_key(pem: &[u8], password: Option<&str>) -> Result<(Zeroizing<Vec<u8>>, KeyFormat), String> {
    let text = String::from_utf8_lossy(pem);
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err("the key uses legacy OpenSSL PEM encryption, which is not supported; convert it to encrypted \
                    PKCS#8 with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
            .to_owned());
    }
    if let Some(der) = pem_block(&text, "ENCRYPTED PRIVATE KEY")? {
        let password = match password {
            Some(p) if !p.is_empty() => p,
            _ => return Err("the private key is encrypted, but no password was given".to_owned()),
        };
        let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(&der[..])
            .map_err(|e| format!("the ENCRYPTED PRIVATE KEY block cannot be parsed ({e})"))?;
        let doc = info.decrypt(password).map_err(|_| {
            "the private key cannot be decrypted: wrong password, or an unsupported encryption \
             (supported: PBES2 with PBKDF2 or scrypt and AES-CBC, 3DES)"
                .to_owned()
        })?;
        return Ok((Zeroizing::new(doc.as_bytes().to_vec()), KeyFormat::Pkcs8));
    }
    let mut found = None;
    for item in rustls_pemfile::read_all(&mut &pem[..]) {
        let item = item.map_err(|_| "a PEM block is malformed".to_owned())?;
        let key = match item {
            rustls_pemfile::Item::Pkcs8Key(k) => (k.secret_pkcs8_der().to_vec(), KeyFormat::Pkcs8),
            rustls_pemfile::Item::Pkcs1Key(k) => (k.secret_pkcs1_der().to_vec(), KeyFormat::Pkcs1),
            rustls_pemfile::Item::Sec1Key(_) => {
                return Err("the private key is an EC key; Entra client assertions need an RSA key".to_owned())
            }
            _ => continue,
        };
        if found.is_some() {
            return Err("contains more than one private key".to_owned());
        }
        found = Some((Zeroizing::new(key.0), key.1));
    }
    found.ok_or_else(|| "contains no PEM PRIVATE KEY block".to_owned())
}

/// The DER of the first PEM block labelled `label`, if any.
fn pem_block(text: &str, label: &str) -> Result<Option<Zeroizing<Vec<u8>>>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let Some(start) = text.find(&begin) else { return Ok(None) };
    let body = &text[start + begin.len()..];
    let stop = body.find(&end).ok_or_else(|| format!("the {label} block has no END line"))?;
    let b64: Zeroizing<String> = Zeroizing::new(body[..stop].chars().filter(|c| !c.is_whitespace()).collect());
    STANDARD
        .decode(b64.as_bytes())
        .map(|d| Some(Zeroizing::new(d)))
        .map_err(|_| format!("the {label} block is not valid base64"))
}

fn describe_key_oid(oid: &str) -> String {
    match oid {
        "1.2.840.10045.2.1" => "EC".to_owned(),
        "1.3.101.112" => "Ed25519".to_owned(),
        "1.2.840.113549.1.1.10" => "RSA-PSS-only".to_owned(),
        other => other.to_owned(),
    }
}

fn pkcs12_reason(e: &p12_keystore::error::Error) -> String {
    // The crate's messages name structures and algorithms, never key bytes.
    e.to_string().chars().take(120).collect()
}

/// A random (version 4) UUID from the OS's generator.
fn new_jti() -> Result<String, Error> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).map_err(|e| Error::internal(format!("no OS randomness for a jti: {e}")))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]))
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// `YYYY-MM-DD HH:MM:SS` for a Unix time (civil-from-days, proleptic Gregorian).
fn utc(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_print_in_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20");
    }

    #[test]
    fn jtis_are_unique_uuids() {
        let a = new_jti().unwrap();
        assert_eq!(a.len(), 36);
        assert_ne!(a, new_jti().unwrap());
    }

    #[test]
    fn algorithm_names() {
        assert_eq!(SigningAlgorithm::parse("ps256").unwrap(), SigningAlgorithm::Ps256);
        assert_eq!(SigningAlgorithm::parse("RS256").unwrap(), SigningAlgorithm::Rs256);
        assert!(SigningAlgorithm::parse("ES256").unwrap_err().message().contains("PS256"));
    }
}

//! Client assertions (RFC 7523), checked as Entra checks them: certificate
//! credentials (signature against a registered certificate found by
//! `x5t#S256` or `x5t`, `aud`, `iss` = `sub` = client id, lifetime, `jti`)
//! and federated credentials (the token's `iss`/`sub` against a registered
//! federated-credential record, `aud`, lifetime).
//!
//! Differences from Entra, on purpose: a replayed `jti` is refused (as
//! oidc-provider does; Entra accepts a replay while the assertion is valid),
//! which proves that clients sign afresh per request; the signature of a
//! federated token is not checked (Entra fetches the issuer's keys over the
//! network), only its claims.

use std::collections::{HashMap, HashSet};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;

use crate::entra::{err, OAuthError};
use crate::util;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The audience Entra requires of federated tokens.
pub const FEDERATED_AUDIENCE: &str = "api://AzureADTokenExchange";
/// Clock skew allowed on `nbf` and `exp`.
const SKEW_SECS: i64 = 300;

/// A certificate registered for a client.
#[derive(Debug, Clone)]
pub(crate) struct RegisteredCert {
    der: Vec<u8>,
    x5t_s256: String,
    x5t: String,
    /// PKCS#1 RSAPublicKey DER (what ring verifies with).
    rsa_public_key: Vec<u8>,
}

impl RegisteredCert {
    pub fn from_pem_or_der(data: &[u8]) -> Result<RegisteredCert, String> {
        let der = if data.trim_ascii_start().starts_with(b"-----BEGIN") {
            let (_, pem) = x509_parser::pem::parse_x509_pem(data).map_err(|e| format!("not a PEM certificate: {e}"))?;
            pem.contents
        } else {
            data.to_vec()
        };
        let (_, cert) =
            x509_parser::parse_x509_certificate(&der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
        let spki = cert.public_key();
        if spki.algorithm.algorithm.to_id_string() != "1.2.840.113549.1.1.1" {
            return Err("the certificate's key is not RSA".into());
        }
        let rsa_public_key = spki.subject_public_key.data.to_vec();
        let sha256 = ring::digest::digest(&ring::digest::SHA256, &der);
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
        Ok(RegisteredCert {
            x5t_s256: URL_SAFE_NO_PAD.encode(sha256.as_ref()),
            x5t: URL_SAFE_NO_PAD.encode(sha1.as_ref()),
            der,
            rsa_public_key,
        })
    }
}

/// A federated identity credential record (issuer + subject + audience).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedRecord {
    pub issuer: String,
    pub subject: String,
    pub audience: String,
}

/// Certificates and federated records by client id, and the `jti`s seen.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub certs: HashMap<String, Vec<RegisteredCert>>,
    pub federated: HashMap<String, Vec<FederatedRecord>>,
    seen_jti: HashSet<(String, String)>,
}

fn malformed(why: &str) -> OAuthError {
    err(401, "invalid_client", 50027, format!("JWT token is invalid or malformed. ({why})"))
}

struct Jwt {
    header: Value,
    claims: Value,
    signed: String,
    signature: Vec<u8>,
}

fn parse_jwt(text: &str) -> Result<Jwt, OAuthError> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 3 {
        return Err(malformed("not three dot-separated parts"));
    }
    let json = |p: &str, what: &str| -> Result<Value, OAuthError> {
        let raw = URL_SAFE_NO_PAD
            .decode(p.trim_end_matches('='))
            .map_err(|_| malformed(&format!("{what} is not base64url")))?;
        let v: Value = serde_json::from_slice(&raw).map_err(|_| malformed(&format!("{what} is not JSON")))?;
        if v.is_object() {
            Ok(v)
        } else {
            Err(malformed(&format!("{what} is not a JSON object")))
        }
    };
    Ok(Jwt {
        header: json(parts[0], "the header")?,
        claims: json(parts[1], "the payload")?,
        signed: format!("{}.{}", parts[0], parts[1]),
        signature: URL_SAFE_NO_PAD.decode(parts[2]).map_err(|_| malformed("the signature is not base64url"))?,
    })
}

fn str_claim<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Value::as_str)
}

/// `aud` may be a string or an array of strings.
fn audiences(v: &Value) -> Vec<&str> {
    match v.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

fn check_lifetime(claims: &Value) -> Result<(), OAuthError> {
    let now = util::unix_now() as i64;
    let exp = claims.get("exp").and_then(Value::as_i64).ok_or_else(|| malformed("no exp claim"))?;
    if now > exp + SKEW_SECS {
        return Err(err(
            401,
            "invalid_client",
            700024,
            format!("Client assertion is not within its valid time range. Current time: {now}, assertion valid until {exp}."),
        ));
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64) {
        if nbf > now + SKEW_SECS {
            return Err(err(
                401,
                "invalid_client",
                700024,
                format!("Client assertion is not within its valid time range. Current time: {now}, assertion valid from {nbf}."),
            ));
        }
    }
    Ok(())
}

impl Registry {
    /// Checks `assertion` for `client_id`, sent to `token_url`.
    pub fn validate(&mut self, client_id: &str, assertion: &str, token_url: &str) -> Result<(), OAuthError> {
        let jwt = parse_jwt(assertion)?;
        if let Some(records) = self.federated.get(client_id) {
            return validate_federated(records, &jwt);
        }
        let certs = self.certs.get(client_id).cloned().unwrap_or_default();
        if certs.is_empty() {
            return Err(err(
                401,
                "invalid_client",
                700027,
                format!("Client assertion failed signature validation. [Reason - The key was not found.] No certificate is registered for app '{client_id}'."),
            ));
        }
        // Which key: x5t#S256 (PS256/RS256) or x5t (RS256).
        let alg = str_claim(&jwt.header, "alg").unwrap_or("");
        let params: &dyn ring::signature::VerificationAlgorithm = match alg {
            "PS256" => &ring::signature::RSA_PSS_2048_8192_SHA256,
            "RS256" => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            other => return Err(malformed(&format!("unsupported alg '{other}'"))),
        };
        let by_s256 = str_claim(&jwt.header, "x5t#S256");
        let by_sha1 = str_claim(&jwt.header, "x5t").map(|t| t.trim_end_matches('='));
        if by_s256.is_none() && by_sha1.is_none() {
            return Err(malformed("the header has neither x5t#S256 nor x5t"));
        }
        let cert = certs
            .iter()
            .find(|c| by_s256 == Some(c.x5t_s256.as_str()) || (by_s256.is_none() && by_sha1 == Some(c.x5t.as_str())))
            .ok_or_else(|| {
                err(
                    401,
                    "invalid_client",
                    700027,
                    "Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '...']",
                )
            })?;
        if let Some(chain) = jwt.header.get("x5c") {
            let leaf = chain.as_array().and_then(|a| a.first()).and_then(Value::as_str);
            let leaf = leaf
                .and_then(|l| STANDARD.decode(l).ok())
                .ok_or_else(|| malformed("x5c is not an array of base64 certificates"))?;
            if leaf != cert.der {
                return Err(err(401, "invalid_client", 700027, "Client assertion failed signature validation. [Reason - x5c does not match the key identified by x5t#S256.]"));
            }
        }
        ring::signature::UnparsedPublicKey::new(params, &cert.rsa_public_key)
            .verify(jwt.signed.as_bytes(), &jwt.signature)
            .map_err(|_| err(401, "invalid_client", 700027, "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value.]"))?;
        let (iss, sub) = (str_claim(&jwt.claims, "iss"), str_claim(&jwt.claims, "sub"));
        if iss != Some(client_id) || sub != Some(client_id) {
            return Err(err(
                401,
                "invalid_client",
                700021,
                format!("Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://aka.ms/certCreds . (iss and sub must both be '{client_id}')"),
            ));
        }
        let auds = audiences(&jwt.claims);
        if !auds.iter().any(|a| a.eq_ignore_ascii_case(token_url)) {
            return Err(err(
                401,
                "invalid_client",
                700023,
                format!("Client assertion audience claim does not match Realm issuer. Review the documentation at https://aka.ms/certCreds . (expected aud '{token_url}')"),
            ));
        }
        check_lifetime(&jwt.claims)?;
        let jti = str_claim(&jwt.claims, "jti").filter(|j| !j.is_empty()).ok_or_else(|| malformed("no jti claim"))?;
        if !self.seen_jti.insert((client_id.to_owned(), jti.to_owned())) {
            return Err(err(
                401,
                "invalid_client",
                700025,
                "The client assertion's jti was already used. (This emulator refuses replays, as oidc-provider does; Entra accepts them while the assertion is valid.)",
            ));
        }
        Ok(())
    }
}

fn validate_federated(records: &[FederatedRecord], jwt: &Jwt) -> Result<(), OAuthError> {
    let (iss, sub) = (str_claim(&jwt.claims, "iss").unwrap_or(""), str_claim(&jwt.claims, "sub").unwrap_or(""));
    let record = records.iter().find(|r| r.issuer == iss && r.subject == sub).ok_or_else(|| {
        err(
            400,
            "invalid_request",
            70021,
            format!("No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'."),
        )
    })?;
    let auds = audiences(&jwt.claims);
    if !auds.iter().any(|a| *a == record.audience) {
        return Err(err(
            400,
            "invalid_request",
            700212,
            format!(
                "No matching federated identity record found for presented assertion audience '{}'.",
                auds.join(",")
            ),
        ));
    }
    check_lifetime(&jwt.claims).map_err(|mut e| {
        e.message = format!("The presented assertion is expired or not yet valid. {}", e.message);
        e.status = 400;
        e.error = "invalid_request";
        e
    })
}

//! What a client proves its identity with, and how that shapes its token
//! requests. One module per kind of credential; the rest of the library sees
//! only three things of a credential:
//!
//! - [`Credential::fingerprint`]: a one-way digest for the cache key (the
//!   kind plus something that identifies the credential without holding it);
//! - [`Credential::check`]: the checks done at client creation;
//! - [`Credential::token_source`]: the [`TokenSource`] that performs one
//!   attempt of a fetch. This is the extension point.
//!
//! # The two seams
//!
//! A fetch (`fetch.rs`) owns the retry loop, time budget, throttle memory and
//! backoff; each attempt calls [`TokenSource::request_token`], which sends one
//! request and turns the answer into a token or a categorized error. So a
//! credential can change the request entirely:
//!
//! - Credentials that talk to the OAuth token endpoint (client secret,
//!   certificate, assertion callback, federated token file) share one source,
//!   [`TokenEndpoint`], and only supply a [`ClientAuthentication`]: the form
//!   body (and Authorization header) for ONE attempt. A client secret prepares
//!   its body once and lends it to every attempt; an assertion-based
//!   credential builds a fresh assertion (new `jti`) per attempt. This runs
//!   only in fetches, on the fetch thread: the cache-hit path never sees it.
//! - Credentials with another protocol altogether (managed identity: a GET
//!   to IMDS or App Service, other headers, another answer shape, its own
//!   retry rules) implement [`TokenSource`] themselves and are returned from
//!   [`Credential::token_source`]; `client.rs` and `fetch.rs` do not change.

mod assertion;
mod certificate;
pub(crate) mod jwt_bearer;
pub(crate) mod managed_identity;
mod secret;
mod workload_identity;

pub use assertion::{AssertionCallback, AssertionCompletion, AssertionProvider, AssertionRequest};
pub use certificate::{CertificateCredential, SigningAlgorithm};
pub use workload_identity::FederatedTokenFile;

/// Whether `text` has the shape of a compact JWT; says what is wrong, never
/// what the text is.
pub(crate) fn check_assertion_shape(text: &str) -> Result<(), String> {
    jwt_bearer::check_compact_jwt(text)
}

pub use managed_identity::ManagedIdentityId;

use crate::config::ClientConfig;
use crate::error::Error;
use crate::fetch::TokenSource;
use crate::secret::Secret;
use crate::token_endpoint::TokenEndpoint;
use jwt_bearer::JwtBearer;
use once_cell::sync::Lazy;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt;
use std::time::Instant;

#[derive(Clone)]
#[non_exhaustive]
pub enum Credential {
    /// A client secret (`client_secret_post` or `client_secret_basic`).
    ClientSecret(Secret),
    /// An Azure managed identity (IMDS or App Service): no stored credential.
    ManagedIdentity(ManagedIdentityId),
    /// A certificate and its private key: a freshly signed assertion per request.
    Certificate(CertificateCredential),
    /// An application callback that supplies a signed assertion per request.
    AssertionCallback(AssertionCallback),
    /// A federated token read from a file (workload identity federation).
    WorkloadIdentity(FederatedTokenFile),
}

/// What one credential adds to a token-endpoint request, for one attempt.
pub(crate) trait ClientAuthentication: Send + Sync {
    /// The form body (grant, client id, scope and the credential's fields)
    /// and the optional `Authorization` header for one attempt, made before
    /// `deadline` (the end of the fetch's time budget).
    fn prepare(&self, deadline: Instant) -> Result<PreparedRequest<'_>, Error>;
}

/// The credential-dependent part of one token-endpoint request.
pub(crate) struct PreparedRequest<'a> {
    /// Borrowed when prepared once (client secret), owned when fresh per
    /// attempt (assertions).
    pub body: Cow<'a, Secret>,
    pub authorization: Option<&'a Secret>,
}

/// Per-process salt, so a fingerprint is useless outside this process.
static SALT: Lazy<[u8; 32]> = Lazy::new(|| {
    let mut salt = [0u8; 32];
    // Without OS randomness the salt is still fixed per build, and the
    // fingerprint stays one-way (SHA-256); it only loses cross-process hiding.
    let _ = getrandom::getrandom(&mut salt);
    salt
});

impl Credential {
    pub fn client_secret(secret: impl Into<String>) -> Self {
        Credential::ClientSecret(Secret::new(secret))
    }

    /// The managed identity `id` (see [`ManagedIdentityId::parse`] for its text form).
    pub fn managed_identity(id: ManagedIdentityId) -> Self {
        Credential::ManagedIdentity(id)
    }

    /// A certificate credential from a PEM or PKCS#12 file (see
    /// [`CertificateCredential::from_file`]).
    pub fn certificate_file(path: impl AsRef<std::path::Path>, password: Option<&str>) -> Result<Self, Error> {
        CertificateCredential::from_file(path, password).map(Credential::Certificate)
    }

    /// An assertion callback answering by returning (see [`AssertionCallback::from_fn`]).
    pub fn assertion_fn(f: impl Fn(&AssertionRequest) -> Result<String, String> + Send + Sync + 'static) -> Self {
        Credential::AssertionCallback(AssertionCallback::from_fn(f))
    }

    /// A federated token file (checked now; re-read as it rotates).
    pub fn federated_token_file(path: impl Into<std::path::PathBuf>) -> Result<Self, Error> {
        FederatedTokenFile::new(path).map(Credential::WorkloadIdentity)
    }

    /// A short name of the kind, for messages and the cache key.
    pub fn kind(&self) -> &'static str {
        match self {
            Credential::ClientSecret(_) => "client_secret",
            Credential::ManagedIdentity(_) => "managed_identity",
            Credential::Certificate(_) => "certificate",
            Credential::AssertionCallback(_) => "assertion_callback",
            Credential::WorkloadIdentity(_) => "workload_identity",
        }
    }

    /// A one-way, salted digest that tells credentials apart without holding
    /// them: the cache key uses this, never the credential itself.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(*SALT);
        h.update(self.kind().as_bytes());
        h.update([0]);
        match self {
            Credential::ClientSecret(s) => h.update(s.expose().as_bytes()),
            // Ids are not secrets; the kind of id matters (a client id and an
            // object id may look alike).
            Credential::ManagedIdentity(id) => h.update(id.to_string().as_bytes()),
            Credential::Certificate(c) => h.update(c.thumbprint_sha256()),
            Credential::AssertionCallback(c) => h.update(c.id().to_le_bytes()),
            Credential::WorkloadIdentity(f) => h.update(f.path().as_os_str().as_encoded_bytes()),
        }
        h.finalize().into()
    }

    /// Secret bytes that only holders of this credential have, from which
    /// the cache tiers derive the key that seals shared entries: the client
    /// secret, or a deterministic RSA signature of a fixed text (only the
    /// private key can make it). `None` for credentials with no secret of
    /// their own (managed identity, assertion callback, federated file).
    pub(crate) fn tier_key_material(&self) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, Error> {
        let tagged = |kind: &str, bytes: &[u8]| {
            let mut v = zeroize::Zeroizing::new(Vec::with_capacity(kind.len() + 1 + bytes.len()));
            v.extend_from_slice(kind.as_bytes());
            v.push(0);
            v.extend_from_slice(bytes);
            v
        };
        match self {
            Credential::ClientSecret(s) => Ok(Some(tagged(self.kind(), s.expose().as_bytes()))),
            Credential::Certificate(c) => Ok(Some(tagged(self.kind(), &c.cache_key_material()?))),
            Credential::ManagedIdentity(_) | Credential::AssertionCallback(_) | Credential::WorkloadIdentity(_) => {
                Ok(None)
            }
        }
    }

    /// The checks made when a client is created with this credential.
    pub(crate) fn check(&self) -> Result<(), Error> {
        match self {
            Credential::ClientSecret(s) if s.is_empty() => Err(Error::invalid_argument("client_secret is empty")),
            Credential::ClientSecret(_) => Ok(()),
            Credential::ManagedIdentity(id) => id.validate(),
            Credential::Certificate(c) => c.check_validity(),
            Credential::AssertionCallback(_) | Credential::WorkloadIdentity(_) => Ok(()),
        }
    }

    /// What performs one attempt of a fetch for `client_id` with this
    /// credential and `config`.
    pub(crate) fn token_source(&self, client_id: &str, config: &ClientConfig) -> Result<Box<dyn TokenSource>, Error> {
        let scope = config.scope_param();
        let audience = config.token_endpoint();
        let auth: Box<dyn ClientAuthentication> = match self {
            Credential::ClientSecret(s) => {
                Box::new(secret::SecretAuthentication::new(client_id, s, &scope, config.client_auth))
            }
            Credential::ManagedIdentity(id) => {
                return Ok(Box::new(managed_identity::ManagedIdentitySource::new(id, config)?))
            }
            Credential::Certificate(c) => Box::new(JwtBearer::new(client_id, &scope, &audience, c.clone())),
            Credential::AssertionCallback(c) => Box::new(JwtBearer::new(client_id, &scope, &audience, c.clone())),
            Credential::WorkloadIdentity(f) => Box::new(JwtBearer::new(client_id, &scope, &audience, f.clone())),
        };
        Ok(Box::new(TokenEndpoint::new(config, auth)?))
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::ClientSecret(_) => f.write_str("ClientSecret(<redacted>)"),
            Credential::ManagedIdentity(id) => write!(f, "ManagedIdentity({id})"),
            Credential::Certificate(c) => write!(f, "Certificate({c:?})"),
            Credential::AssertionCallback(c) => write!(f, "{c:?}"),
            Credential::WorkloadIdentity(w) => write!(f, "{w:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_differ_by_secret_and_hide_it() {
        let a = Credential::client_secret("secret-a");
        let b = Credential::client_secret("secret-b");
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint(), Credential::client_secret("secret-a").fingerprint());
        assert!(!format!("{a:?}").contains("secret-a"));
    }
}

//! What a client proves its identity with. Today a client secret; the enum
//! leaves room for a certificate or an assertion callback without changing the
//! cache (which only sees [`Credential::fingerprint`]) or the C ABI's shape.

use crate::secret::Secret;
use once_cell::sync::Lazy;
use sha2::{Digest, Sha256};
use std::fmt;

#[derive(Clone)]
#[non_exhaustive]
pub enum Credential {
    /// A client secret (`client_secret_post` or `client_secret_basic`).
    ClientSecret(Secret),
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

    /// A one-way, salted digest that tells credentials apart without holding
    /// them: the cache key uses this, never the secret itself.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(*SALT);
        match self {
            Credential::ClientSecret(s) => {
                h.update(b"client_secret\0");
                h.update(s.expose().as_bytes());
            }
        }
        h.finalize().into()
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Credential::ClientSecret(s) => s.is_empty(),
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::ClientSecret(_) => f.write_str("ClientSecret(<redacted>)"),
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

//! The client-assertion form shared by every assertion-based credential
//! (certificate, assertion callback, federated token file):
//! `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`
//! plus a `client_assertion` obtained afresh for each attempt (RFC 7523 §2.2).

use super::{ClientAuthentication, PreparedRequest};
use crate::error::Error;
use crate::protocol;
use crate::secret::Secret;
use std::borrow::Cow;
use std::time::Instant;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Something that yields a client assertion for one attempt.
pub(crate) trait AssertionSource: Send + Sync {
    /// An assertion for `client_id` whose audience is `audience` (the token
    /// endpoint), obtained before `deadline`.
    fn assertion(&self, client_id: &str, audience: &str, deadline: Instant) -> Result<Secret, Error>;
}

pub(crate) struct JwtBearer<S> {
    client_id: String,
    scope: String,
    audience: String,
    source: S,
}

impl<S: AssertionSource> JwtBearer<S> {
    pub fn new(client_id: &str, scope: &str, audience: &str, source: S) -> Self {
        JwtBearer { client_id: client_id.to_owned(), scope: scope.to_owned(), audience: audience.to_owned(), source }
    }
}

impl<S: AssertionSource> ClientAuthentication for JwtBearer<S> {
    fn prepare(&self, deadline: Instant) -> Result<PreparedRequest<'_>, Error> {
        let assertion = self.source.assertion(&self.client_id, &self.audience, deadline)?;
        let body = protocol::form_encode(&[
            ("grant_type", "client_credentials"),
            ("client_id", &self.client_id),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.expose()),
            ("scope", &self.scope),
        ]);
        Ok(PreparedRequest { body: Cow::Owned(Secret::new(body)), authorization: None })
    }
}

/// Checks that `text` has the shape of a compact JWS (three base64url parts
/// separated by dots, the first two non-empty) without decoding it. Says
/// what is wrong, never what the text is.
pub(crate) fn check_compact_jwt(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("it is empty".to_owned());
    }
    if text.len() > 64 * 1024 {
        return Err(format!("it is {} bytes long (more than 64 KiB)", text.len()));
    }
    let parts: Vec<&str> = text.split('.').collect();
    let b64url = |p: &str| p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if parts.len() != 3 || parts[0].is_empty() || parts[1].is_empty() || !parts.iter().all(|p| b64url(p)) {
        return Err("it is not a compact JWT (three base64url parts separated by dots)".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_shape() {
        assert!(check_compact_jwt("eyJh.eyJz.c2ln").is_ok());
        assert!(check_compact_jwt("eyJh.eyJz.").is_ok());
        assert!(check_compact_jwt("").is_err());
        assert!(check_compact_jwt("not a jwt").is_err());
        assert!(check_compact_jwt("a.b").is_err());
        assert!(check_compact_jwt("a.b.c.d").is_err());
        assert!(check_compact_jwt("a b.c.d").is_err());
        assert!(check_compact_jwt(".b.c").is_err());
    }
}

//! Client secret: `client_secret_post` (in the form) or `client_secret_basic`
//! (HTTP Basic). The body and header never change, so they are prepared once,
//! at client creation, and lent to every attempt.

use super::{ClientAuthentication, PreparedRequest};
use crate::config::ClientAuth;
use crate::error::Error;
use crate::protocol;
use crate::secret::Secret;
use std::borrow::Cow;
use std::time::Instant;

pub(crate) struct SecretAuthentication {
    body: Secret,
    authorization: Option<Secret>,
}

impl SecretAuthentication {
    pub fn new(client_id: &str, secret: &Secret, scope: &str, how: ClientAuth) -> Self {
        match how {
            ClientAuth::SecretPost => SecretAuthentication {
                body: protocol::token_request_body(client_id, secret, scope, true),
                authorization: None,
            },
            ClientAuth::SecretBasic => SecretAuthentication {
                body: protocol::token_request_body(client_id, secret, scope, false),
                authorization: Some(protocol::basic_authorization(client_id, secret)),
            },
        }
    }
}

impl ClientAuthentication for SecretAuthentication {
    fn prepare(&self, _deadline: Instant) -> Result<PreparedRequest<'_>, Error> {
        Ok(PreparedRequest { body: Cow::Borrowed(&self.body), authorization: self.authorization.as_ref() })
    }
}

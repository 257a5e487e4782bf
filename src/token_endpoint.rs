//! The OAuth 2.0 token endpoint (Entra's, or any RFC 6749 server's) as a
//! [`TokenSource`]: one form POST per attempt, whose credential part the
//! credential's [`ClientAuthentication`] prepares, and Entra's answer rules.

use crate::config::ClientConfig;
use crate::credentials::ClientAuthentication;
use crate::error::Error;
use crate::fetch::{Attempt, TokenSource};
use crate::protocol::{self, Context, TokenAnswer};
use crate::transport::{TokenRequest, Transport};
use std::fmt;

pub(crate) struct TokenEndpoint {
    transport: Transport,
    auth: Box<dyn ClientAuthentication>,
    tenantless: bool,
}

impl TokenEndpoint {
    pub fn new(config: &ClientConfig, auth: Box<dyn ClientAuthentication>) -> Result<TokenEndpoint, Error> {
        Ok(TokenEndpoint { transport: Transport::new(config)?, auth, tenantless: config.is_tenantless() })
    }
}

impl fmt::Debug for TokenEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEndpoint").field("transport", &self.transport).finish_non_exhaustive()
    }
}

impl TokenSource for TokenEndpoint {
    fn endpoint(&self) -> &str {
        self.transport.endpoint()
    }

    fn request_token(&self, attempt: &Attempt<'_>) -> Result<TokenAnswer, Error> {
        let prepared = self.auth.prepare(attempt.deadline)?;
        let request = TokenRequest {
            body: &prepared.body,
            authorization: prepared.authorization,
            client_request_id: attempt.client_request_id,
            timeout: attempt.timeout,
        };
        let cx = Context { endpoint: self.transport.endpoint(), tenantless: self.tenantless };
        self.transport.post(&request).and_then(|answer| protocol::interpret(&answer, &cx)).map_err(|e| {
            // The server's text may echo what we sent: never show it.
            let sent = protocol::sensitive_parts(&prepared.body, prepared.authorization);
            let needles: Vec<&str> = sent.iter().map(|s| s.expose()).collect();
            e.redacting(&needles)
        })
    }
}

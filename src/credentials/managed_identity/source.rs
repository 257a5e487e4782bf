//! The managed-identity endpoint as a [`TokenSource`]: one GET per attempt,
//! the endpoint's answer rules, and its retry rules (IMDS keeps retrying 410
//! for the upgrade window, past the attempt count, within the time budget).

use super::{answer, resource_for, retry_rule, select_endpoint, Endpoint, Flavour, ManagedIdentityId, Retry};
use crate::config::ClientConfig;
use crate::error::{Error, ErrorCode};
use crate::fetch::{Attempt, TokenSource};
use crate::protocol::TokenAnswer;
use crate::transport::Transport;
use std::fmt;
use std::time::{Duration, SystemTime};

pub(crate) struct ManagedIdentitySource {
    endpoint: Endpoint,
    transport: Transport,
    /// The endpoint plus `api-version`, `resource` and the identity selector.
    request_url: String,
    upgrade_window: Duration,
}

impl ManagedIdentitySource {
    /// Chooses the endpoint (configuration, then the environment) and
    /// prepares the request; sends nothing.
    pub fn new(id: &ManagedIdentityId, config: &ClientConfig) -> Result<ManagedIdentitySource, Error> {
        id.validate()?;
        let resource = resource_for(&config.scopes)?;
        let endpoint = select_endpoint(config, &|k| std::env::var(k).ok())?;
        let transport = Transport::for_url(config, &endpoint.url)?;
        let request_url = endpoint.request_url(id, &resource);
        Ok(ManagedIdentitySource { endpoint, transport, request_url, upgrade_window: config.imds_upgrade_window })
    }

    /// A connection failure, explained for someone who may not be on Azure.
    fn explain(&self, err: Error) -> Error {
        if err.code() != ErrorCode::Network {
            return err;
        }
        let hint = match self.endpoint.flavour {
            Flavour::Imds => format!(
                " (no IMDS answered at the address chosen by {}: is this an Azure VM or scale set with a managed \
                 identity? Elsewhere set IDENTITY_ENDPOINT/IDENTITY_HEADER, IMDS_ENDPOINT, or config key \
                 'imds_endpoint')",
                self.endpoint.chosen_by
            ),
            Flavour::AppService => {
                format!(" (the App Service identity endpoint chosen by {} did not answer)", self.endpoint.chosen_by)
            }
        };
        let message = format!("managed identity: {}{hint}", err.message());
        err.with_message(message)
    }
}

impl fmt::Debug for ManagedIdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagedIdentitySource")
            .field("endpoint", &self.endpoint)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl TokenSource for ManagedIdentitySource {
    fn endpoint(&self) -> &str {
        self.transport.endpoint()
    }

    fn request_token(&self, attempt: &Attempt<'_>) -> Result<TokenAnswer, Error> {
        let header = self.endpoint.required_header();
        let sent = SystemTime::now();
        let result = self
            .transport
            .get(&self.request_url, &[header], attempt.timeout)
            .map_err(|e| self.explain(e))
            .and_then(|answer| answer::interpret(&answer, self.endpoint.flavour, self.transport.endpoint(), sent));
        // The App Service secret must not come back in an error, even if the server echoes it.
        result.map_err(|e| match self.endpoint.flavour {
            Flavour::AppService => e.redacting(&[header.1]),
            Flavour::Imds => e,
        })
    }

    fn is_retryable(&self, err: &Error) -> bool {
        retry_rule(self.endpoint.flavour, err) != Retry::Never
    }

    fn retry_window(&self, err: &Error) -> Option<Duration> {
        (retry_rule(self.endpoint.flavour, err) == Retry::WhileUpgrading).then_some(self.upgrade_window)
    }
}

//! Errors: a stable category code, a message safe to log, and the details an
//! operator needs to chase a failure with Microsoft (AADSTS codes, trace and
//! correlation ids). No error ever carries a secret or a token.

use std::fmt;
use std::time::Duration;

/// Error categories. The numbers are part of the ABI: never renumber or reuse.
#[repr(u32)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A bad argument or configuration value (caught before any request).
    InvalidArgument = 1,
    /// The identity provider rejected the client id or its credential.
    CredentialRejected = 2,
    /// The tenant does not exist or a tenant-less authority was refused.
    TenantNotFound = 3,
    /// The identity provider asked us to slow down (429, or 503 with Retry-After).
    Throttled = 4,
    /// Connection failed, was reset, or timed out.
    Network = 5,
    /// The TLS handshake failed (untrusted certificate, wrong host name...).
    Tls = 6,
    /// The identity provider failed (5xx).
    Server = 7,
    /// The answer could not be understood (not JSON, no token, too large...).
    Protocol = 8,
    /// The identity provider refused the request for another reason
    /// (`invalid_scope`, `invalid_request`, ...).
    RequestRejected = 9,
    /// A bug in paytrim-auth (a caught panic, a failed thread spawn).
    Internal = 10,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 10] = [
        ErrorCode::InvalidArgument,
        ErrorCode::CredentialRejected,
        ErrorCode::TenantNotFound,
        ErrorCode::Throttled,
        ErrorCode::Network,
        ErrorCode::Tls,
        ErrorCode::Server,
        ErrorCode::Protocol,
        ErrorCode::RequestRejected,
        ErrorCode::Internal,
    ];

    pub fn as_u32(self) -> u32 {
        self as u32
    }

    /// Converts a number from outside Rust, refusing unknown values.
    pub fn from_u32(n: u32) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_u32() == n)
    }

    /// Stable snake_case name, e.g. `credential_rejected`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::CredentialRejected => "credential_rejected",
            ErrorCode::TenantNotFound => "tenant_not_found",
            ErrorCode::Throttled => "throttled",
            ErrorCode::Network => "network",
            ErrorCode::Tls => "tls",
            ErrorCode::Server => "server",
            ErrorCode::Protocol => "protocol",
            ErrorCode::RequestRejected => "request_rejected",
            ErrorCode::Internal => "internal",
        }
    }

    /// Whether trying again later can help (the same call, unchanged).
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorCode::Throttled | ErrorCode::Network | ErrorCode::Server | ErrorCode::Protocol)
    }
}

/// The OAuth 2.0 / Entra fields of an error answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OAuthDetails {
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub error_codes: Vec<u32>,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
    pub timestamp: Option<String>,
}

/// Shorter texts are not redacted by [`Error::redacting`]: hiding every `a`
/// of a message would hide the message, not a secret.
const MIN_REDACTED_LEN: usize = 6;

/// A failure, with everything known about it. Boxed, so a `Result` stays
/// one pointer wide on the success path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    code: ErrorCode,
    message: String,
    http_status: Option<u16>,
    oauth: OAuthDetails,
    retry_after: Option<Duration>,
    client_request_id: Option<String>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error(Box::new(Inner {
            code,
            message: message.into(),
            http_status: None,
            oauth: OAuthDetails::default(),
            retry_after: None,
            client_request_id: None,
        }))
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidArgument, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Internal, message)
    }

    pub(crate) fn with_http_status(mut self, status: u16) -> Self {
        self.0.http_status = Some(status);
        self
    }

    pub(crate) fn with_oauth(mut self, oauth: OAuthDetails) -> Self {
        self.0.oauth = oauth;
        self
    }

    pub(crate) fn with_retry_after(mut self, after: Option<Duration>) -> Self {
        self.0.retry_after = after;
        self
    }

    pub(crate) fn with_client_request_id(mut self, id: &str) -> Self {
        self.0.client_request_id = Some(id.to_owned());
        self
    }

    /// Replaces every occurrence of each of `needles` (texts this request
    /// sent that must not be shown: the secret and its encodings) in the
    /// message and the server's OAuth details with `***`. A hostile or
    /// broken server may echo the request into its error description.
    pub(crate) fn redacting(mut self, needles: &[&str]) -> Self {
        let scrub = |text: &mut String| {
            for n in needles.iter().filter(|n| n.len() >= MIN_REDACTED_LEN) {
                if text.contains(*n) {
                    *text = text.replace(*n, "***");
                }
            }
        };
        scrub(&mut self.0.message);
        let o = &mut self.0.oauth;
        for field in [&mut o.error, &mut o.error_description, &mut o.trace_id, &mut o.correlation_id, &mut o.timestamp]
            .into_iter()
            .flatten()
        {
            scrub(field);
        }
        self
    }

    pub(crate) fn with_message(mut self, message: String) -> Self {
        self.0.message = message;
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    /// A one-paragraph description, safe to log.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    pub fn is_retryable(&self) -> bool {
        self.0.code.is_retryable()
    }

    pub fn http_status(&self) -> Option<u16> {
        self.0.http_status
    }

    pub fn oauth(&self) -> &OAuthDetails {
        &self.0.oauth
    }

    /// The OAuth `error` field, e.g. `invalid_client`.
    pub fn oauth_error(&self) -> Option<&str> {
        self.0.oauth.error.as_deref()
    }

    /// Entra's AADSTS numbers, e.g. `[7000215]`.
    pub fn aadsts_codes(&self) -> &[u32] {
        &self.0.oauth.error_codes
    }

    pub fn trace_id(&self) -> Option<&str> {
        self.0.oauth.trace_id.as_deref()
    }

    pub fn correlation_id(&self) -> Option<&str> {
        self.0.oauth.correlation_id.as_deref()
    }

    /// How long the server asked us to wait, or how much of a remembered
    /// throttle is left.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// The `client-request-id` this library sent with the failing request.
    pub fn client_request_id(&self) -> Option<&str> {
        self.0.client_request_id.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_numbers_are_refused() {
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_u32(c.as_u32()), Some(c));
        }
        assert_eq!(ErrorCode::from_u32(0), None);
        assert_eq!(ErrorCode::from_u32(11), None);
        assert_eq!(ErrorCode::from_u32(u32::MAX), None);
    }

    #[test]
    fn retryable_categories() {
        assert!(ErrorCode::Throttled.is_retryable());
        assert!(ErrorCode::Server.is_retryable());
        assert!(!ErrorCode::CredentialRejected.is_retryable());
        assert!(!ErrorCode::InvalidArgument.is_retryable());
    }
}

//! When to try again: capped exponential backoff with full jitter, bounded by
//! an attempt count and a time budget; `Retry-After` honoured up to a cap.

use crate::error::{Error, ErrorCode};
use crate::random;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub total: Duration,
    pub base: Duration,
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this is not waited out inside one call.
    pub max_retry_after: Duration,
}

impl RetryPolicy {
    pub fn new(max_attempts: u32, total: Duration) -> Self {
        RetryPolicy {
            max_attempts,
            total,
            base: Duration::from_millis(200),
            max_backoff: Duration::from_secs(4),
            max_retry_after: Duration::from_secs(60),
        }
    }

    /// Full jitter: uniform in `[0, min(max_backoff, base * 2^(attempt-1))]`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        random::duration_up_to(exp.min(self.max_backoff))
    }
}

/// Connect errors, timeouts, resets, 408, 429, 500, 502, 503 and 504 are worth
/// another attempt. Other 4xx answers never are: a wrong secret must not be
/// hammered.
pub fn is_retryable(err: &Error) -> bool {
    match err.code() {
        ErrorCode::Network | ErrorCode::Throttled => true,
        ErrorCode::Server => matches!(err.http_status(), Some(500 | 502 | 503 | 504)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_and_jittered() {
        let p = RetryPolicy::new(4, Duration::from_secs(30));
        for attempt in 1..40 {
            let cap = (p.base * 2u32.pow((attempt - 1).min(16))).min(p.max_backoff);
            assert!(p.backoff(attempt) <= cap);
        }
        let distinct: std::collections::HashSet<_> = (0..20).map(|_| p.backoff(3)).collect();
        assert!(distinct.len() > 1, "no jitter");
    }

    #[test]
    fn only_transient_failures_are_retried() {
        let e = |c, s| Error::new(c, "x").with_http_status(s);
        assert!(is_retryable(&e(ErrorCode::Server, 503)));
        assert!(!is_retryable(&e(ErrorCode::Server, 501)));
        assert!(is_retryable(&e(ErrorCode::Throttled, 429)));
        assert!(!is_retryable(&e(ErrorCode::CredentialRejected, 401)));
        assert!(!is_retryable(&e(ErrorCode::RequestRejected, 400)));
        assert!(!is_retryable(&e(ErrorCode::Protocol, 200)));
        assert!(!is_retryable(&Error::new(ErrorCode::Tls, "x")));
    }
}

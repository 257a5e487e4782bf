//! An access token and the instants that govern it: when it truly expires,
//! and when a refresh should start. They are `clock::Stamp`s (boot time:
//! they keep running across a suspend; wall-clock changes do not move them),
//! measured from when the request that obtained the token was sent, so
//! neither a clock step nor network latency can stretch a token's life.

use crate::clock::{self, Stamp};
use crate::protocol::TokenAnswer;
use crate::random;
use crate::secret::Secret;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Tokens of this lifetime or longer are refreshed at half-life.
const LONG_LIVED: Duration = Duration::from_secs(2 * 3600);
/// Largest random advance of a refresh, spreading refreshes of many processes.
const MAX_REFRESH_JITTER: Duration = Duration::from_secs(60);

/// Serial numbers of tokens received by this process; 0 is never issued.
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

#[derive(Clone)]
pub struct AccessToken {
    secret: Secret,
    expires_at: Stamp,
    expires_on: SystemTime,
    /// `expires_on` in Unix milliseconds, computed once: every hit reports it.
    expires_on_unix_ms: i64,
    refresh_at: Stamp,
    lifetime: Duration,
    serial: u64,
}

impl AccessToken {
    /// `sent_at`/`sent_wall`: when the request that got this answer was sent.
    pub(crate) fn from_answer(
        answer: TokenAnswer,
        sent_at: Stamp,
        sent_wall: SystemTime,
        refresh_margin: Duration,
    ) -> AccessToken {
        let lifetime = answer.expires_in;
        let margin = refresh_margin.min(lifetime / 2);
        let mut refresh = lifetime - margin;
        if let Some(r) = answer.refresh_in {
            refresh = refresh.min(r);
        }
        if lifetime >= LONG_LIVED {
            refresh = refresh.min(lifetime / 2);
        }
        refresh -= random::duration_up_to(MAX_REFRESH_JITTER.min(refresh / 20));
        let expires_on = sent_wall + lifetime;
        AccessToken {
            secret: answer.access_token,
            expires_at: sent_at + lifetime,
            expires_on,
            expires_on_unix_ms: expires_on
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
            refresh_at: sent_at + refresh,
            lifetime,
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// A token another process fetched (from a cache tier): wall-clock
    /// `expires_on` and `refresh_on` as that process planned them, turned
    /// into this process's clock, with this process's own jitter on the
    /// refresh. `None` if it has expired.
    pub(crate) fn from_shared(
        secret: Secret,
        expires_on: SystemTime,
        refresh_on: SystemTime,
        lifetime: Duration,
    ) -> Option<AccessToken> {
        let wall = SystemTime::now();
        let now = clock::now();
        let left = expires_on.duration_since(wall).ok().filter(|d| !d.is_zero())?;
        let mut refresh = refresh_on.duration_since(wall).unwrap_or_default().min(left);
        refresh -= random::duration_up_to(MAX_REFRESH_JITTER.min(refresh / 20));
        Some(AccessToken {
            secret,
            expires_at: now + left,
            expires_on,
            expires_on_unix_ms: expires_on
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
            refresh_at: now + refresh,
            lifetime,
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// Wall-clock instant this process will start refreshing the token.
    pub(crate) fn refresh_on(&self) -> SystemTime {
        self.expires_on - self.expires_at.saturating_duration_since(self.refresh_at)
    }

    /// The token to put after `Bearer ` in the Authorization header.
    pub fn secret(&self) -> &str {
        self.secret.expose()
    }

    /// Always `Bearer`: other token types are refused when they arrive.
    pub fn token_type(&self) -> &'static str {
        "Bearer"
    }

    /// Wall-clock expiry.
    pub fn expires_on(&self) -> SystemTime {
        self.expires_on
    }

    /// Wall-clock expiry in milliseconds since the Unix epoch.
    pub fn expires_on_unix_ms(&self) -> i64 {
        self.expires_on_unix_ms
    }

    /// A number unique to this token within the process (clones share it):
    /// callers that keep a converted copy (the JNI glue's Java string) tell
    /// "same token as last time" by comparing it, not the token's bytes.
    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// Time left before expiry (zero once expired).
    pub fn expires_in(&self) -> Duration {
        self.expires_at.saturating_duration_since(clock::now())
    }

    /// The lifetime the server granted.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    pub(crate) fn expires_at(&self) -> Stamp {
        self.expires_at
    }

    pub(crate) fn refresh_at(&self) -> Stamp {
        self.refresh_at
    }

    /// The documented answer shape, `expires_in` counting the seconds left:
    /// `{"token_type":"Bearer","expires_in":3599,"access_token":"..."}`.
    pub fn to_json(&self) -> Secret {
        let mut out = String::with_capacity(self.secret.len() + 64);
        out.push_str(r#"{"token_type":"Bearer","expires_in":"#);
        out.push_str(&self.expires_in().as_secs().to_string());
        out.push_str(r#","access_token":"#);
        // Tokens are checked on arrival to hold no control characters; JSON
        // escaping still covers quotes and backslashes.
        out.push_str(&serde_json::to_string(self.secret.expose()).unwrap_or_default());
        out.push('}');
        Secret::new(out)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken").field("secret", &"<redacted>").field("expires_in", &self.expires_in()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(expires: u64, refresh_in: Option<u64>) -> TokenAnswer {
        TokenAnswer {
            access_token: Secret::new("tok\"en"),
            expires_in: Duration::from_secs(expires),
            ext_expires_in: None,
            refresh_in: refresh_in.map(Duration::from_secs),
        }
    }

    #[test]
    fn refresh_points() {
        let now = clock::now();
        let wall = SystemTime::now();
        let margin = Duration::from_secs(300);
        // One hour: refresh 300 s before expiry, minus at most 5% jitter.
        let t = AccessToken::from_answer(answer(3600, None), now, wall, margin);
        let r = t.refresh_at() - now;
        assert!(r <= Duration::from_secs(3300) && r >= Duration::from_secs(3300 - 60), "{r:?}");
        assert_eq!(t.expires_at() - now, Duration::from_secs(3600));
        // refresh_in wins when earlier.
        let t = AccessToken::from_answer(answer(3600, Some(1800)), now, wall, margin);
        assert!(t.refresh_at() - now <= Duration::from_secs(1800));
        // Long-lived tokens refresh at half-life.
        let t = AccessToken::from_answer(answer(24 * 3600, None), now, wall, margin);
        assert!(t.refresh_at() - now <= Duration::from_secs(12 * 3600));
        // Short tokens: the margin is capped at half the lifetime.
        let t = AccessToken::from_answer(answer(60, None), now, wall, margin);
        let r = t.refresh_at() - now;
        assert!(r <= Duration::from_secs(30) && r >= Duration::from_millis(28_500), "{r:?}");
    }

    #[test]
    fn json_matches_the_documented_shape_and_debug_hides_the_token() {
        let t = AccessToken::from_answer(answer(3599, None), clock::now(), SystemTime::now(), Duration::ZERO);
        let v: serde_json::Value = serde_json::from_str(t.to_json().expose()).unwrap();
        assert_eq!(v["token_type"], "Bearer");
        assert_eq!(v["access_token"], "tok\"en");
        assert!(v["expires_in"].as_u64().unwrap() >= 3598);
        assert!(!format!("{t:?}").contains("tok"));
    }

    #[test]
    fn serials_tell_tokens_apart_and_clones_share_theirs() {
        let a = AccessToken::from_answer(answer(3599, None), clock::now(), SystemTime::now(), Duration::ZERO);
        let b = AccessToken::from_answer(answer(3599, None), clock::now(), SystemTime::now(), Duration::ZERO);
        assert_ne!(a.serial(), b.serial());
        assert_eq!(a.clone().serial(), a.serial());
        assert!(a.expires_on_unix_ms() > 0);
    }
}

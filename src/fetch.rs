//! One token fetch: attempts, waits between them, and the error that ends it.
//! Runs on a library-owned thread (see `flight`), never on a caller's.
//!
//! What one attempt sends and how its answer is read belongs to a
//! [`TokenSource`], chosen by the credential (see `credentials`): the token
//! endpoint with a secret or a fresh assertion per attempt, or a managed
//! identity endpoint. The fetch only retries, waits and gives up.

use crate::clock::{self, Stamp};
use crate::config::ClientConfig;
use crate::credentials::Credential;
use crate::error::{Error, ErrorCode};
use crate::log::{Level, Reason, Who};
use crate::protocol::TokenAnswer;
use crate::retry::{self, RetryPolicy};
use crate::token::AccessToken;
use crate::transport;
use std::fmt;
use std::time::{Duration, Instant, SystemTime};

/// Where tokens come from: performs ONE attempt of a fetch. Implemented by
/// the token endpoint (`token_endpoint.rs`) and by credentials with a
/// protocol of their own (managed identity).
pub(crate) trait TokenSource: Send + Sync + fmt::Debug {
    /// The URL requests go to, for messages.
    fn endpoint(&self) -> &str;

    /// Sends one request and turns its answer into a token or a categorized
    /// error (retryable ones are retried by the fetch).
    fn request_token(&self, attempt: &Attempt<'_>) -> Result<TokenAnswer, Error>;

    /// Whether another attempt may help after `err`.
    fn is_retryable(&self, err: &Error) -> bool {
        retry::is_retryable(err)
    }

    /// How long from the start of the fetch `err` stays retryable once the
    /// attempt count is spent (still within the time budget): IMDS answering
    /// 410 while it upgrades. `None`: the attempt count rules.
    fn retry_window(&self, _err: &Error) -> Option<Duration> {
        None
    }
}

/// One attempt's parameters.
pub(crate) struct Attempt<'a> {
    /// Fresh per attempt; Entra echoes it as the correlation id.
    pub client_request_id: &'a str,
    /// Bound on this attempt's HTTP exchange.
    pub timeout: Duration,
    /// End of the whole fetch's time budget (bounds e.g. an assertion callback).
    pub deadline: Instant,
}

/// Throttle remembered after a 429 that named no Retry-After.
const DEFAULT_THROTTLE: Duration = Duration::from_secs(5);

/// Everything needed to fetch a token for one client, prepared once.
#[derive(Debug)]
pub struct Fetcher {
    source: Box<dyn TokenSource>,
    policy: RetryPolicy,
    attempt_timeout: Duration,
    refresh_margin: Duration,
    /// For log lines: the endpoint's host, and (PII) the tenant and client id.
    host: String,
    tenant: String,
    client_id: String,
}

/// A fetch's result, plus how long no request should go out for this key.
pub struct Outcome {
    pub result: Result<AccessToken, Error>,
    pub throttled_until: Option<Stamp>,
    /// The fetch stopped early because nobody needed its result any more.
    pub abandoned: bool,
}

/// Granularity of waits between attempts, so an unneeded fetch stops soon.
const WAIT_SLICE: Duration = Duration::from_millis(50);

impl Fetcher {
    pub fn new(client_id: &str, credential: &Credential, config: &ClientConfig) -> Result<Fetcher, Error> {
        let source = credential.token_source(client_id, config)?;
        let host = url::Url::parse(source.endpoint()).ok().and_then(|u| u.host_str().map(str::to_owned));
        Ok(Fetcher {
            source,
            policy: RetryPolicy::new(config.max_attempts, config.total_timeout),
            attempt_timeout: config.timeout,
            refresh_margin: config.refresh_margin,
            host: host.unwrap_or_default(),
            tenant: config.tenant.clone(),
            client_id: client_id.to_owned(),
        })
    }

    pub fn endpoint(&self) -> &str {
        self.source.endpoint()
    }

    /// Tenant and client id for log lines (empty unless PII is on).
    pub fn who(&self) -> Who<'_> {
        Who { tenant: &self.tenant, client_id: &self.client_id }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// The longest a fetch can take; waiters add a little slack to it.
    pub fn budget(&self) -> Duration {
        self.policy.total
    }

    /// Fetches a token, retrying transient failures within the budget, which
    /// counts from `queued_at` (a fetch may wait for a pool thread). Before
    /// each attempt it asks `still_needed`, and stops early (without another
    /// request) once nobody needs the result.
    pub fn fetch(&self, queued_at: Instant, still_needed: &dyn Fn() -> bool) -> Outcome {
        let start = queued_at;
        let deadline = start + self.policy.total;
        if !still_needed() {
            return Outcome {
                result: Err(Error::new(ErrorCode::Network, "token fetch abandoned before it started: nobody needs it")),
                throttled_until: None,
                abandoned: true,
            };
        }
        if Instant::now() >= deadline {
            return Outcome {
                result: Err(Error::new(
                    ErrorCode::Network,
                    format!(
                        "timed out after {} ms waiting for a free fetch thread (at most {} fetches run at once)",
                        self.policy.total.as_millis(),
                        crate::fetch_pool::MAX_CONCURRENT_FETCHES
                    ),
                )),
                throttled_until: None,
                abandoned: false,
            };
        }
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            let request_id = transport::new_request_id();
            let sent_at = clock::now();
            let sent_wall = SystemTime::now();
            let request = Attempt {
                client_request_id: &request_id,
                timeout: self.attempt_timeout.min(remaining).max(Duration::from_millis(1)),
                deadline,
            };
            crate::log_event!(
                Level::Debug,
                "fetch start: attempt {attempt}, request to {}, client-request-id {request_id}{}",
                self.host,
                self.who()
            );
            let result = self.source.request_token(&request);
            // The exchange's frames (request body, TLS plaintext, JSON) were
            // below this one: overwrite them before anything else runs here.
            crate::wipe_alloc::scrub_stack();
            crate::log_event!(
                Level::Debug,
                "fetch end: attempt {attempt} {} in {} ms, client-request-id {request_id}{}",
                match &result {
                    Ok(_) => "succeeded".to_owned(),
                    Err(e) => format!("failed ({})", Reason(e)),
                },
                sent_at.elapsed().as_millis(),
                self.who()
            );
            let err = match result {
                Ok(answer) => {
                    crate::log_event!(
                        Level::Info,
                        "token fetched from {} in {} ms after {attempt} attempt(s), expires in {} s{}",
                        self.host,
                        start.elapsed().as_millis(),
                        answer.expires_in.as_secs(),
                        self.who()
                    );
                    return Outcome {
                        result: Ok(AccessToken::from_answer(answer, sent_at, sent_wall, self.refresh_margin)),
                        throttled_until: None,
                        abandoned: false,
                    };
                }
                Err(e) => e.with_client_request_id(&request_id),
            };
            let now = Instant::now();
            let throttle = throttle_of(&err);
            let remaining = deadline.saturating_duration_since(now);
            let wait = match err.retry_after() {
                Some(after) => after,
                None => self.policy.backoff(attempt),
            };
            let attempts_spent = attempt >= self.policy.max_attempts
                && self.source.retry_window(&err).is_none_or(|window| start.elapsed() >= window);
            let give_up = !self.source.is_retryable(&err)
                || attempts_spent
                || wait > self.policy.max_retry_after
                || wait >= remaining;
            if let Some(t) = throttle {
                crate::log_event!(
                    Level::Warn,
                    "throttled by {} ({}): no request for this key for {} ms, client-request-id {request_id}{}",
                    self.host,
                    Reason(&err),
                    t.as_millis(),
                    self.who()
                );
            }
            if give_up {
                crate::log_event!(
                    Level::Warn,
                    "token fetch from {} failed after {attempt} attempt(s) in {} ms: {}{}",
                    self.host,
                    start.elapsed().as_millis(),
                    Reason(&err),
                    self.who()
                );
                let why = if attempt > 1 {
                    format!(" (gave up after {attempt} attempts in {} ms)", start.elapsed().as_millis())
                } else {
                    String::new()
                };
                return Outcome {
                    throttled_until: throttle.map(|t| clock::now() + t),
                    result: Err(finish(err, &why)),
                    abandoned: false,
                };
            }
            crate::log_event!(
                Level::Info,
                "retry: attempt {attempt} failed ({}); attempt {} in {} ms{}",
                Reason(&err),
                attempt + 1,
                wait.as_millis(),
                self.who()
            );
            if !sleep_while_needed(wait, still_needed) {
                return Outcome {
                    throttled_until: throttle.map(|t| clock::now() + t),
                    result: Err(finish(err, " (abandoned: no client needs this token any more)")),
                    abandoned: true,
                };
            }
        }
    }
}

/// Sleeps `wait` in slices; false as soon as the fetch is no longer needed.
fn sleep_while_needed(wait: Duration, still_needed: &dyn Fn() -> bool) -> bool {
    let end = Instant::now() + wait;
    loop {
        if !still_needed() {
            return false;
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(WAIT_SLICE));
    }
}

/// How long to hold off after this error: a 429's Retry-After (or a default),
/// or a 503's Retry-After.
fn throttle_of(err: &Error) -> Option<Duration> {
    match (err.code(), err.http_status(), err.retry_after()) {
        (ErrorCode::Throttled, _, after) => Some(after.unwrap_or(DEFAULT_THROTTLE)),
        (ErrorCode::Server, Some(503), Some(after)) if !after.is_zero() => Some(after),
        _ => None,
    }
}

/// Appends what an operator needs to find this request in Entra's logs.
fn finish(err: Error, why: &str) -> Error {
    let mut ids = Vec::new();
    if let Some(id) = err.client_request_id() {
        ids.push(format!("client-request-id {id}"));
    }
    if let Some(t) = err.trace_id() {
        ids.push(format!("trace_id {t}"));
    }
    if let Some(c) = err.correlation_id() {
        ids.push(format!("correlation_id {c}"));
    }
    let ids = if ids.is_empty() { String::new() } else { format!(" [{}]", ids.join(", ")) };
    let message = format!("{}{why}{ids}", err.message());
    let mut err = err.with_message(message);
    if err.code() == ErrorCode::Throttled && err.retry_after().is_none() {
        err = err.with_retry_after(Some(DEFAULT_THROTTLE));
    }
    err
}

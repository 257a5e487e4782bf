//! The token client: cache hits in nanoseconds, one fetch per key however
//! many callers ask, background refresh before expiry, and a throttle memory.

use crate::cache::{self, CacheKey, Slot, SlotState};
use crate::cache_tiers::{TierMode, Tiers};
use crate::clock::{self, Stamp};
use crate::config::ClientConfig;
use crate::credentials::{Credential, ManagedIdentityId};
use crate::error::{Error, ErrorCode};
use crate::fetch::Fetcher;
use crate::fetch_pool;
use crate::flight::{Callback, Flight, FlightResult};
use crate::log::{Level, Reason};
use crate::random;
use crate::token::AccessToken;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// After a failed background refresh, the next one waits about this long.
const BACKGROUND_RETRY: Duration = Duration::from_secs(30);
/// Waiters allow the fetch's own budget plus this much.
const WAIT_SLACK: Duration = Duration::from_secs(5);

/// Obtains, caches and refreshes client-credentials tokens. Cheap to clone;
/// safe to share across threads.
#[derive(Clone)]
pub struct Client {
    slot: Arc<Slot>,
    fetcher: Arc<Fetcher>,
    client_id: Arc<str>,
    /// The on-host and Redis tiers, consulted by fetches only (never on a hit).
    tiers: Option<Arc<Tiers>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.client_id)
            .field("endpoint", &self.fetcher.endpoint())
            .finish_non_exhaustive()
    }
}

enum Mode {
    /// A cached token if still valid, else a fetch.
    Normal,
    /// Drop the cached token and fetch (after the API answered 401).
    Force,
}

impl Client {
    /// A client for `client_id` with `credential`. Checks the arguments and
    /// prepares the request; sends nothing.
    pub fn new(client_id: &str, credential: Credential, config: &ClientConfig) -> Result<Client, Error> {
        if client_id.trim().is_empty() {
            return Err(Error::invalid_argument("client_id is empty"));
        }
        if client_id.chars().any(char::is_control) || client_id.len() > 1024 {
            return Err(Error::invalid_argument("client_id contains control characters or is too long"));
        }
        credential.check()?;
        let fetcher = Fetcher::new(client_id, &credential, config)?;
        let key = CacheKey::new(fetcher.endpoint(), client_id, &credential, config);
        let tiers = Tiers::new(&key.shared_digest(), &credential, config)?.map(Arc::new);
        let slot = cache::slot(key);
        Ok(Client { slot, fetcher: Arc::new(fetcher), client_id: client_id.into(), tiers })
    }

    /// A client for an Azure managed identity (no stored credential): the
    /// token comes from IMDS or the App Service endpoint (see
    /// [`ManagedIdentityId`] and the `imds_endpoint` / `identity_endpoint`
    /// config keys), for the resource named by the one configured scope
    /// (`https://management.azure.com/.default` → `https://management.azure.com`).
    /// It shares the process-wide cache, single flight, background refresh
    /// and throttle memory with every other client.
    pub fn managed_identity(id: ManagedIdentityId, config: &ClientConfig) -> Result<Client, Error> {
        Client::new(&id.to_string(), Credential::managed_identity(id), config)
    }

    /// A client configured from `PAYTRIM_*` and then `AZURE_*` environment
    /// variables on top of `config` (see `environment`).
    pub fn from_environment(config: &ClientConfig) -> Result<Client, Error> {
        let env = crate::environment::from_environment(config)?;
        Client::new(&env.client_id, env.credential, &env.config)
    }

    /// A client with a secret and the default configuration (tenant `common`,
    /// Microsoft Graph scope).
    pub fn with_secret(client_id: &str, secret: &str) -> Result<Client, Error> {
        Client::new(client_id, Credential::client_secret(secret), &ClientConfig::default())
    }

    pub fn endpoint(&self) -> &str {
        self.fetcher.endpoint()
    }

    /// A valid token (cached, or fetched now), cloned.
    pub fn token(&self) -> Result<AccessToken, Error> {
        self.with_token(AccessToken::clone)
    }

    /// Runs `f` on a valid token without copying it. A cache hit takes no lock
    /// and does no I/O; within the refresh margin it also starts one
    /// background refresh. Otherwise joins or starts the fetch for this key.
    pub fn with_token<R>(&self, f: impl FnOnce(&AccessToken) -> R) -> Result<R, Error> {
        if let Some(hit) = self.valid_cached() {
            return Ok(f(hit.as_deref().expect("valid_cached holds a token")));
        }
        self.log_miss();
        let token = self.fetch(Mode::Normal)?;
        Ok(f(&token))
    }

    /// Runs `f` on a valid cached token, if there is one; never waits. Starts
    /// a background refresh when the token is within its refresh margin.
    pub fn with_cached_token<R>(&self, f: impl FnOnce(&AccessToken) -> R) -> Option<R> {
        self.valid_cached().map(|hit| f(hit.as_deref().expect("valid_cached holds a token")))
    }

    /// The cache hit, shared by every way of asking for a token: the slot's
    /// current token if it has not expired (lock-free read), starting one
    /// background refresh when it is within its refresh margin.
    fn valid_cached(&self) -> Option<arc_swap::Guard<Option<Arc<AccessToken>>>> {
        let now = clock::now();
        let current = self.slot.token.load();
        let t = current.as_deref()?;
        if now >= t.refresh_at() {
            if now >= t.expires_at() {
                return None;
            }
            self.refresh_in_background(now);
        }
        Some(current)
    }

    /// Drops this key's cached token and fetches a new one, joining a fetch
    /// already in progress. Call it when the API answered 401.
    pub fn force_refresh(&self) -> Result<AccessToken, Error> {
        self.fetch(Mode::Force).map(|t| (*t).clone())
    }

    /// Runs `f` on a freshly fetched token (see [`Client::force_refresh`]).
    pub fn with_refreshed_token<R>(&self, f: impl FnOnce(&AccessToken) -> R) -> Result<R, Error> {
        self.fetch(Mode::Force).map(|t| f(&t))
    }

    /// Calls `callback` with a valid token or an error: inline on a cache hit
    /// or an immediate failure, else on the fetch thread when the fetch lands.
    /// Never blocks the caller on the network.
    pub fn token_async(&self, callback: Callback) {
        match self.valid_cached() {
            Some(hit) => callback(Ok(hit.as_deref().expect("valid_cached holds a token"))),
            None => {
                self.log_miss();
                self.join_then_call(Mode::Normal, callback)
            }
        }
    }

    /// Like [`Client::force_refresh`], but never blocks: `callback` runs when
    /// the shared fetch lands (or inline on an immediate failure).
    pub fn force_refresh_async(&self, callback: Callback) {
        self.join_then_call(Mode::Force, callback);
    }

    fn log_miss(&self) {
        crate::log_event!(
            Level::Debug,
            "cache miss: no valid token for {}; joining or starting a fetch{}",
            self.fetcher.host(),
            self.fetcher.who()
        );
    }

    fn join_then_call(&self, mode: Mode, callback: Callback) {
        match self.join_or_start(mode) {
            Ok(Joined::Token(t)) => callback(Ok(&t)),
            Ok(Joined::Flight(f)) => f.on_complete(callback),
            Err(e) => callback(Err(&e)),
        }
    }

    fn fetch(&self, mode: Mode) -> FlightResult {
        match self.join_or_start(mode)? {
            Joined::Token(t) => Ok(t),
            Joined::Flight(f) => f.wait(self.fetcher.budget() + WAIT_SLACK),
        }
    }

    fn join_or_start(&self, mode: Mode) -> Result<Joined, Error> {
        let joined = self.join_or_start_locked(mode);
        if let Err(e) = &joined {
            if e.code() == ErrorCode::Throttled {
                crate::log_event!(
                    Level::Warn,
                    "throttled: call refused without a request, {} ms left{}",
                    e.retry_after().unwrap_or_default().as_millis(),
                    self.fetcher.who()
                );
            }
        }
        joined
    }

    fn join_or_start_locked(&self, mode: Mode) -> Result<Joined, Error> {
        let mut st = self.slot.state.lock();
        let now = clock::now();
        if let Mode::Normal = mode {
            // Another caller's fetch may have landed since our lock-free look.
            if let Some(t) = self.slot.token.load_full() {
                if now < t.expires_at() {
                    return Ok(Joined::Token(t));
                }
            }
        }
        if let Some(f) = st.fetching() {
            return Ok(Joined::Flight(f.clone()));
        }
        if let Some(until) = st.throttled_until {
            if now < until {
                return Err(throttled(until - now, self.fetcher.endpoint()));
            }
            st.throttled_until = None;
        }
        let tier_mode = match mode {
            Mode::Force => TierMode::force(self.slot.token.swap(None).as_deref()),
            Mode::Normal => TierMode::Normal,
        };
        self.start_flight(&mut st, tier_mode).map(Joined::Flight)
    }

    /// Starts one background refresh unless one runs, the key is throttled,
    /// or a failed one asked to wait. Never blocks: if the slot is busy,
    /// someone else is already deciding.
    fn refresh_in_background(&self, now: Stamp) {
        let Some(mut st) = self.slot.state.try_lock() else { return };
        if st.fetching().is_some()
            || st.throttled_until.is_some_and(|u| now < u)
            || st.next_background.is_some_and(|n| now < n)
        {
            return;
        }
        let started = self.start_flight(&mut st, TierMode::Refresh);
        drop(st);
        match started {
            Ok(_) => crate::log_event!(
                Level::Info,
                "background refresh started: token for {} is within its refresh margin{}",
                self.fetcher.host(),
                self.fetcher.who()
            ),
            Err(e) => crate::log_event!(Level::Warn, "background refresh could not start: {}", Reason(&e)),
        }
    }

    /// Registers a new flight (later callers join it) and queues its fetch
    /// on the bounded fetch pool.
    fn start_flight(&self, st: &mut SlotState, mode: TierMode) -> Result<Arc<Flight>, Error> {
        let flight = Arc::new(Flight::new());
        let (slot, fetcher, landing) = (self.slot.clone(), self.fetcher.clone(), flight.clone());
        let tiers = self.tiers.clone();
        let queued_at = Instant::now();
        fetch_pool::submit(Box::new(move || run_flight(&slot, &fetcher, tiers.as_deref(), &landing, mode, queued_at)))?;
        st.flight = Some(flight.clone());
        Ok(flight)
    }
}

enum Joined {
    Token(Arc<AccessToken>),
    Flight(Arc<Flight>),
}

/// The body of a fetch, on a pool thread. It ends at the latest when the time
/// budget (counted from `queued_at`) runs out, and sooner, before and between
/// attempts, once no client holds this fetcher and nobody waits for the result.
fn run_flight(
    slot: &Slot,
    fetcher: &Arc<Fetcher>,
    tiers: Option<&Tiers>,
    flight: &Flight,
    mode: TierMode,
    queued_at: Instant,
) {
    let background = matches!(mode, TierMode::Refresh);
    let still_needed = || Arc::strong_count(fetcher) > 1 || flight.has_waiters();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match tiers {
        Some(tiers) => tiers.fetch(fetcher, &mode, queued_at, &still_needed),
        None => fetcher.fetch(queued_at, &still_needed),
    }));
    let (result, throttled_until, abandoned) = match outcome {
        Ok(o) => (o.result, o.throttled_until, o.abandoned),
        Err(_) => (Err(Error::internal("the token fetch panicked; this is a bug in paytrim-auth")), None, false),
    };
    let landed: FlightResult = {
        let mut st = slot.state.lock();
        st.flight = None;
        match result {
            Ok(token) => {
                let token = Arc::new(token);
                slot.token.store(Some(token.clone()));
                st.throttled_until = None;
                st.next_background = None;
                Ok(token)
            }
            Err(e) if abandoned => Err(e),
            Err(e) => {
                if throttled_until.is_some() {
                    st.throttled_until = throttled_until;
                }
                st.next_background = Some(next_background_attempt(slot.token.load().as_deref()));
                Err(e)
            }
        }
    };
    if background {
        match &landed {
            Ok(t) => crate::log_event!(
                Level::Info,
                "background refresh succeeded: new token for {} expires in {} s{}",
                fetcher.host(),
                t.expires_in().as_secs(),
                fetcher.who()
            ),
            Err(e) => crate::log_event!(
                Level::Warn,
                "background refresh failed ({}); the current token is served until it expires{}",
                Reason(e),
                fetcher.who()
            ),
        }
    }
    flight.complete(landed);
}

/// After a failed refresh: about 30 s (±5 s), but never so late that a
/// still-valid token would expire first: at most a third of its life left.
fn next_background_attempt(current: Option<&AccessToken>) -> Stamp {
    let now = clock::now();
    let jittered = BACKGROUND_RETRY - BACKGROUND_RETRY / 6 + random::duration_up_to(BACKGROUND_RETRY / 3);
    let wait = match current {
        Some(t) if t.expires_at() > now => jittered.min((t.expires_at() - now) / 3),
        _ => jittered,
    };
    now + wait
}

fn throttled(left: Duration, endpoint: &str) -> Error {
    let secs = left.as_secs_f64().ceil() as u64;
    Error::new(
        ErrorCode::Throttled,
        format!("throttled: {endpoint} asked us to wait; no request is sent for another {secs}s"),
    )
    .with_retry_after(Some(left))
}

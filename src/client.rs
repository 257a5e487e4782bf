//! The token client: cache hits in nanoseconds, one fetch per key however
//! many callers ask, background refresh before expiry, and a throttle memory.

use crate::cache::{self, CacheKey, Slot, SlotState};
use crate::cache_tiers::{Looked, Peek, TierMode, Tiers};
use crate::clock::{self, Stamp};
use crate::config::ClientConfig;
use crate::credentials::{Credential, ManagedIdentityId};
use crate::error::{Error, ErrorCode};
use crate::fetch::Fetcher;
use crate::fetch_pool;
use crate::flight::{Callback, Flight, FlightResult};
use crate::log::{Level, Reason};
use crate::random;
use crate::scopes::{ScopeFamily, ScopeSet, Scoped};
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
    /// The configured scope set's entry and every other scope set asked for
    /// (see [`Client::for_scopes`]); shared by the clients made from it.
    family: Arc<ScopeFamily>,
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
        let default = Scoped { slot, fetcher: Arc::new(fetcher), tiers };
        let family = Arc::new(ScopeFamily::new(client_id, credential, config.clone(), default.clone()));
        Ok(Client {
            slot: default.slot,
            fetcher: default.fetcher,
            client_id: client_id.into(),
            tiers: default.tiers,
            family,
        })
    }

    /// This client for another scope set: same credential and configuration,
    /// its own cache entry, single flight, background refresh and throttle
    /// memory (shared, like any key, with every client of the same key). The
    /// configured scopes give this client's own entry back. The entry for a
    /// set is made on first use (no request is sent) and kept while any
    /// client of this family lives, up to `scopes::MAX_SCOPE_SETS` sets.
    /// Costs one short lock and a lookup per call; the configured scopes'
    /// hit path (`token`, `with_token`) is not affected.
    ///
    /// Refused (invalid argument): an empty list, an empty scope, a scope with
    /// whitespace or control characters; for a managed identity, more than
    /// one scope (a token is for one resource).
    pub fn for_scopes<S: AsRef<str>>(&self, scopes: &[S]) -> Result<Client, Error> {
        self.for_scope_set(&ScopeSet::new(scopes)?)
    }

    /// [`Client::for_scopes`] for a space-separated list, as the `scope`
    /// config key takes it; a list spelled exactly as before is not parsed again.
    pub fn for_scopes_text(&self, scopes: &str) -> Result<Client, Error> {
        Ok(self.scoped_client(self.family.get_text(scopes)?))
    }

    /// [`Client::for_scopes`] with a checked [`ScopeSet`].
    pub fn for_scope_set(&self, set: &ScopeSet) -> Result<Client, Error> {
        Ok(self.scoped_client(self.family.get(set)?))
    }

    fn scoped_client(&self, scoped: Scoped) -> Client {
        Client {
            slot: scoped.slot,
            fetcher: scoped.fetcher,
            client_id: self.client_id.clone(),
            tiers: scoped.tiers,
            family: self.family.clone(),
        }
    }

    /// Whether two clients share one cache entry (same key).
    pub fn shares_cache_entry_with(&self, other: &Client) -> bool {
        Arc::ptr_eq(&self.slot, &other.slot)
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
        match self.join_or_start(mode, None) {
            Ok(Joined::Token(t)) => callback(Ok(&t)),
            Ok(Joined::Flight(f)) => f.on_complete(callback),
            Err(e) => callback(Err(&e)),
        }
    }

    fn fetch(&self, mode: Mode) -> FlightResult {
        // Counted as reading the tiers until it has joined or started a
        // flight: a flight started meanwhile charges this read's time to its
        // Redis budget (see `SlotState::peeking_since`).
        let mut peeker = None;
        let looked = match (&mode, self.tiers.as_deref()) {
            (Mode::Normal, Some(tiers)) => match self.peek_tiers(tiers, &mut peeker) {
                Ok(token) => return Ok(token),
                Err(looked) => looked,
            },
            _ => None,
        };
        let joined = self.join_or_start(mode, looked);
        drop(peeker);
        match joined? {
            Joined::Token(t) => Ok(t),
            Joined::Flight(f) => f.wait(self.fetcher.budget() + WAIT_SLACK),
        }
    }

    /// A blocking caller's in-process miss: reads the tiers on this thread
    /// (a read only: no tier lock, no fetch) unless a fetch for this key
    /// already runs (it reads them for everyone) or the key is throttled.
    /// A token found is put in the in-process cache, as a fetch would land
    /// it. Otherwise what the read found and spent goes to the fetch the
    /// caller may start.
    fn peek_tiers<'a>(
        &'a self,
        tiers: &Tiers,
        peeker: &mut Option<Peeker<'a>>,
    ) -> Result<Arc<AccessToken>, Option<Looked>> {
        {
            let mut st = self.slot.state.lock();
            let now = clock::now();
            if st.fetching().is_some() || st.throttled_until.is_some_and(|u| now < u) {
                return Err(None);
            }
            st.peek_started();
            *peeker = Some(Peeker(&self.slot));
        }
        let token = match tiers.peek() {
            Peek::Token(token) => token,
            Peek::Missed(looked) => return Err(Some(looked)),
        };
        let mut st = self.slot.state.lock();
        if let Some(t) = self.slot.token.load_full() {
            if clock::now() < t.expires_at() {
                // Another caller's fetch landed meanwhile: one token per key.
                return Ok(t);
            }
        }
        if st.fetching().is_some() {
            // A fetch started meanwhile (perhaps a forced refresh that
            // took the token out of service): join it, do not undercut it.
            return Err(None);
        }
        let token = Arc::new(token);
        self.slot.token.store(Some(token.clone()));
        st.next_background = None;
        Ok(token)
    }

    fn join_or_start(&self, mode: Mode, looked: Option<Looked>) -> Result<Joined, Error> {
        let joined = self.join_or_start_locked(mode, looked);
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

    fn join_or_start_locked(&self, mode: Mode, looked: Option<Looked>) -> Result<Joined, Error> {
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
        // A forced refresh takes the token out of service while it runs (so
        // callers wait for the new one) but keeps it: if the refresh fails,
        // the token goes back and is served until it expires.
        let (tier_mode, displaced) = match mode {
            Mode::Force => {
                let displaced = self.slot.token.swap(None);
                (TierMode::force(displaced.as_deref()), displaced)
            }
            Mode::Normal => (TierMode::Normal, None),
        };
        self.start_flight(&mut st, tier_mode, displaced, looked).map(Joined::Flight)
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
        let started = self.start_flight(&mut st, TierMode::Refresh, None, None);
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
    /// on the bounded fetch pool. `displaced`: the token a forced refresh
    /// took out of service, put back if the refresh fails. `looked`: what
    /// this caller's read of the tiers just found (nothing) and spent.
    fn start_flight(
        &self,
        st: &mut SlotState,
        mode: TierMode,
        displaced: Option<Arc<AccessToken>>,
        looked: Option<Looked>,
    ) -> Result<Arc<Flight>, Error> {
        let flight = Arc::new(Flight::new());
        let (slot, fetcher, landing) = (self.slot.clone(), self.fetcher.clone(), flight.clone());
        let tiers = self.tiers.clone();
        let queued_at = Instant::now();
        let restore = displaced.clone();
        // Callers still reading the tiers on their threads will join this
        // flight: its Redis time counts from the earliest of their reads.
        let peeking_since = st.peeking_since();
        let submitted = fetch_pool::submit(Box::new(move || {
            let tiers = tiers.as_deref().map(|t| (t, looked, peeking_since));
            run_flight(&slot, &fetcher, tiers, &landing, mode, queued_at, displaced)
        }));
        if let Err(e) = submitted {
            put_back(&self.slot, restore);
            return Err(e);
        }
        st.flight = Some(flight.clone());
        Ok(flight)
    }
}

/// A blocking caller counted in its slot as reading the tiers
/// (`SlotState::peek_started`); dropped, it is no longer.
struct Peeker<'a>(&'a Slot);

impl Drop for Peeker<'_> {
    fn drop(&mut self) {
        self.0.state.lock().peek_ended();
    }
}

enum Joined {
    Token(Arc<AccessToken>),
    Flight(Arc<Flight>),
}

/// The body of a fetch, on a pool thread. It ends at the latest when the time
/// budget (counted from `queued_at`) runs out, and sooner, before and between
/// attempts, once no client holds this fetcher and nobody waits for the result.
/// `tiers`: the client's tiers, with what the starting caller's read of them
/// found (nothing) and spent.
fn run_flight(
    slot: &Slot,
    fetcher: &Arc<Fetcher>,
    tiers: Option<(&Tiers, Option<Looked>, Option<Instant>)>,
    flight: &Flight,
    mode: TierMode,
    queued_at: Instant,
    displaced: Option<Arc<AccessToken>>,
) {
    let background = matches!(mode, TierMode::Refresh);
    let still_needed = || Arc::strong_count(fetcher) > 1 || flight.has_waiters();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match tiers {
        Some((tiers, looked, peeking_since)) => {
            tiers.fetch(fetcher, &mode, queued_at, &still_needed, looked, peeking_since)
        }
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
            Err(e) if abandoned => {
                put_back(slot, displaced);
                Err(e)
            }
            Err(e) => {
                put_back(slot, displaced);
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

/// After a failed forced refresh: the token it took out of service is served
/// again if it is still valid and nothing newer has landed. The caller that
/// forced the refresh (its API answered 401) got the error; everyone else
/// keeps the promise that a valid cached token is served through a throttle
/// or an outage, as MSAL's cache does after a failed ForceRefresh.
fn put_back(slot: &Slot, displaced: Option<Arc<AccessToken>>) {
    let Some(token) = displaced else { return };
    if clock::now() < token.expires_at() {
        // Callers hold the slot's state lock, as every writer of its token does.
        if slot.token.load().is_none() {
            slot.token.store(Some(token));
        }
    }
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

#[cfg(test)]
mod tests {
    //! Refresh and throttle timing on the test clock (`clock::simulate_suspend`
    //! moves this thread's view of time, and fetches it starts inherit it):
    //! no sleeping, no wall-clock bounds.
    use super::*;
    use crate::clock::simulate_suspend;
    use paytrim_entra_emulator::{Emulator, Fault, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};

    fn client(emu: &Emulator, scope: &str) -> Client {
        client_with_attempts(emu, scope, 1)
    }

    fn client_with_attempts(emu: &Emulator, scope: &str, attempts: u32) -> Client {
        let mut cfg = ClientConfig::default();
        cfg.set("token_url", &emu.http_token_url("contoso.onmicrosoft.com")).unwrap();
        cfg.set("scope", scope).unwrap();
        cfg.set("proxy", "none").unwrap();
        cfg.set("max_attempts", &attempts.to_string()).unwrap();
        cfg.set("total_timeout_ms", "20000").unwrap();
        Client::new(DEFAULT_CLIENT_ID, Credential::client_secret(DEFAULT_CLIENT_SECRET), &cfg).unwrap()
    }

    /// The flight running for this client's key, if any.
    fn running(c: &Client) -> Option<Arc<Flight>> {
        c.slot.state.lock().fetching().cloned()
    }

    /// One cached-token call; returns whether it started a background refresh.
    fn hit_starts_refresh(c: &Client, expected_serial: u64) -> bool {
        assert_eq!(c.with_cached_token(|t| t.serial()), Some(expected_serial), "the cached token was not served");
        running(c).is_some()
    }

    /// Advances the clock until the token is `left` from expiry (in its margin).
    fn advance_to_expiry_minus(token: &AccessToken, left: Duration) -> Duration {
        let ahead = token.expires_in().saturating_sub(left);
        simulate_suspend(ahead);
        ahead
    }

    /// A failed background refresh is tried again after about 30 s (25..35 s),
    /// not sooner, and then succeeds; meanwhile the old token is served.
    #[test]
    fn a_failed_background_refresh_is_retried_after_about_30_s() {
        let emu = Emulator::start().unwrap();
        let c = client(&emu, "api://bg-retry-30/.default");
        let first = c.token().unwrap();
        advance_to_expiry_minus(&first, Duration::from_secs(200)); // in the 300 s margin
        emu.push_fault(Fault::status(500));
        assert!(hit_starts_refresh(&c, first.serial()), "no background refresh in the margin");
        assert_eq!(running(&c).unwrap().wait(Duration::from_secs(30)).unwrap_err().code(), ErrorCode::Server);
        assert_eq!(emu.token_requests(), 2);

        assert!(!hit_starts_refresh(&c, first.serial()), "retried at once after a failure");
        simulate_suspend(Duration::from_secs(24));
        assert!(!hit_starts_refresh(&c, first.serial()), "retried before 25 s");
        assert_eq!(emu.token_requests(), 2);
        simulate_suspend(Duration::from_secs(12)); // 36 s after the failure
        assert!(hit_starts_refresh(&c, first.serial()), "not retried after 36 s");
        let second = running(&c).unwrap().wait(Duration::from_secs(30)).unwrap();
        assert_ne!(second.serial(), first.serial());
        assert_eq!(c.with_cached_token(|t| t.serial()), Some(second.serial()));
        assert_eq!(emu.token_requests(), 3);
    }

    /// ...but never later than a third of the remaining life: 45 s left, the
    /// retry comes after 15 s.
    #[test]
    fn a_failed_background_refresh_near_expiry_is_retried_within_a_third_of_the_life_left() {
        let emu = Emulator::start().unwrap();
        let c = client(&emu, "api://bg-retry-third/.default");
        let first = c.token().unwrap();
        advance_to_expiry_minus(&first, Duration::from_secs(45));
        emu.push_fault(Fault::status(500));
        assert!(hit_starts_refresh(&c, first.serial()));
        running(&c).unwrap().wait(Duration::from_secs(30)).unwrap_err();
        simulate_suspend(Duration::from_secs(14));
        assert!(!hit_starts_refresh(&c, first.serial()), "retried before 15 s");
        simulate_suspend(Duration::from_secs(2));
        assert!(hit_starts_refresh(&c, first.serial()), "not retried by a third of the 45 s left");
        running(&c).unwrap().wait(Duration::from_secs(30)).unwrap();
        assert_eq!(emu.token_requests(), 3);
    }

    /// 401, then the forced refresh meets a 429: `force_refresh` reports
    /// `throttled` (the caller learns the refresh failed), and the next
    /// `token()` serves the still-valid cached token, with no request, until
    /// the throttle has passed; then a forced refresh goes out again.
    #[test]
    fn a_forced_refresh_that_meets_a_429_keeps_serving_the_valid_token() {
        let emu = Emulator::start().unwrap();
        let c = client(&emu, "api://forced-429/.default");
        let first = c.token().unwrap();
        emu.push_fault(Fault::status(429).retry_after("30"));
        let e = c.force_refresh().unwrap_err();
        assert_eq!(e.code(), ErrorCode::Throttled);
        assert_eq!(c.token().unwrap().serial(), first.serial(), "the valid token was dropped by the failed refresh");
        assert_eq!(c.with_cached_token(|t| t.serial()), Some(first.serial()));
        assert_eq!(c.force_refresh().unwrap_err().code(), ErrorCode::Throttled);
        assert_eq!(emu.token_requests(), 2, "a request went out while throttled");
        simulate_suspend(Duration::from_secs(31));
        let second = c.force_refresh().unwrap();
        assert_ne!(second.serial(), first.serial());
        assert_eq!(c.token().unwrap().serial(), second.serial());
        assert_eq!(emu.token_requests(), 3);
    }

    /// The same through a background refresh: the 429 does not touch the
    /// cached token, which is served, with no request, while throttled.
    #[test]
    fn a_background_refresh_that_meets_a_429_keeps_serving_the_valid_token() {
        let emu = Emulator::start().unwrap();
        let c = client(&emu, "api://background-429/.default");
        let first = c.token().unwrap();
        advance_to_expiry_minus(&first, Duration::from_secs(200));
        emu.push_fault(Fault::status(429).retry_after("60"));
        assert!(hit_starts_refresh(&c, first.serial()));
        assert_eq!(running(&c).unwrap().wait(Duration::from_secs(30)).unwrap_err().code(), ErrorCode::Throttled);
        simulate_suspend(Duration::from_secs(40)); // past the 30 s retry, inside the 60 s throttle
        assert!(!hit_starts_refresh(&c, first.serial()), "a background refresh ignored the throttle");
        assert_eq!(c.token().unwrap().serial(), first.serial());
        assert_eq!(c.force_refresh().unwrap_err().code(), ErrorCode::Throttled);
        assert_eq!(c.token().unwrap().serial(), first.serial());
        assert_eq!(emu.token_requests(), 2);
        simulate_suspend(Duration::from_secs(21));
        assert!(hit_starts_refresh(&c, first.serial()), "no refresh once the throttle passed");
        running(&c).unwrap().wait(Duration::from_secs(30)).unwrap();
        assert_eq!(emu.token_requests(), 3);
    }

    /// The fetch is started by one client that does not wait for it (a
    /// background refresh), and joined by another that does. Freeing the
    /// starter while the fetch waits out a Retry-After must not abandon it:
    /// the waiter gets the token.
    #[test]
    fn a_fetch_with_a_waiter_is_not_abandoned_when_its_starter_is_freed() {
        let emu = Emulator::start().unwrap();
        let starter = client_with_attempts(&emu, "api://starter-freed/.default", 2);
        let waiter = client_with_attempts(&emu, "api://starter-freed/.default", 2);
        let first = starter.token().unwrap();
        let ahead = advance_to_expiry_minus(&first, Duration::from_secs(200));
        emu.push_fault(Fault::status(503).retry_after("1"));
        assert!(hit_starts_refresh(&starter, first.serial()), "the starter started no fetch");
        let flight = running(&starter).unwrap();
        assert!(!flight.has_waiters(), "a background refresh has no waiter");
        assert!(emu.wait_for_requests(2, Duration::from_secs(30)), "the starter's fetch never went out");
        std::thread::scope(|sc| {
            // The waiter joins the running fetch (a forced refresh joins it).
            let joined = sc.spawn(|| {
                simulate_suspend(ahead); // the same view of time as this thread
                waiter.force_refresh()
            });
            let deadline = Instant::now() + Duration::from_secs(30);
            while !flight.has_waiters() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            assert!(flight.has_waiters(), "the waiter never joined");
            drop(starter); // now only the fetch itself holds the starter's fetcher
            let token = joined.join().unwrap();
            assert!(token.is_ok(), "the fetch was abandoned with a waiter: {}", token.unwrap_err().message());
        });
        assert_eq!(emu.token_requests(), 3, "first token, the 503, its retry");
    }
}

//! Cache tiers below the in-process cache: an on-host directory shared by
//! the processes of one user (`cache_dir` / `PAYTRIM_CACHE_DIR`), and Redis
//! shared by a fleet (`redis_url`). Both are opt-in.
//!
//! They are consulted only after the in-process cache missed: the hit path
//! (`Client::with_token`) never sees them. A blocking caller first reads
//! them on its own thread ([`Tiers::peek`]: a read only, no tier lock, no
//! fetch), so a token another process left there costs no thread hop; a
//! miss (or a throttle) goes on to the single flight. A fetch through the
//! tiers, on a fetch thread:
//!
//! 1. looks in each tier, nearest first, for a token it can use (or a
//!    throttle another process recorded); a hit is copied to the nearer
//!    tiers and lands as if fetched;
//! 2. otherwise takes each tier's lock in turn (a `flock` on the host, a
//!    `SET NX PX` in Redis), polling the tier for the entry while another
//!    process or host holds it: single flight across processes and hosts,
//!    bounded by the fetch's time budget;
//! 3. holding the locks, fetches from the network and writes the token (or
//!    the throttle a 429 / 503 brought) through every tier.
//!
//! Entries are sealed (see `sealed_entry`) with a key derived from the
//! credential's secret: a client secret, or for a certificate a signature
//! only its private key can make. Credentials with nothing secret to derive
//! from (managed identity, an assertion callback, a federated token file)
//! use no tier: anyone able to read the directory or Redis could otherwise
//! forge or read their entries. That is logged once per client.

// Unix only: flock, owner and mode checks, O_NOFOLLOW. Elsewhere (Windows) a
// `cache_dir` is refused at client creation, naming the platform.
#[cfg(unix)]
mod host_dir;
#[cfg(feature = "redis-tier")]
mod redis;
mod sealed_entry;

use crate::clock;
use crate::config::ClientConfig;
use crate::credentials::Credential;
use crate::error::{Error, ErrorCode};
use crate::fetch::{Fetcher, Outcome};
use crate::log::Level;
use crate::token::AccessToken;
use sealed_entry::{Entry, Sealer, SharedToken, Slot};
use std::fmt;
use std::time::{Duration, Instant};

/// A token from a tier is used by a new caller only with at least this
/// long left (else it is refetched).
const MIN_USEFUL_LIFE: Duration = Duration::from_secs(5);

/// One tier's storage and lock. Implementations are best effort: failures
/// are logged and read as misses; none is an error to the caller.
pub(crate) trait CacheTier: Send + Sync {
    fn name(&self) -> &'static str;
    /// How often a process waiting for another's fetch looks again.
    fn poll_interval(&self) -> Duration;
    fn read(&self, slot: Slot, sealer: &Sealer, budget: &mut Budget) -> Option<Entry>;
    fn write(&self, slot: Slot, sealer: &Sealer, entry: &Entry, budget: &mut Budget);
    /// The throttle and the token entries (one round trip where it matters).
    fn read_both(&self, sealer: &Sealer, budget: &mut Budget) -> (Option<Entry>, Option<Entry>) {
        (self.read(Slot::Throttle, sealer, budget), self.read(Slot::Token, sealer, budget))
    }
    /// Tries once, without waiting, to become the one that fetches this key.
    fn try_lock(&self, budget: &mut Budget) -> LockTry;
    /// Gives up a lock taken with `try_lock`.
    fn release(&self, guard: TierGuard, _budget: &mut Budget) {
        drop(guard);
    }
}

pub(crate) enum LockTry {
    Held(TierGuard),
    /// Another process holds it.
    Busy,
    /// The tier is not usable now: go on without it.
    Unavailable,
}

pub(crate) enum TierGuard {
    #[cfg(unix)]
    File(#[allow(dead_code)] host_dir::FileLock),
    #[cfg(feature = "redis-tier")]
    Redis(redis::RedisLock),
}

/// The time a remote tier (Redis) may add to one fetch: half before the
/// network fetch (look-ups, the lock), half after it (write-through, lock
/// release), so a holder always has time to publish and let go. Waiting
/// for another host's fetch is not "added" time: polls that succeed are not
/// charged (each is still bounded); any failure ends the tier's part in the
/// fetch.
pub(crate) struct Budget {
    before: Duration,
    after: Duration,
    phase: Phase,
    failed: bool,
    /// Whether running out of time was logged.
    told: bool,
}

#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum Phase {
    Before,
    Polling,
    After,
}

impl Budget {
    pub fn new(total: Duration) -> Budget {
        Budget { before: total / 2, after: total - total / 2, phase: Phase::Before, failed: false, told: false }
    }

    #[cfg(test)]
    pub fn unlimited() -> Budget {
        Budget::new(Duration::from_secs(3600))
    }

    pub fn set_phase(&mut self, phase: Phase) {
        self.phase = phase;
    }

    /// Bound on the next command; zero: do not send it.
    pub fn limit(&self) -> Duration {
        match (self.failed, self.phase) {
            (true, _) => Duration::ZERO,
            (false, Phase::Before | Phase::Polling) => self.before,
            (false, Phase::After) => self.after,
        }
    }

    /// Records a command that took `elapsed` and succeeded or not.
    pub fn charge(&mut self, elapsed: Duration, ok: bool) {
        if !ok {
            self.failed = true;
            return;
        }
        match self.phase {
            Phase::Before => self.before = self.before.saturating_sub(elapsed),
            Phase::Polling => {}
            Phase::After => self.after = self.after.saturating_sub(elapsed),
        }
    }

    /// True the first time the budget is found spent (not failed): log it once.
    pub fn first_time_spent(&mut self) -> bool {
        !self.failed && !std::mem::replace(&mut self.told, true)
    }

    /// Skips the tier for the rest of the fetch.
    pub fn fail(&mut self) {
        self.failed = true;
    }
}

/// What a fetch wants from the tiers.
pub(crate) enum TierMode {
    /// An in-process miss: any token with some life left.
    Normal,
    /// A background refresh: only a token fresher than ours (not yet at its
    /// own refresh point), i.e. one another process already refreshed.
    Refresh,
    /// After a 401: a fresh token other than the one dropped.
    Force { dropped: Option<[u8; 32]> },
}

impl TierMode {
    pub fn force(dropped: Option<&AccessToken>) -> TierMode {
        TierMode::Force { dropped: dropped.map(|t| digest(t.secret().as_bytes())) }
    }

    fn accepts(&self, t: &SharedToken, now_ms: i64) -> bool {
        let left = t.expires_on_ms - now_ms;
        match self {
            TierMode::Normal => left >= MIN_USEFUL_LIFE.as_millis() as i64,
            TierMode::Refresh => now_ms < t.refresh_on_ms && left > 0,
            TierMode::Force { dropped } => {
                now_ms < t.refresh_on_ms
                    && left > 0
                    && dropped.is_none_or(|d| d != digest(t.secret.expose().as_bytes()))
            }
        }
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).into()
}

/// The tiers of one client, nearest first, with the keys of its entries.
pub(crate) struct Tiers {
    sealer: Sealer,
    tiers: Vec<Box<dyn CacheTier>>,
    remote_budget: Duration,
}

impl fmt::Debug for Tiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.tiers.iter().map(|t| t.name())).finish()
    }
}

enum Found {
    Token(AccessToken),
    Throttled { left: Duration },
}

/// What [`Tiers::peek`] found.
pub(crate) enum Peek {
    Token(AccessToken),
    Missed(Looked),
}

/// A peek that found no usable token: how long it took, and whether every
/// tier answered with nothing (no throttle, no failure).
#[derive(Copy, Clone, Debug)]
pub(crate) struct Looked {
    spent: Duration,
    clean: bool,
    /// Redis failed or ran out of time: the fetch leaves it alone.
    failed: bool,
}

impl Tiers {
    /// The tiers `config` (and `PAYTRIM_CACHE_DIR` / `PAYTRIM_REDIS_URL`)
    /// asks for, for the cache key `key_digest`; `None` when none is asked
    /// for or the credential has nothing to derive an entry key from. Fails
    /// when the cache directory cannot be used safely.
    pub fn new(key_digest: &[u8; 32], credential: &Credential, config: &ClientConfig) -> Result<Option<Tiers>, Error> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut config = config.clone();
        let mut dir_from = "";
        if config.cache_dir.is_none() {
            if let Some(dir) = env("PAYTRIM_CACHE_DIR") {
                dir_from = "PAYTRIM_CACHE_DIR: ";
                config.set("cache_dir", &dir).map_err(|e| {
                    let m = format!("PAYTRIM_CACHE_DIR: {}", e.message());
                    e.with_message(m)
                })?;
            }
        }
        if config.redis_url.is_none() {
            if let Some(url) = env("PAYTRIM_REDIS_URL") {
                config.set("redis_url", &url).map_err(|e| {
                    let m = format!("PAYTRIM_REDIS_URL: {}", e.message());
                    e.with_message(m)
                })?;
            }
        }
        if config.cache_dir.is_none() && config.redis_url.is_none() {
            return Ok(None);
        }
        let Some(material) = credential.tier_key_material()? else {
            crate::log_event!(
                Level::Info,
                "cache tiers off for this client: a {} credential has no secret to seal shared entries with",
                credential.kind()
            );
            return Ok(None);
        };
        let sealer = Sealer::new(&material, key_digest);
        let mut tiers: Vec<Box<dyn CacheTier>> = Vec::new();
        #[cfg(unix)]
        if let Some(dir) = &config.cache_dir {
            let tier = host_dir::HostDir::open(dir, &sealer).map_err(|e| {
                let m = format!("{dir_from}{}", e.message());
                e.with_message(m)
            })?;
            tiers.push(Box::new(tier));
        }
        #[cfg(not(unix))]
        if let Some(dir) = &config.cache_dir {
            return Err(Error::invalid_argument(format!(
                "{dir_from}cache_dir '{}': the on-host cache tier needs a Unix system (flock, owner and mode \
                 checks); it is not available on {}",
                dir.display(),
                std::env::consts::OS
            )));
        }
        #[cfg(feature = "redis-tier")]
        if let Some(url) = &config.redis_url {
            tiers.push(Box::new(redis::RedisTier::new(url, &config, &sealer)?));
        }
        Ok(Some(Tiers { sealer, tiers, remote_budget: config.redis_timeout }))
    }

    /// A read of the tiers on the caller's thread, nearest first, for a
    /// token a new caller can use (no tier lock, no fetch): a token found in
    /// a farther tier is copied to the nearer ones, as a fetch's look-up
    /// does, and the caller puts it in the in-process cache. Bounded like a
    /// fetch's look-ups (`redis_timeout_ms`: half to read, half to copy); a
    /// throttle or a miss reads as [`Peek::Missed`], whose figures the fetch
    /// that follows takes over.
    pub fn peek(&self) -> Peek {
        let mut budget = Budget::new(self.remote_budget);
        let started = Instant::now();
        let mut clean = true;
        for i in 0..self.tiers.len() {
            match self.look(i, &TierMode::Normal, &mut budget) {
                Some(Found::Token(token)) => {
                    budget.set_phase(Phase::After);
                    self.write_entry(Slot::Token, &token_entry(&token), i, &mut budget);
                    return Peek::Token(token);
                }
                Some(Found::Throttled { .. }) => {
                    clean = false;
                    break;
                }
                None => {}
            }
        }
        Peek::Missed(Looked { spent: started.elapsed(), clean: clean && !budget.failed, failed: budget.failed })
    }

    /// A fetch through the tiers (see the module documentation); same
    /// contract as [`Fetcher::fetch`]. `looked`: what the caller's
    /// [`Tiers::peek`] just found (nothing) and spent, so the fetch does not
    /// read the tiers again before taking their locks. `peeking_since`: when
    /// the earliest caller still reading the tiers on its own thread (and
    /// so about to join this fetch) began. The time since the earliest of
    /// those reads counts against this fetch's `redis_timeout_ms`, so no
    /// caller spends more than that on Redis, its own read and the fetch's
    /// Redis commands together, whichever thread started the fetch.
    pub fn fetch(
        &self,
        fetcher: &Fetcher,
        mode: &TierMode,
        queued_at: Instant,
        still_needed: &dyn Fn() -> bool,
        looked: Option<Looked>,
        peeking_since: Option<Instant>,
    ) -> Outcome {
        let deadline = queued_at + fetcher.budget();
        let mut budget = Budget::new(self.remote_budget);
        let read_for = peeking_since.map(|s| s.elapsed()).unwrap_or_default();
        let skip_first_look = match looked {
            Some(l) => {
                budget.charge(l.spent.max(read_for), true);
                if l.failed {
                    budget.fail();
                }
                l.clean && matches!(mode, TierMode::Normal)
            }
            None => {
                budget.charge(read_for, true);
                false
            }
        };
        let mut guards: Vec<(usize, TierGuard)> = Vec::new();
        let mut outcome = None;
        'tiers: for i in 0..self.tiers.len() {
            if !skip_first_look {
                if let Some(found) = self.look(i, mode, &mut budget) {
                    outcome = Some(self.land(found, i, &mut budget, fetcher));
                    break;
                }
            }
            loop {
                match self.tiers[i].try_lock(&mut budget) {
                    LockTry::Held(guard) => {
                        budget.set_phase(Phase::Before);
                        guards.push((i, guard));
                        // The holder may have written and let go between our look and our lock.
                        if let Some(found) = self.look(i, mode, &mut budget) {
                            outcome = Some(self.land(found, i, &mut budget, fetcher));
                            break 'tiers;
                        }
                        break;
                    }
                    LockTry::Unavailable => break,
                    LockTry::Busy => budget.set_phase(Phase::Polling),
                }
                if !still_needed() {
                    outcome = Some(Outcome {
                        result: Err(Error::new(ErrorCode::Network, "token fetch abandoned: nobody needs it any more")),
                        throttled_until: None,
                        abandoned: true,
                    });
                    break 'tiers;
                }
                if Instant::now() >= deadline {
                    outcome = Some(Outcome {
                        result: Err(Error::new(
                            ErrorCode::Network,
                            format!(
                                "timed out after {} ms waiting for another process's fetch of this token ({})",
                                fetcher.budget().as_millis(),
                                self.tiers[i].name()
                            ),
                        )),
                        throttled_until: None,
                        abandoned: false,
                    });
                    break 'tiers;
                }
                std::thread::sleep(
                    self.tiers[i].poll_interval().min(deadline.saturating_duration_since(Instant::now())),
                );
                if let Some(found) = self.look(i, mode, &mut budget) {
                    outcome = Some(self.land(found, i, &mut budget, fetcher));
                    break 'tiers;
                }
            }
        }
        budget.set_phase(Phase::After);
        let outcome = outcome.unwrap_or_else(|| {
            let fetched = fetcher.fetch(queued_at, still_needed);
            self.write_through(&fetched, self.tiers.len(), &mut budget);
            fetched
        });
        // Nearest tier last: its waiters find the entry the moment they wake.
        for (i, guard) in guards.into_iter().rev() {
            self.tiers[i].release(guard, &mut budget);
        }
        outcome
    }

    /// Tier `i`'s throttle or usable token, if any.
    fn look(&self, i: usize, mode: &TierMode, budget: &mut Budget) -> Option<Found> {
        let tier = &self.tiers[i];
        let now_ms = sealed_entry::now_ms();
        let (throttle, token) = tier.read_both(&self.sealer, budget);
        if let Some(Entry::Throttle { until_ms }) = throttle {
            if until_ms > now_ms {
                return Some(Found::Throttled { left: Duration::from_millis((until_ms - now_ms) as u64) });
            }
        }
        match token? {
            Entry::Token(t) if mode.accepts(&t, now_ms) => {
                let token = AccessToken::from_shared(
                    t.secret,
                    sealed_entry::from_unix_ms(t.expires_on_ms),
                    sealed_entry::from_unix_ms(t.refresh_on_ms),
                    Duration::from_millis(t.lifetime_ms),
                )?;
                crate::log_event!(
                    Level::Info,
                    "token from the {} tier, expires in {} s; no request sent",
                    tier.name(),
                    token.expires_in().as_secs()
                );
                Some(Found::Token(token))
            }
            _ => None,
        }
    }

    /// Turns what tier `i` held into the fetch's outcome, copying a token to
    /// the nearer tiers.
    fn land(&self, found: Found, i: usize, budget: &mut Budget, fetcher: &Fetcher) -> Outcome {
        match found {
            Found::Token(token) => {
                budget.set_phase(Phase::After);
                let outcome = Outcome { result: Ok(token), throttled_until: None, abandoned: false };
                self.write_through(&outcome, i, budget);
                outcome
            }
            Found::Throttled { left } => {
                crate::log_event!(
                    Level::Warn,
                    "throttled: another process saw a Retry-After from {}; no request for {} ms ({} tier)",
                    fetcher.host(),
                    left.as_millis(),
                    self.tiers[i].name()
                );
                let secs = left.as_secs_f64().ceil() as u64;
                Outcome {
                    result: Err(Error::new(
                        ErrorCode::Throttled,
                        format!(
                            "throttled: {} asked another process sharing this cache to wait; \
                             no request is sent for another {secs}s",
                            fetcher.endpoint()
                        ),
                    )
                    .with_retry_after(Some(left))),
                    throttled_until: Some(clock::now() + left),
                    abandoned: false,
                }
            }
        }
    }

    /// Writes a fetched token, or the throttle a failure brought, to the
    /// tiers before `upto`.
    fn write_through(&self, outcome: &Outcome, upto: usize, budget: &mut Budget) {
        let (slot, entry) = match (&outcome.result, outcome.throttled_until) {
            (Ok(t), _) => (Slot::Token, token_entry(t)),
            (Err(_), Some(until)) => {
                let left = until.saturating_duration_since(clock::now());
                (Slot::Throttle, Entry::Throttle { until_ms: sealed_entry::now_ms() + left.as_millis() as i64 })
            }
            (Err(_), None) => return,
        };
        self.write_entry(slot, &entry, upto, budget);
    }

    /// Writes `entry` to the tiers before `upto`.
    fn write_entry(&self, slot: Slot, entry: &Entry, upto: usize, budget: &mut Budget) {
        for tier in &self.tiers[..upto] {
            tier.write(slot, &self.sealer, entry, budget);
        }
    }
}

/// A token as the tiers store it.
fn token_entry(t: &AccessToken) -> Entry {
    Entry::Token(SharedToken {
        secret: crate::secret::Secret::new(t.secret()),
        expires_on_ms: sealed_entry::unix_ms(t.expires_on()),
        refresh_on_ms: sealed_entry::unix_ms(t.refresh_on()),
        lifetime_ms: t.lifetime().as_millis() as u64,
    })
}

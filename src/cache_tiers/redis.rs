//! The fleet tier: sealed entries in Redis, and a short `SET NX PX` lock so
//! one host fetches while the others poll for the value.
//!
//! Redis is used from fetch threads, and for the first look-up of a blocking
//! call from the calling thread (see `Tiers::peek`), over a blocking connection whose
//! read and write timeouts are set before every command to what is left of
//! the fetch's Redis budget (`redis_timeout_ms`, see `Budget`): Redis down,
//! slow or answering garbage costs a fetch at most that budget, is logged,
//! and reads as a miss. After a failure Redis is skipped for [`COOL_DOWN`], so a burst
//! of fetches pays for one timeout, not one each.
//!
//! Entries live until the token's expiry minus the refresh margin; a lock
//! lives at most [`MAX_LOCK`] (less with a short fetch budget), so a holder
//! that dies stops blocking the fleet soon. A lock is released only by its
//! holder (compare-and-delete on a random value).
//!
//! fork(): the connection belongs to the process that made it; a child
//! forgets (never closes or uses) its parent's and connects anew.

use super::sealed_entry::{self, Entry, Sealer, Slot};
use super::{Budget, CacheTier, LockTry, TierGuard};
use crate::config::{redact_url, ClientConfig};
use crate::error::Error;
use crate::log::Level;
use crate::secret::Secret;
use parking_lot::Mutex;
use std::time::{Duration, Instant};

/// Redis is not tried again for this long after it failed.
const COOL_DOWN: Duration = Duration::from_secs(2);
/// Longest life of a fetch lock.
const MAX_LOCK: Duration = Duration::from_secs(10);

const RELEASE_SCRIPT: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

pub(crate) struct RedisTier {
    client: redis::Client,
    /// For messages: the URL without its password.
    shown: String,
    token_key: String,
    throttle_key: String,
    lock_key: String,
    lock_ttl: Duration,
    refresh_margin: Duration,
    /// An idle connection and the fork generation it was made in.
    idle: Mutex<Option<(u64, redis::Connection)>>,
    skip_until: Mutex<Option<Instant>>,
}

pub(crate) struct RedisLock {
    value: String,
}

impl RedisTier {
    pub fn new(url: &Secret, config: &ClientConfig, sealer: &Sealer) -> Result<RedisTier, Error> {
        let shown = redact_url(url.expose());
        let bad = |why: String| Error::invalid_argument(format!("redis_url '{shown}': {why}"));
        let info: redis::ConnectionInfo = redis::IntoConnectionInfo::into_connection_info(url.expose())
            .map_err(|e| bad(format!("not usable ({})", describe(&e))))?;
        let client = match &config.redis_ca_file {
            Some(ca) => {
                let pem = std::fs::read(ca).map_err(|e| {
                    Error::invalid_argument(format!("redis_ca_file '{}': cannot be read ({e})", ca.display()))
                })?;
                redis::Client::build_with_tls(info, redis::TlsCertificates { client_tls: None, root_cert: Some(pem) })
            }
            None => redis::Client::open(info),
        }
        .map_err(|e| bad(format!("not usable ({})", describe(&e))))?;
        let prefix = &config.redis_key_prefix;
        let token = sealer.name(Slot::Token);
        crate::fork::watch();
        Ok(RedisTier {
            client,
            shown: shown.clone(),
            token_key: format!("{prefix}{token}"),
            throttle_key: format!("{prefix}{}", sealer.name(Slot::Throttle)),
            lock_key: format!("{prefix}{token}:lock"),
            lock_ttl: MAX_LOCK.min(config.total_timeout / 2).max(Duration::from_millis(100)),
            refresh_margin: config.refresh_margin,
            idle: Mutex::new(None),
            skip_until: Mutex::new(None),
        })
    }

    fn key(&self, slot: Slot) -> &str {
        match slot {
            Slot::Token => &self.token_key,
            Slot::Throttle => &self.throttle_key,
        }
    }

    /// Runs one command within the budget, on this process's connection.
    /// `None` (logged) when Redis is skipped, too slow, down or answering
    /// something else than `T`; the budget is then spent so the rest of the
    /// fetch leaves Redis alone.
    fn run<T: redis::FromRedisValue>(&self, what: &str, cmd: &redis::Cmd, budget: &mut Budget) -> Option<T> {
        let limit = budget.limit();
        if limit.is_zero() {
            if budget.first_time_spent() {
                crate::log_event!(
                    Level::Info,
                    "Redis cache tier at {}: slow answers used up redis_timeout_ms for this fetch; \
                     going on without Redis ({what} not sent)",
                    self.shown
                );
            }
            return None;
        }
        if self.skip_until.lock().is_some_and(|t| Instant::now() < t) {
            budget.fail();
            return None;
        }
        let started = Instant::now();
        let result = self.run_once(cmd, limit);
        budget.charge(started.elapsed(), result.is_ok());
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                *self.skip_until.lock() = Some(Instant::now() + COOL_DOWN);
                crate::log_event!(
                    Level::Warn,
                    "Redis cache tier at {}: {what} failed after {} ms ({}); treated as a miss, \
                     Redis skipped for {} s",
                    self.shown,
                    started.elapsed().as_millis(),
                    describe(&e),
                    COOL_DOWN.as_secs()
                );
                None
            }
        }
    }

    fn run_once<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd, limit: Duration) -> redis::RedisResult<T> {
        let started = Instant::now();
        let generation = crate::fork::generation();
        let taken = self.idle.lock().take();
        let mut con = match taken {
            Some((g, con)) if g == generation => con,
            other => {
                // A connection made before a fork is the parent's: forget it.
                if let Some((_, parent)) = other {
                    std::mem::forget(parent);
                }
                self.client.get_connection_with_timeout(limit)?
            }
        };
        let left = limit.saturating_sub(started.elapsed()).max(Duration::from_millis(1));
        con.set_read_timeout(Some(left))?;
        con.set_write_timeout(Some(left))?;
        let value = cmd.query(&mut con)?;
        // Only a connection that just answered well is kept.
        let mut idle = self.idle.lock();
        if idle.is_none() {
            *idle = Some((generation, con));
        }
        Ok(value)
    }
}

impl RedisTier {
    fn open(&self, slot: Slot, sealer: &Sealer, sealed: Option<Vec<u8>>) -> Option<Entry> {
        let entry = sealer.open(slot, &sealed?);
        if entry.is_none() {
            crate::log_event!(
                Level::Warn,
                "Redis cache tier at {}: an entry is corrupt or sealed with another credential; a miss, rewritten",
                self.shown
            );
        }
        entry
    }
}

fn describe(e: &redis::RedisError) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connection_refusal() {
        "connection refused".to_owned()
    } else {
        // Kind and category only: a message could quote a reply.
        format!("{:?}", e.kind()).to_lowercase()
    }
}

impl CacheTier for RedisTier {
    fn name(&self) -> &'static str {
        "Redis cache"
    }

    fn poll_interval(&self) -> Duration {
        Duration::from_millis(20)
    }

    fn read(&self, slot: Slot, sealer: &Sealer, budget: &mut Budget) -> Option<Entry> {
        let sealed: Option<Vec<u8>> = self.run("GET", redis::cmd("GET").arg(self.key(slot)), budget)?;
        self.open(slot, sealer, sealed)
    }

    fn read_both(&self, sealer: &Sealer, budget: &mut Budget) -> (Option<Entry>, Option<Entry>) {
        let cmd = redis::cmd("MGET").arg(&self.throttle_key).arg(&self.token_key).clone();
        match self.run::<(Option<Vec<u8>>, Option<Vec<u8>>)>("MGET", &cmd, budget) {
            Some((throttle, token)) => {
                (self.open(Slot::Throttle, sealer, throttle), self.open(Slot::Token, sealer, token))
            }
            None => (None, None),
        }
    }

    fn write(&self, slot: Slot, sealer: &Sealer, entry: &Entry, budget: &mut Budget) {
        let now = sealed_entry::now_ms();
        let ttl_ms = match entry {
            Entry::Token(t) => {
                let margin = (self.refresh_margin.as_millis() as i64).min(t.lifetime_ms as i64 / 2);
                t.expires_on_ms - now - margin
            }
            Entry::Throttle { until_ms } => until_ms - now,
        };
        if ttl_ms < 1000 {
            return;
        }
        let sealed = sealer.seal(slot, entry);
        let _: Option<()> =
            self.run("SET", redis::cmd("SET").arg(self.key(slot)).arg(sealed).arg("PX").arg(ttl_ms), budget);
    }

    fn try_lock(&self, budget: &mut Budget) -> LockTry {
        let value = crate::transport::new_request_id();
        let cmd = redis::cmd("SET")
            .arg(&self.lock_key)
            .arg(&value)
            .arg("NX")
            .arg("PX")
            .arg(self.lock_ttl.as_millis() as u64)
            .clone();
        match self.run::<Option<String>>("SET NX (fetch lock)", &cmd, budget) {
            Some(Some(_)) => LockTry::Held(TierGuard::Redis(RedisLock { value })),
            Some(None) => LockTry::Busy,
            None => LockTry::Unavailable,
        }
    }

    fn release(&self, guard: TierGuard, budget: &mut Budget) {
        if let TierGuard::Redis(lock) = guard {
            let cmd = redis::cmd("EVAL").arg(RELEASE_SCRIPT).arg(1).arg(&self.lock_key).arg(&lock.value).clone();
            let _: Option<i64> = self.run("lock release", &cmd, budget);
        }
    }
}

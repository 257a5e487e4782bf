//! The process-wide token cache: one slot per key. A client resolves its slot
//! once, at creation, so a cache hit never touches this registry (or any
//! lock): it reads the slot's current token through an `ArcSwap`.

use crate::clock::{self, Stamp};
use crate::config::ClientConfig;
use crate::credentials::Credential;
use crate::flight::Flight;
use crate::token::AccessToken;
use arc_swap::ArcSwapOption;
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

/// Unheld slots beyond this count are dropped, expired ones first.
pub const MAX_UNHELD_SLOTS: usize = 1024;

/// Everything that makes two tokens (or two fetches) differ. Holds a salted
/// one-way fingerprint of the credential, never the credential, and a digest
/// of the route: clients that trust different CAs or go through different
/// proxies never share a fetch.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    endpoint: String,
    client_id: String,
    credential: [u8; 32],
    scopes: String,
    /// SHA-256 of the full token URL (its query included), `ca_file`,
    /// `tls_roots` and the proxy in effect.
    route: [u8; 32],
}

impl CacheKey {
    /// `endpoint`: where the tokens come from (the token endpoint, or a
    /// managed-identity endpoint), as the client's fetcher sends to it.
    pub fn new(endpoint: &str, client_id: &str, credential: &Credential, config: &ClientConfig) -> CacheKey {
        let endpoint = url::Url::parse(endpoint).map(|u| u.to_string()).unwrap_or_else(|_| endpoint.to_owned());
        let mut scopes: Vec<&str> = config.scopes.iter().map(String::as_str).collect();
        scopes.sort_unstable();
        scopes.dedup();
        let route = route_digest(&endpoint, config);
        CacheKey {
            endpoint,
            client_id: client_id.to_owned(),
            credential: credential.fingerprint(),
            scopes: scopes.join(" "),
            route,
        }
    }
}

impl CacheKey {
    /// A digest of the key as every process computes it, naming it to the
    /// cache tiers: every field but the credential's fingerprint, which is
    /// salted per process (the tiers key entries with the credential's
    /// secret material instead).
    pub(crate) fn shared_digest(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for field in [self.endpoint.as_bytes(), self.client_id.as_bytes(), self.scopes.as_bytes(), &self.route] {
            h.update((field.len() as u64).to_le_bytes());
            h.update(field);
        }
        h.finalize().into()
    }
}

fn route_digest(endpoint: &str, config: &ClientConfig) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(config.token_url.as_deref().unwrap_or("").as_bytes());
    field(config.ca_file.as_ref().map(|p| p.as_os_str().as_encoded_bytes()).unwrap_or(b""));
    field(config.tls_roots.as_str().as_bytes());
    field(crate::transport::proxy_for(config, endpoint).as_deref().unwrap_or("").as_bytes());
    h.finalize().into()
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheKey")
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// The shared state of one key: its token, and who is fetching it.
#[derive(Default)]
pub struct Slot {
    pub(crate) token: ArcSwapOption<AccessToken>,
    pub(crate) state: Mutex<SlotState>,
}

#[derive(Default)]
pub(crate) struct SlotState {
    /// The fetch in progress, which every caller joins.
    pub flight: Option<Arc<Flight>>,
    /// No request goes out before this (after a 429 or a 503 with Retry-After).
    pub throttled_until: Option<Stamp>,
    /// No background refresh starts before this (after a failed one).
    pub next_background: Option<Stamp>,
    /// Blocking callers reading the tiers on their own threads now, before
    /// they join or start a flight (see `Client::peek_tiers`).
    peeking: Option<Peeking>,
}

/// How many callers are reading the tiers, and since when the earliest of
/// them (kept until none is left: a later start never moves it).
struct Peeking {
    count: usize,
    since: Instant,
    generation: u64,
}

impl SlotState {
    /// The flight in progress in this process. After fork() a flight the
    /// parent started is ignored (its thread is not in the child), so the
    /// next caller starts a fresh fetch.
    pub fn fetching(&self) -> Option<&Arc<Flight>> {
        self.flight.as_ref().filter(|f| f.in_this_process())
    }

    /// A caller starts reading the tiers on its own thread; it stays counted
    /// until [`SlotState::peek_ended`], called once it has joined or started
    /// a flight (or found a token), under the same lock.
    pub fn peek_started(&mut self) {
        let generation = crate::fork::generation();
        match &mut self.peeking {
            Some(p) if p.generation == generation => p.count += 1,
            _ => self.peeking = Some(Peeking { count: 1, since: Instant::now(), generation }),
        }
    }

    pub fn peek_ended(&mut self) {
        if let Some(p) = &mut self.peeking {
            if p.generation == crate::fork::generation() {
                p.count -= 1;
                if p.count == 0 {
                    self.peeking = None;
                }
            }
        }
    }

    /// When the earliest caller still reading the tiers began, if any. A
    /// flight started now charges its Redis budget with the time since, so
    /// a caller whose read overlaps it and then joins it spends no more than
    /// `redis_timeout_ms` on Redis in all. After fork() the parent's readers
    /// are ignored.
    pub fn peeking_since(&self) -> Option<Instant> {
        self.peeking.as_ref().filter(|p| p.generation == crate::fork::generation()).map(|p| p.since)
    }
}

/// The slots, and the size at which they are next pruned.
struct Registry {
    map: HashMap<CacheKey, Arc<Slot>>,
    prune_at: usize,
}

static REGISTRY: Lazy<Mutex<Registry>> =
    Lazy::new(|| Mutex::new(Registry { map: HashMap::new(), prune_at: MAX_UNHELD_SLOTS }));

/// The slot for `key`, shared with every other client of the same key.
///
/// O(1) amortized however many clients are alive: a prune (which visits
/// every slot) runs only once the registry has doubled since the last one,
/// so the registry holds at most about twice the larger of
/// [`MAX_UNHELD_SLOTS`] and the number of keys that live clients hold
/// (plus `MAX_UNHELD_SLOTS / 2` recently used unheld ones).
pub fn slot(key: CacheKey) -> Arc<Slot> {
    let mut reg = REGISTRY.lock();
    if let Some(s) = reg.map.get(&key) {
        return s.clone();
    }
    if reg.map.len() >= reg.prune_at {
        prune(&mut reg.map);
        reg.prune_at = (reg.map.len() * 2).max(MAX_UNHELD_SLOTS);
    }
    let s = Arc::new(Slot::default());
    reg.map.insert(key, s.clone());
    s
}

/// Drops slots no client holds: expired or empty ones always, then the
/// soonest-expiring until at most half the bound remain unheld.
fn prune(map: &mut HashMap<CacheKey, Arc<Slot>>) {
    let now = clock::now();
    let unheld_and_dead = |s: &Arc<Slot>| {
        Arc::strong_count(s) == 1
            && s.token.load().as_ref().is_none_or(|t| t.expires_at() <= now)
            && s.state.lock().fetching().is_none()
    };
    map.retain(|_, s| !unheld_and_dead(s));
    let mut unheld: Vec<(Stamp, CacheKey)> = map
        .iter()
        .filter(|(_, s)| Arc::strong_count(s) == 1 && s.state.lock().fetching().is_none())
        .map(|(k, s)| (s.token.load().as_ref().map_or(now, |t| t.expires_at()), k.clone()))
        .collect();
    if unheld.len() > MAX_UNHELD_SLOTS / 2 {
        unheld.sort_by_key(|(t, _)| *t);
        let excess = unheld.len() - MAX_UNHELD_SLOTS / 2;
        for (_, k) in unheld.into_iter().take(excess) {
            map.remove(&k);
        }
    }
}

/// How many keys the registry holds (for tests and diagnostics).
pub fn len() -> usize {
    REGISTRY.lock().map.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_tell_credentials_scopes_and_endpoints_apart() {
        let cfg = ClientConfig::default();
        let a = CacheKey::new(&cfg.token_endpoint(), "id", &Credential::client_secret("s1"), &cfg);
        assert_eq!(a, CacheKey::new(&cfg.token_endpoint(), "id", &Credential::client_secret("s1"), &cfg));
        assert_ne!(a, CacheKey::new(&cfg.token_endpoint(), "id", &Credential::client_secret("s2"), &cfg));
        assert_ne!(a, CacheKey::new(&cfg.token_endpoint(), "id2", &Credential::client_secret("s1"), &cfg));
        let mut other = cfg.clone();
        other.set("tenant", "contoso.com").unwrap();
        assert_ne!(a, CacheKey::new(&other.token_endpoint(), "id", &Credential::client_secret("s1"), &other));
        let mut s1 = cfg.clone();
        s1.set("scope", "b/.default a/.default").unwrap();
        let mut s2 = cfg.clone();
        s2.set("scope", "a/.default  b/.default a/.default").unwrap();
        assert_eq!(
            CacheKey::new(&s1.token_endpoint(), "id", &Credential::client_secret("s1"), &s1),
            CacheKey::new(&s2.token_endpoint(), "id", &Credential::client_secret("s1"), &s2)
        );
        assert!(!format!("{a:?}").contains("s1"));
    }

    #[test]
    fn keys_tell_trust_and_proxies_apart() {
        let cfg = ClientConfig::default();
        let key = |c: &ClientConfig| CacheKey::new(&c.token_endpoint(), "id", &Credential::client_secret("s"), c);
        let a = key(&cfg);
        let mut ca = cfg.clone();
        ca.ca_file = Some("/etc/corp-ca.pem".into());
        assert_ne!(a, key(&ca), "another CA file, another key");
        let mut roots = cfg.clone();
        roots.set("tls_roots", "bundled").unwrap();
        assert_ne!(a, key(&roots));
        let mut proxied = cfg.clone();
        proxied.set("proxy", "http://user:pw@proxy.example:3128").unwrap();
        assert_ne!(a, key(&proxied), "another proxy, another key");
        let mut other_proxy = cfg.clone();
        other_proxy.set("proxy", "http://other.example:3128").unwrap();
        assert_ne!(key(&proxied), key(&other_proxy));
        assert!(!format!("{:?}", key(&proxied)).contains("pw"));
        let (mut q1, mut q2) = (cfg.clone(), cfg.clone());
        q1.set("token_url", "https://login.example/t?p=one").unwrap();
        q2.set("token_url", "https://login.example/t?p=two").unwrap();
        let (k1, k2) = (key(&q1), key(&q2));
        assert_ne!(k1, k2, "token URLs that differ only in their query");
    }

    #[test]
    fn unheld_slots_are_bounded() {
        let cfg = ClientConfig::default();
        for i in 0..(MAX_UNHELD_SLOTS * 2) {
            let _ = slot(CacheKey::new(
                &cfg.token_endpoint(),
                &format!("bound-{i}"),
                &Credential::client_secret("s"),
                &cfg,
            ));
        }
        assert!(len() <= MAX_UNHELD_SLOTS + 64, "{}", len());
    }
}

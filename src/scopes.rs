//! Per-call scopes: one client (one credential) asking for tokens for other
//! scope sets than its configured one. Each scope set gets its own cache
//! entry (a [`Slot`], with its single flight, background refresh and throttle
//! memory) and its own prepared request (a [`Fetcher`]), made on first use
//! and kept while the client lives, up to [`MAX_SCOPE_SETS`] (least recently
//! used dropped first; its cached token stays in the process-wide cache).
//!
//! The configured scope set is not in here: a call for it goes to the
//! client's own slot, so the default path is untouched.

use crate::cache::{self, CacheKey, Slot};
use crate::cache_tiers::Tiers;
use crate::config::ClientConfig;
use crate::credentials::Credential;
use crate::error::Error;
use crate::fetch::Fetcher;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// Scope sets kept per client besides the configured one.
pub const MAX_SCOPE_SETS: usize = 64;
/// Scopes in one request.
const MAX_SCOPES: usize = 64;
/// One scope (a URI plus a permission) is far shorter.
const MAX_SCOPE_LEN: usize = 2048;

/// A checked scope set: the scopes as given (sent in this order) and the
/// normalized form two requests share a cache entry by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeSet {
    scopes: Vec<String>,
    normalized: String,
}

impl ScopeSet {
    /// Checks `scopes`: at least one, each non-empty, without whitespace or
    /// control characters, of sane length. Errors name the offending entry
    /// by position (and its text, which is not secret).
    pub fn new<S: AsRef<str>>(scopes: &[S]) -> Result<ScopeSet, Error> {
        if scopes.is_empty() {
            return Err(Error::invalid_argument(
                "scopes: the list is empty; name at least one scope, such as https://graph.microsoft.com/.default",
            ));
        }
        if scopes.len() > MAX_SCOPES {
            return Err(Error::invalid_argument(format!(
                "scopes: {} scopes in one request; the limit is {MAX_SCOPES}",
                scopes.len()
            )));
        }
        let mut list = Vec::with_capacity(scopes.len());
        for (i, s) in scopes.iter().enumerate() {
            let s = s.as_ref();
            if s.is_empty() {
                return Err(Error::invalid_argument(format!("scopes: scope {i} is empty")));
            }
            if s.len() > MAX_SCOPE_LEN {
                return Err(Error::invalid_argument(format!(
                    "scopes: scope {i} is {} bytes; the limit is {MAX_SCOPE_LEN}",
                    s.len()
                )));
            }
            if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(Error::invalid_argument(format!(
                    "scopes: scope {i} ({:?}) contains whitespace or a control character; pass each scope separately",
                    s
                )));
            }
            list.push(s.to_owned());
        }
        Ok(ScopeSet { normalized: normalize(&list), scopes: list })
    }

    /// Parses a space-separated list (the C entry points' form); any run of
    /// spaces separates, as in the `scope` config key.
    pub fn parse(text: &str) -> Result<ScopeSet, Error> {
        if text.chars().any(char::is_control) {
            return Err(Error::invalid_argument("scopes: contains a control character"));
        }
        let list: Vec<&str> = text.split_whitespace().collect();
        ScopeSet::new(&list)
    }

    /// The scopes as sent, in the order given.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }
}

/// Sorted, without duplicates, space-joined: the form the cache key uses.
pub(crate) fn normalize(scopes: &[String]) -> String {
    let mut s: Vec<&str> = scopes.iter().map(String::as_str).collect();
    s.sort_unstable();
    s.dedup();
    s.join(" ")
}

/// One scope set's cache entry and prepared request.
#[derive(Clone)]
pub(crate) struct Scoped {
    pub slot: Arc<Slot>,
    pub fetcher: Arc<Fetcher>,
    /// The on-host and Redis tiers for this scope set's key, if configured.
    pub tiers: Option<Arc<Tiers>>,
}

/// What a client needs to make a cache entry and a request for another
/// scope set: its credential and configuration, and the sets made so far.
pub(crate) struct ScopeFamily {
    client_id: String,
    credential: Credential,
    config: ClientConfig,
    /// The configured scopes, normalized, and their entry (the client's own).
    default_key: String,
    default: Scoped,
    sets: Mutex<Sets>,
}

#[derive(Default)]
struct Sets {
    map: HashMap<String, (Scoped, u64)>,
    tick: u64,
    /// Scope lists exactly as a caller spelled them (the C entry points' text),
    /// so a repeated call skips parsing and normalizing. Forgotten all at once
    /// beyond [`MAX_SPELLINGS`]; an entry kept here keeps its set's entry alive.
    by_text: HashMap<String, Scoped>,
}

/// Spellings remembered per client (see `Sets::by_text`).
const MAX_SPELLINGS: usize = 2 * MAX_SCOPE_SETS;

impl ScopeFamily {
    /// `default`: the entry of the configured scopes (`config.scopes`).
    pub fn new(client_id: &str, credential: Credential, config: ClientConfig, default: Scoped) -> ScopeFamily {
        let default_key = normalize(&config.scopes);
        ScopeFamily {
            client_id: client_id.to_owned(),
            credential,
            config,
            default_key,
            default,
            sets: Mutex::default(),
        }
    }

    /// The entry for `set`: the configured one, or one made on first use. A
    /// set whose request cannot be prepared (a managed identity asked for two
    /// resources) is refused here, and nothing is kept.
    pub fn get(&self, set: &ScopeSet) -> Result<Scoped, Error> {
        if set.normalized == self.default_key {
            return Ok(self.default.clone());
        }
        let mut sets = self.sets.lock();
        sets.tick += 1;
        let tick = sets.tick;
        if let Some((scoped, used)) = sets.map.get_mut(&set.normalized) {
            *used = tick;
            return Ok(scoped.clone());
        }
        // Prepared under the lock: two first callers of one set make one entry.
        let mut config = self.config.clone();
        config.scopes = set.scopes.clone();
        let fetcher = Fetcher::new(&self.client_id, &self.credential, &config)?;
        let key = CacheKey::new(fetcher.endpoint(), &self.client_id, &self.credential, &config);
        let tiers = Tiers::new(&key.shared_digest(), &self.credential, &config)?.map(Arc::new);
        let scoped = Scoped { slot: cache::slot(key), fetcher: Arc::new(fetcher), tiers };
        if sets.map.len() >= MAX_SCOPE_SETS {
            if let Some(oldest) = sets.map.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone()) {
                sets.map.remove(&oldest);
            }
        }
        sets.map.insert(set.normalized.clone(), (scoped.clone(), tick));
        Ok(scoped)
    }

    /// [`ScopeFamily::get`] for a space-separated list (the C entry points'
    /// form): a list spelled exactly as before is found without parsing it.
    pub fn get_text(&self, text: &str) -> Result<Scoped, Error> {
        if let Some(scoped) = self.sets.lock().by_text.get(text) {
            return Ok(scoped.clone());
        }
        let scoped = self.get(&ScopeSet::parse(text)?)?;
        let mut sets = self.sets.lock();
        if sets.by_text.len() >= MAX_SPELLINGS {
            sets.by_text.clear();
        }
        sets.by_text.insert(text.to_owned(), scoped.clone());
        Ok(scoped)
    }

    /// How many scope sets are kept (for tests).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.sets.lock().map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_sets_are_checked_and_normalized() {
        let a = ScopeSet::new(&["b/.default", "a/.default"]).unwrap();
        let b = ScopeSet::parse("  a/.default b/.default   a/.default").unwrap();
        assert_eq!(a.normalized, b.normalized);
        assert_eq!(a.scopes(), ["b/.default", "a/.default"], "sent in the order given");
        let empty: [&str; 0] = [];
        assert!(ScopeSet::new(&empty).unwrap_err().message().contains("empty"));
        assert!(ScopeSet::parse("   ").unwrap_err().message().contains("empty"));
        assert!(ScopeSet::new(&["a", ""]).unwrap_err().message().contains("scope 1 is empty"));
        assert!(ScopeSet::new(&["a b"]).unwrap_err().message().contains("whitespace"));
        assert!(ScopeSet::new(&["a\u{1}"]).is_err());
        assert!(ScopeSet::parse("a\nb").is_err());
        assert!(ScopeSet::new(&["x".repeat(MAX_SCOPE_LEN + 1)]).is_err());
        let many: Vec<String> = (0..=MAX_SCOPES).map(|i| format!("s{i}")).collect();
        assert!(ScopeSet::new(&many).is_err());
    }

    #[test]
    fn sets_are_bounded_least_recently_used_first() {
        let mut cfg = ClientConfig::default();
        cfg.set("token_url", "https://127.0.0.1:1/token").unwrap();
        let cred = Credential::client_secret("s");
        let fetcher = Fetcher::new("bounded-family", &cred, &cfg).unwrap();
        let slot = cache::slot(CacheKey::new(fetcher.endpoint(), "bounded-family", &cred, &cfg));
        let default = Scoped { slot, fetcher: Arc::new(fetcher), tiers: None };
        let family = ScopeFamily::new("bounded-family", cred, cfg, default.clone());
        let graph = ScopeSet::new(&["https://graph.microsoft.com/.default"]).unwrap();
        assert!(Arc::ptr_eq(&family.get(&graph).unwrap().slot, &default.slot), "the configured set is the default");
        let first = ScopeSet::new(&["api://first/.default"]).unwrap();
        let kept = family.get(&first).unwrap();
        for i in 0..MAX_SCOPE_SETS * 2 {
            family.get(&ScopeSet::new(&[format!("api://set{i}/.default")]).unwrap()).unwrap();
            family.get(&first).unwrap(); // used again each time: never the oldest
        }
        assert_eq!(family.len(), MAX_SCOPE_SETS);
        assert!(Arc::ptr_eq(&family.get(&first).unwrap().slot, &kept.slot), "the recently used set survived");
        // Spelled as text: the same entries, and a bad list is still refused the second time.
        let spelled = family.get_text("api://first/.default").unwrap();
        assert!(Arc::ptr_eq(&spelled.slot, &kept.slot));
        assert!(Arc::ptr_eq(&family.get_text("api://first/.default").unwrap().slot, &kept.slot));
        assert!(Arc::ptr_eq(&family.get_text(" https://graph.microsoft.com/.default ").unwrap().slot, &default.slot));
        for _ in 0..2 {
            assert!(family.get_text("").is_err());
            assert!(family.get_text("a\u{1}").is_err());
        }
        for i in 0..MAX_SPELLINGS * 2 {
            family.get_text(&format!("api://first/.default{}", " ".repeat(i % 7 + 1))).unwrap();
        }
        assert!(family.sets.lock().by_text.len() <= MAX_SPELLINGS, "spellings are bounded");
    }
}

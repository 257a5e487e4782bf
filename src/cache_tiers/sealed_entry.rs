//! What the cache tiers store, and how: an entry (a token with its expiry
//! and refresh point, or a throttle) sealed with ChaCha20-Poly1305 under a
//! key derived (HKDF-SHA256) from the credential's secret material and the
//! cache key. Only a process holding the same credential can compute an
//! entry's name, read it, or write one the others accept; a name is a keyed
//! digest, so it tells nothing about the client, tenant or scopes.
//!
//! Sealed form: `PTC1` | 12-byte random nonce | ciphertext and tag. The
//! associated data is the entry's name, so an entry copied under another
//! name (another key, or the throttle slot) does not open.

use crate::secret::Secret;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::hkdf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

const MAGIC: &[u8; 4] = b"PTC1";
const HKDF_SALT: &[u8] = b"paytrim-auth cache tiers v1";
/// No entry is larger: a token is a few KB.
pub(crate) const MAX_SEALED_LEN: usize = 64 * 1024;

const TAG_TOKEN: u8 = 1;
const TAG_THROTTLE: u8 = 2;

/// Which of a key's two entries.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Token,
    Throttle,
}

/// A token as the tiers share it: wall-clock instants (Unix ms), because
/// processes and hosts share no monotonic clock.
pub(crate) struct SharedToken {
    pub secret: Secret,
    pub expires_on_ms: i64,
    /// When the process that fetched it planned to refresh it.
    pub refresh_on_ms: i64,
    pub lifetime_ms: u64,
}

pub(crate) enum Entry {
    Token(SharedToken),
    /// No request for this key before this instant (a `Retry-After`).
    Throttle {
        until_ms: i64,
    },
}

/// Keys and names of one cache key's entries.
pub(crate) struct Sealer {
    key: LessSafeKey,
    token_name: [u8; 32],
    throttle_name: [u8; 32],
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

impl Sealer {
    /// `material`: secret bytes only holders of the credential have;
    /// `key_digest`: the cache key (endpoint, client, scopes, route).
    pub fn new(material: &[u8], key_digest: &[u8; 32]) -> Sealer {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT).extract(material);
        let info: [&[u8]; 2] = [b"seal", key_digest];
        let okm = prk.expand(&info, &CHACHA20_POLY1305).expect("HKDF length is valid");
        let key = LessSafeKey::new(UnboundKey::from(okm));
        let name = |slot: &[u8]| {
            let mut out = [0u8; 32];
            prk.expand(&[b"name", key_digest, slot], Len(32))
                .and_then(|okm| okm.fill(&mut out))
                .expect("HKDF length is valid");
            out
        };
        Sealer { key, token_name: name(b"token"), throttle_name: name(b"throttle") }
    }

    /// The entry's name: lowercase hex of a keyed digest (64 characters).
    pub fn name(&self, slot: Slot) -> String {
        let bytes = match slot {
            Slot::Token => &self.token_name,
            Slot::Throttle => &self.throttle_name,
        };
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(2 * bytes.len());
        for b in bytes {
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
        out
    }

    pub fn seal(&self, slot: Slot, entry: &Entry) -> Vec<u8> {
        let mut plain = Zeroizing::new(Vec::with_capacity(64));
        match entry {
            Entry::Token(t) => {
                plain.push(TAG_TOKEN);
                plain.extend_from_slice(&t.expires_on_ms.to_le_bytes());
                plain.extend_from_slice(&t.refresh_on_ms.to_le_bytes());
                plain.extend_from_slice(&t.lifetime_ms.to_le_bytes());
                plain.extend_from_slice(t.secret.expose().as_bytes());
            }
            Entry::Throttle { until_ms } => {
                plain.push(TAG_THROTTLE);
                plain.extend_from_slice(&until_ms.to_le_bytes());
            }
        }
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce).expect("the OS random source works");
        let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + plain.len() + CHACHA20_POLY1305.tag_len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        let body_at = out.len();
        out.extend_from_slice(&plain);
        let mut body = out.split_off(body_at);
        let name = self.name(slot);
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(name.as_bytes()), &mut body)
            .expect("sealing a small buffer works");
        out.extend_from_slice(&body);
        out
    }

    /// The entry, or `None` when `sealed` is truncated, corrupt, sealed
    /// under another key or name, or of the wrong kind for `slot`.
    pub fn open(&self, slot: Slot, sealed: &[u8]) -> Option<Entry> {
        if sealed.len() > MAX_SEALED_LEN || sealed.len() < MAGIC.len() + NONCE_LEN || &sealed[..4] != MAGIC {
            return None;
        }
        let nonce = Nonce::try_assume_unique_for_key(&sealed[4..4 + NONCE_LEN]).ok()?;
        let mut body = Zeroizing::new(sealed[4 + NONCE_LEN..].to_vec());
        let name = self.name(slot);
        let plain = self.key.open_in_place(nonce, Aad::from(name.as_bytes()), &mut body).ok()?;
        let (&tag, rest) = plain.split_first()?;
        let i64_at = |at: usize| rest.get(at..at + 8).map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")));
        match (slot, tag) {
            (Slot::Token, TAG_TOKEN) => {
                let expires_on_ms = i64_at(0)?;
                let refresh_on_ms = i64_at(8)?;
                let lifetime_ms = i64_at(16)? as u64;
                let text = std::str::from_utf8(rest.get(24..)?).ok()?;
                if text.is_empty() || text.chars().any(char::is_control) {
                    return None;
                }
                Some(Entry::Token(SharedToken { secret: Secret::new(text), expires_on_ms, refresh_on_ms, lifetime_ms }))
            }
            (Slot::Throttle, TAG_THROTTLE) => Some(Entry::Throttle { until_ms: i64_at(0)? }),
            _ => None,
        }
    }
}

impl Drop for Sealer {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.token_name.zeroize();
        self.throttle_name.zeroize();
        // ring's key schedule lives inside `key`; the wipe-on-free allocator
        // (feature wipe-freed-memory) clears it when the client is freed.
    }
}

/// Now, in Unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    unix_ms(SystemTime::now())
}

pub(crate) fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

pub(crate) fn from_unix_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(text: &str) -> Entry {
        Entry::Token(SharedToken {
            secret: Secret::new(text),
            expires_on_ms: 1_000_000,
            refresh_on_ms: 900_000,
            lifetime_ms: 3_600_000,
        })
    }

    fn opened_token(e: Option<Entry>) -> SharedToken {
        match e {
            Some(Entry::Token(t)) => t,
            _ => panic!("expected a token entry"),
        }
    }

    #[test]
    fn sealed_entries_round_trip_and_hide_the_token() {
        let s = Sealer::new(b"secret-a", &[7; 32]);
        let sealed = s.seal(Slot::Token, &token("eyJ.tok.en"));
        assert!(!sealed.windows(10).any(|w| w == b"eyJ.tok.en"), "the token is in clear");
        let t = opened_token(s.open(Slot::Token, &sealed));
        assert_eq!(t.secret.expose(), "eyJ.tok.en");
        assert_eq!((t.expires_on_ms, t.refresh_on_ms, t.lifetime_ms), (1_000_000, 900_000, 3_600_000));
        // A fresh nonce each time.
        assert_ne!(sealed, s.seal(Slot::Token, &token("eyJ.tok.en")));
        let th = s.seal(Slot::Throttle, &Entry::Throttle { until_ms: 42 });
        assert!(matches!(s.open(Slot::Throttle, &th), Some(Entry::Throttle { until_ms: 42 })));
    }

    #[test]
    fn truncated_corrupt_and_misplaced_entries_do_not_open() {
        let s = Sealer::new(b"secret-a", &[7; 32]);
        let sealed = s.seal(Slot::Token, &token("tok"));
        for cut in 0..sealed.len() {
            assert!(s.open(Slot::Token, &sealed[..cut]).is_none(), "truncated at {cut}");
        }
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(s.open(Slot::Token, &bad).is_none(), "bit flipped at {i}");
        }
        // Moved to the throttle slot's name: the associated data differs.
        assert!(s.open(Slot::Throttle, &sealed).is_none());
        assert!(s.open(Slot::Token, b"").is_none());
        assert!(s.open(Slot::Token, &vec![0u8; MAX_SEALED_LEN + 1]).is_none());
    }

    #[test]
    fn hkdf_separates_credentials_and_keys() {
        let a = Sealer::new(b"secret-a", &[7; 32]);
        let b = Sealer::new(b"secret-b", &[7; 32]);
        let a_other_key = Sealer::new(b"secret-a", &[8; 32]);
        let sealed = a.seal(Slot::Token, &token("tok"));
        assert!(b.open(Slot::Token, &sealed).is_none(), "another credential opened the entry");
        assert!(a_other_key.open(Slot::Token, &sealed).is_none(), "another cache key opened the entry");
        // Names differ by credential, key and slot, and are the same for the same inputs.
        let names = [a.name(Slot::Token), a.name(Slot::Throttle), b.name(Slot::Token), a_other_key.name(Slot::Token)];
        for (i, x) in names.iter().enumerate() {
            for y in &names[i + 1..] {
                assert_ne!(x, y);
            }
        }
        assert_eq!(a.name(Slot::Token), Sealer::new(b"secret-a", &[7; 32]).name(Slot::Token));
    }

    #[test]
    fn names_reveal_nothing() {
        let s = Sealer::new(b"secret-a", &[7; 32]);
        let n = s.name(Slot::Token);
        assert_eq!(n.len(), 64);
        assert!(n.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert!(!n.contains("secret"));
        // Not a plain digest of the key: knowing the key digest does not give the name.
        use sha2::{Digest, Sha256};
        let plain: String = Sha256::digest([7u8; 32]).iter().map(|b| format!("{b:02x}")).collect();
        assert_ne!(n, plain);
    }
}

//! Randomness for jitter and request ids: OS entropy, without a global lock.

use std::cell::Cell;
use std::time::Duration;

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::getrandom(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        b = (t ^ (&b as *const _ as u64)).to_le_bytes();
    }
    u64::from_le_bytes(b) | 1
}

/// xorshift64*: fast and good enough for jitter (not for secrets).
fn next_u64() -> u64 {
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

/// A uniformly random duration in `[0, max]`.
pub fn duration_up_to(max: Duration) -> Duration {
    let nanos = max.as_nanos().min(u64::MAX as u128) as u64;
    if nanos == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(next_u64() % (nanos + 1))
}

/// 16 bytes of OS randomness (falls back to the jitter generator).
pub fn bytes16() -> [u8; 16] {
    let mut b = [0u8; 16];
    if getrandom::getrandom(&mut b).is_err() {
        b[..8].copy_from_slice(&next_u64().to_le_bytes());
        b[8..].copy_from_slice(&next_u64().to_le_bytes());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_stay_in_range() {
        let max = Duration::from_millis(10);
        for _ in 0..1000 {
            assert!(duration_up_to(max) <= max);
        }
        assert_eq!(duration_up_to(Duration::ZERO), Duration::ZERO);
    }
}

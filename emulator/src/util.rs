//! Small helpers: random ids, UTC time formatting, form decoding, base64url.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;

/// Fill `buf` with random bytes from the OS.
pub(crate) fn random_bytes(buf: &mut [u8]) {
    getrandom::getrandom(buf).expect("OS random number generator failed");
}

/// A random (version 4) UUID in its lower-case hyphenated form.
pub(crate) fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    random_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    format_uuid(&b)
}

pub(crate) fn format_uuid(b: &[u8; 16]) -> String {
    let h = hex(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

pub(crate) fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(DIGITS[(x >> 4) as usize] as char);
        s.push(DIGITS[(x & 15) as usize] as char);
    }
    s
}

/// A deterministic GUID-shaped string derived from `name` (FNV-1a based; only
/// used to give non-GUID tenants a stable `tid`).
pub(crate) fn guid_from_name(name: &str) -> String {
    let mut out = [0u8; 16];
    for (half, seed) in [0xcbf2_9ce4_8422_2325u64, 0x8422_2325_cbf2_9ce4u64].iter().enumerate() {
        let mut h = *seed;
        for &c in name.to_ascii_lowercase().as_bytes() {
            h ^= c as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        out[half * 8..half * 8 + 8].copy_from_slice(&h.to_be_bytes());
    }
    out[6] = (out[6] & 0x0f) | 0x50;
    out[8] = (out[8] & 0x3f) | 0x80;
    format_uuid(&out)
}

pub(crate) fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Days since 1970-01-01 to (year, month, day) — Howard Hinnant's algorithm.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u64;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i64 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2026-11-26 05:40:27Z`, the format Entra uses in error bodies.
pub(crate) fn entra_timestamp(secs: u64) -> String {
    let (y, mo, d) = civil_from_days((secs / 86_400) as i64);
    let t = secs % 86_400;
    format!("{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}Z", t / 3600, t / 60 % 60, t % 60)
}

/// IMF-fixdate for the `Date` header: `Thu, 26 Nov 2026 05:40:27 GMT`.
pub(crate) fn http_date(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = secs / 86_400;
    let (y, mo, d) = civil_from_days(days as i64);
    let t = secs % 86_400;
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(mo - 1) as usize],
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

pub(crate) fn current_year() -> i32 {
    civil_from_days((unix_now() / 86_400) as i64).0 as i32
}

/// Percent-decode (`+` → space when `plus_is_space`); invalid escapes are kept
/// verbatim; invalid UTF-8 is replaced (lossy).
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decode an `application/x-www-form-urlencoded` body into ordered pairs.
pub(crate) fn parse_form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Decoded pairs as a map, keeping the first occurrence of each name.
pub(crate) fn first_of_each(pairs: Vec<(String, String)>) -> std::collections::BTreeMap<String, String> {
    let mut map = std::collections::BTreeMap::new();
    for (k, v) in pairs {
        map.entry(k).or_insert(v);
    }
    map
}

/// Form-urlencode one value (for test helpers and examples).
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(c as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{c:02X}")),
        }
    }
    out
}

pub(crate) fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

pub(crate) fn b64_decode_std(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    let s = s.trim();
    STANDARD.decode(s).or_else(|_| STANDARD_NO_PAD.decode(s)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(entra_timestamp(0), "1970-01-01 00:00:00Z");
        assert_eq!(entra_timestamp(1795671627), "2026-11-26 05:40:27Z");
        assert_eq!(http_date(1795671627), "Thu, 26 Nov 2026 05:40:27 GMT");
    }

    #[test]
    fn form() {
        let f = parse_form("a=b+c&d=%41%zz%&e&f=%C3%A9");
        assert_eq!(
            f,
            vec![
                ("a".into(), "b c".into()),
                ("d".into(), "A%zz%".into()),
                ("e".into(), "".into()),
                ("f".into(), "é".into())
            ]
        );
        assert_eq!(percent_decode(&form_encode("a b:+/é"), true), "a b:+/é");
    }

    #[test]
    fn guids() {
        assert!(is_guid(&uuid_v4()));
        assert!(is_guid(&guid_from_name("contoso.onmicrosoft.com")));
        assert!(!is_guid("common"));
    }
}

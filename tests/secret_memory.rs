//! After tokens were fetched and the clients freed, this process's memory
//! holds no copy of the client secret, of its form-encoded or Basic
//! (base64) forms, or of a replaced (stale) token; the current token is held
//! once, by the process-wide cache (which serves it to the next client of the
//! same key).
//!
//! The emulator runs as a child process (its copies of the secret are its
//! own), the secret is random, and the test keeps only masked copies of what
//! it searches for, so the search itself cannot find its own needles. It
//! scans every readable mapping of /proc/self/maps through /proc/self/mem:
//! heap, thread stacks (parked fetch threads included), everything.
//! Copies in kernel socket buffers are outside this process and not checked.

use paytrim_auth::{Client, ClientConfig, Credential};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use zeroize::Zeroizing;

const MASK: u8 = 0xA5;

/// A byte string kept only masked.
struct Needle {
    name: &'static str,
    masked: Vec<u8>,
}

impl Needle {
    fn new(name: &'static str, clear: &[u8]) -> Needle {
        Needle { name, masked: clear.iter().map(|b| b ^ MASK).collect() }
    }

    fn occurrences_in(&self, hay: &[u8]) -> usize {
        let first = self.masked[0] ^ MASK;
        let n = self.masked.len();
        let mut count = 0;
        let mut i = 0;
        while i + n <= hay.len() {
            if hay[i] == first && hay[i..i + n].iter().zip(&self.masked).all(|(h, m)| *h == m ^ MASK) {
                count += 1;
                i += n;
            } else {
                i += 1;
            }
        }
        count
    }
}

/// Counts each needle in every readable mapping; returns (name, count, where).
fn scan(needles: &[Needle]) -> Vec<(&'static str, usize, Vec<String>)> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let mut mem = std::fs::File::open("/proc/self/mem").unwrap();
    let mut found: Vec<(&'static str, usize, Vec<String>)> = needles.iter().map(|n| (n.name, 0, vec![])).collect();
    let overlap = needles.iter().map(|n| n.masked.len()).max().unwrap();
    let mut buf = vec![0u8; 1 << 20];
    for line in maps.lines() {
        let mut parts = line.split_whitespace();
        let (range, perms) = (parts.next().unwrap(), parts.next().unwrap());
        let name = line.split_whitespace().nth(5).unwrap_or("[anon]").to_owned();
        if !perms.starts_with('r') || name == "[vvar]" || name == "[vsyscall]" || name == "[vvar_vclock]" {
            continue;
        }
        let (start, end) = range.split_once('-').unwrap();
        let (start, end) = (u64::from_str_radix(start, 16).unwrap(), u64::from_str_radix(end, 16).unwrap());
        let mut at = start;
        while at < end {
            let len = ((end - at) as usize).min(buf.len());
            if mem.seek(SeekFrom::Start(at)).is_err() {
                break;
            }
            let Ok(got) = mem.read(&mut buf[..len]) else { break };
            if got == 0 {
                break;
            }
            for (needle, slot) in needles.iter().zip(found.iter_mut()) {
                let c = needle.occurrences_in(&buf[..got]);
                if c > 0 {
                    slot.1 += c;
                    slot.2.push(format!("{name} @ {at:#x}"));
                }
            }
            // Step back a little so a copy across a chunk edge is not missed
            // (a copy inside the overlap may count twice: fine for "none").
            at += got as u64;
            if at < end && got > overlap {
                at -= overlap as u64;
            }
        }
    }
    found
}

fn emulator_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("PAYTRIM_EMULATOR") {
        return p.into();
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for profile in ["debug", "release"] {
        let p = root.join("target").join(profile).join("paytrim-entra-emulator");
        if p.exists() {
            return p;
        }
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let ok = Command::new(cargo).args(["build", "-q", "-p", "paytrim-entra-emulator"]).status().unwrap();
    assert!(ok.success(), "building the emulator");
    root.join("target/debug/paytrim-entra-emulator")
}

/// The emulator as a child process, with two clients sharing `secret`.
fn start_emulator(ids: &[&str], secret: &str) -> (Child, String, String) {
    let mut cmd = Command::new(emulator_binary());
    cmd.arg("--exit-on-stdin-eof").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
    for id in ids {
        let arg = Zeroizing::new(format!("{id}:{secret}"));
        cmd.arg("--client").arg(arg.as_str());
    }
    let mut child = cmd.spawn().expect("emulator starts");
    drop(cmd);
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let ready: serde_json::Value = serde_json::from_str(&line).unwrap();
    let https = ready["https"].as_str().unwrap().to_owned();
    let ca = ready["ca_file"].as_str().unwrap().to_owned();
    (child, https, ca)
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::getrandom(&mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `Basic` credentials as RFC 6749 §2.3.1 builds them, kept only masked.
fn basic_needle(id: &str, secret: &str) -> Needle {
    use base64::Engine;
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    let raw = Zeroizing::new(format!("{}:{}", enc(id), enc(secret)));
    let b64 = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(raw.as_bytes()));
    // 40 characters that encode only bytes of the secret (bytes from a
    // multiple of 3 past the id and the colon), away from the padding.
    let from = (enc(id).len() + 1).div_ceil(3) * 4;
    Needle::new("base64(id:secret) of client_secret_basic", &b64.as_bytes()[from..from + 40])
}

#[test]
fn no_copy_of_the_secret_or_a_stale_token_survives_in_memory() {
    let core = random_hex(16); // 32 hex characters: the part searched for
    let secret = Zeroizing::new(format!("{core}+/={}", random_hex(4)));
    let ids = ["11111111-aaaa-4bbb-8ccc-000000000001", "11111111-aaaa-4bbb-8ccc-000000000002"];
    let (mut emu, https, ca) = start_emulator(&ids, &secret);
    let mut needles = vec![
        Needle::new("the secret (raw and form-encoded share this part)", core.as_bytes()),
        Needle::new("the secret, form-encoded", format!("{core}%2B%2F%3D").as_bytes()),
        basic_needle(ids[1], &secret),
    ];
    drop(core);

    let mut stale = Vec::new();
    let mut current = Vec::new();
    for (id, auth) in ids.iter().zip(["client_secret_post", "client_secret_basic"]) {
        let mut config = ClientConfig::default();
        for (k, v) in [
            ("authority_host", https.as_str()),
            ("tenant", "contoso.onmicrosoft.com"),
            ("ca_file", ca.as_str()),
            ("proxy", "none"),
            ("client_auth", auth),
        ] {
            config.set(k, v).unwrap();
        }
        let client = Client::new(id, Credential::client_secret(secret.as_str()), &config).unwrap();
        let first = client.with_token(|t| Needle::new("a replaced (stale) token", signature(t.secret()))).unwrap();
        let second = client.with_refreshed_token(|t| Needle::new("the current token", signature(t.secret()))).unwrap();
        stale.push(first);
        current.push(second);
        drop(client);
    }
    drop(secret);
    // The emulator holds its own copies; stop it first.
    drop(emu.stdin.take());
    let _ = emu.wait();

    let fixed = needles.len();
    needles.extend(stale);
    needles.extend(current);
    let found = scan(&needles);
    let mut left = Vec::new();
    for (i, (name, count, places)) in found.iter().enumerate() {
        let allowed = if i >= fixed + ids.len() { 1 } else { 0 };
        eprintln!("{name}: {count} cop{} (allowed {allowed}) {places:?}", if *count == 1 { "y" } else { "ies" });
        if *count > allowed {
            left.push(format!("{name}: {count} copies at {places:?}"));
        }
    }
    assert!(left.is_empty(), "copies left in memory: {left:#?}");
}

/// A distinctive 40-byte piece of a token: the end of its signature (a JWT's
/// claims are much alike from one token to the next).
fn signature(token: &str) -> &[u8] {
    let b = token.as_bytes();
    &b[b.len() - 40..]
}

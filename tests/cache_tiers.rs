//! The on-host and Redis cache tiers across real processes: each test
//! starts the emulator (which counts token requests) and then child
//! processes (this test binary again, running `child_process`) that create
//! a client and ask for tokens through the C ABI functions, with the tiers
//! configured through `paytrim_auth_config_set`. Redis tests run a real
//! `redis-server` (Debian's package; scripts/test.sh installs it) on a free
//! loopback port, and stop it.

mod common;

use paytrim_auth::ffi;
use paytrim_entra_emulator::{Emulator, Fault};
use std::collections::{BTreeMap, HashSet};
use std::ffi::{CStr, CString};
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- child side

/// Not a test on its own: the body of a child process (a no-op unless
/// `PT_CHILD` is set). Waits for `PT_GO` (a file) if given, then creates a
/// client from the `PT_*` variables and asks for `PT_CALLS` tokens, printing
/// one line per step.
#[test]
fn child_process() {
    if std::env::var_os("PT_CHILD").is_none() {
        return;
    }
    let var = |k: &str| std::env::var(k).ok();
    if let Some(go) = var("PT_GO") {
        let end = Instant::now() + Duration::from_secs(60);
        while !Path::new(&go).exists() && Instant::now() < end {
            std::thread::sleep(Duration::from_micros(500));
        }
    }
    let started = Instant::now();
    unsafe {
        if var("PT_LOG_THREADS").is_some() {
            // Each log line, marked with whether it came on this (the calling) thread.
            let _ = CALLER.set(std::thread::current().id());
            let e = ffi::paytrim_auth_set_log_callback(3, Some(log_line), std::ptr::null_mut());
            assert!(e.is_null());
        }
        let config = ffi::paytrim_auth_config_new();
        for pair in var("PT_CONFIG").unwrap_or_default().split('\n').filter(|l| !l.is_empty()) {
            let (k, v) = pair.split_once('=').expect("k=v");
            let (k, v) = (CString::new(k).unwrap(), CString::new(v).unwrap());
            let e = ffi::paytrim_auth_config_set(config, k.as_ptr(), v.as_ptr());
            if !e.is_null() {
                println!("CREATE err {} {}", ffi::paytrim_auth_error_code(e), message(e));
                return;
            }
        }
        let id = CString::new(var("PT_CLIENT_ID").unwrap()).unwrap();
        let secret = CString::new(var("PT_SECRET").unwrap()).unwrap();
        let mut client = std::ptr::null_mut();
        let e = ffi::paytrim_auth_client_new(id.as_ptr(), secret.as_ptr(), config, &mut client);
        ffi::paytrim_auth_config_free(config);
        if !e.is_null() {
            println!("CREATE err {} {}", ffi::paytrim_auth_error_code(e), message(e));
            return;
        }
        println!("CREATE ok");
        let calls: u32 = var("PT_CALLS").and_then(|c| c.parse().ok()).unwrap_or(1);
        // PT_PAUSES_MS: comma-separated sleeps after the first, second, ... call.
        let pauses: Vec<u64> =
            var("PT_PAUSES_MS").unwrap_or_default().split(',').filter_map(|p| p.trim().parse().ok()).collect();
        for call in 0..calls as usize {
            let t0 = Instant::now();
            let mut token = std::ptr::null_mut();
            // PT_REFRESH_AT: the call (0-based) made with refresh_token (after an API's 401).
            let e = if var("PT_REFRESH_AT").and_then(|r| r.parse::<usize>().ok()) == Some(call) {
                ffi::paytrim_auth_client_refresh_token(client, &mut token, std::ptr::null_mut())
            } else {
                ffi::paytrim_auth_client_get_token(client, &mut token, std::ptr::null_mut())
            };
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            if e.is_null() {
                let text = CStr::from_ptr(token).to_string_lossy().into_owned();
                ffi::paytrim_auth_string_free(token);
                println!("CALL ok {ms:.3} {} {:.3}", short_digest(&text), started.elapsed().as_secs_f64() * 1000.0);
            } else {
                println!("CALL err{} {ms:.3} {}", ffi::paytrim_auth_error_code(e), message(e));
            }
            if let Some(pause) = pauses.get(call) {
                std::thread::sleep(Duration::from_millis(*pause));
            }
        }
        ffi::paytrim_auth_client_free(client);
    }
}

static CALLER: std::sync::OnceLock<std::thread::ThreadId> = std::sync::OnceLock::new();

unsafe extern "C" fn log_line(_user: *mut std::ffi::c_void, _level: u32, message: *const std::ffi::c_char) {
    let on = if CALLER.get() == Some(&std::thread::current().id()) { "caller" } else { "other" };
    println!("LOG {on} {}", CStr::from_ptr(message).to_string_lossy().replace('\n', " "));
}

unsafe fn message(e: *mut ffi::paytrim_auth_error) -> String {
    let m = CStr::from_ptr(ffi::paytrim_auth_error_message(e)).to_string_lossy().replace('\n', " ");
    ffi::paytrim_auth_error_free(e);
    m
}

fn short_digest(text: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    format!("{:016x}", h.finish())
}

// --------------------------------------------------------------- parent side

struct Who {
    client_id: String,
    secret: String,
}

fn register(emu: &Emulator, tag: &str) -> Who {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let client_id = format!("{:08x}-0000-4000-8000-{n:012x}", std::process::id());
    let secret = format!("tier-secret-{tag}-{n}");
    emu.add_client(&client_id, &secret);
    Who { client_id, secret }
}

/// What one child printed.
#[derive(Debug, Default)]
struct Report {
    create: String,
    calls: Vec<Call>,
    /// With `PT_LOG_THREADS`: log lines, each starting with `caller ` or
    /// `other ` (the thread it came on).
    logs: Vec<String>,
}

#[derive(Debug, Clone)]
struct Call {
    ok: bool,
    ms: f64,
    /// Digest of the token, or the error.
    what: String,
}

struct Spec<'a> {
    emu: &'a Emulator,
    who: &'a Who,
    config: Vec<(String, String)>,
    calls: u32,
    env: Vec<(String, String)>,
}

impl<'a> Spec<'a> {
    fn new(emu: &'a Emulator, who: &'a Who) -> Spec<'a> {
        Spec {
            emu,
            who,
            config: vec![
                ("authority_host".into(), emu.https_url()),
                ("tenant".into(), "contoso.onmicrosoft.com".into()),
                ("ca_file".into(), emu.ca_file().to_str().unwrap().into()),
            ],
            calls: 1,
            env: Vec::new(),
        }
    }

    fn set(mut self, k: &str, v: impl Into<String>) -> Self {
        self.config.push((k.into(), v.into()));
        self
    }

    fn cache_dir(self, dir: &Path) -> Self {
        self.set("cache_dir", dir.to_str().unwrap())
    }

    fn command(&self, go: Option<&Path>) -> Command {
        let mut c = Command::new(std::env::current_exe().unwrap());
        c.args(["--exact", "child_process", "--nocapture", "--test-threads=1", "-q"])
            .env("PT_CHILD", "1")
            .env("PT_CLIENT_ID", &self.who.client_id)
            .env("PT_SECRET", &self.who.secret)
            .env("PT_CALLS", self.calls.to_string())
            .env("PT_CONFIG", self.config.iter().map(|(k, v)| format!("{k}={v}\n")).collect::<String>())
            .env_remove("PAYTRIM_CACHE_DIR")
            .env_remove("PAYTRIM_REDIS_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(go) = go {
            c.env("PT_GO", go);
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        let _ = self.emu;
        c
    }

    /// Runs one child to the end.
    fn run(&self) -> Report {
        wait_report(self.command(None).spawn().expect("spawn child"))
    }
}

fn wait_report(child: Child) -> Report {
    let out = child.wait_with_output().expect("child ends");
    parse(&String::from_utf8_lossy(&out.stdout))
}

fn parse(stdout: &str) -> Report {
    let mut r = Report::default();
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("LOG ") {
            r.logs.push(rest.to_owned());
        } else if let Some(rest) = line.strip_prefix("CREATE ") {
            r.create = rest.to_owned();
        } else if let Some(rest) = line.strip_prefix("CALL ") {
            let mut parts = rest.splitn(3, ' ');
            let status = parts.next().unwrap_or("");
            let ms: f64 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(f64::NAN);
            let what = parts.next().unwrap_or("").to_owned();
            let what = if status == "ok" {
                what.split(' ').next().unwrap_or("").to_owned()
            } else {
                format!("{status} {what}")
            };
            r.calls.push(Call { ok: status == "ok", ms, what });
        }
    }
    r
}

/// Starts `specs` as processes that all wait on one go-file, then releases
/// them at once; returns their reports.
fn run_at_once(specs: &[Spec<'_>]) -> Vec<Report> {
    let go = common::certs::temp_dir("go").join("go");
    let _ = fs::remove_file(&go);
    let children: Vec<Child> = specs.iter().map(|s| s.command(Some(&go)).spawn().expect("spawn child")).collect();
    // Let them all start and reach the wait.
    std::thread::sleep(Duration::from_millis(400 + 15 * specs.len() as u64));
    fs::write(&go, b"go").unwrap();
    children.into_iter().map(wait_report).collect()
}

fn assert_all_ok(reports: &[Report]) {
    for (i, r) in reports.iter().enumerate() {
        assert_eq!(r.create, "ok", "child {i}: {r:?}");
        assert!(!r.calls.is_empty() && r.calls.iter().all(|c| c.ok), "child {i}: {r:?}");
    }
}

fn tokens(reports: &[Report]) -> HashSet<String> {
    reports.iter().flat_map(|r| r.calls.iter().map(|c| c.what.clone())).collect()
}

fn cache_dir(tag: &str) -> PathBuf {
    let d = common::certs::temp_dir(&format!("tier-{tag}"));
    let _ = fs::remove_dir_all(&d);
    d.join("cache")
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let n = p.file_name().unwrap().to_string_lossy();
                    n.len() == 64 && !n.contains('.')
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

// ------------------------------------------------------------ on-host tier

#[test]
fn thirty_two_processes_on_a_cold_key_make_one_request() {
    let emu = Emulator::start().unwrap();
    // A slow token endpoint keeps every process waiting at once.
    emu.set_latency(Duration::from_millis(300));
    let who = register(&emu, "thirty-two");
    let dir = cache_dir("32");
    let specs: Vec<Spec> = (0..32).map(|_| Spec::new(&emu, &who).cache_dir(&dir)).collect();
    let reports = run_at_once(&specs);
    assert_all_ok(&reports);
    assert_eq!(emu.token_requests(), 1, "32 processes on one host, one cache dir: one request");
    assert_eq!(tokens(&reports).len(), 1, "they all got the one token");
    // The directory: mode 0700, one entry (plus its lock file), named by a digest.
    assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    let names = entries(&dir);
    assert_eq!(names.len(), 1, "{names:?}");
    let name = names[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(!name.contains(&who.client_id[..8]));
    assert_eq!(fs::metadata(&names[0]).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn a_later_process_gets_its_token_from_the_tier_without_a_request() {
    let emu = Emulator::start().unwrap();
    let who = register(&emu, "later");
    let dir = cache_dir("later");
    let first = Spec::new(&emu, &who).cache_dir(&dir).run();
    assert_all_ok(std::slice::from_ref(&first));
    assert_eq!(emu.token_requests(), 1);
    let second = Spec::new(&emu, &who).cache_dir(&dir).run();
    assert_all_ok(std::slice::from_ref(&second));
    assert_eq!(emu.token_requests(), 1, "the second process read the on-host tier");
    assert_eq!(first.calls[0].what, second.calls[0].what, "the same token");
    // Without the tier, a new process asks again.
    let without = Spec::new(&emu, &who).run();
    assert_all_ok(std::slice::from_ref(&without));
    assert_eq!(emu.token_requests(), 2);
    // The token is not in the directory in clear.
    for entry in entries(&dir) {
        let bytes = fs::read(entry).unwrap();
        assert!(!bytes.windows(3).any(|w| w == b"eyJ"), "a token-like text in an entry");
    }
}

#[test]
fn corrupt_truncated_and_foreign_entries_are_misses_then_rewritten() {
    let emu = Emulator::start().unwrap();
    let who = register(&emu, "corrupt");
    let other = register(&emu, "corrupt-other");
    let dir = cache_dir("corrupt");
    let run = |w: &Who| {
        let r = Spec::new(&emu, w).cache_dir(&dir).run();
        assert_all_ok(std::slice::from_ref(&r));
        r
    };
    run(&who);
    assert_eq!(emu.token_requests(), 1);
    let entry = entries(&dir).pop().unwrap();
    let good = fs::read(&entry).unwrap();
    let mut requests = 1;
    let damaged: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() / 2].to_vec()),
        ("one bit flipped", {
            let mut b = good.clone();
            let last = b.len() - 1;
            b[last] ^= 1;
            b
        }),
        ("empty", Vec::new()),
        ("garbage", b"not an entry at all\n".repeat(10)),
    ];
    for (what, bytes) in damaged {
        fs::write(&entry, &bytes).unwrap();
        run(&who);
        requests += 1;
        assert_eq!(emu.token_requests(), requests, "{what}: a miss, so one request");
        assert_ne!(fs::read(&entry).unwrap(), bytes, "{what}: rewritten");
        run(&who);
        assert_eq!(emu.token_requests(), requests, "{what}: the rewritten entry is used");
    }
    // Foreign: another credential's valid entry, put under this key's name.
    run(&other);
    requests += 1;
    let other_entry = entries(&dir).into_iter().find(|p| *p != entry).expect("the other credential's entry");
    fs::copy(&other_entry, &entry).unwrap();
    let r = run(&who);
    requests += 1;
    assert_eq!(emu.token_requests(), requests, "a foreign entry is a miss");
    let theirs = run(&other);
    assert_ne!(r.calls[0].what, theirs.calls[0].what, "never the other credential's token");
}

#[test]
fn two_credentials_never_read_each_others_entries() {
    let emu = Emulator::start().unwrap();
    let who = register(&emu, "cred-a");
    let dir = cache_dir("creds");
    let a = Spec::new(&emu, &who).cache_dir(&dir).run();
    assert_all_ok(std::slice::from_ref(&a));
    // Same client id, tenant and scopes, but not the secret: no token from the tier.
    let impostor = Who { client_id: who.client_id.clone(), secret: "a-wrong-secret".into() };
    let r = Spec::new(&emu, &impostor).cache_dir(&dir).run();
    assert_eq!(r.create, "ok");
    assert!(!r.calls[0].ok, "a wrong secret got a token: {r:?}");
    assert!(r.calls[0].what.starts_with("err2 "), "credential rejected by the server: {r:?}");
    assert_eq!(emu.token_requests(), 2, "the impostor had to ask the server");
    // Two registered clients: separate entries, separate tokens.
    let other = register(&emu, "cred-b");
    let b = Spec::new(&emu, &other).cache_dir(&dir).run();
    assert_all_ok(std::slice::from_ref(&b));
    assert_ne!(a.calls[0].what, b.calls[0].what);
    assert_eq!(emu.token_requests(), 3);
    assert_eq!(entries(&dir).len(), 2);
}

#[test]
fn an_unsafe_cache_dir_is_refused_at_client_creation() {
    let emu = Emulator::start().unwrap();
    let who = register(&emu, "perm");
    let dir = cache_dir("perm");
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    let r = Spec::new(&emu, &who).cache_dir(&dir).run();
    assert!(r.create.starts_with("err 1 ") && r.create.contains("writable by group or others"), "{r:?}");
    // The same through PAYTRIM_CACHE_DIR.
    let mut s = Spec::new(&emu, &who);
    s.env.push(("PAYTRIM_CACHE_DIR".into(), dir.to_str().unwrap().into()));
    let r = s.run();
    assert!(r.create.starts_with("err 1 ") && r.create.contains("PAYTRIM_CACHE_DIR"), "{r:?}");
    assert_eq!(emu.token_requests(), 0);
    assert!(entries(&dir).is_empty());
    // Once fixed, PAYTRIM_CACHE_DIR alone turns the tier on.
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    for _ in 0..2 {
        let mut s = Spec::new(&emu, &who);
        s.env.push(("PAYTRIM_CACHE_DIR".into(), dir.to_str().unwrap().into()));
        assert_all_ok(&[s.run()]);
    }
    assert_eq!(emu.token_requests(), 1);
}

#[test]
fn a_retry_after_seen_by_one_process_holds_back_the_others() {
    let emu = Emulator::start().unwrap();
    let who = register(&emu, "throttle");
    let dir = cache_dir("throttle");
    emu.push_fault(Fault::status(429).retry_after("30"));
    let spec = || Spec::new(&emu, &who).cache_dir(&dir).set("max_attempts", "1");
    let first = spec().run();
    assert!(first.calls[0].what.starts_with("err4 "), "{first:?}");
    assert_eq!(emu.token_requests(), 1);
    let second = spec().run();
    assert!(second.calls[0].what.starts_with("err4 "), "throttled without a request: {second:?}");
    assert!(second.calls[0].what.contains("another process"), "{second:?}");
    assert_eq!(emu.token_requests(), 1, "the second process sent nothing");
    // Another cache dir (another host) does not know of it.
    let elsewhere = Spec::new(&emu, &who).cache_dir(&cache_dir("throttle-2")).run();
    assert_all_ok(&[elsewhere]);
    assert_eq!(emu.token_requests(), 2);
}

#[test]
fn a_background_refresh_reaches_the_other_processes() {
    let emu = Emulator::start().unwrap();
    // 12 s tokens: refreshed in the background from about 6 s on (half-life, minus jitter).
    emu.set_expires_in(12);
    let who = register(&emu, "refresh");
    let dir = cache_dir("refresh");
    // Process A: a token, then a call inside the refresh window (served at
    // once, starts the background refresh), then the refreshed token.
    let mut a = Spec::new(&emu, &who).cache_dir(&dir);
    a.calls = 3;
    a.env.push(("PT_PAUSES_MS".into(), "6500,1000".into()));
    let a = a.run();
    assert_all_ok(std::slice::from_ref(&a));
    assert_eq!(emu.token_requests(), 2, "the first fetch and one background refresh: {a:?}");
    assert_eq!(a.calls[0].what, a.calls[1].what, "the call in the window got the current token");
    assert_ne!(a.calls[1].what, a.calls[2].what, "the refresh landed");
    // Process B, started after A: the refreshed token, from the tier.
    let b = Spec::new(&emu, &who).cache_dir(&dir).run();
    assert_all_ok(std::slice::from_ref(&b));
    assert_eq!(b.calls[0].what, a.calls[2].what, "the refreshed token reached the other process");
    assert_eq!(emu.token_requests(), 2);
}

#[test]
fn a_forced_refresh_never_takes_the_dropped_token_back_from_the_tier() {
    let emu = Emulator::start().unwrap();
    let who = register(&emu, "force");
    let dir = cache_dir("force");
    let first = Spec::new(&emu, &who).cache_dir(&dir).run();
    assert_all_ok(std::slice::from_ref(&first));
    // B reads the token from the tier, then its API answers 401: refresh_token.
    let mut b = Spec::new(&emu, &who).cache_dir(&dir);
    b.calls = 2;
    b.env.push(("PT_REFRESH_AT".into(), "1".into()));
    let b = b.run();
    assert_all_ok(std::slice::from_ref(&b));
    assert_eq!(b.calls[0].what, first.calls[0].what, "from the tier");
    assert_ne!(b.calls[1].what, first.calls[0].what, "the forced refresh fetched a new token");
    assert_eq!(emu.token_requests(), 2);
    // C: the new token, from the tier.
    let c = Spec::new(&emu, &who).cache_dir(&dir).run();
    assert_eq!(c.calls[0].what, b.calls[1].what);
    assert_eq!(emu.token_requests(), 2);
}

/// A new process whose token waits in a tier reads it on the calling
/// thread: no fetch thread is started for it (the thread hop was most of a
/// warm first token). A cold key still goes through the fetch thread.
#[test]
fn a_token_in_a_tier_is_read_on_the_calling_thread() {
    let emu = Emulator::start().unwrap();
    let mut redis = Redis::start(&[]);
    let who = register(&emu, "caller-thread");
    let dir = cache_dir("caller-thread");
    let both = Spec::new(&emu, &who).cache_dir(&dir).set("redis_url", redis.url());
    let host = Spec::new(&emu, &who).cache_dir(&dir);
    let from_redis = Spec::new(&emu, &who).set("redis_url", redis.url());
    // A host whose cache is empty: Redis's token is copied to its disk.
    let new_host = cache_dir("caller-thread-new-host");
    let empty_host = Spec::new(&emu, &who).cache_dir(&new_host).set("redis_url", redis.url());
    let mut runs = Vec::new();
    for mut spec in [both, host, from_redis, empty_host] {
        spec.env.push(("PT_LOG_THREADS".into(), "1".into()));
        let r = spec.run();
        assert_all_ok(std::slice::from_ref(&r));
        runs.push(r);
    }
    assert_eq!(emu.token_requests(), 1, "one fetch, then three tier hits: {runs:?}");
    assert_eq!(entries(&new_host).len(), 1, "the Redis hit was not copied to the empty on-host cache");
    for (r, tier) in runs[1..].iter().zip(["on-host", "Redis", "Redis, empty on-host"]) {
        let hit = r.logs.iter().find(|l| l.contains("tier, expires in")).unwrap_or_else(|| panic!("{tier}: {r:?}"));
        assert!(hit.starts_with("caller "), "{tier}: the tier was read on another thread: {hit}");
        assert!(r.logs.iter().all(|l| l.starts_with("caller ")), "{tier}: a thread was involved: {:?}", r.logs);
    }
    // The cold key's fetch ran on a fetch thread, as before.
    assert!(runs[0].logs.iter().any(|l| l.starts_with("other ")), "{:?}", runs[0].logs);
    redis.kill();
}

// -------------------------------------------------------------- Redis tier

/// A `redis-server` on a free loopback port, stopped on drop.
struct Redis {
    child: Option<Child>,
    port: u16,
    _dir: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Redis {
    fn start(extra: &[&str]) -> Redis {
        let port = free_port();
        let dir = common::certs::temp_dir(&format!("redis-{port}"));
        fs::create_dir_all(&dir).unwrap();
        let tls = extra.contains(&"--tls-port");
        let mut args: Vec<String> = vec!["--bind".into(), "127.0.0.1".into(), "--save".into(), "".into()];
        args.extend(["--appendonly".into(), "no".into(), "--dir".into(), dir.to_str().unwrap().into()]);
        if tls {
            args.extend(["--port".into(), "0".into(), "--tls-port".into(), port.to_string()]);
            args.extend(extra.iter().filter(|a| **a != "--tls-port").map(|s| s.to_string()));
        } else {
            args.extend(["--port".into(), port.to_string()]);
            args.extend(extra.iter().map(|s| s.to_string()));
        }
        let child = Command::new("redis-server")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/test.sh installs it from Debian's packages)");
        let end = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < end, "redis-server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis { child: Some(child), port, _dir: dir }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// One command over plain RESP (for inspection).
    fn command(&self, args: &[&str]) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        s.write_all(req.as_bytes()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let n = s.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

#[test]
fn eight_hosts_sharing_one_redis_make_one_request() {
    let redis = Redis::start(&[]);
    let emu = Emulator::start().unwrap();
    emu.set_latency(Duration::from_millis(300));
    let who = register(&emu, "eight-hosts");
    let specs: Vec<Spec> = (0..8)
        .map(|i| {
            Spec::new(&emu, &who)
                .cache_dir(&cache_dir(&format!("host-{i}")))
                .set("redis_url", redis.url())
                .set("redis_key_prefix", "fleet-a:")
        })
        .collect();
    let reports = run_at_once(&specs);
    assert_all_ok(&reports);
    assert_eq!(emu.token_requests(), 1, "8 hosts, one Redis: one request");
    assert_eq!(tokens(&reports).len(), 1);
    // Stored under the prefix, sealed, with a TTL below the token's life minus the margin.
    let keys = redis.command(&["KEYS", "fleet-a:*"]);
    let key = keys.lines().find(|l| l.starts_with("fleet-a:")).expect("a key under the prefix").to_owned();
    assert!(!key.ends_with(":lock"), "the lock was released: {keys}");
    let ttl: i64 = redis.command(&["PTTL", &key]).trim_start_matches(':').trim().parse().unwrap();
    assert!(ttl > 0 && ttl <= (3599 - 300) * 1000, "ttl {ttl}");
    // A new host (empty cache dir) later: from Redis, no request.
    let later = Spec::new(&emu, &who)
        .cache_dir(&cache_dir("host-later"))
        .set("redis_url", redis.url())
        .set("redis_key_prefix", "fleet-a:")
        .run();
    assert_all_ok(std::slice::from_ref(&later));
    assert_eq!(emu.token_requests(), 1);
    // A corrupt value in Redis: a miss for the next new host, then rewritten.
    assert!(redis.command(&["SET", &key, "garbage", "PX", "60000"]).starts_with("+OK"));
    let after_corruption = Spec::new(&emu, &who)
        .cache_dir(&cache_dir("host-after-corruption"))
        .set("redis_url", redis.url())
        .set("redis_key_prefix", "fleet-a:")
        .run();
    assert_all_ok(std::slice::from_ref(&after_corruption));
    assert_eq!(emu.token_requests(), 2, "a corrupt Redis value is a miss");
    assert!(!redis.command(&["GET", &key]).contains("garbage"), "and it was rewritten");
    // Another prefix is another cache.
    let other_prefix = Spec::new(&emu, &who).set("redis_url", redis.url()).set("redis_key_prefix", "fleet-b:").run();
    assert_all_ok(&[other_prefix]);
    assert_eq!(emu.token_requests(), 3);
}

#[test]
fn redis_killed_mid_run_costs_at_most_its_timeout() {
    let mut redis = Redis::start(&[]);
    let emu = Emulator::start().unwrap();
    let who = register(&emu, "redis-dies");
    let url = redis.url();
    let spec = |i: usize| {
        Spec::new(&emu, &who)
            .cache_dir(&cache_dir(&format!("dies-{i}")))
            .set("redis_url", url.clone())
            .set("redis_timeout_ms", "150")
    };
    assert_all_ok(&[spec(0).run()]);
    assert_eq!(emu.token_requests(), 1);
    redis.kill();
    // Each new host now pays a network fetch plus at most the Redis timeout.
    let plain = (0..2).map(|_| Spec::new(&emu, &who).run().calls[0].ms).fold(0.0, f64::max);
    // Slack for a loaded machine; a second timeout would still break it.
    let slack = 700.0;
    let bound = plain + 150.0 + slack;
    for i in 1..4 {
        let r = spec(i).run();
        assert_all_ok(std::slice::from_ref(&r));
        assert!(r.calls[0].ms <= bound, "call took {} ms, bound {bound} ms", r.calls[0].ms);
    }
    assert_eq!(emu.token_requests(), 6);
    // A Redis that accepts connections and never answers, or answers garbage:
    // at most one timeout (1 s here) is added, never one per command.
    let bound = plain + 1000.0 + slack;
    for behaviour in ["silent", "garbage"] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let garbage = behaviour == "garbage";
        std::thread::spawn(move || {
            for s in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut s = s;
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        if garbage {
                            let _ = s.write_all(b"%%% this is not RESP \x00\xff\r\n");
                        }
                    }
                });
            }
        });
        let r = Spec::new(&emu, &who)
            .cache_dir(&cache_dir(&format!("bad-redis-{behaviour}")))
            .set("redis_url", format!("redis://127.0.0.1:{port}"))
            .set("redis_timeout_ms", "1000")
            .run();
        assert_all_ok(std::slice::from_ref(&r));
        assert!(r.calls[0].ms <= bound, "{behaviour}: call took {} ms, bound {bound} ms", r.calls[0].ms);
    }
}

/// A reply of the slow Redis below is held this long (or until the fetch
/// thread's first MGET arrives).
enum Hold {
    For(Duration),
    UntilSecondMget,
}

/// A proxy in front of a real redis-server that answers slowly and
/// correctly: each reply is held for a time chosen by its command (`delay`),
/// except the first MGET's (the first caller's own read of Redis), held
/// until a second MGET arrives, i.e. until another thread's fetch has begun
/// its look-up, so the two overlap by construction. Returns its port and the
/// count of MGETs seen (with its condition variable).
fn slow_redis(upstream: u16, delay: fn(&[u8]) -> Duration) -> (u16, Arc<(Mutex<u32>, Condvar)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mgets = Arc::new((Mutex::new(0u32), Condvar::new()));
    let seen = mgets.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(up) = TcpStream::connect(("127.0.0.1", upstream)) else { continue };
            let (mut from_client, mut to_up) = (client.try_clone().unwrap(), up.try_clone().unwrap());
            let (mut from_up, mut to_client) = (up, client);
            let (holds, held) = std::sync::mpsc::channel::<Hold>();
            let (seen_in, seen_out) = (seen.clone(), seen.clone());
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n @ 1..) = from_client.read(&mut buf) {
                    let cmd = &buf[..n];
                    let hold = if cmd.windows(6).any(|w| w == b"\r\nMGET") {
                        let (count, woken) = &*seen_in;
                        let mut c = count.lock().unwrap();
                        *c += 1;
                        woken.notify_all();
                        if *c == 1 {
                            Hold::UntilSecondMget
                        } else {
                            Hold::For(delay(cmd))
                        }
                    } else {
                        Hold::For(delay(cmd))
                    };
                    let _ = holds.send(hold);
                    if to_up.write_all(cmd).is_err() {
                        break;
                    }
                }
            });
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n @ 1..) = from_up.read(&mut buf) {
                    match held.try_recv() {
                        Ok(Hold::For(d)) => std::thread::sleep(d),
                        Ok(Hold::UntilSecondMget) => {
                            let (count, woken) = &*seen_out;
                            let c = count.lock().unwrap();
                            let _ = woken.wait_timeout_while(c, Duration::from_secs(5), |c| *c < 2).unwrap();
                        }
                        Err(_) => {}
                    }
                    if to_client.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, mgets)
}

/// A client made in this process from `spec`'s configuration.
fn client_here(spec: &Spec<'_>) -> usize {
    unsafe {
        let config = ffi::paytrim_auth_config_new();
        for (k, v) in &spec.config {
            let (k, v) = (CString::new(k.as_str()).unwrap(), CString::new(v.as_str()).unwrap());
            assert!(ffi::paytrim_auth_config_set(config, k.as_ptr(), v.as_ptr()).is_null());
        }
        let id = CString::new(spec.who.client_id.as_str()).unwrap();
        let secret = CString::new(spec.who.secret.as_str()).unwrap();
        let mut client = std::ptr::null_mut();
        let e = ffi::paytrim_auth_client_new(id.as_ptr(), secret.as_ptr(), config, &mut client);
        ffi::paytrim_auth_config_free(config);
        assert!(e.is_null(), "{}", message(e));
        client as usize
    }
}

/// A blocking call whose own read of a slow Redis is still under way when
/// another thread starts the fetch, and which then waits for that fetch,
/// spends no more than `redis_timeout_ms` on Redis in all: every call ends
/// within a network fetch plus that timeout (plus slack), whichever thread
/// did the Redis work.
#[test]
fn a_call_joining_a_fetch_after_its_own_redis_read_spends_one_timeout() {
    let redis = Redis::start(&[]);
    let emu = Emulator::start().unwrap();
    let who = register(&emu, "slow-redis-join");
    // Every command answered, slowly: the fetch's look-up, its lock and its
    // second look fit the first half of the timeout, its write and lock
    // release the second half.
    let delay = |cmd: &[u8]| {
        let has = |w: &[u8]| cmd.windows(w.len()).any(|x| x == w);
        if has(b"\r\nNX\r\n") {
            Duration::from_millis(50)
        } else if has(b"\r\nMGET\r\n") || has(b"\r\nSET\r\n") || has(b"\r\nEVAL\r\n") {
            Duration::from_millis(700)
        } else {
            Duration::ZERO
        }
    };
    let (port, mgets) = slow_redis(redis.port, delay);
    let plain = (0..2).map(|_| Spec::new(&emu, &who).run().calls[0].ms).fold(0.0, f64::max);
    let spec =
        Spec::new(&emu, &who).set("redis_url", format!("redis://127.0.0.1:{port}")).set("redis_timeout_ms", "3000");
    let client = client_here(&spec);
    let call = move |refresh: bool| {
        let t0 = Instant::now();
        let mut token = std::ptr::null_mut();
        let c = client as *const ffi::paytrim_auth_client;
        let e = unsafe {
            if refresh {
                ffi::paytrim_auth_client_refresh_token(c, &mut token, std::ptr::null_mut())
            } else {
                ffi::paytrim_auth_client_get_token(c, &mut token, std::ptr::null_mut())
            }
        };
        assert!(e.is_null(), "{}", unsafe { message(e) });
        unsafe { ffi::paytrim_auth_string_free(token) };
        t0.elapsed().as_secs_f64() * 1000.0
    };
    // The first thread reads Redis on its own (a cold key: a miss, slowly).
    let reader = std::thread::spawn(move || call(false));
    {
        let (count, woken) = &*mgets;
        let c = count.lock().unwrap();
        let _ = woken.wait_timeout_while(c, Duration::from_secs(10), |c| *c < 1).unwrap();
    }
    // Late in that read, a second thread starts the fetch (a forced refresh
    // reads nothing on its own thread); the first joins it when its read ends.
    std::thread::sleep(Duration::from_millis(1200));
    let starter = std::thread::spawn(move || call(true));
    let (read_first, started) = (reader.join().unwrap(), starter.join().unwrap());
    unsafe { ffi::paytrim_auth_client_free(client as *mut ffi::paytrim_auth_client) };
    // The slack of the Redis-killed test, for a loaded machine.
    let bound = plain + 3000.0 + 700.0;
    for (who, ms) in [("the caller that read Redis first", read_first), ("the caller that started the fetch", started)]
    {
        assert!(ms <= bound, "{who}: call took {ms:.0} ms, bound {bound:.0} ms (network {plain:.0} ms)");
    }
    assert_eq!(emu.token_requests(), 3, "two plain fetches, then one for both threads");
}

#[test]
fn redis_over_tls_with_a_user_and_password() {
    // A CA and a server certificate for 127.0.0.1, written for redis-server.
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
    let dir = common::certs::temp_dir("redis-tls");
    fs::create_dir_all(&dir).unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.subject_alt_names = vec![SanType::IpAddress("127.0.0.1".parse().unwrap())];
    leaf.is_ca = IsCa::ExplicitNoCa;
    let leaf_cert = leaf.signed_by(&key, &issuer).unwrap();
    let (ca_file, cert_file, key_file) = (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"));
    fs::write(&ca_file, ca_cert.pem()).unwrap();
    fs::write(&cert_file, leaf_cert.pem()).unwrap();
    fs::write(&key_file, key.serialize_pem()).unwrap();
    let redis = Redis::start(&[
        "--tls-port",
        "--tls-cert-file",
        cert_file.to_str().unwrap(),
        "--tls-key-file",
        key_file.to_str().unwrap(),
        "--tls-ca-cert-file",
        ca_file.to_str().unwrap(),
        "--tls-auth-clients",
        "no",
        "--user",
        "default",
        "off",
        "--user",
        "tokens",
        "on",
        ">p@ss:w0rd",
        "~*",
        "&*",
        "+@all",
    ]);
    let emu = Emulator::start().unwrap();
    let who = register(&emu, "tls-redis");
    let url = format!("rediss://tokens:p%40ss%3Aw0rd@127.0.0.1:{}", redis.port);
    let spec = |i: usize| {
        Spec::new(&emu, &who)
            .cache_dir(&cache_dir(&format!("tls-{i}")))
            .set("redis_url", url.clone())
            .set("redis_ca_file", ca_file.to_str().unwrap())
            .set("redis_timeout_ms", "2000")
    };
    let reports: Vec<Report> = (0..3).map(|i| spec(i).run()).collect();
    assert_all_ok(&reports);
    assert_eq!(emu.token_requests(), 1, "hosts 2 and 3 read rediss://: {reports:?}");
    // A wrong password: Redis refuses, the tier is a miss, the token still comes.
    let wrong = Spec::new(&emu, &who)
        .cache_dir(&cache_dir("tls-wrong"))
        .set("redis_url", format!("rediss://tokens:nope@127.0.0.1:{}", redis.port))
        .set("redis_ca_file", ca_file.to_str().unwrap())
        .run();
    assert_all_ok(&[wrong]);
    assert_eq!(emu.token_requests(), 2);
}

/// For the parent: which keys a map holds (debug output of reports).
#[allow(dead_code)]
fn summary(reports: &[Report]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in reports {
        for c in &r.calls {
            *m.entry(c.what.clone()).or_insert(0) += 1;
        }
    }
    m
}

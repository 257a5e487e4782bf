//! Shared by the benches: an in-process emulator and thin helpers that go
//! through the C ABI (`paytrim_auth::ffi`), exactly as a C caller would.
#![allow(dead_code)]

use paytrim_auth::ffi::*;
use std::ffi::{c_char, CStr, CString};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::ptr;
use std::time::Duration;

pub const TENANT: &str = "contoso.onmicrosoft.com";
pub const CLIENT_ID: &str = "bench-client";
pub const CLIENT_SECRET: &str = "bench-secret";

/// The emulator binary, run as its own process (so its sockets and threads
/// are not the benchmark's: 10,000 cached keys mean 10,000 idle keep-alive
/// connections on each side). `$PAYTRIM_EMULATOR`, else
/// target/release/paytrim-entra-emulator (scripts/bench.sh builds it).
pub struct Emulator {
    child: Child,
    stdin: Option<ChildStdin>,
    https: String,
    http_addr: String,
    ca_file: String,
}

impl Emulator {
    pub fn https_url(&self) -> String {
        self.https.clone()
    }
    pub fn ca_file(&self) -> std::path::PathBuf {
        self.ca_file.clone().into()
    }
    /// The plain listener, `http://127.0.0.1:PORT`: the control API and the
    /// managed-identity endpoints (IMDS base; App Service at `/msi/token`).
    pub fn http_url(&self) -> String {
        format!("http://{}", self.http_addr)
    }
    pub fn token_url(&self) -> String {
        format!("{}/{TENANT}/oauth2/v2.0/token", self.https)
    }
    /// `GET /_emulator/stats` -> token_requests.
    pub fn token_requests(&self) -> u64 {
        let body = self.control("GET", "/_emulator/stats", "");
        let v: serde_json::Value = serde_json::from_str(&body).expect("stats JSON");
        v["token_requests"].as_u64().expect("token_requests")
    }
    /// POST /_emulator/config, e.g. `{"latency_ms":0}`.
    pub fn configure(&self, json: &str) {
        self.control("POST", "/_emulator/config", json);
    }
    fn control(&self, method: &str, path: &str, body: &str) -> String {
        let mut s = TcpStream::connect(&self.http_addr).expect("emulator control connection");
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.http_addr,
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").expect("HTTP answer");
        assert!(head.starts_with("HTTP/1.1 200"), "{method} {path}: {head}");
        body.to_owned()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        drop(self.stdin.take()); // --exit-on-stdin-eof
        let _ = self.child.wait();
    }
}

pub fn emulator_binary() -> String {
    std::env::var("PAYTRIM_EMULATOR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/paytrim-entra-emulator").to_owned())
}

/// 10,000 cached keys hold 10,000 keep-alive connections (each client's
/// agent keeps its idle connection): raise the descriptor limit for us and
/// the emulator (which uses two per connection) when we may.
pub fn raise_fd_limit() {
    unsafe {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < 65536 {
            let want = libc::rlimit { rlim_cur: 65536, rlim_max: lim.rlim_max.max(65536) };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) != 0 {
                lim.rlim_cur = lim.rlim_max;
                libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            }
        }
    }
}

pub fn start_emulator() -> Emulator {
    raise_fd_limit();
    let bin = emulator_binary();
    let mut child = Command::new(&bin)
        .args(["--exit-on-stdin-eof", "--client", &format!("{CLIENT_ID}:{CLIENT_SECRET}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {bin} ({e}); build it: cargo build --release -p paytrim-entra-emulator")
        });
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("ready line");
    let v: serde_json::Value = serde_json::from_str(&line).expect("ready JSON");
    let s = |k: &str| v[k].as_str().expect(k).to_owned();
    Emulator {
        stdin: child.stdin.take(),
        child,
        https: s("https"),
        http_addr: s("http").trim_start_matches("http://").to_owned(),
        ca_file: s("ca_file"),
    }
}

/// A client pointer that may be shared across threads (the C ABI allows it).
#[derive(Clone, Copy)]
pub struct ClientPtr(pub *mut paytrim_auth_client);
unsafe impl Send for ClientPtr {}
unsafe impl Sync for ClientPtr {}

unsafe fn check(err: *mut paytrim_auth_error, what: &str) {
    if !err.is_null() {
        let msg = CStr::from_ptr(paytrim_auth_error_message(err)).to_string_lossy().into_owned();
        paytrim_auth_error_free(err);
        panic!("{what}: {msg}");
    }
}

/// `paytrim_auth_config_new` + `_set` (tenant, authority_host, ca_file, scope)
/// + `paytrim_auth_client_new` + `paytrim_auth_config_free`.
pub fn new_client(emu: &Emulator, scope: &str) -> ClientPtr {
    new_client_as(emu, CLIENT_ID, CLIENT_SECRET, scope)
}

pub fn new_client_as(emu: &Emulator, id: &str, secret: &str, scope: &str) -> ClientPtr {
    let https = emu.https_url();
    let ca = emu.ca_file().to_string_lossy().into_owned();
    unsafe {
        let cfg = paytrim_auth_config_new();
        for (k, v) in
            [("tenant", TENANT), ("authority_host", https.as_str()), ("ca_file", ca.as_str()), ("scope", scope)]
        {
            let (k, v) = (CString::new(k).unwrap(), CString::new(v).unwrap());
            check(paytrim_auth_config_set(cfg, k.as_ptr(), v.as_ptr()), "config_set");
        }
        let (id, secret) = (CString::new(id).unwrap(), CString::new(secret).unwrap());
        let mut client = ptr::null_mut();
        check(paytrim_auth_client_new(id.as_ptr(), secret.as_ptr(), cfg, &mut client), "client_new");
        paytrim_auth_config_free(cfg);
        ClientPtr(client)
    }
}

/// One `paytrim_auth_client_get_token` + `paytrim_auth_string_free`; returns
/// the token length (so nothing is optimised away).
#[inline(always)]
pub fn get_token(c: ClientPtr) -> usize {
    unsafe {
        let mut tok: *mut c_char = ptr::null_mut();
        let mut exp: i64 = 0;
        let err = paytrim_auth_client_get_token(c.0, &mut tok, &mut exp);
        if !err.is_null() {
            check(err, "get_token");
        }
        // The caller "uses" the token: read its first byte, as a header
        // builder would start copying it.
        let first = *tok as u8 as usize;
        paytrim_auth_string_free(tok);
        first
    }
}

/// One `paytrim_auth_client_get_token_for_scopes` + `paytrim_auth_string_free`.
#[inline(always)]
pub fn get_token_for_scopes(c: ClientPtr, scopes: &std::ffi::CStr) -> usize {
    unsafe {
        let mut tok: *mut c_char = ptr::null_mut();
        let mut exp: i64 = 0;
        let err = paytrim_auth_client_get_token_for_scopes(c.0, scopes.as_ptr(), &mut tok, &mut exp);
        if !err.is_null() {
            check(err, "get_token_for_scopes");
        }
        let first = *tok as u8 as usize;
        paytrim_auth_string_free(tok);
        first
    }
}

pub fn free_client(c: ClientPtr) {
    unsafe { paytrim_auth_client_free(c.0) }
}

pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Resident set size of this process in bytes (/proc/self/statm).
pub fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = s.split_whitespace().nth(1).and_then(|x| x.parse().ok()).unwrap_or(0);
    pages * 4096
}

/// Appends one result line (JSON) to $PAYTRIM_BENCH_OUT (if set) and prints it.
pub fn record(json: String) {
    println!("RESULT {json}");
    if let Ok(path) = std::env::var("PAYTRIM_BENCH_OUT") {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open results");
        writeln!(f, "{json}").unwrap();
    }
}

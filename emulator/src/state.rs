//! Shared emulator state: knobs, registered clients, the fault queue, recorded
//! requests, counters, and the shutdown machinery.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};

use crate::faults::{Fault, FaultKind};

/// The default test client: the values in Paytrim's public documentation.
pub const DEFAULT_CLIENT_ID: &str = "11111111-1111-1111-1111-111111111111";
/// Secret of [`DEFAULT_CLIENT_ID`].
pub const DEFAULT_CLIENT_SECRET: &str = "your-client-secret";

/// At most this many recorded requests are kept (oldest dropped first).
pub const MAX_RECORDED: usize = 10_000;

/// Behaviour knobs. They persist until changed or until [`crate::Emulator::reset`],
/// which restores the values the emulator was started with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Knobs {
    /// Delay before every token response (`latency_ms`).
    pub latency: Duration,
    /// `expires_in` of issued tokens, seconds (default 3599).
    pub expires_in: u64,
    /// Send `expires_in` / `ext_expires_in` / `refresh_in` as JSON strings.
    pub expires_in_as_string: bool,
    /// `ext_expires_in`; `None` = same as `expires_in`.
    pub ext_expires_in: Option<u64>,
    /// `refresh_in`; omitted from responses when `None` (default).
    pub refresh_in: Option<u64>,
    /// `token_type` of issued tokens (default `Bearer`).
    pub token_type: String,
    /// Reject `common` / `organizations` / `consumers` with AADSTS50059.
    pub reject_tenantless: bool,
    /// Tenants answered with AADSTS90002 (default `["unknown-tenant"]`).
    pub unknown_tenants: Vec<String>,
}

impl Default for Knobs {
    fn default() -> Knobs {
        Knobs {
            latency: Duration::ZERO,
            expires_in: 3599,
            expires_in_as_string: false,
            ext_expires_in: None,
            refresh_in: None,
            token_type: "Bearer".into(),
            reject_tenantless: false,
            unknown_tenants: vec!["unknown-tenant".into()],
        }
    }
}

impl Knobs {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "latency_ms": self.latency.as_millis() as u64,
            "expires_in": self.expires_in,
            "expires_in_as_string": self.expires_in_as_string,
            "ext_expires_in": self.ext_expires_in.unwrap_or(self.expires_in),
            "refresh_in": self.refresh_in,
            "token_type": self.token_type,
            "reject_tenantless": self.reject_tenantless,
            "unknown_tenants": self.unknown_tenants,
        })
    }

    /// Apply a partial update in the control-API JSON form. All or nothing.
    pub(crate) fn apply_json(&mut self, v: &Value) -> Result<(), String> {
        let obj = v.as_object().ok_or("config must be a JSON object")?;
        let mut k = self.clone();
        fn uint(key: &str, v: &Value) -> Result<u64, String> {
            match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| format!("'{key}' must be a non-negative integer"))
        }
        fn opt_uint(key: &str, v: &Value) -> Result<Option<u64>, String> {
            if v.is_null() {
                Ok(None)
            } else {
                uint(key, v).map(Some)
            }
        }
        fn boolean(key: &str, v: &Value) -> Result<bool, String> {
            v.as_bool().ok_or_else(|| format!("'{key}' must be true or false"))
        }
        for (key, val) in obj {
            match key.as_str() {
                "latency_ms" => k.latency = Duration::from_millis(uint(key, val)?),
                "expires_in" => {
                    // `"expires_in":"string"` is shorthand for expires_in_as_string.
                    if val.as_str() == Some("string") {
                        k.expires_in_as_string = true;
                    } else {
                        k.expires_in = uint(key, val)?;
                    }
                }
                "expires_in_as_string" => k.expires_in_as_string = boolean(key, val)?,
                "ext_expires_in" => k.ext_expires_in = opt_uint(key, val)?,
                "refresh_in" => k.refresh_in = opt_uint(key, val)?,
                "token_type" => k.token_type = val.as_str().ok_or("'token_type' must be a string")?.to_string(),
                "reject_tenantless" => k.reject_tenantless = boolean(key, val)?,
                "unknown_tenants" => {
                    k.unknown_tenants = val
                        .as_array()
                        .and_then(|a| a.iter().map(|t| t.as_str().map(str::to_string)).collect())
                        .ok_or("'unknown_tenants' must be an array of strings")?
                }
                other => return Err(format!("unknown knob '{other}'")),
            }
        }
        *self = k;
        Ok(())
    }
}

/// How the client authenticated in a recorded request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `client_id` + `client_secret` in the form body.
    ClientSecretPost,
    /// `Authorization: Basic ...`.
    ClientSecretBasic,
    /// `client_assertion_type` + `client_assertion` (certificate or federated).
    ClientAssertion,
    /// Several at once (rejected).
    Both,
}

/// One token-endpoint request as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedRequest {
    /// 1-based sequence number (not reset by dropping old records).
    pub seq: u64,
    /// `https` or `http`.
    pub scheme: String,
    pub method: String,
    /// Request path (no query string).
    pub path: String,
    /// Percent-decoded tenant segment (Entra flavour only).
    pub tenant: Option<String>,
    /// Header names lower-cased; repeated headers joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// Decoded query parameters (first occurrence wins); managed-identity
    /// endpoints carry everything here.
    pub query: BTreeMap<String, String>,
    /// Raw body (lossy UTF-8).
    pub body: String,
    /// Decoded form fields (first occurrence wins).
    pub form: BTreeMap<String, String>,
    pub basic_client_id: Option<String>,
    pub basic_client_secret: Option<String>,
    /// Client authentication method, when one was recognisable.
    pub client_auth: Option<ClientAuth>,
    /// Name of the fault applied to this request, if any.
    pub fault: Option<String>,
    /// Status sent (`None` for a `reset` fault or while in flight).
    pub status: Option<u16>,
}

impl RecordedRequest {
    /// Header by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
    /// Decoded query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }
    /// Decoded form field.
    pub fn form_field(&self, name: &str) -> Option<&str> {
        self.form.get(name).map(String::as_str)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub secret: String,
    pub expired: bool,
}

pub(crate) struct State {
    pub knobs: Knobs,
    pub initial_knobs: Knobs,
    pub faults: VecDeque<Fault>,
    pub requests: VecDeque<RecordedRequest>,
    pub next_seq: u64,
    pub token_requests: u64,
    pub tokens_issued: u64,
    pub clients: HashMap<String, Client>,
    /// Managed identities and the managed-identity endpoints' settings.
    pub managed: crate::managed_identity::Registry,
    /// Certificates and federated credentials of assertion clients.
    pub assertions: crate::assertion::Registry,
}

impl State {
    pub fn new(knobs: Knobs, clients: HashMap<String, Client>) -> State {
        State {
            initial_knobs: knobs.clone(),
            knobs,
            faults: VecDeque::new(),
            requests: VecDeque::new(),
            next_seq: 1,
            token_requests: 0,
            tokens_issued: 0,
            clients,
            managed: crate::managed_identity::Registry::default(),
            assertions: crate::assertion::Registry::default(),
        }
    }

    pub fn reset(&mut self) {
        self.knobs = self.initial_knobs.clone();
        self.faults.clear();
        self.requests.clear();
        self.token_requests = 0;
        self.tokens_issued = 0;
        self.managed.reset();
    }

    /// Take one use of the fault at the head of the queue.
    pub fn next_fault(&mut self) -> Option<FaultKind> {
        let head = self.faults.front_mut()?;
        let kind = head.kind.clone();
        head.count = head.count.saturating_sub(1);
        if head.count == 0 {
            self.faults.pop_front();
        }
        Some(kind)
    }

    pub fn record(&mut self, mut r: RecordedRequest) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        r.seq = seq;
        self.token_requests += 1;
        if self.requests.len() >= MAX_RECORDED {
            self.requests.pop_front();
        }
        self.requests.push_back(r);
        seq
    }

    pub fn set_status(&mut self, seq: u64, status: u16) {
        if let Some(r) = self.requests.iter_mut().rev().find(|r| r.seq == seq) {
            r.status = Some(status);
        }
    }
}

pub(crate) struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    shutdown: AtomicBool,
    conns: Mutex<HashMap<u64, TcpStream>>,
    next_conn: AtomicU64,
    active: AtomicUsize,
    pub verbose: bool,
    /// `tid` for tokens from the generic `/oauth2/token` endpoint.
    pub generic_tid: String,
    /// `x5t`/`kid` of the (fake) signing key.
    pub kid: String,
}

impl Shared {
    pub fn new(state: State, verbose: bool) -> Shared {
        let mut kid = [0u8; 20];
        crate::util::random_bytes(&mut kid);
        Shared {
            state: Mutex::new(state),
            wake: Condvar::new(),
            shutdown: AtomicBool::new(false),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            active: AtomicUsize::new(0),
            verbose,
            generic_tid: crate::util::uuid_v4(),
            kid: crate::util::b64url(&kid),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Sleep for `d`, returning early (with `false`) on shutdown.
    pub fn sleep(&self, d: Duration) -> bool {
        if d.is_zero() {
            return !self.is_shutdown();
        }
        let deadline = Instant::now() + d;
        let mut g = self.lock();
        loop {
            if self.is_shutdown() {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            g = self.wake.wait_timeout(g, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Register a live connection so shutdown can unblock it.
    pub fn register_conn(&self, s: &TcpStream) -> u64 {
        let id = self.next_conn.fetch_add(1, Ordering::SeqCst);
        self.active.fetch_add(1, Ordering::SeqCst);
        if let Ok(c) = s.try_clone() {
            self.conns.lock().unwrap_or_else(|e| e.into_inner()).insert(id, c);
        }
        if self.is_shutdown() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        id
    }

    /// Forget a connection (drops the registry's duplicate descriptor, which
    /// matters for RST: the socket closes only when every descriptor is closed).
    pub fn unregister_conn(&self, id: u64) {
        self.conns.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    }

    pub fn conn_finished(&self) {
        self.active.fetch_sub(1, Ordering::SeqCst);
    }

    /// Flag shutdown, wake sleepers, and shut every live connection down.
    pub fn begin_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        {
            let _g = self.lock();
            self.wake.notify_all();
        }
        for (_, c) in self.conns.lock().unwrap_or_else(|e| e.into_inner()).drain() {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Wait (bounded) for connection threads to finish.
    pub fn wait_idle(&self, max: Duration) {
        let deadline = Instant::now() + max;
        while self.active.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

//! `paytrim-entra-emulator`: a faithful local Microsoft Entra ID
//! client-credentials token endpoint for tests.
//!
//! ```no_run
//! use paytrim_entra_emulator::{Emulator, Fault};
//! let emu = Emulator::start().unwrap();
//! let url = emu.token_url("contoso.onmicrosoft.com"); // https://127.0.0.1:PORT/.../oauth2/v2.0/token
//! emu.push_fault(Fault::status(503).retry_after("1"));
//! // ... point the client at `url`, trusting `emu.ca_file()` ...
//! assert_eq!(emu.tokens_issued(), 0);
//! ```
//!
//! See `emulator/README.md` for the control API and the command-line tool.

#![deny(unsafe_op_in_unsafe_fn)]

mod assertion;
mod control;
mod discovery;
mod entra;
mod faults;
mod http;
mod managed_identity;
mod server;
mod state;
mod tls;
mod util;

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use assertion::{FederatedRecord, ASSERTION_TYPE, FEDERATED_AUDIENCE};
pub use faults::{Fault, FaultKind};
pub use managed_identity::{
    ManagedIdentity, APP_SERVICE_API_VERSION, APP_SERVICE_PATH, DEFAULT_IDENTITY_HEADER, IMDS_API_VERSION, IMDS_PATH,
};
pub use state::{ClientAuth, Knobs, RecordedRequest, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MAX_RECORDED};
pub use util::form_encode;

use state::{Client, Shared, State};

/// A running emulator. Dropping it (or [`Emulator::shutdown`]) stops the
/// listeners, cuts stalled and keep-alive connections, and removes a
/// temporary CA file.
pub struct Emulator {
    shared: Arc<Shared>,
    https_addr: SocketAddr,
    http_addr: SocketAddr,
    ca_file: PathBuf,
    ca_pem: String,
    remove_ca_file: bool,
    threads: Vec<JoinHandle<()>>,
}

/// Configures an [`Emulator`] before it starts. Obtain with [`Emulator::builder`].
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    clients: Vec<(String, String, bool)>,
    knobs: Knobs,
    ca_file: Option<PathBuf>,
    https_port: u16,
    http_port: u16,
    verbose: bool,
    dns_names: Vec<String>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            clients: vec![(DEFAULT_CLIENT_ID.into(), DEFAULT_CLIENT_SECRET.into(), false)],
            knobs: Knobs::default(),
            ca_file: None,
            https_port: 0,
            http_port: 0,
            verbose: false,
            dns_names: Vec::new(),
        }
    }
}

impl EmulatorBuilder {
    /// Register a client (in addition to the default one).
    pub fn client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.clients.push((id.into(), secret.into(), false));
        self
    }
    /// Register a client whose secret is expired (AADSTS7000222).
    pub fn expired_client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.clients.push((id.into(), secret.into(), true));
        self
    }
    /// Delay before every token response.
    pub fn latency(mut self, d: Duration) -> Self {
        self.knobs.latency = d;
        self
    }
    /// `expires_in` of issued tokens (seconds).
    pub fn expires_in(mut self, secs: u64) -> Self {
        self.knobs.expires_in = secs;
        self
    }
    /// Start with these knobs (also what [`Emulator::reset`] returns to).
    pub fn knobs(mut self, knobs: Knobs) -> Self {
        self.knobs = knobs;
        self
    }
    /// Adjust the start knobs in place.
    pub fn configure(mut self, f: impl FnOnce(&mut Knobs)) -> Self {
        f(&mut self.knobs);
        self
    }
    /// Write the CA certificate (PEM) here instead of a temporary file. The
    /// file is left in place at shutdown.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }
    /// HTTPS port on 127.0.0.1 (0 = any free port, the default).
    pub fn https_port(mut self, port: u16) -> Self {
        self.https_port = port;
        self
    }
    /// Plain HTTP port on 127.0.0.1 (0 = any free port, the default).
    pub fn http_port(mut self, port: u16) -> Self {
        self.http_port = port;
        self
    }
    /// Log one line per request to stderr (never bodies or secrets).
    pub fn verbose(mut self, on: bool) -> Self {
        self.verbose = on;
        self
    }

    /// Also name this DNS host in the server certificate (beside 127.0.0.1 and
    /// ::1). The listener stays on 127.0.0.1: a test reaches it under that
    /// name through a proxy of its own that tunnels to loopback, e.g. to test
    /// environment proxies, which a client never uses for a loopback host.
    pub fn dns_name(mut self, name: impl Into<String>) -> Self {
        self.dns_names.push(name.into());
        self
    }

    /// Generate certificates, bind both listeners and start serving.
    pub fn start(self) -> io::Result<Emulator> {
        let tls = tls::generate(&self.dns_names)?;
        let https = TcpListener::bind((Ipv4Addr::LOCALHOST, self.https_port))?;
        let http = TcpListener::bind((Ipv4Addr::LOCALHOST, self.http_port))?;
        let https_addr = https.local_addr()?;
        let http_addr = http.local_addr()?;

        let (ca_file, remove_ca_file) = match self.ca_file {
            Some(p) => {
                std::fs::write(&p, &tls.ca_pem)?;
                (std::path::absolute(&p).unwrap_or(p), false)
            }
            None => (write_temp_ca(&tls.ca_pem)?, true),
        };

        let clients: HashMap<String, Client> =
            self.clients.into_iter().map(|(id, secret, expired)| (id, Client { secret, expired })).collect();
        let shared = Arc::new(Shared::new(State::new(self.knobs, clients), self.verbose));
        let mut emu = Emulator {
            shared: shared.clone(),
            https_addr,
            http_addr,
            ca_file,
            ca_pem: tls.ca_pem,
            remove_ca_file,
            threads: Vec::new(),
        };
        emu.threads.push(server::spawn_listener(shared.clone(), https, server::Scheme::Https, Some(tls.config))?);
        emu.threads.push(server::spawn_listener(shared, http, server::Scheme::Http, None)?);
        Ok(emu)
    }
}

/// A secret nobody knows, for clients that authenticate otherwise.
fn random_secret() -> String {
    let mut r = [0u8; 24];
    util::random_bytes(&mut r);
    util::hex(&r)
}

fn write_temp_ca(pem: &str) -> io::Result<PathBuf> {
    use std::io::Write;
    let dir = std::env::temp_dir();
    for _ in 0..16 {
        let mut r = [0u8; 6];
        util::random_bytes(&mut r);
        let path = dir.join(format!("paytrim-entra-emulator-{}-{}-ca.pem", std::process::id(), util::hex(&r)));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut f) => {
                f.write_all(pem.as_bytes())?;
                return Ok(std::path::absolute(&path).unwrap_or(path));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("could not create a temporary CA file"))
}

impl Emulator {
    /// Start with defaults: random ports, temporary CA file, the default
    /// client ([`DEFAULT_CLIENT_ID`] / [`DEFAULT_CLIENT_SECRET`]).
    pub fn start() -> io::Result<Emulator> {
        EmulatorBuilder::default().start()
    }

    /// Configure before starting.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// `https://127.0.0.1:PORT`
    pub fn https_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.https_addr.port())
    }
    /// `http://127.0.0.1:PORT`
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_addr.port())
    }
    pub fn https_port(&self) -> u16 {
        self.https_addr.port()
    }
    pub fn http_port(&self) -> u16 {
        self.http_addr.port()
    }
    /// HTTPS Entra token URL: `https://127.0.0.1:PORT/{tenant}/oauth2/v2.0/token`.
    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.https_url())
    }
    /// Plain-HTTP Entra token URL.
    pub fn http_token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.http_url())
    }
    /// HTTPS generic OAuth 2.0 token URL: `https://127.0.0.1:PORT/oauth2/token`.
    pub fn generic_token_url(&self) -> String {
        format!("{}/oauth2/token", self.https_url())
    }
    /// The authority-host form: `https://127.0.0.1:PORT/` — clients that
    /// build `{authority}/{tenant}/oauth2/v2.0/token` themselves.
    pub fn authority_url(&self) -> String {
        format!("{}/", self.https_url())
    }
    /// Path of the CA certificate (PEM) that signed the server certificate.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }
    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// All token-endpoint requests so far (faulted ones included).
    pub fn token_requests(&self) -> u64 {
        self.shared.lock().token_requests
    }
    /// Tokens successfully issued so far.
    pub fn tokens_issued(&self) -> u64 {
        self.shared.lock().tokens_issued
    }
    /// Recorded token-endpoint requests, oldest first (at most [`MAX_RECORDED`]).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.iter().cloned().collect()
    }
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.shared.lock().requests.back().cloned()
    }
    /// Wait until at least `n` token requests arrived; `false` on timeout.
    pub fn wait_for_requests(&self, n: u64, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if self.token_requests() >= n {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Current knobs.
    pub fn knobs(&self) -> Knobs {
        self.shared.lock().knobs.clone()
    }
    /// Change knobs in place: `emu.configure(|k| k.refresh_in = Some(60))`.
    pub fn configure(&self, f: impl FnOnce(&mut Knobs)) {
        f(&mut self.shared.lock().knobs);
    }
    pub fn set_latency(&self, d: Duration) {
        self.configure(|k| k.latency = d);
    }
    pub fn set_expires_in(&self, secs: u64) {
        self.configure(|k| k.expires_in = secs);
    }
    pub fn set_expires_in_as_string(&self, on: bool) {
        self.configure(|k| k.expires_in_as_string = on);
    }
    /// `None` = same as `expires_in`.
    pub fn set_ext_expires_in(&self, secs: Option<u64>) {
        self.configure(|k| k.ext_expires_in = secs);
    }
    /// `None` = omit `refresh_in` (default).
    pub fn set_refresh_in(&self, secs: Option<u64>) {
        self.configure(|k| k.refresh_in = secs);
    }
    pub fn set_token_type(&self, t: impl Into<String>) {
        let t = t.into();
        self.configure(|k| k.token_type = t);
    }
    pub fn set_reject_tenantless(&self, on: bool) {
        self.configure(|k| k.reject_tenantless = on);
    }
    pub fn set_unknown_tenants<I: IntoIterator<Item = S>, S: Into<String>>(&self, tenants: I) {
        let v: Vec<String> = tenants.into_iter().map(Into::into).collect();
        self.configure(|k| k.unknown_tenants = v);
    }

    /// Base URL of the IMDS endpoint, `http://127.0.0.1:PORT` (what
    /// `IMDS_ENDPOINT` holds; the token path is [`IMDS_PATH`]).
    pub fn imds_endpoint(&self) -> String {
        self.http_url()
    }
    /// The App Service managed-identity endpoint, `http://127.0.0.1:PORT/msi/token`
    /// (what `IDENTITY_ENDPOINT` holds).
    pub fn identity_endpoint(&self) -> String {
        format!("{}{APP_SERVICE_PATH}", self.http_url())
    }
    /// The secret the App Service endpoint requires in `X-IDENTITY-HEADER`
    /// (what `IDENTITY_HEADER` holds).
    pub fn identity_header(&self) -> String {
        self.shared.lock().managed.identity_header.clone()
    }
    pub fn set_identity_header(&self, value: impl Into<String>) {
        self.shared.lock().managed.identity_header = value.into();
    }
    /// The host's system-assigned identity (`None` once removed).
    pub fn system_identity(&self) -> Option<ManagedIdentity> {
        self.shared.lock().managed.system.clone()
    }
    /// Give the host a system-assigned identity, or take it away (`None`).
    pub fn set_system_identity(&self, id: Option<ManagedIdentity>) {
        self.shared.lock().managed.system = id;
    }
    /// Register (or replace, by client id) a user-assigned identity with ids
    /// derived from `name`, and return it.
    pub fn add_user_assigned_identity(&self, name: &str) -> ManagedIdentity {
        let id = ManagedIdentity::named(name);
        self.shared.lock().managed.add(id.clone());
        id
    }
    /// Requests to the managed-identity endpoints (they also count in
    /// [`Emulator::token_requests`]).
    pub fn managed_identity_requests(&self) -> u64 {
        self.shared.lock().managed.requests
    }

    /// Register (or replace) a client.
    pub fn add_client(&self, id: impl Into<String>, secret: impl Into<String>) {
        self.shared.lock().clients.insert(id.into(), Client { secret: secret.into(), expired: false });
    }
    /// Register (or replace) a client that authenticates with a certificate
    /// (PEM or DER; RSA): assertions are checked against it. Registering
    /// again adds another certificate (key rollover).
    pub fn add_certificate_client(&self, id: impl Into<String>, certificate: &[u8]) -> Result<(), String> {
        let cert = assertion::RegisteredCert::from_pem_or_der(certificate)?;
        let id = id.into();
        let mut st = self.shared.lock();
        st.clients.entry(id.clone()).or_insert_with(|| Client { secret: random_secret(), expired: false });
        st.assertions.certs.entry(id).or_default().push(cert);
        Ok(())
    }

    /// Register (or extend) a client with a federated identity credential:
    /// it accepts, as client assertion, a token with this `iss` and `sub`
    /// and `aud` = [`FEDERATED_AUDIENCE`] (the token's signature is not
    /// checked).
    pub fn add_federated_client(&self, id: impl Into<String>, issuer: &str, subject: &str) {
        let id = id.into();
        let record = FederatedRecord {
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
            audience: FEDERATED_AUDIENCE.to_owned(),
        };
        let mut st = self.shared.lock();
        st.clients.entry(id.clone()).or_insert_with(|| Client { secret: random_secret(), expired: false });
        st.assertions.federated.entry(id).or_default().push(record);
    }

    /// Register (or replace) a client whose secret is expired.
    pub fn add_expired_client(&self, id: impl Into<String>, secret: impl Into<String>) {
        self.shared.lock().clients.insert(id.into(), Client { secret: secret.into(), expired: true });
    }

    /// Append a fault to the queue (`Fault::status(503).times(2)`, ...).
    pub fn push_fault(&self, fault: impl Into<Fault>) {
        let f = fault.into();
        if f.count > 0 {
            self.shared.lock().faults.push_back(f);
        }
    }
    /// Faults still queued.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.shared.lock().faults.iter().cloned().collect()
    }
    /// Clear counters, recorded requests and faults; knobs back to their
    /// start values. Registered clients stay.
    pub fn reset(&self) {
        self.shared.lock().reset();
    }

    /// Stop now (same as dropping).
    pub fn shutdown(self) {}

    fn stop(&mut self) {
        if self.shared.is_shutdown() && self.threads.is_empty() {
            return;
        }
        self.shared.begin_shutdown();
        server::poke(self.https_addr);
        server::poke(self.http_addr);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        // Connections accepted while shutting down.
        self.shared.begin_shutdown();
        self.shared.wait_idle(Duration::from_secs(2));
        if self.remove_ca_file {
            let _ = std::fs::remove_file(&self.ca_file);
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("https", &self.https_url())
            .field("http", &self.http_url())
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn handle_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<super::Emulator>();
        check::<super::RecordedRequest>();
        check::<super::Fault>();
    }
}

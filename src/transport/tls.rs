//! TLS for the token endpoint: which roots are trusted, and a handshake
//! bounded by the connect timeout.
//!
//! Trust: `tls_roots` picks the operating system's store (default), the
//! Mozilla roots compiled in (webpki-roots), or both; `ca_file` adds to
//! them. Client creation reads and checks the CA file only ([`Trust`]); the
//! system's store is loaded, and the rustls configuration built, on the first
//! network use in the process ([`client_config`]), so a process whose first
//! token comes from a cache tier never pays for them. A system store that
//! cannot be loaded (or holds no usable root) is an error of that first fetch
//! naming what failed, unless `ca_file` is given or the bundled roots were
//! chosen; it never silently becomes the bundled set. Configurations are
//! cached by the digest of what they trust (the roots choice and the CA
//! file's bytes, read at each client creation), so a rotated CA file is
//! trusted by every client created after the rotation.
//!
//! ureq bounds only the TCP connect by `timeout_connect`; its TLS handshake
//! then runs under the socket timeouts of the whole request, so a server that
//! accepts TCP and never answers the handshake held each attempt for
//! `timeout_ms`. Here the resolver marks when a connection starts, and the
//! TLS connector drives the handshake eagerly under the connect budget left
//! (DNS + TCP + TLS together within `connect_timeout_ms`), then restores the
//! socket timeouts ureq set for the request.

use super::system_roots;
use crate::config::TlsRoots;
use crate::error::{Error, ErrorCode};
use crate::fork::PerGeneration;
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a TLS configuration trusts, as a digest: the roots choice and the
/// CA file's content.
pub(crate) type TrustId = [u8; 32];

/// The system's roots once loaded successfully, as trust anchors (each
/// certificate read and parsed once per process, see `system_roots`); a
/// failed load is tried again by the next client.
static SYSTEM_ROOTS: Lazy<Mutex<Option<Arc<rustls::RootCertStore>>>> = Lazy::new(|| Mutex::new(None));

/// TLS configurations by what they trust, shared by every client that
/// trusts the same. Per process (their session caches hold resumption
/// tickets): a forked child starts with none.
type TlsConfigs = HashMap<TrustId, Arc<rustls::ClientConfig>>;
static TLS_CONFIGS: Lazy<Mutex<PerGeneration<TlsConfigs>>> = Lazy::new(Mutex::default);

/// What a client trusts, checked at client creation without touching the
/// system's store: the roots choice and the CA file's certificates (read,
/// parsed and checked now, so a bad `ca_file` fails the creation). The TLS
/// configuration is built from it by [`client_config`] on the first network use.
#[derive(Clone)]
pub(crate) struct Trust {
    roots: TlsRoots,
    /// The CA file's path (for messages) and its certificates as trust anchors.
    ca: Option<(std::path::PathBuf, Arc<CaAnchors>)>,
    id: TrustId,
}

type CaAnchors = Vec<rustls::pki_types::TrustAnchor<'static>>;

/// CA files already parsed, by the digest of their content: 10,000 clients
/// with one CA file parse it once; a rotated file has another digest.
static CA_FILES: Lazy<Mutex<HashMap<TrustId, Arc<CaAnchors>>>> = Lazy::new(Mutex::default);

impl Trust {
    /// Reads and checks `ca_file` (its bytes at this moment: a rotated file
    /// is trusted by clients created after the rotation).
    pub(crate) fn new(roots: TlsRoots, ca_file: Option<&Path>) -> Result<Trust, Error> {
        let bad = |why: String| Error::invalid_argument(format!("config key 'ca_file': {why}"));
        let pem = match ca_file {
            Some(path) => Some(std::fs::read(path).map_err(|e| bad(format!("cannot read '{}': {e}", path.display())))?),
            None => None,
        };
        // The file is hashed once: the trust id covers its digest.
        let digest: Option<TrustId> = pem.as_ref().map(|pem| Sha256::digest(pem).into());
        let mut h = Sha256::new();
        h.update(roots.as_str().as_bytes());
        h.update([0]);
        if let Some(d) = &digest {
            h.update(d);
        }
        let id: TrustId = h.finalize().into();
        let ca = match (ca_file, &pem, digest) {
            (Some(path), Some(pem), Some(digest)) => {
                let cached = CA_FILES.lock().get(&digest).cloned();
                let anchors = match cached {
                    Some(a) => a,
                    None => {
                        let a = Arc::new(parse_ca_file(path, pem).map_err(bad)?);
                        CA_FILES.lock().insert(digest, a.clone());
                        a
                    }
                };
                Some((path.to_owned(), anchors))
            }
            _ => None,
        };
        Ok(Trust { roots, ca, id })
    }

    pub(crate) fn id(&self) -> TrustId {
        self.id
    }
}

/// The CA file's certificates as trust anchors, or why it is unusable.
fn parse_ca_file(path: &Path, pem: &[u8]) -> Result<CaAnchors, String> {
    let certs: Vec<_> = rustls_pemfile::certs(&mut &pem[..])
        .collect::<Result<_, _>>()
        .map_err(|e| format!("'{}' is not valid PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("'{}' contains no PEM certificate", path.display()));
    }
    let mut store = rustls::RootCertStore::empty();
    for cert in certs {
        store.add(cert).map_err(|e| format!("a certificate in '{}' is unusable: {e}", path.display()))?;
    }
    Ok(store.roots)
}

/// The TLS configuration for `trust` (built once per process and trust id,
/// on first use). Loads the system's store when `trust` includes it; a store
/// that cannot be loaded is an error here (the first fetch's) unless the CA
/// file or the bundled roots are trusted too.
pub(crate) fn client_config(trust: &Trust) -> Result<Arc<rustls::ClientConfig>, Error> {
    if let Some(c) = TLS_CONFIGS.lock().current().get(&trust.id) {
        return Ok(c.clone());
    }
    let roots = trust.roots;
    let mut store = rustls::RootCertStore::empty();
    let mut system_failure = None;
    if matches!(roots, TlsRoots::System | TlsRoots::SystemAndBundled) {
        match system_roots() {
            Ok(anchors) => store.roots.extend(anchors.roots.iter().cloned()),
            Err(why) => system_failure = Some(why),
        }
    }
    if matches!(roots, TlsRoots::Bundled | TlsRoots::SystemAndBundled) {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if let Some((_, anchors)) = &trust.ca {
        store.roots.extend(anchors.iter().cloned());
    }
    if let (Some(why), TlsRoots::System, None) = (&system_failure, roots, &trust.ca) {
        return Err(Error::new(
            ErrorCode::Tls,
            format!(
                "cannot load the system's trusted root certificates: {why}. Set 'ca_file' to a PEM bundle of the \
                 CAs to trust, or 'tls_roots' to 'bundled' (or 'system+bundled') to trust the Mozilla roots \
                 compiled into this library"
            ),
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("TLS setup failed: {e}")))?
        .with_root_certificates(store)
        .with_no_client_auth();
    let config = Arc::new(config);
    TLS_CONFIGS.lock().current().insert(trust.id, config.clone());
    Ok(config)
}

/// The system's roots, or why none could be loaded (every load error, and
/// the `SSL_CERT_FILE`/`SSL_CERT_DIR` overrides if set).
fn system_roots() -> Result<Arc<rustls::RootCertStore>, String> {
    let mut cached = SYSTEM_ROOTS.lock();
    if let Some(anchors) = cached.as_ref() {
        return Ok(anchors.clone());
    }
    let found = system_roots::load();
    let read = found.certs.len();
    let mut anchors = rustls::RootCertStore::empty();
    let (usable, _) = anchors.add_parsable_certificates(found.certs);
    SYSTEM_ROOT_LOADS.fetch_add(1, Ordering::Relaxed);
    if usable > 0 {
        let anchors = Arc::new(anchors);
        *cached = Some(anchors.clone());
        return Ok(anchors);
    }
    let mut why = found.errors;
    if why.is_empty() {
        why.push(format!("no usable root certificate found ({read} unusable)"));
    }
    for var in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
        if let Some(v) = std::env::var_os(var) {
            why.push(format!("{var}={}", v.to_string_lossy()));
        }
    }
    Err(why.join("; "))
}

/// How many times this process has read the system's store (for tests: once,
/// however many clients and TLS configurations).
static SYSTEM_ROOT_LOADS: AtomicUsize = AtomicUsize::new(0);

/// How many times this process has read the system's trusted roots.
#[cfg(test)]
pub(crate) fn system_root_loads() -> usize {
    SYSTEM_ROOT_LOADS.load(Ordering::Relaxed)
}

thread_local! {
    /// When the connection being made on this thread started (set by
    /// [`MarkingResolver`], taken by [`BoundedHandshake`]).
    static CONNECT_STARTED: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The system resolver, noting when each connection attempt starts.
pub(crate) struct MarkingResolver;

impl ureq::Resolver for MarkingResolver {
    fn resolve(&self, netloc: &str) -> io::Result<Vec<SocketAddr>> {
        CONNECT_STARTED.with(|c| c.set(Some(Instant::now())));
        netloc.to_socket_addrs().map(Iterator::collect)
    }
}

/// The error a handshake that outlives the connect budget ends with (inside
/// an `io::Error` of kind `TimedOut`).
#[derive(Debug)]
pub(crate) struct ConnectTimedOut {
    pub budget: Duration,
}

impl fmt::Display for ConnectTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "connect (TCP + TLS handshake) timed out after {} ms", self.budget.as_millis())
    }
}

impl std::error::Error for ConnectTimedOut {}

/// A rustls connector whose handshake ends within the connect timeout.
pub(crate) struct BoundedHandshake {
    config: Arc<rustls::ClientConfig>,
    connect_timeout: Duration,
}

impl BoundedHandshake {
    pub(crate) fn new(config: Arc<rustls::ClientConfig>, connect_timeout: Duration) -> Self {
        BoundedHandshake { config, connect_timeout }
    }

    fn timed_out(&self) -> ureq::Error {
        io::Error::new(io::ErrorKind::TimedOut, ConnectTimedOut { budget: self.connect_timeout }).into()
    }
}

impl ureq::TlsConnector for BoundedHandshake {
    fn connect(
        &self,
        dns_name: &str,
        mut io: Box<dyn ureq::ReadWrite>,
    ) -> Result<Box<dyn ureq::ReadWrite>, ureq::Error> {
        let started = CONNECT_STARTED.with(Cell::take).unwrap_or_else(Instant::now);
        let deadline = started + self.connect_timeout;
        let name = dns_name.trim_start_matches('[').trim_end_matches(']');
        let server_name = rustls::pki_types::ServerName::try_from(name)
            .map_err(|e| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("'{name}' is not a valid host name: {e}"))
            })?
            .to_owned();
        let mut conn = rustls::ClientConnection::new(self.config.clone(), server_name)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        // A second handle on the same socket, to set its timeouts while `io`
        // is borrowed for the handshake; closed when this returns.
        let socket = io.socket().map(TcpStream::try_clone).transpose()?;
        let saved = match &socket {
            Some(s) => Some((s.read_timeout()?, s.write_timeout()?)),
            None => None,
        };
        let result = handshake(&mut conn, &mut io, socket.as_ref(), deadline, saved);
        if let (Some(s), Some((read, write))) = (&socket, saved) {
            s.set_read_timeout(read)?;
            s.set_write_timeout(write)?;
        }
        match result {
            Ok(()) => Ok(Box::new(TlsStream(rustls::StreamOwned::new(conn, io)))),
            Err(e) if Instant::now() >= deadline || is_timeout(&e) => Err(self.timed_out()),
            Err(e) => Err(e.into()),
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock)
}

/// Runs the handshake; before each socket read or write the socket's
/// timeouts become the budget left (never more than ureq's own).
fn handshake(
    conn: &mut rustls::ClientConnection,
    io: &mut Box<dyn ureq::ReadWrite>,
    socket: Option<&TcpStream>,
    deadline: Instant,
    ureq_timeouts: Option<(Option<Duration>, Option<Duration>)>,
) -> io::Result<()> {
    let mut bounded = Bounded { io, socket, deadline, ureq_timeouts };
    while conn.is_handshaking() {
        conn.complete_io(&mut bounded)?;
    }
    // Flush what the handshake left to send (the client Finished).
    while conn.wants_write() {
        conn.write_tls(&mut bounded)?;
    }
    Ok(())
}

struct Bounded<'a> {
    io: &'a mut Box<dyn ureq::ReadWrite>,
    socket: Option<&'a TcpStream>,
    deadline: Instant,
    ureq_timeouts: Option<(Option<Duration>, Option<Duration>)>,
}

impl Bounded<'_> {
    fn arm(&self) -> io::Result<()> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        if let (Some(s), Some((read, write))) = (self.socket, self.ureq_timeouts) {
            s.set_read_timeout(Some(read.map_or(left, |r| r.min(left))))?;
            s.set_write_timeout(Some(write.map_or(left, |w| w.min(left))))?;
        }
        Ok(())
    }
}

impl Read for Bounded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.arm()?;
        self.io.read(buf)
    }
}

impl Write for Bounded<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm()?;
        self.io.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.io.flush()
    }
}

/// A TLS connection as ureq uses it.
struct TlsStream(rustls::StreamOwned<rustls::ClientConnection, Box<dyn ureq::ReadWrite>>);

impl fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream").finish_non_exhaustive()
    }
}

impl ureq::ReadWrite for TlsStream {
    fn socket(&self) -> Option<&TcpStream> {
        self.0.get_ref().socket()
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CA certificate of its own, as a PEM file (distinct trust ids).
    fn ca_file(name: &str) -> std::path::PathBuf {
        let ca = rcgen::generate_simple_self_signed(vec![format!("{name}.example")]).unwrap();
        let path = std::env::temp_dir().join(format!("paytrim-roots-once-{}-{name}.pem", std::process::id()));
        std::fs::write(&path, ca.cert.pem()).unwrap();
        path
    }

    /// The system's store is read and parsed once per process, however many
    /// TLS configurations (CA files, roots choices) are built on it.
    #[test]
    fn the_system_store_is_read_once_per_process() {
        if system_roots().is_err() {
            eprintln!("no usable system store on this machine: nothing to check");
            return;
        }
        let loads = system_root_loads();
        let (a, b) = (ca_file("a"), ca_file("b"));
        let config = |roots, ca: &std::path::PathBuf| {
            let trust = Trust::new(roots, Some(ca)).unwrap();
            client_config(&trust).unwrap();
            trust.id()
        };
        let (id_a, id_b, id_both) =
            (config(TlsRoots::System, &a), config(TlsRoots::System, &b), config(TlsRoots::SystemAndBundled, &a));
        assert!(id_a != id_b && id_a != id_both, "three trust ids, three TLS configurations");
        assert_eq!(system_root_loads(), loads, "the system store was read again");
        for p in [a, b] {
            std::fs::remove_file(p).unwrap();
        }
    }
}

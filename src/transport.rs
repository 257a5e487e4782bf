//! HTTPS to the token endpoint: ureq over rustls, trusting the system's roots
//! plus an optional CA file, with finite timeouts, no redirects, an optional
//! proxy, and the request headers that help operators trace a request.

mod proxy;
mod system_roots;
mod tls;

use crate::config::ClientConfig;
use crate::error::{Error, ErrorCode};
use crate::fork::{PerGeneration, PerProcess};
use crate::protocol::{HttpAnswer, MAX_BODY_BYTES};
use crate::random;
use crate::secret::Secret;
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use proxy::select_proxy;
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

pub const SKU: &str = "paytrim-auth";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One configured connection to one token endpoint.
pub struct Transport {
    /// Built on the first request (so creating a client loads no root
    /// store and builds no TLS configuration), and again in a forked child
    /// (see `fork`): the parent's pooled connections and TLS sessions are
    /// never used there.
    agent: PerProcess<ureq::Agent>,
    /// What the agent is built from, checked at creation.
    spec: AgentSpec,
    /// Where requests go.
    url: String,
    /// `url` as messages and `Debug` show it: query and credentials hidden.
    endpoint: String,
    proxy: Option<String>,
    connect_timeout: Duration,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("endpoint", &self.endpoint)
            .field("proxy", &self.proxy.as_deref().map(redact_userinfo))
            .finish()
    }
}

/// One request to send: the form body and, for `client_secret_basic`, the
/// Authorization header value.
pub struct TokenRequest<'a> {
    pub body: &'a Secret,
    pub authorization: Option<&'a Secret>,
    /// Fresh per attempt; Entra echoes it as the correlation id.
    pub client_request_id: &'a str,
    pub timeout: Duration,
}

impl Transport {
    pub fn new(config: &ClientConfig) -> Result<Transport, Error> {
        let endpoint = config.token_endpoint();
        let url = crate::config::parse_endpoint(&endpoint)
            .map_err(|why| Error::invalid_argument(format!("token endpoint: {why}")))?;
        let proxy = select_proxy(&config.proxy, &url, &|k| std::env::var(k).ok());
        let spec = AgentSpec::new(config, proxy.as_deref())?;
        let shown = crate::config::redact_url(&endpoint);
        Ok(Transport {
            agent: PerProcess::lazy(),
            spec,
            url: endpoint,
            endpoint: shown,
            proxy,
            connect_timeout: config.connect_timeout,
        })
    }

    /// The endpoint as messages show it (query string and credentials hidden).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// This process's agent, built on first use: after fork() the child
    /// builds its own.
    fn agent(&self) -> Result<ureq::Agent, Error> {
        self.agent.get(|| shared_agent(&self.spec))
    }

    /// The proxy in use, with any password hidden.
    pub fn proxy(&self) -> Option<String> {
        self.proxy.as_deref().map(redact_userinfo)
    }

    /// Sends one POST. HTTP error statuses come back as answers; only
    /// transport failures (connect, TLS, timeout, reset) are errors here.
    pub fn post(&self, req: &TokenRequest<'_>) -> Result<HttpAnswer, Error> {
        let mut r = self
            .agent()?
            .post(&self.url)
            .timeout(req.timeout)
            .set("Content-Type", "application/x-www-form-urlencoded")
            .set("Accept", "application/json")
            // No keep-alive: a pooled connection would keep the token answer
            // in its read buffers (ureq's and rustls's) after the request.
            .set("Connection", "close")
            .set("client-request-id", req.client_request_id)
            .set("return-client-request-id", "true")
            .set("x-client-SKU", SKU)
            .set("x-client-Ver", VERSION)
            .set("x-client-OS", std::env::consts::OS);
        if let Some(auth) = req.authorization {
            r = r.set("Authorization", auth.expose());
        }
        let response = match r.send_string(req.body.expose()) {
            Ok(resp) => resp,
            Err(ureq::Error::Status(_, resp)) => resp,
            Err(ureq::Error::Transport(t)) => return Err(self.transport_error(&t, req.timeout)),
        };
        let status = response.status();
        let content_type = response.header("content-type").map(str::to_owned);
        let retry_after = response.header("retry-after").map(str::to_owned);
        let mut body = Vec::new();
        let read = response.into_reader().take(MAX_BODY_BYTES as u64 + 1).read_to_end(&mut body);
        if let Err(e) = read {
            return Err(self.io_error(&e, req.timeout, "while reading the answer"));
        }
        let truncated = body.len() > MAX_BODY_BYTES;
        body.truncate(MAX_BODY_BYTES);
        Ok(HttpAnswer { status, content_type, retry_after, body, truncated })
    }

    /// A transport to `url` (already validated by the caller) with the
    /// configuration's agent, timeouts and proxy rules: the managed-identity
    /// endpoints, which are not the token endpoint.
    pub fn for_url(config: &ClientConfig, url: &Url) -> Result<Transport, Error> {
        let proxy = select_proxy(&config.proxy, url, &|k| std::env::var(k).ok());
        let spec = AgentSpec::new(config, proxy.as_deref())?;
        let (url, endpoint) = (url.to_string(), crate::config::redact_url(url.as_str()));
        Ok(Transport { agent: PerProcess::lazy(), spec, url, endpoint, proxy, connect_timeout: config.connect_timeout })
    }

    /// Sends one GET to `url` (this transport's endpoint plus a query) with
    /// `headers`; answers as [`Transport::post`] does (managed identity).
    pub fn get(&self, url: &str, headers: &[(&str, &str)], timeout: Duration) -> Result<HttpAnswer, Error> {
        let mut r =
            self.agent()?.get(url).timeout(timeout).set("Accept", "application/json").set("Connection", "close");
        for (name, value) in headers {
            r = r.set(name, value);
        }
        let response = match r.call() {
            Ok(resp) | Err(ureq::Error::Status(_, resp)) => resp,
            Err(ureq::Error::Transport(t)) => return Err(self.transport_error(&t, timeout)),
        };
        let status = response.status();
        let content_type = response.header("content-type").map(str::to_owned);
        let retry_after = response.header("retry-after").map(str::to_owned);
        let mut body = Vec::new();
        let read = response.into_reader().take(MAX_BODY_BYTES as u64 + 1).read_to_end(&mut body);
        if let Err(e) = read {
            return Err(self.io_error(&e, timeout, "while reading the answer"));
        }
        let truncated = body.len() > MAX_BODY_BYTES;
        body.truncate(MAX_BODY_BYTES);
        Ok(HttpAnswer { status, content_type, retry_after, body, truncated })
    }

    fn transport_error(&self, t: &ureq::Transport, timeout: Duration) -> Error {
        let via = self.proxy().map(|p| format!(" via proxy {p}")).unwrap_or_default();
        if let Some(io) = find_io_error(t) {
            let handshake = io.get_ref().and_then(|i| i.downcast_ref::<tls::ConnectTimedOut>());
            let tcp = t.kind() == ureq::ErrorKind::ConnectionFailed && io.kind() == std::io::ErrorKind::TimedOut;
            if handshake.is_some() || tcp {
                return Error::new(
                    ErrorCode::Network,
                    format!(
                        "could not connect to {}{via}: connect (TCP + TLS handshake) timed out after {} ms \
                         (config key 'connect_timeout_ms')",
                        self.endpoint,
                        self.connect_timeout.as_millis()
                    ),
                );
            }
        }
        if let Some(tls) = find_tls_error(t) {
            return Error::new(
                ErrorCode::Tls,
                format!("TLS handshake with {} failed: {tls}{}", self.endpoint, tls_hint(&tls)),
            );
        }
        if let Some(io) = find_io_error(t) {
            return self.io_error(io, timeout, "");
        }
        Error::new(ErrorCode::Network, format!("could not reach {}{via}: {}", self.endpoint, describe(t)))
    }

    fn io_error(&self, e: &std::io::Error, timeout: Duration, when: &str) -> Error {
        use std::io::ErrorKind as K;
        if let Some(tls) = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
            return Error::new(ErrorCode::Tls, format!("TLS with {} failed: {tls}{}", self.endpoint, tls_hint(tls)));
        }
        let via = self.proxy().map(|p| format!(" via proxy {p}")).unwrap_or_default();
        let what = match e.kind() {
            K::TimedOut | K::WouldBlock => format!("timed out after {} ms", timeout.as_millis()),
            K::ConnectionRefused => "connection refused".to_owned(),
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                format!("connection closed by the server ({e})")
            }
            _ => e.to_string(),
        };
        let sep = if when.is_empty() { "" } else { " " };
        Error::new(ErrorCode::Network, format!("request to {}{via} failed{sep}{when}: {what}", self.endpoint))
    }
}

fn tls_hint(e: &rustls::Error) -> &'static str {
    match e {
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer) => {
            " (the server's certificate is not signed by a trusted CA; set 'ca_file' to trust a corporate or test CA)"
        }
        rustls::Error::InvalidCertificate(
            rustls::CertificateError::NotValidForName | rustls::CertificateError::NotValidForNameContext { .. },
        ) => " (the certificate does not name this host)",
        _ => "",
    }
}

/// A transport error without the URL ureq's `Display` starts with (its
/// query string could carry a secret).
fn describe(t: &ureq::Transport) -> String {
    let mut out = t.kind().to_string();
    if let Some(m) = t.message() {
        out.push_str(": ");
        out.push_str(m);
    }
    if let Some(source) = std::error::Error::source(t) {
        out.push_str(&format!(": {source}"));
    }
    out
}

fn find_tls_error(t: &ureq::Transport) -> Option<rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(t);
    while let Some(e) = cur {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls.clone());
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return Some(tls.clone());
            }
        }
        cur = e.source();
    }
    None
}

fn find_io_error(t: &ureq::Transport) -> Option<&std::io::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(t);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        cur = e.source();
    }
    None
}

/// The proxy a client of `config` uses for `endpoint` (for the cache key).
pub(crate) fn proxy_for(config: &ClientConfig, endpoint: &str) -> Option<String> {
    let url = Url::parse(endpoint).ok()?;
    select_proxy(&config.proxy, &url, &|k| std::env::var(k).ok())
}

/// Agents, one per (trusted roots and CA file content, proxy, connect
/// timeout): clients share their connection pool, so 10,000 clients hold a
/// couple of idle connections per host, not 10,000 sockets. A rotated CA file
/// has another content digest, hence a new agent for clients created after it.
type AgentKey = (tls::TrustId, Option<String>, Duration);
/// Per process: a forked child starts with none.
static AGENTS: Lazy<Mutex<PerGeneration<HashMap<AgentKey, ureq::Agent>>>> = Lazy::new(Mutex::default);

/// What an agent is made of, checked when a client is created: the trusted
/// roots (a bad `ca_file` fails here), the proxy (a bad proxy URL fails
/// here), the connect timeout. Nothing here loads the system's store.
#[derive(Clone)]
struct AgentSpec {
    trust: tls::Trust,
    proxy: Option<(String, ureq::Proxy)>,
    connect_timeout: Duration,
}

impl AgentSpec {
    fn new(config: &ClientConfig, proxy: Option<&str>) -> Result<AgentSpec, Error> {
        let trust = tls::Trust::new(config.tls_roots, config.ca_file.as_deref())?;
        let proxy = match proxy {
            Some(p) => Some((
                p.to_owned(),
                ureq::Proxy::new(p).map_err(|e| {
                    Error::invalid_argument(format!("proxy '{}' is not usable: {e}", redact_userinfo(p)))
                })?,
            )),
            None => None,
        };
        Ok(AgentSpec { trust, proxy, connect_timeout: config.connect_timeout })
    }
}

fn shared_agent(spec: &AgentSpec) -> Result<ureq::Agent, Error> {
    let key: AgentKey = (spec.trust.id(), spec.proxy.as_ref().map(|(p, _)| p.clone()), spec.connect_timeout);
    if let Some(agent) = AGENTS.lock().current().get(&key) {
        return Ok(agent.clone());
    }
    let tls = tls::client_config(&spec.trust)?;
    let mut builder = ureq::AgentBuilder::new()
        .tls_connector(Arc::new(tls::BoundedHandshake::new(tls, spec.connect_timeout)))
        .resolver(tls::MarkingResolver)
        .timeout_connect(spec.connect_timeout)
        .redirects(0)
        .user_agent(&format!("{SKU}/{VERSION} (rust; {})", std::env::consts::OS))
        .max_idle_connections_per_host(2)
        .max_idle_connections(16)
        .try_proxy_from_env(false);
    if let Some((_, parsed)) = &spec.proxy {
        builder = builder.proxy(parsed.clone());
    }
    let agent = builder.build();
    AGENTS.lock().current().insert(key, agent.clone());
    Ok(agent)
}

/// A fresh random (version 4) UUID, for `client-request-id`.
pub fn new_request_id() -> String {
    let mut b = random::bytes16();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn redact_userinfo(proxy: &str) -> String {
    match Url::parse(proxy) {
        Ok(mut u) if u.password().is_some() || !u.username().is_empty() => {
            let _ = u.set_username("***");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => proxy.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_v4_uuids() {
        let a = new_request_id();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_ne!(a, new_request_id());
    }

    #[test]
    fn proxy_passwords_are_hidden() {
        assert_eq!(redact_userinfo("http://bob:pw@proxy:3128"), "http://***@proxy:3128/");
    }
}

//! Client configuration: typed fields with documented defaults, and a
//! key/value setter (`set`) that the C ABI and every wrapper go through, so a
//! bad key or value is refused with the same message everywhere.

use crate::error::Error;
use crate::secret::Secret;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;
use url::{Host, Url};

pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
pub const DEFAULT_TENANT: &str = "common";
pub const DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "paytrim-auth:";
/// Redis on a LAN answers in well under a millisecond, but a host restarting
/// many workers at once is CPU-starved; a slower Redis is skipped.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(500);

/// How the client authenticates at the token endpoint (RFC 6749 §2.3.1).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body (Entra's documented way).
    SecretPost,
    /// HTTP Basic with the form-encoded id and secret.
    SecretBasic,
}

/// Which root certificates a client trusts (`ca_file` adds to them).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum TlsRoots {
    /// The operating system's trust store (default), loaded on the first
    /// network fetch. Failing to load it is an error of that fetch (`tls`),
    /// unless `ca_file` is given.
    System,
    /// The Mozilla roots compiled into this library (webpki-roots) only.
    Bundled,
    /// Both; a system store that cannot be loaded is then not an error.
    SystemAndBundled,
}

impl TlsRoots {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsRoots::System => "system",
            TlsRoots::Bundled => "bundled",
            TlsRoots::SystemAndBundled => "system+bundled",
        }
    }
}

/// Which HTTP proxy to use.
#[derive(Clone, PartialEq, Eq)]
pub enum ProxySetting {
    /// `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY`, minus `NO_PROXY` (default).
    FromEnvironment,
    /// Never use a proxy.
    Disabled,
    /// Always use this proxy (`http://[user:pass@]host:port`).
    Url(String),
}

#[derive(Clone)]
pub struct ClientConfig {
    pub tenant: String,
    /// The scopes, in the order given (the cache key normalizes them).
    pub scopes: Vec<String>,
    pub authority_host: String,
    /// Overrides `authority_host` + `tenant` entirely.
    pub token_url: Option<String>,
    pub client_auth: ClientAuth,
    /// Extra trusted CA certificates (PEM), added to the system's roots.
    pub ca_file: Option<PathBuf>,
    /// The roots `ca_file` adds to.
    pub tls_roots: TlsRoots,
    pub connect_timeout: Duration,
    /// Bound on one HTTP attempt, connect included.
    pub timeout: Duration,
    /// Bound on one whole fetch, retries and waits included.
    pub total_timeout: Duration,
    /// Attempts per fetch (1 = no retry).
    pub max_attempts: u32,
    /// A token is refreshed this long before it expires (at most half its life).
    pub refresh_margin: Duration,
    pub proxy: ProxySetting,
    /// Managed identity: IMDS base or token URL (overrides `IMDS_ENDPOINT`).
    pub imds_endpoint: Option<String>,
    /// Managed identity: App Service endpoint (overrides `IDENTITY_ENDPOINT`).
    pub identity_endpoint: Option<String>,
    /// Managed identity: App Service secret (overrides `IDENTITY_HEADER`).
    pub identity_header: Option<Secret>,
    /// Managed identity: how long IMDS answering 410 (upgrading) is retried.
    pub imds_upgrade_window: Duration,
    /// On-host cache tier: a directory shared by this user's processes
    /// (`cache_dir`, else `PAYTRIM_CACHE_DIR`; see `cache_tiers`).
    pub cache_dir: Option<PathBuf>,
    /// Fleet cache tier: `redis://` or `rediss://` URL, with an optional
    /// user name and password (`redis_url`, else `PAYTRIM_REDIS_URL`).
    pub redis_url: Option<Secret>,
    /// Prefix of every Redis key the fleet tier writes.
    pub redis_key_prefix: String,
    /// Bound on the time Redis can add to one fetch (connect included).
    pub redis_timeout: Duration,
    /// Extra trusted CA certificates (PEM) for `rediss://`.
    pub redis_ca_file: Option<PathBuf>,
}

/// Shows a proxy URL without its user name and password.
impl fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySetting::FromEnvironment => f.write_str("FromEnvironment"),
            ProxySetting::Disabled => f.write_str("Disabled"),
            ProxySetting::Url(u) => f.debug_tuple("Url").field(&redact_url(u)).finish(),
        }
    }
}

/// Every field, with URLs shown as [`redact_url`] shows them (no query, no
/// credentials) and the proxy without its password.
impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = |u: &Option<String>| u.as_deref().map(redact_url);
        f.debug_struct("ClientConfig")
            .field("tenant", &self.tenant)
            .field("scopes", &self.scopes)
            .field("authority_host", &redact_url(&self.authority_host))
            .field("token_url", &url(&self.token_url))
            .field("client_auth", &self.client_auth)
            .field("ca_file", &self.ca_file)
            .field("tls_roots", &self.tls_roots)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("total_timeout", &self.total_timeout)
            .field("max_attempts", &self.max_attempts)
            .field("refresh_margin", &self.refresh_margin)
            .field("proxy", &self.proxy)
            .field("imds_endpoint", &url(&self.imds_endpoint))
            .field("identity_endpoint", &url(&self.identity_endpoint))
            .field("identity_header", &self.identity_header)
            .field("imds_upgrade_window", &self.imds_upgrade_window)
            .field("cache_dir", &self.cache_dir)
            .field("redis_url", &self.redis_url.as_ref().map(|u| redact_url(u.expose())))
            .field("redis_key_prefix", &self.redis_key_prefix)
            .field("redis_timeout", &self.redis_timeout)
            .field("redis_ca_file", &self.redis_ca_file)
            .finish()
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            tenant: DEFAULT_TENANT.to_owned(),
            scopes: vec![DEFAULT_SCOPE.to_owned()],
            authority_host: DEFAULT_AUTHORITY_HOST.to_owned(),
            token_url: None,
            client_auth: ClientAuth::SecretPost,
            ca_file: None,
            tls_roots: TlsRoots::System,
            connect_timeout: Duration::from_millis(5_000),
            timeout: Duration::from_millis(10_000),
            total_timeout: Duration::from_millis(30_000),
            max_attempts: 4,
            refresh_margin: Duration::from_secs(300),
            proxy: ProxySetting::FromEnvironment,
            imds_endpoint: None,
            identity_endpoint: None,
            identity_header: None,
            imds_upgrade_window: Duration::from_secs(70),
            cache_dir: None,
            redis_url: None,
            redis_key_prefix: DEFAULT_REDIS_KEY_PREFIX.to_owned(),
            redis_timeout: DEFAULT_REDIS_TIMEOUT,
            redis_ca_file: None,
        }
    }
}

/// Every key `ClientConfig::set` accepts, with a one-line description.
pub const CONFIG_KEYS: &[(&str, &str)] = &[
    ("tenant", "tenant id or domain (default: common)"),
    ("scope", "space-separated scopes (default: https://graph.microsoft.com/.default)"),
    ("authority_host", "authority host URL (default: https://login.microsoftonline.com)"),
    ("token_url", "full token endpoint URL; overrides authority_host and tenant"),
    ("client_auth", "client_secret_post (default) or client_secret_basic"),
    ("ca_file", "PEM file of extra trusted CA certificates"),
    ("tls_roots", "trusted roots: system (default), bundled (compiled-in Mozilla roots) or system+bundled"),
    ("connect_timeout_ms", "connect timeout in ms (default: 5000)"),
    ("timeout_ms", "timeout of one HTTP attempt in ms (default: 10000)"),
    ("total_timeout_ms", "time budget of one fetch, retries included, in ms (default: 30000)"),
    ("max_attempts", "attempts per fetch, 1 to 10 (default: 4)"),
    ("refresh_margin_s", "refresh this many seconds before expiry (default: 300)"),
    ("proxy", "proxy URL, or 'none'; default: HTTPS_PROXY/NO_PROXY from the environment"),
    ("imds_endpoint", "managed identity: IMDS base URL (default: IMDS_ENDPOINT, else http://169.254.169.254)"),
    ("identity_endpoint", "managed identity: App Service endpoint URL (default: IDENTITY_ENDPOINT)"),
    ("identity_header", "managed identity: App Service secret header value (default: IDENTITY_HEADER)"),
    ("imds_upgrade_window_ms", "managed identity: how long IMDS 410 (upgrading) is retried, in ms (default: 70000)"),
    ("cache_dir", "on-host cache tier: absolute path of a 0700 directory shared by this user's processes (default: PAYTRIM_CACHE_DIR, else off)"),
    ("redis_url", "fleet cache tier: redis://[user:password@]host:port[/db] or rediss://... (default: PAYTRIM_REDIS_URL, else off)"),
    ("redis_key_prefix", "fleet cache tier: prefix of the Redis keys (default: paytrim-auth:)"),
    ("redis_timeout_ms", "fleet cache tier: most time Redis may add to a fetch, in ms (default: 500)"),
    ("redis_ca_file", "fleet cache tier: PEM file of CA certificates trusted for rediss:// (default: the system's roots)"),
];

/// No configuration value is longer: scope lists, URLs and paths fit easily,
/// and a megabyte of input is refused at once instead of echoed in errors.
pub const MAX_VALUE_LEN: usize = 16 * 1024;
/// Keys are short; a longer one is unknown, and quoted only in part.
const MAX_KEY_LEN: usize = 64;
/// A tenant is a GUID or a DNS name (at most 253 characters).
const MAX_TENANT_LEN: usize = 253;

impl ClientConfig {
    /// Sets one configuration key from its text form. An unknown key or a bad
    /// value is refused with a message that names the key.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), Error> {
        if key.len() > MAX_KEY_LEN {
            let start: String = key.chars().take(32).collect();
            return Err(Error::invalid_argument(format!("unknown config key '{start}...' ({} bytes)", key.len())));
        }
        let bad = |why: &str| Error::invalid_argument(format!("config key '{key}': {why}"));
        if value.len() > MAX_VALUE_LEN {
            return Err(bad(&format!("the value is {} bytes; the limit is {MAX_VALUE_LEN}", value.len())));
        }
        match key {
            "tenant" => {
                let v = value.trim();
                if v.is_empty()
                    || v.len() > MAX_TENANT_LEN
                    || !v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
                {
                    return Err(bad("must be a tenant id (GUID) or domain name, such as contoso.onmicrosoft.com"));
                }
                // `..` (or any dot-only name) would move the request up a path level.
                if v.starts_with('.') || v.contains("..") {
                    return Err(bad("must not start with '.' or contain '..'; use a tenant id (GUID) or domain name"));
                }
                self.tenant = v.to_owned();
            }
            "scope" => {
                let scopes: Vec<String> = value.split_whitespace().map(str::to_owned).collect();
                if scopes.is_empty() {
                    return Err(bad("must name at least one scope, such as https://graph.microsoft.com/.default"));
                }
                self.scopes = scopes;
            }
            "authority_host" => {
                let url = parse_endpoint(value).map_err(|why| bad(&why))?;
                if url.query().is_some() || url.fragment().is_some() {
                    return Err(bad("must not have a query or fragment"));
                }
                self.authority_host = value.trim().trim_end_matches('/').to_owned();
            }
            "token_url" => {
                parse_endpoint(value).map_err(|why| bad(&why))?;
                self.token_url = Some(value.trim().to_owned());
            }
            "client_auth" => {
                self.client_auth = match value.trim() {
                    "client_secret_post" => ClientAuth::SecretPost,
                    "client_secret_basic" => ClientAuth::SecretBasic,
                    _ => return Err(bad("must be client_secret_post or client_secret_basic")),
                }
            }
            "ca_file" => {
                let path = PathBuf::from(value);
                if value.is_empty() || !path.is_file() {
                    return Err(bad(&format!("'{value}' is not a readable file")));
                }
                self.ca_file = Some(path);
            }
            "tls_roots" => {
                self.tls_roots = match value.trim() {
                    "system" => TlsRoots::System,
                    "bundled" => TlsRoots::Bundled,
                    "system+bundled" => TlsRoots::SystemAndBundled,
                    _ => return Err(bad("must be system, bundled or system+bundled")),
                }
            }
            "connect_timeout_ms" => self.connect_timeout = millis(value, 1, 600_000).map_err(|w| bad(&w))?,
            "timeout_ms" => self.timeout = millis(value, 1, 600_000).map_err(|w| bad(&w))?,
            "total_timeout_ms" => self.total_timeout = millis(value, 1, 3_600_000).map_err(|w| bad(&w))?,
            "max_attempts" => {
                self.max_attempts = number(value, 1, 10).map_err(|w| bad(&w))? as u32;
            }
            "refresh_margin_s" => {
                self.refresh_margin = Duration::from_secs(number(value, 0, 86_400).map_err(|w| bad(&w))?)
            }
            "proxy" => {
                let v = value.trim();
                self.proxy = if v.is_empty() || v.eq_ignore_ascii_case("none") {
                    ProxySetting::Disabled
                } else {
                    validate_proxy_url(v).map_err(|why| bad(&why))?;
                    ProxySetting::Url(v.to_owned())
                };
            }
            "imds_endpoint" => {
                crate::credentials::managed_identity::parse_endpoint(value).map_err(|why| bad(&why))?;
                self.imds_endpoint = Some(value.trim().to_owned());
            }
            "identity_endpoint" => {
                crate::credentials::managed_identity::parse_endpoint(value).map_err(|why| bad(&why))?;
                self.identity_endpoint = Some(value.trim().to_owned());
            }
            "identity_header" => {
                if value.is_empty() || value.chars().any(char::is_control) {
                    return Err(bad("must be a non-empty value without control characters"));
                }
                self.identity_header = Some(Secret::new(value));
            }
            "imds_upgrade_window_ms" => self.imds_upgrade_window = millis(value, 0, 3_600_000).map_err(|w| bad(&w))?,
            "cache_dir" => {
                let path = PathBuf::from(value);
                if value.is_empty() || !path.is_absolute() || value.chars().any(char::is_control) {
                    return Err(bad("must be an absolute directory path"));
                }
                self.cache_dir = Some(path);
            }
            "redis_url" => {
                check_redis_url(value).map_err(|why| bad(&why))?;
                self.redis_url = Some(Secret::new(value.trim()));
            }
            "redis_key_prefix" => {
                if value.len() > 128 || value.chars().any(|c| c.is_control() || c == ' ') {
                    return Err(bad("must be at most 128 characters, without spaces or control characters"));
                }
                self.redis_key_prefix = value.to_owned();
            }
            "redis_timeout_ms" => self.redis_timeout = millis(value, 1, 60_000).map_err(|w| bad(&w))?,
            "redis_ca_file" => {
                let path = PathBuf::from(value);
                if value.is_empty() || !path.is_file() {
                    return Err(bad(&format!("'{value}' is not a readable file")));
                }
                self.redis_ca_file = Some(path);
            }
            _ => {
                let known: Vec<&str> = CONFIG_KEYS.iter().map(|(k, _)| *k).collect();
                return Err(Error::invalid_argument(format!(
                    "unknown config key '{key}' (known keys: {})",
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The token endpoint this configuration talks to.
    pub fn token_endpoint(&self) -> String {
        match &self.token_url {
            Some(url) => url.clone(),
            None => format!("{}/{}/oauth2/v2.0/token", self.authority_host, self.tenant),
        }
    }

    /// True when the authority names no tenant (`common`, `organizations`,
    /// `consumers`), which Entra refuses for the client-credentials grant.
    pub fn is_tenantless(&self) -> bool {
        self.token_url.is_none()
            && ["common", "organizations", "consumers"].iter().any(|t| self.tenant.eq_ignore_ascii_case(t))
    }

    /// The scopes as sent: space-separated, in the order given.
    pub fn scope_param(&self) -> String {
        self.scopes.join(" ")
    }
}

/// A URL as shown in messages and `Debug` output: its query and fragment
/// (which may carry secrets, such as a signature or a key) become `***`, and
/// so do a user name and password. Works on text that does not parse too.
pub fn redact_url(value: &str) -> String {
    let value = value.trim();
    let cut = value.find(['?', '#']).unwrap_or(value.len());
    let (base, rest) = value.split_at(cut);
    let mut shown = match base.split_once("://") {
        Some((scheme, after)) => {
            let authority_end = after.find('/').unwrap_or(after.len());
            match after[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}://***@{}", &after[at + 1..]),
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    if let Some(mark) = rest.chars().next() {
        shown.push(mark);
        shown.push_str("***");
    }
    shown
}

/// An endpoint must be https, or plain http on a loopback host only.
/// Messages show the value redacted (see [`redact_url`]).
pub(crate) fn parse_endpoint(value: &str) -> Result<Url, String> {
    let shown = redact_url(value);
    let url = Url::parse(value.trim()).map_err(|e| format!("'{shown}' is not a valid URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(format!("'{shown}' uses plain http, which is allowed only for loopback hosts; use https"))
        }
        other => return Err(format!("'{shown}' has unsupported scheme '{other}'; use https")),
    }
    if url.host().is_none() {
        return Err(format!("'{shown}' has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("'{shown}' must not carry credentials"));
    }
    Ok(url)
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A Redis URL the fleet tier can use; messages show it redacted.
pub(crate) fn check_redis_url(value: &str) -> Result<(), String> {
    let shown = redact_url(value);
    let url = Url::parse(value.trim()).map_err(|e| format!("'{shown}' is not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "redis" | "rediss") {
        return Err(format!("'{shown}' must start with redis:// or rediss://"));
    }
    if url.host().is_none() {
        return Err(format!("'{shown}' has no host"));
    }
    if !cfg!(feature = "redis-tier") {
        return Err("this build of paytrim-auth has no Redis support (Cargo feature redis-tier)".to_owned());
    }
    Ok(())
}

fn validate_proxy_url(value: &str) -> Result<(), String> {
    let url = Url::parse(value).map_err(|e| format!("'{value}' is not a valid proxy URL ({e})"))?;
    if url.scheme() != "http" {
        return Err(format!("proxy scheme '{}' is not supported; use http://host:port", url.scheme()));
    }
    if url.host().is_none() {
        return Err("proxy URL has no host".to_owned());
    }
    Ok(())
}

fn number(value: &str, min: u64, max: u64) -> Result<u64, String> {
    let n: u64 = value.trim().parse().map_err(|_| format!("'{value}' is not a whole number"))?;
    if n < min || n > max {
        return Err(format!("{n} is out of range ({min} to {max})"));
    }
    Ok(n)
}

fn millis(value: &str, min: u64, max: u64) -> Result<Duration, String> {
    number(value, min, max).map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_request() {
        let c = ClientConfig::default();
        assert_eq!(c.token_endpoint(), "https://login.microsoftonline.com/common/oauth2/v2.0/token");
        assert_eq!(c.scope_param(), "https://graph.microsoft.com/.default");
        assert!(c.is_tenantless());
    }

    #[test]
    fn every_listed_key_is_accepted_with_a_good_value() {
        let file = std::env::current_exe().unwrap();
        let good = |k: &str| -> String {
            match k {
                "tenant" => "contoso.onmicrosoft.com".into(),
                "scope" => "api://x/.default".into(),
                "authority_host" => "https://login.example.com/".into(),
                "token_url" => "http://127.0.0.1:9/oauth2/token".into(),
                "client_auth" => "client_secret_basic".into(),
                "ca_file" => file.to_string_lossy().into_owned(),
                "tls_roots" => "system+bundled".into(),
                "proxy" => "http://127.0.0.1:3128".into(),
                "imds_endpoint" => "http://169.254.169.254".into(),
                "identity_endpoint" => "http://127.0.0.1:41741/MSI/token/".into(),
                "identity_header" => "header-secret".into(),
                "cache_dir" => "/tmp/paytrim-cache".into(),
                "redis_url" => "rediss://user:pw@127.0.0.1:6379/0".into(),
                "redis_key_prefix" => "app:".into(),
                "redis_ca_file" => file.to_string_lossy().into_owned(),
                _ => "7".into(),
            }
        };
        let mut c = ClientConfig::default();
        for (k, _) in CONFIG_KEYS {
            c.set(k, &good(k)).unwrap_or_else(|e| panic!("{k}: {e}"));
        }
        assert_eq!(c.authority_host, "https://login.example.com");
        assert_eq!(c.client_auth, ClientAuth::SecretBasic);
        assert_eq!(c.token_endpoint(), "http://127.0.0.1:9/oauth2/token");
    }

    #[test]
    fn bad_values_name_the_key() {
        let mut c = ClientConfig::default();
        for (k, v) in [
            ("tenant", ""),
            ("tenant", "a/b"),
            ("scope", "   "),
            ("authority_host", "http://login.example.com"),
            ("authority_host", "ftp://x"),
            ("token_url", "not a url"),
            ("client_auth", "private_key_jwt"),
            ("ca_file", "/nonexistent/ca.pem"),
            ("tls_roots", "webpki"),
            ("timeout_ms", "0"),
            ("timeout_ms", "-5"),
            ("max_attempts", "11"),
            ("refresh_margin_s", "ten"),
            ("proxy", "socks5://127.0.0.1:1080"),
            ("imds_endpoint", "http://10.0.0.1"),
            ("identity_endpoint", "http://169.254.169.254.example.com/msi"),
            ("identity_header", ""),
            ("imds_upgrade_window_ms", "soon"),
        ] {
            let e = c.set(k, v).unwrap_err();
            assert!(e.message().contains(k), "{k}={v}: {}", e.message());
        }
        let e = c.set("tenant_id", "x").unwrap_err();
        assert!(e.message().contains("unknown config key 'tenant_id'"));
    }

    #[test]
    fn dot_only_and_traversing_tenants_are_refused() {
        let mut c = ClientConfig::default();
        for t in ["..", ".", "...", "../x", "a..b", ".contoso.com", "..%2f", "a/../b", "a\\b"] {
            let e = c.set("tenant", t).unwrap_err();
            assert!(e.message().contains("'tenant'"), "{t}: {}", e.message());
        }
        assert_eq!(c.tenant, DEFAULT_TENANT);
        c.set("tenant", "contoso.onmicrosoft.com").unwrap();
        c.set("tenant", "72f988bf-86f1-41af-91ab-2d7cd011db47").unwrap();
        assert!(c.token_endpoint().ends_with("/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"));
    }

    #[test]
    fn urls_in_messages_hide_queries_and_credentials() {
        assert_eq!(redact_url("https://h/t?sig=SECRET&x=1"), "https://h/t?***");
        assert_eq!(redact_url("https://h/t#frag-SECRET"), "https://h/t#***");
        assert_eq!(redact_url("https://u:SECRET@h:1/t"), "https://***@h:1/t");
        assert_eq!(redact_url("not a url?SECRET"), "not a url?***");
        assert_eq!(redact_url("https://h/a@b"), "https://h/a@b");
        let mut c = ClientConfig::default();
        for v in ["http://10.0.0.1/t?key=SECRET", "ftp://h/t?key=SECRET", "::bad?key=SECRET", "https://u:SECRET@h/t"] {
            let e = c.set("token_url", v).unwrap_err();
            assert!(!e.message().contains("SECRET") && e.message().contains("token_url"), "{}", e.message());
        }
    }

    #[test]
    fn debug_hides_proxy_passwords_and_url_queries() {
        let mut c = ClientConfig::default();
        c.set("proxy", "http://alice:Pr0xyPa55@proxy.corp:3128").unwrap();
        c.set("token_url", "https://login.example/t?code=QuerySecret").unwrap();
        let shown = format!("{c:?} {:?}", c.proxy);
        assert!(!shown.contains("Pr0xyPa55") && !shown.contains("alice"), "{shown}");
        assert!(!shown.contains("QuerySecret"), "{shown}");
        assert!(shown.contains("proxy.corp:3128") && shown.contains("login.example/t?***"), "{shown}");
    }

    #[test]
    fn plain_http_only_on_loopback() {
        let mut c = ClientConfig::default();
        assert!(c.set("token_url", "http://localhost:8080/token").is_ok());
        assert!(c.set("token_url", "http://[::1]:8080/token").is_ok());
        assert!(c.set("token_url", "http://10.0.0.1/token").is_err());
    }
}

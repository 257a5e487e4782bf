//! Which proxy a request goes through: the `proxy` key, or the environment's
//! proxy variables minus `NO_PROXY`, with three rules that keep a secret from
//! reaching a proxy in clear text:
//!
//! - plain `http` endpoints (allowed only on loopback) never use a proxy, not
//!   even a configured one: the form carries the client secret unencrypted;
//! - loopback destinations (`127.0.0.0/8`, `::1`, `localhost`) never use a
//!   proxy from the environment (as Go's `httpproxy` does);
//! - for `http` URLs the upper-case `HTTP_PROXY` is ignored, as curl does: CGI
//!   servers turn a request's `Proxy:` header into `HTTP_PROXY` ("httpoxy").
//!
//! `NO_PROXY` (or `no_proxy`) entries, comma-separated: `*` (every host); a
//! domain, with or without a leading `.` or `*.`, matching itself and its
//! subdomains; an IPv4 or IPv6 address (brackets optional); a CIDR range
//! (`10.0.0.0/8`, `fd00::/8`) matching IP-literal hosts; any of these with a
//! `:port`, which then matches only that port. Names are not resolved.

use crate::config::{self, ProxySetting};
use std::net::IpAddr;
use url::Url;

/// The proxy for `url` under `setting`; `env` reads an environment variable.
pub(crate) fn select_proxy(setting: &ProxySetting, url: &Url, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if url.scheme() != "https" {
        return None;
    }
    match setting {
        ProxySetting::Disabled => None,
        ProxySetting::Url(p) => Some(p.clone()),
        ProxySetting::FromEnvironment => {
            if config::is_loopback(url) {
                return None;
            }
            let proxy = environment_proxy(url.scheme(), env)?;
            let no_proxy = first_set(&["NO_PROXY", "no_proxy"], env).unwrap_or_default();
            let host = url.host_str().unwrap_or("");
            let port = url.port_or_known_default().unwrap_or(443);
            if no_proxy_matches(&no_proxy, host, port) {
                None
            } else {
                Some(proxy)
            }
        }
    }
}

/// The environment's proxy for a scheme: `HTTPS_PROXY`/`https_proxy` for
/// https, only the lower-case `http_proxy` for http, then `ALL_PROXY`/`all_proxy`.
pub(crate) fn environment_proxy(scheme: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let names: &[&str] = if scheme == "https" {
        &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        &["http_proxy", "ALL_PROXY", "all_proxy"]
    };
    first_set(names, env)
}

fn first_set(names: &[&str], env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    names.iter().find_map(|n| env(n).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()))
}

/// True when a `NO_PROXY` list exempts `host` (a name or an IP literal, with
/// or without brackets) on `port`.
pub(crate) fn no_proxy_matches(no_proxy: &str, host: &str, port: u16) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase();
    let host_ip: Option<IpAddr> = host.parse().ok();
    no_proxy.split(',').map(str::trim).filter(|e| !e.is_empty()).any(|entry| {
        if entry == "*" {
            return true;
        }
        let Some((pattern, entry_port)) = split_port(entry) else { return false };
        if entry_port.is_some_and(|p| p != port) {
            return false;
        }
        match pattern {
            Pattern::Ip(ip) => host_ip == Some(ip),
            Pattern::Cidr(net, bits) => host_ip.is_some_and(|ip| in_cidr(ip, net, bits)),
            Pattern::Domain(d) => host_ip.is_none() && (host == d || host.ends_with(&format!(".{d}"))),
        }
    })
}

enum Pattern {
    Ip(IpAddr),
    Cidr(IpAddr, u8),
    Domain(String),
}

/// Splits one entry into its pattern and optional port; None if unusable.
fn split_port(entry: &str) -> Option<(Pattern, Option<u16>)> {
    let entry = entry.to_ascii_lowercase();
    // `[v6]` or `[v6]:port`
    if let Some(rest) = entry.strip_prefix('[') {
        let (addr, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((ip_or_cidr(addr)?, port));
    }
    // A bare IPv6 address or range has several colons and no port.
    if entry.matches(':').count() > 1 {
        return Some((ip_or_cidr(&entry)?, None));
    }
    let (pattern, port) = match entry.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse().ok()?)),
        None => (entry.as_str(), None),
    };
    if let Some(p) = ip_or_cidr(pattern) {
        return Some((p, port));
    }
    let domain = pattern.trim_start_matches("*.").trim_start_matches('.').trim_end_matches('.');
    if domain.is_empty() {
        return None;
    }
    Some((Pattern::Domain(domain.to_owned()), port))
}

fn ip_or_cidr(s: &str) -> Option<Pattern> {
    match s.split_once('/') {
        Some((addr, bits)) => {
            let ip: IpAddr = addr.parse().ok()?;
            let bits: u8 = bits.parse().ok()?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            (bits <= max).then_some(Pattern::Cidr(ip, bits))
        }
        None => s.parse().ok().map(Pattern::Ip),
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u32::from(a) as u128, u32::from(n) as u128, 32u32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128u32),
        _ => return false,
    };
    if bits == 0 {
        return true;
    }
    let shift = width - u32::from(bits);
    (ip >> shift) == (net >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn no_proxy_forms() {
        let m = |list: &str, host: &str| no_proxy_matches(list, host, 443);
        assert!(m("*", "login.microsoftonline.com"));
        assert!(m("example.com, .microsoftonline.com", "login.microsoftonline.com"));
        assert!(m("microsoftonline.com", "login.microsoftonline.com"));
        assert!(m("microsoftonline.com", "microsoftonline.com"));
        assert!(m(".microsoftonline.com", "microsoftonline.com"));
        assert!(m("*.microsoftonline.com", "login.microsoftonline.com"));
        assert!(m("MicrosoftOnline.COM", "login.microsoftonline.com."));
        assert!(!m("online.com", "login.microsoftonline.com"));
        assert!(!m("", "login.microsoftonline.com"));
        assert!(!m(",,", "login.microsoftonline.com"));
        // Ports: an entry with a port matches that port only.
        assert!(no_proxy_matches("login.example.com:443", "login.example.com", 443));
        assert!(!no_proxy_matches("login.example.com:8443", "login.example.com", 443));
        assert!(no_proxy_matches("10.1.2.3:8443", "10.1.2.3", 8443));
        assert!(!no_proxy_matches("10.1.2.3:8443", "10.1.2.3", 443));
        assert!(no_proxy_matches("[fd00::1]:443", "[fd00::1]", 443));
        // Addresses, with or without brackets.
        assert!(m("10.1.2.3", "10.1.2.3"));
        assert!(!m("10.1.2.3", "10.1.2.4"));
        assert!(m("fd00::1", "[fd00::1]"));
        assert!(m("[fd00::1]", "fd00::1"));
        assert!(!m("fd00::1", "fd00::2"));
        // CIDR ranges match IP literals, not names.
        assert!(m("10.0.0.0/8", "10.200.3.4"));
        assert!(!m("10.0.0.0/8", "11.0.0.1"));
        assert!(m("192.168.1.0/24", "192.168.1.255"));
        assert!(!m("192.168.1.0/24", "192.168.2.0"));
        assert!(m("fd00::/8", "[fd12:3456::1]"));
        assert!(!m("fd00::/8", "[fe80::1]"));
        assert!(!m("10.0.0.0/8", "fd00::1"));
        assert!(m("0.0.0.0/0", "203.0.113.9"));
        assert!(!m("10.0.0.0/8", "ten.example.com"));
        // Garbage entries match nothing and do not spoil the list.
        assert!(!m("10.0.0.0/99, [::1, :x", "10.0.0.1"));
        assert!(m("10.0.0.0/99, example.org", "www.example.org"));
    }

    #[test]
    fn environment_proxies_skip_loopback_and_no_proxy_hosts() {
        let env = env_of(&[("HTTPS_PROXY", "http://proxy:3128"), ("NO_PROXY", "corp.example")]);
        let fe = ProxySetting::FromEnvironment;
        let pick = |u: &str| select_proxy(&fe, &url(u), &env);
        assert_eq!(pick("https://login.microsoftonline.com/t").as_deref(), Some("http://proxy:3128"));
        assert_eq!(pick("https://sts.corp.example/t"), None);
        for local in ["https://127.0.0.1:8443/t", "https://127.9.9.9/t", "https://[::1]:8443/t", "https://localhost/t"]
        {
            assert_eq!(pick(local), None, "{local}");
        }
        assert_eq!(select_proxy(&ProxySetting::Disabled, &url("https://login.microsoftonline.com/t"), &env), None);
    }

    #[test]
    fn plain_http_never_uses_a_proxy() {
        let env = env_of(&[
            ("http_proxy", "http://lower:1"),
            ("HTTP_PROXY", "http://upper:1"),
            ("ALL_PROXY", "http://all:1"),
            ("HTTPS_PROXY", "http://s:1"),
        ]);
        for u in ["http://127.0.0.1:8080/t", "http://localhost/t", "http://[::1]/t"] {
            assert_eq!(select_proxy(&ProxySetting::FromEnvironment, &url(u), &env), None, "{u}");
            assert_eq!(select_proxy(&ProxySetting::Url("http://p:1".into()), &url(u), &env), None, "{u}");
        }
        // A configured proxy still carries https (end-to-end TLS through CONNECT).
        let local = url("https://127.0.0.1:8443/t");
        assert_eq!(select_proxy(&ProxySetting::Url("http://p:1".into()), &local, &env).as_deref(), Some("http://p:1"));
    }

    #[test]
    fn httpoxy_upper_case_http_proxy_is_ignored_for_http() {
        let upper_only = env_of(&[("HTTP_PROXY", "http://attacker:80")]);
        assert_eq!(environment_proxy("http", &upper_only), None);
        let lower = env_of(&[("HTTP_PROXY", "http://attacker:80"), ("http_proxy", "http://corp:3128")]);
        assert_eq!(environment_proxy("http", &lower).as_deref(), Some("http://corp:3128"));
        let all = env_of(&[("HTTP_PROXY", "http://attacker:80"), ("ALL_PROXY", "http://all:3128")]);
        assert_eq!(environment_proxy("http", &all).as_deref(), Some("http://all:3128"));
        let https = env_of(&[("https_proxy", " http://s:3128 "), ("HTTP_PROXY", "http://attacker:80")]);
        assert_eq!(environment_proxy("https", &https).as_deref(), Some("http://s:3128"));
        assert_eq!(environment_proxy("https", &upper_only), None);
    }
}

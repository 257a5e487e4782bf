//! Managed identity: tokens for the Azure resource this process runs on, with
//! no stored credential. Two endpoints, chosen deterministically at client
//! creation (never by probing the network):
//!
//! * **IMDS** (VMs, scale sets, AKS nodes): `GET http://169.254.169.254/metadata/identity/oauth2/token
//!   ?api-version=2018-02-01&resource=R` with `Metadata: true`; user-assigned by `client_id`,
//!   `object_id` or `msi_res_id`.
//! * **App Service** (also Functions, Container Apps): `GET $IDENTITY_ENDPOINT?api-version=2019-08-01
//!   &resource=R` with `X-IDENTITY-HEADER: $IDENTITY_HEADER`; user-assigned by `client_id`,
//!   `principal_id` or `mi_res_id`.
//!
//! Which endpoint, first match wins (configuration beats the environment):
//! 1. config key `identity_endpoint` → App Service (header: config key `identity_header`, else `IDENTITY_HEADER`);
//! 2. config key `imds_endpoint` → IMDS there;
//! 3. `IDENTITY_ENDPOINT` → App Service, with `IDENTITY_HEADER` (or config key `identity_header`);
//!    `IDENTITY_ENDPOINT` without a header is an error (with `IMDS_ENDPOINT` too it is Azure Arc,
//!    which is not supported; with `IDENTITY_SERVER_THUMBPRINT` it is Service Fabric, not supported);
//! 4. `IMDS_ENDPOINT` → IMDS there;
//! 5. `MSI_ENDPOINT` alone (Cloud Shell, the 2017 App Service API): an error, not supported;
//! 6. IMDS at `http://169.254.169.254`.
//!
//! Endpoints must be https, plain http on loopback, or plain http on the
//! link-local IMDS address 169.254.169.254 (the one exception to the
//! plain-http rule). The transport's proxy rules apply: plain-http and
//! loopback endpoints (all of Azure's) never go through a proxy.

pub(crate) mod answer;
mod source;

pub(crate) use source::ManagedIdentitySource;

use crate::config::ClientConfig;
use crate::error::{Error, ErrorCode};
use crate::protocol::form_encode;
use crate::secret::Secret;
use std::fmt;
use std::net::Ipv4Addr;
use url::{Host, Url};

/// The IMDS address Azure serves on every VM; the only plain-http host allowed
/// besides loopback.
pub const IMDS_ADDRESS: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);
pub const DEFAULT_IMDS_ENDPOINT: &str = "http://169.254.169.254";
pub const IMDS_TOKEN_PATH: &str = "/metadata/identity/oauth2/token";
const IMDS_API_VERSION: &str = "2018-02-01";
const APP_SERVICE_API_VERSION: &str = "2019-08-01";

/// Which managed identity to get a token for.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum ManagedIdentityId {
    /// The resource's own (system-assigned) identity.
    SystemAssigned,
    /// A user-assigned identity by its client (application) id.
    ClientId(String),
    /// A user-assigned identity by its object (principal) id.
    ObjectId(String),
    /// A user-assigned identity by its Azure resource id
    /// (`/subscriptions/.../providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME`).
    ResourceId(String),
}

impl ManagedIdentityId {
    /// Parses the text form used by configuration and the environment:
    /// `system`, `client_id:GUID`, `object_id:GUID`, `resource_id:/subscriptions/...`,
    /// or a bare GUID (a client id, as `AZURE_CLIENT_ID` holds).
    pub fn parse(text: &str) -> Result<ManagedIdentityId, Error> {
        let t = text.trim();
        let id = if t.eq_ignore_ascii_case("system") || t.eq_ignore_ascii_case("system_assigned") {
            ManagedIdentityId::SystemAssigned
        } else if let Some(v) = t.strip_prefix("client_id:") {
            ManagedIdentityId::ClientId(v.trim().to_owned())
        } else if let Some(v) = t.strip_prefix("object_id:") {
            ManagedIdentityId::ObjectId(v.trim().to_owned())
        } else if let Some(v) = t.strip_prefix("resource_id:") {
            ManagedIdentityId::ResourceId(v.trim().to_owned())
        } else if is_guid(t) {
            ManagedIdentityId::ClientId(t.to_owned())
        } else {
            return Err(Error::invalid_argument(format!(
                "managed identity '{}' is not understood: use 'system', a client id (GUID), \
                 'client_id:GUID', 'object_id:GUID' or 'resource_id:/subscriptions/...'",
                t.chars().take(200).collect::<String>()
            )));
        };
        id.validate()?;
        Ok(id)
    }

    /// Checks the id's shape, so a typo fails at client creation, not at the endpoint.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |why: String| Err(Error::invalid_argument(format!("managed identity: {why}")));
        match self {
            ManagedIdentityId::SystemAssigned => Ok(()),
            ManagedIdentityId::ClientId(v) | ManagedIdentityId::ObjectId(v) if !is_guid(v) => {
                bad(format!("{} '{}' is not a GUID", self.kind(), v.chars().take(100).collect::<String>()))
            }
            ManagedIdentityId::ResourceId(v)
                if !v.starts_with('/') || v.len() > 1000 || v.chars().any(|c| c.is_control() || c == ' ') =>
            {
                bad(format!(
                    "resource id '{}' is not an Azure resource id (/subscriptions/.../userAssignedIdentities/NAME)",
                    v.chars().take(100).collect::<String>()
                ))
            }
            _ => Ok(()),
        }
    }

    /// `system`, `client_id`, `object_id` or `resource_id`.
    pub fn kind(&self) -> &'static str {
        match self {
            ManagedIdentityId::SystemAssigned => "system",
            ManagedIdentityId::ClientId(_) => "client_id",
            ManagedIdentityId::ObjectId(_) => "object_id",
            ManagedIdentityId::ResourceId(_) => "resource_id",
        }
    }

    /// The id itself (`None` for the system-assigned identity).
    pub fn value(&self) -> Option<&str> {
        match self {
            ManagedIdentityId::SystemAssigned => None,
            ManagedIdentityId::ClientId(v) | ManagedIdentityId::ObjectId(v) | ManagedIdentityId::ResourceId(v) => {
                Some(v)
            }
        }
    }
}

impl fmt::Display for ManagedIdentityId {
    /// `system` or `kind:id` (ids are not secrets).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value() {
            None => f.write_str("system"),
            Some(v) => write!(f, "{}:{v}", self.kind()),
        }
    }
}

fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The two endpoint kinds, with their own parameters, answers and retry rules.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Flavour {
    Imds,
    AppService,
}

/// Where and how to ask for a managed-identity token.
pub(crate) struct Endpoint {
    pub flavour: Flavour,
    /// The token URL, without query.
    pub url: Url,
    /// App Service's `X-IDENTITY-HEADER` value.
    header: Option<Secret>,
    /// What chose this endpoint (for messages): a config key or a variable.
    pub chosen_by: &'static str,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("flavour", &self.flavour)
            .field("url", &self.url.as_str())
            .field("chosen_by", &self.chosen_by)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// The full request URL for `id` and `resource`.
    pub fn request_url(&self, id: &ManagedIdentityId, resource: &str) -> String {
        let (version, selectors) = match self.flavour {
            Flavour::Imds => (IMDS_API_VERSION, ["client_id", "object_id", "msi_res_id"]),
            Flavour::AppService => (APP_SERVICE_API_VERSION, ["client_id", "principal_id", "mi_res_id"]),
        };
        let mut pairs = vec![("api-version", version), ("resource", resource)];
        match id {
            ManagedIdentityId::SystemAssigned => {}
            ManagedIdentityId::ClientId(v) => pairs.push((selectors[0], v)),
            ManagedIdentityId::ObjectId(v) => pairs.push((selectors[1], v)),
            ManagedIdentityId::ResourceId(v) => pairs.push((selectors[2], v)),
        }
        let mut url = self.url.as_str().to_owned();
        url.push(if self.url.query().is_some() { '&' } else { '?' });
        url.push_str(&form_encode(&pairs));
        url
    }

    /// The header each endpoint requires: `Metadata: true`, or `X-IDENTITY-HEADER`.
    pub fn required_header(&self) -> (&'static str, &str) {
        match (&self.flavour, &self.header) {
            (Flavour::AppService, Some(h)) => ("X-IDENTITY-HEADER", h.expose()),
            _ => ("Metadata", "true"),
        }
    }
}

/// A managed-identity endpoint URL: https, or plain http on loopback or on
/// exactly 169.254.169.254. No credentials, no fragment.
pub(crate) fn parse_endpoint(value: &str) -> Result<Url, String> {
    let url = Url::parse(value.trim()).map_err(|e| format!("'{value}' is not a valid URL ({e})"))?;
    let link_local_imds = matches!(url.host(), Some(Host::Ipv4(ip)) if ip == IMDS_ADDRESS);
    match url.scheme() {
        "https" => {}
        "http" if crate::config::is_loopback(&url) || link_local_imds => {}
        "http" => {
            return Err(format!(
                "'{value}' uses plain http, which is allowed only for loopback hosts and the IMDS address 169.254.169.254; use https"
            ))
        }
        other => return Err(format!("'{value}' has unsupported scheme '{other}'")),
    }
    if url.host().is_none() {
        return Err(format!("'{value}' has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("'{value}' must not carry credentials"));
    }
    if url.fragment().is_some() {
        return Err(format!("'{value}' must not have a fragment"));
    }
    Ok(url)
}

/// An IMDS base (`http://169.254.169.254`, as `IMDS_ENDPOINT` holds) or a
/// full token URL: the token path is added to a bare host.
fn imds_token_url(base: &str) -> Result<Url, String> {
    let mut url = parse_endpoint(base)?;
    if url.query().is_some() {
        return Err(format!("'{base}' must not have a query"));
    }
    if url.path().trim_end_matches('/').is_empty() {
        url.set_path(IMDS_TOKEN_PATH);
    }
    Ok(url)
}

/// Settings that decide the endpoint, from configuration (`ClientConfig`).
fn from_config(config: &ClientConfig) -> (Option<&str>, Option<&Secret>, Option<&str>) {
    (config.identity_endpoint.as_deref(), config.identity_header.as_ref(), config.imds_endpoint.as_deref())
}

/// Chooses the endpoint (see the module documentation for the order).
/// `env` reads a variable (the process environment in production).
pub(crate) fn select_endpoint(config: &ClientConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Endpoint, Error> {
    let var = |name: &str| env(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let (cfg_identity, cfg_header, cfg_imds) = from_config(config);
    let bad = |who: &str, why: String| Error::invalid_argument(format!("managed identity: {who}: {why}"));
    let app_service = |url: &str, who: &'static str| -> Result<Endpoint, Error> {
        let parsed = parse_endpoint(url).map_err(|why| bad(who, why))?;
        let header = match (cfg_header, var("IDENTITY_HEADER")) {
            (Some(h), _) => h.clone(),
            (None, Some(h)) => Secret::new(h),
            (None, None) => {
                return Err(bad(
                    who,
                    "the App Service endpoint needs its secret: set IDENTITY_HEADER (Azure sets it next to \
                     IDENTITY_ENDPOINT) or config key 'identity_header'"
                        .to_owned(),
                ))
            }
        };
        if header.is_empty() || header.expose().chars().any(char::is_control) {
            return Err(bad(who, "the identity header is empty or contains control characters".to_owned()));
        }
        Ok(Endpoint { flavour: Flavour::AppService, url: parsed, header: Some(header), chosen_by: who })
    };
    let imds = |base: &str, who: &'static str| -> Result<Endpoint, Error> {
        let url = imds_token_url(base).map_err(|why| bad(who, why))?;
        Ok(Endpoint { flavour: Flavour::Imds, url, header: None, chosen_by: who })
    };
    if let Some(url) = cfg_identity {
        return app_service(url, "config key 'identity_endpoint'");
    }
    if let Some(base) = cfg_imds {
        return imds(base, "config key 'imds_endpoint'");
    }
    if let Some(url) = var("IDENTITY_ENDPOINT") {
        if var("IDENTITY_SERVER_THUMBPRINT").is_some() {
            return Err(Error::invalid_argument(
                "managed identity: IDENTITY_SERVER_THUMBPRINT is set, which means Service Fabric, whose managed \
                 identity paytrim-auth does not support; set config key 'imds_endpoint' or 'identity_endpoint' \
                 to choose an endpoint",
            ));
        }
        if cfg_header.is_none() && var("IDENTITY_HEADER").is_none() && var("IMDS_ENDPOINT").is_some() {
            return Err(Error::invalid_argument(
                "managed identity: IDENTITY_ENDPOINT and IMDS_ENDPOINT without IDENTITY_HEADER mean Azure Arc, \
                 which paytrim-auth does not support; set config key 'imds_endpoint' or 'identity_endpoint' to \
                 choose an endpoint",
            ));
        }
        return app_service(&url, "IDENTITY_ENDPOINT");
    }
    if let Some(base) = var("IMDS_ENDPOINT") {
        return imds(&base, "IMDS_ENDPOINT");
    }
    if var("MSI_ENDPOINT").is_some() {
        return Err(Error::invalid_argument(
            "managed identity: only MSI_ENDPOINT is set (Azure Cloud Shell or the 2017 App Service API), which \
             paytrim-auth does not support; set config key 'imds_endpoint' or 'identity_endpoint' to choose an \
             endpoint",
        ));
    }
    imds(DEFAULT_IMDS_ENDPOINT, "the default IMDS address")
}

/// The resource a managed-identity token is for: the one scope, without
/// `/.default` (`https://management.azure.com/.default` → `https://management.azure.com`).
pub(crate) fn resource_for(scopes: &[String]) -> Result<String, Error> {
    let scope = match scopes {
        [one] => one.trim(),
        [] => return Err(Error::invalid_argument("managed identity: no scope configured (config key 'scope')")),
        many => {
            return Err(Error::invalid_argument(format!(
                "managed identity: a token is for exactly one resource, but the scopes (config key 'scope', or \
                 the scopes asked for per call) names {}: {}; ask for one resource at a time",
                many.len(),
                many.join(" ")
            )))
        }
    };
    let resource = scope.strip_suffix("/.default").unwrap_or(scope);
    if resource.is_empty() || resource.chars().any(|c| c.is_control() || c == ' ') {
        return Err(Error::invalid_argument(format!("managed identity: scope '{scope}' names no resource")));
    }
    Ok(resource.to_owned())
}

/// How a failed attempt may be retried.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Retry {
    Never,
    /// Within the attempt count and the time budget.
    WithBackoff,
    /// IMDS is upgrading (410): retried for the upgrade window (about 70 s)
    /// whatever the attempt count, still within the time budget.
    WhileUpgrading,
}

/// IMDS: connect failures, 404, 410, 429 and every 5xx are transient.
/// App Service: the same rules as Entra (connect failures, 408, 429, 500, 502-504).
pub(crate) fn retry_rule(flavour: Flavour, err: &Error) -> Retry {
    match (flavour, err.code(), err.http_status()) {
        (Flavour::Imds, ErrorCode::Server, Some(410)) => Retry::WhileUpgrading,
        (Flavour::Imds, ErrorCode::Server, _) => Retry::WithBackoff,
        (Flavour::Imds, ErrorCode::Network | ErrorCode::Throttled, _) => Retry::WithBackoff,
        (Flavour::AppService, _, _) if crate::retry::is_retryable(err) => Retry::WithBackoff,
        _ => Retry::Never,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const CID: &str = "6c3b1e2a-8f5d-4c1e-9a7b-2d4e6f8a0b1c";

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn identities_parse_and_validate() {
        assert_eq!(ManagedIdentityId::parse("system").unwrap(), ManagedIdentityId::SystemAssigned);
        assert_eq!(ManagedIdentityId::parse(CID).unwrap(), ManagedIdentityId::ClientId(CID.into()));
        assert_eq!(
            ManagedIdentityId::parse(&format!("object_id:{CID}")).unwrap(),
            ManagedIdentityId::ObjectId(CID.into())
        );
        let rid = "/subscriptions/x/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/n";
        assert_eq!(
            ManagedIdentityId::parse(&format!("resource_id:{rid}")).unwrap().to_string(),
            format!("resource_id:{rid}")
        );
        for bad in ["", "sys", "client_id:nope", "object_id:", "resource_id:subscriptions/x", "resource_id:/a b"] {
            let e = ManagedIdentityId::parse(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn resource_is_the_one_scope_without_default() {
        assert_eq!(
            resource_for(&["https://management.azure.com/.default".into()]).unwrap(),
            "https://management.azure.com"
        );
        assert_eq!(resource_for(&["api://paytrim".into()]).unwrap(), "api://paytrim");
        let e = resource_for(&["a/.default".into(), "b/.default".into()]).unwrap_err();
        assert!(e.message().contains("exactly one resource") && e.message().contains("names 2"), "{}", e.message());
        assert!(resource_for(&["/.default".into()]).is_err());
        assert!(resource_for(&[]).is_err());
    }

    #[test]
    fn plain_http_only_for_loopback_and_the_imds_address() {
        assert!(parse_endpoint("http://169.254.169.254").is_ok());
        assert!(parse_endpoint("http://127.0.0.1:41741/MSI/token/").is_ok());
        assert!(parse_endpoint("http://localhost:42356/msi/token").is_ok());
        assert!(parse_endpoint("https://identity.example.com/token").is_ok());
        for bad in [
            "http://169.254.169.253",
            "http://169.254.169.254.nip.io",
            "http://10.0.0.4/msi/token",
            "ftp://127.0.0.1",
            "http://u:p@127.0.0.1/",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
        // Only managed-identity endpoints get the exception: a token URL does not.
        let mut c = ClientConfig::default();
        assert!(c.set("token_url", "http://169.254.169.254/token").is_err());
    }

    #[test]
    fn endpoint_precedence_config_then_environment() {
        let mut c = ClientConfig::default();
        // Default: IMDS on the link-local address.
        let e = select_endpoint(&c, &env(&[])).unwrap();
        assert_eq!(
            (e.flavour, e.url.as_str()),
            (Flavour::Imds, "http://169.254.169.254/metadata/identity/oauth2/token")
        );
        // IMDS_ENDPOINT moves it.
        let e = select_endpoint(&c, &env(&[("IMDS_ENDPOINT", "http://127.0.0.1:40342")])).unwrap();
        assert_eq!(e.url.as_str(), "http://127.0.0.1:40342/metadata/identity/oauth2/token");
        assert_eq!(e.chosen_by, "IMDS_ENDPOINT");
        // App Service variables beat IMDS_ENDPOINT.
        let app = [("IDENTITY_ENDPOINT", "http://127.0.0.1:41741/MSI/token/"), ("IDENTITY_HEADER", "h")];
        let e = select_endpoint(&c, &env(&app)).unwrap();
        assert_eq!((e.flavour, e.required_header()), (Flavour::AppService, ("X-IDENTITY-HEADER", "h")));
        // Without its header: an error naming the variable; with IMDS_ENDPOINT: Arc, unsupported.
        let e = select_endpoint(&c, &env(&app[..1])).unwrap_err();
        assert!(e.message().contains("IDENTITY_HEADER"), "{}", e.message());
        let e = select_endpoint(&c, &env(&[app[0], ("IMDS_ENDPOINT", "http://localhost:40342")])).unwrap_err();
        assert!(e.message().contains("Azure Arc"), "{}", e.message());
        // Configuration beats the environment.
        c.set("imds_endpoint", "http://127.0.0.1:9").unwrap();
        let e = select_endpoint(&c, &env(&app)).unwrap();
        assert_eq!((e.flavour, e.chosen_by), (Flavour::Imds, "config key 'imds_endpoint'"));
        c.set("identity_endpoint", "http://127.0.0.1:8/msi/token").unwrap();
        c.set("identity_header", "from-config").unwrap();
        let e = select_endpoint(&c, &env(&app)).unwrap();
        assert_eq!(e.required_header(), ("X-IDENTITY-HEADER", "from-config"));
        assert!(!format!("{e:?}").contains("from-config"));
        // Service Fabric and the legacy MSI_ENDPOINT are refused, naming them.
        let sf = [app[0], app[1], ("IDENTITY_SERVER_THUMBPRINT", "ab12")];
        let e = select_endpoint(&ClientConfig::default(), &env(&sf)).unwrap_err();
        assert!(e.message().contains("Service Fabric"), "{}", e.message());
        let e =
            select_endpoint(&ClientConfig::default(), &env(&[("MSI_ENDPOINT", "http://localhost:50342/oauth2/token")]))
                .unwrap_err();
        assert!(e.message().contains("MSI_ENDPOINT"), "{}", e.message());
        // With IDENTITY_ENDPOINT too (App Service sets both), the current API is used.
        let both = [app[0], app[1], ("MSI_ENDPOINT", "http://127.0.0.1:41741/MSI/token/")];
        assert_eq!(select_endpoint(&ClientConfig::default(), &env(&both)).unwrap().flavour, Flavour::AppService);
        // A bad variable is named.
        let e = select_endpoint(&ClientConfig::default(), &env(&[("IMDS_ENDPOINT", "http://10.1.2.3")])).unwrap_err();
        assert!(e.message().contains("IMDS_ENDPOINT") && e.message().contains("plain http"), "{}", e.message());
    }

    #[test]
    fn request_urls_per_flavour() {
        let c = ClientConfig::default();
        let imds = select_endpoint(&c, &env(&[])).unwrap();
        assert_eq!(
            imds.request_url(&ManagedIdentityId::SystemAssigned, "https://management.azure.com"),
            "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com"
        );
        assert!(imds
            .request_url(&ManagedIdentityId::ObjectId(CID.into()), "r")
            .ends_with(&format!("&object_id={CID}")));
        assert!(imds.request_url(&ManagedIdentityId::ResourceId("/s/x".into()), "r").ends_with("&msi_res_id=%2Fs%2Fx"));
        assert_eq!(imds.required_header(), ("Metadata", "true"));
        let app = select_endpoint(
            &c,
            &env(&[("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi/token"), ("IDENTITY_HEADER", "h")]),
        )
        .unwrap();
        let u = app.request_url(&ManagedIdentityId::ObjectId(CID.into()), "r");
        assert_eq!(u, format!("http://127.0.0.1:1/msi/token?api-version=2019-08-01&resource=r&principal_id={CID}"));
        assert!(app.request_url(&ManagedIdentityId::ResourceId("/s".into()), "r").ends_with("&mi_res_id=%2Fs"));
    }

    #[test]
    fn retry_rules_differ_per_endpoint() {
        let e = |code, status| Error::new(code, "x").with_http_status(status);
        assert_eq!(retry_rule(Flavour::Imds, &e(ErrorCode::Server, 410)), Retry::WhileUpgrading);
        assert_eq!(retry_rule(Flavour::Imds, &e(ErrorCode::Server, 404)), Retry::WithBackoff);
        assert_eq!(retry_rule(Flavour::Imds, &e(ErrorCode::Server, 501)), Retry::WithBackoff);
        assert_eq!(retry_rule(Flavour::Imds, &e(ErrorCode::Throttled, 429)), Retry::WithBackoff);
        assert_eq!(retry_rule(Flavour::Imds, &e(ErrorCode::CredentialRejected, 400)), Retry::Never);
        assert_eq!(retry_rule(Flavour::AppService, &e(ErrorCode::Server, 501)), Retry::Never);
        assert_eq!(retry_rule(Flavour::AppService, &e(ErrorCode::Server, 503)), Retry::WithBackoff);
        assert_eq!(retry_rule(Flavour::AppService, &e(ErrorCode::RequestRejected, 404)), Retry::Never);
        assert_eq!(retry_rule(Flavour::Imds, &Error::new(ErrorCode::Network, "refused")), Retry::WithBackoff);
    }
}

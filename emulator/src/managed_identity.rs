//! Azure managed-identity token endpoints, as a VM or an App Service sees them:
//!
//! * IMDS: `GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=...`
//!   with `Metadata: true`; user-assigned by `client_id`, `object_id` or `msi_res_id`.
//! * App Service / Functions / Container Apps: `GET /msi/token?api-version=2019-08-01&resource=...`
//!   with `X-IDENTITY-HEADER: <secret>`; user-assigned by `client_id`, `principal_id` or `mi_res_id`.
//!
//! Each has its own answer shape (numbers as strings) and error shape. Both
//! take faults from the same queue as the token endpoints and are counted and
//! recorded like them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::entra::Outcome;
use crate::faults::FaultKind;
use crate::http::{Body, Request, Response};
use crate::state::{RecordedRequest, Shared};
use crate::util;

/// Path of the IMDS token endpoint (the host part is `http://169.254.169.254` on Azure).
pub const IMDS_PATH: &str = "/metadata/identity/oauth2/token";
/// Path the emulator serves the App Service endpoint on (Azure sets
/// `IDENTITY_ENDPOINT` to something like `http://127.0.0.1:41741/MSI/token/`).
pub const APP_SERVICE_PATH: &str = "/msi/token";
/// The only `api-version` each endpoint accepts here.
pub const IMDS_API_VERSION: &str = "2018-02-01";
pub const APP_SERVICE_API_VERSION: &str = "2019-08-01";
/// Default `X-IDENTITY-HEADER` secret of the App Service endpoint.
pub const DEFAULT_IDENTITY_HEADER: &str = "emulator-identity-header";

/// One managed identity: its application (client) id, its service principal's
/// object (principal) id, and its Azure resource id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedIdentity {
    pub client_id: String,
    pub object_id: String,
    pub resource_id: String,
}

impl ManagedIdentity {
    /// An identity with ids derived deterministically from `name`.
    pub fn named(name: &str) -> ManagedIdentity {
        ManagedIdentity {
            client_id: util::guid_from_name(&format!("mi-client:{name}")),
            object_id: util::guid_from_name(&format!("mi-object:{name}")),
            resource_id: format!(
                "/subscriptions/{}/resourcegroups/paytrim-test/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
                util::guid_from_name("subscription")
            ),
        }
    }

    /// The VM's system-assigned identity the emulator starts with.
    pub fn default_system() -> ManagedIdentity {
        ManagedIdentity {
            resource_id: format!(
                "/subscriptions/{}/resourceGroups/paytrim-test/providers/Microsoft.Compute/virtualMachines/emulator-vm",
                util::guid_from_name("subscription")
            ),
            ..ManagedIdentity::named("system-assigned")
        }
    }
}

/// The managed identities the emulator knows, and the endpoints' settings.
#[derive(Debug, Clone)]
pub(crate) struct Registry {
    /// `None`: the host has no system-assigned identity (requests naming no
    /// identity get "Identity not found").
    pub system: Option<ManagedIdentity>,
    pub user_assigned: Vec<ManagedIdentity>,
    /// The `X-IDENTITY-HEADER` value the App Service endpoint requires.
    pub identity_header: String,
    /// Requests to either managed-identity endpoint (also in `token_requests`).
    pub requests: u64,
    initial_system: Option<ManagedIdentity>,
    initial_header: String,
}

impl Default for Registry {
    fn default() -> Registry {
        let system = Some(ManagedIdentity::default_system());
        Registry {
            initial_system: system.clone(),
            system,
            user_assigned: Vec::new(),
            identity_header: DEFAULT_IDENTITY_HEADER.to_string(),
            initial_header: DEFAULT_IDENTITY_HEADER.to_string(),
            requests: 0,
        }
    }
}

impl Registry {
    /// Counters and settings back to their start values; user-assigned
    /// identities stay (like registered clients).
    pub fn reset(&mut self) {
        self.system = self.initial_system.clone();
        self.identity_header = self.initial_header.clone();
        self.requests = 0;
    }

    /// Register (or replace, by client id) a user-assigned identity.
    pub fn add(&mut self, id: ManagedIdentity) {
        self.user_assigned.retain(|u| u.client_id != id.client_id);
        self.user_assigned.push(id);
    }

    pub fn to_json(&self) -> Value {
        json!({
            "system_assigned": self.system,
            "user_assigned": self.user_assigned,
            "identity_header": self.identity_header,
            "requests": self.requests,
        })
    }

    /// Control-API update: `{"system_assigned": {...} | null, "identity_header": "...",
    /// "user_assigned": {...}}` (the latter adds one identity). All or nothing.
    pub fn apply_json(&mut self, v: &Value) -> Result<(), String> {
        let obj = v.as_object().ok_or("managed identity settings must be a JSON object")?;
        let mut next = self.clone();
        for (key, val) in obj {
            match key.as_str() {
                "system_assigned" => {
                    next.system = if val.is_null() {
                        None
                    } else {
                        Some(identity_from_json(val).map_err(|e| format!("'system_assigned': {e}"))?)
                    }
                }
                "identity_header" => {
                    next.identity_header = val.as_str().ok_or("'identity_header' must be a string")?.to_string()
                }
                "user_assigned" => next.add(identity_from_json(val).map_err(|e| format!("'user_assigned': {e}"))?),
                other => return Err(format!("unknown managed identity setting '{other}'")),
            }
        }
        *self = next;
        Ok(())
    }
}

/// `{"client_id": ..., "object_id": ..., "resource_id": ...}`; ids left out
/// are derived from the client id.
fn identity_from_json(v: &Value) -> Result<ManagedIdentity, String> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    let client_id = s("client_id").ok_or("needs a non-empty 'client_id'")?;
    let derived = ManagedIdentity::named(&client_id);
    Ok(ManagedIdentity {
        object_id: s("object_id").unwrap_or(derived.object_id),
        resource_id: s("resource_id").unwrap_or(derived.resource_id),
        client_id,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    Imds,
    AppService,
}

impl Flavour {
    fn api_version(self) -> &'static str {
        match self {
            Flavour::Imds => IMDS_API_VERSION,
            Flavour::AppService => APP_SERVICE_API_VERSION,
        }
    }
    /// Query parameters naming a user-assigned identity: client id, object id, resource id.
    fn selectors(self) -> [&'static str; 3] {
        match self {
            Flavour::Imds => ["client_id", "object_id", "msi_res_id"],
            Flavour::AppService => ["client_id", "principal_id", "mi_res_id"],
        }
    }
}

/// Which managed-identity endpoint `path` is, if any (case-insensitive, a
/// trailing slash allowed, as Azure's `IDENTITY_ENDPOINT` often has one).
pub(crate) fn route(path: &str) -> Option<Flavour> {
    let p = path.trim_end_matches('/');
    if p.eq_ignore_ascii_case(IMDS_PATH) {
        Some(Flavour::Imds)
    } else if p.eq_ignore_ascii_case(APP_SERVICE_PATH) {
        Some(Flavour::AppService)
    } else {
        None
    }
}

/// An error in the endpoint's own shape.
fn error(flavour: Flavour, status: u16, code: &str, message: &str) -> Response {
    let body = match flavour {
        Flavour::Imds => json!({"error": code, "error_description": message}),
        Flavour::AppService => {
            json!({"statusCode": status, "message": message, "correlationId": util::uuid_v4()})
        }
    };
    Response::json(status, &body)
}

/// The default body of a `status` fault, per flavour.
fn status_fault(flavour: Flavour, status: u16) -> Response {
    let (code, message) = match status {
        410 => ("service_unavailable", "IMDS is being upgraded; retry in a few seconds"),
        404 => ("not_found", "Identity not yet available"),
        429 => ("too_many_requests", "Too many requests; IMDS allows a few concurrent requests per VM"),
        s if s >= 500 => ("unknown_error", "An unexpected error occurred while fetching the token"),
        _ => ("invalid_request", "Invalid request"),
    };
    error(flavour, status, code, message)
}

struct Issued {
    identity: ManagedIdentity,
    resource: String,
}

/// The checks each endpoint makes, in order.
fn validate(shared: &Shared, req: &Request, flavour: Flavour, query: &[(String, String)]) -> Result<Issued, Response> {
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if req.method != "GET" {
        return Err(error(flavour, 405, "invalid_request", "Only GET is supported").header("Allow", "GET"));
    }
    let registry = shared.lock().managed.clone();
    match flavour {
        Flavour::Imds => {
            if !req.header("metadata").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
                return Err(error(flavour, 400, "invalid_request", "Required metadata header not specified"));
            }
        }
        Flavour::AppService => {
            if req.header("x-identity-header") != Some(registry.identity_header.as_str()) {
                return Err(error(
                    flavour,
                    401,
                    "unauthorized",
                    "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER",
                ));
            }
        }
    }
    match param("api-version") {
        None | Some("") => {
            return Err(error(flavour, 400, "invalid_request", "Required query parameter api-version missing"))
        }
        Some(v) if v != flavour.api_version() => {
            return Err(error(
                flavour,
                400,
                "invalid_request",
                &format!("api-version '{v}' is not supported here; use {}", flavour.api_version()),
            ))
        }
        Some(_) => {}
    }
    let resource = param("resource").map(str::trim).filter(|r| !r.is_empty());
    let resource = resource
        .ok_or_else(|| error(flavour, 400, "invalid_request", "Required audience parameter not specified"))?
        .to_string();
    let given: Vec<(usize, &str)> =
        flavour.selectors().iter().enumerate().filter_map(|(i, name)| param(name).map(|v| (i, v))).collect();
    let identity = match given.as_slice() {
        [] => registry.system.clone(),
        [(which, value)] => registry
            .user_assigned
            .iter()
            .chain(registry.system.iter())
            .find(|id| {
                let mine = [&id.client_id, &id.object_id, &id.resource_id][*which];
                mine.eq_ignore_ascii_case(value)
            })
            .cloned(),
        _ => {
            return Err(error(
                flavour,
                400,
                "invalid_request",
                &format!("Only one of {} may be specified", flavour.selectors().join(", ")),
            ))
        }
    };
    let identity = identity.ok_or_else(|| match flavour {
        Flavour::Imds => error(flavour, 400, "invalid_request", "Identity not found"),
        Flavour::AppService => error(
            flavour,
            400,
            "invalid_request",
            "No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.",
        ),
    })?;
    Ok(Issued { identity, resource })
}

/// A JWT-shaped, unique access token naming the identity (not really signed).
fn make_jwt(is: &Issued, expires_in: u64) -> String {
    let now = util::unix_now();
    let tid = util::guid_from_name("managed-identity-tenant");
    let iss = format!("https://sts.windows.net/{tid}/");
    let header = json!({"typ": "JWT", "alg": "RS256"});
    let payload = json!({
        "aud": is.resource,
        "iss": iss,
        "iat": now,
        "nbf": now,
        "exp": now + expires_in,
        "appid": is.identity.client_id,
        "appidacr": "2",
        "idp": iss,
        "idtyp": "app",
        "oid": is.identity.object_id,
        "sub": is.identity.object_id,
        "tid": tid,
        "uti": util::uuid_v4(),
        "xms_mirid": is.identity.resource_id,
    });
    let mut sig = [0u8; 256];
    util::random_bytes(&mut sig);
    format!(
        "{}.{}.{}",
        util::b64url(header.to_string().as_bytes()),
        util::b64url(payload.to_string().as_bytes()),
        util::b64url(&sig)
    )
}

/// The success answer in each endpoint's own shape, every number a string.
fn success(flavour: Flavour, is: &Issued, expires_in: u64) -> Response {
    let now = util::unix_now();
    let token = make_jwt(is, expires_in);
    let s = |n: u64| Value::String(n.to_string());
    let body = match flavour {
        // Field order as IMDS sends it.
        Flavour::Imds => json!({
            "access_token": token,
            "client_id": is.identity.client_id,
            "expires_in": s(expires_in),
            "expires_on": s(now + expires_in),
            "ext_expires_in": s(expires_in),
            "not_before": s(now),
            "resource": is.resource,
            "token_type": "Bearer",
        }),
        Flavour::AppService => json!({
            "access_token": token,
            "expires_on": s(now + expires_in),
            "resource": is.resource,
            "token_type": "Bearer",
            "client_id": is.identity.client_id,
        }),
    };
    Response::json(200, &body)
}

fn record_of(req: &Request, scheme: &str, query: &[(String, String)]) -> RecordedRequest {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in &req.headers {
        headers
            .entry(k.clone())
            .and_modify(|e| {
                e.push_str(", ");
                e.push_str(v);
            })
            .or_insert_with(|| v.clone());
    }
    RecordedRequest {
        seq: 0,
        scheme: scheme.to_string(),
        method: req.method.clone(),
        path: req.path.clone(),
        tenant: None,
        headers,
        query: util::first_of_each(query.to_vec()),
        body: String::from_utf8_lossy(&req.body).into_owned(),
        form: BTreeMap::new(),
        basic_client_id: None,
        basic_client_secret: None,
        client_auth: None,
        fault: None,
        status: None,
    }
}

/// Handle one managed-identity token request.
pub(crate) fn handle(shared: &Shared, req: &Request, scheme: &str, flavour: Flavour) -> Outcome {
    let query = util::parse_form(&req.query);
    let mut record = record_of(req, scheme, &query);
    let (seq, fault, latency, expires_in) = {
        let mut st = shared.lock();
        let fault = st.next_fault();
        record.fault = fault.as_ref().map(|f| f.name().to_string());
        st.managed.requests += 1;
        (st.record(record), fault, st.knobs.latency, st.knobs.expires_in)
    };
    if !shared.sleep(latency) {
        return Outcome::Reset;
    }
    let faulted = match fault {
        None => None,
        Some(FaultKind::Reset) => return Outcome::Reset,
        Some(FaultKind::Stall { ms }) => {
            if !shared.sleep(Duration::from_millis(ms)) {
                return Outcome::Reset;
            }
            None
        }
        Some(FaultKind::Status { status, retry_after, body, content_type }) => {
            let mut r = match body {
                Some(b) => {
                    Response::new(status, content_type.as_deref().unwrap_or("application/json; charset=utf-8"), b)
                }
                None => status_fault(flavour, status),
            };
            if let Some(ra) = retry_after {
                r = r.header("Retry-After", ra);
            }
            Some(r)
        }
        Some(FaultKind::MalformedJson) => {
            Some(Response::new(200, "application/json; charset=utf-8", "{\"access_token\":\"ey"))
        }
        Some(FaultKind::Oversized { bytes }) => Some(Response {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json; charset=utf-8".into())],
            body: Body::Oversized(bytes),
        }),
        Some(FaultKind::Html { status }) => Some(Response::new(
            status,
            "text/html",
            format!("<html><body><h1>{status} {}</h1></body></html>", crate::http::reason(status)),
        )),
        Some(FaultKind::Body { status, body, content_type }) => {
            Some(Response::new(status, content_type.as_deref().unwrap_or("application/json; charset=utf-8"), body))
        }
    };
    let mut issued = false;
    let resp = faulted.unwrap_or_else(|| match validate(shared, req, flavour, &query) {
        Ok(is) => {
            issued = true;
            success(flavour, &is, expires_in)
        }
        Err(r) => r,
    });
    let resp = resp.header("Server", "paytrim-entra-emulator (managed identity)");
    {
        let mut st = shared.lock();
        if issued {
            st.tokens_issued += 1;
        }
        st.set_status(seq, resp.status);
    }
    Outcome::Respond(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("/metadata/identity/oauth2/token"), Some(Flavour::Imds));
        assert_eq!(route("/MSI/token/"), Some(Flavour::AppService));
        assert_eq!(route("/msi/token"), Some(Flavour::AppService));
        assert_eq!(route("/contoso/oauth2/v2.0/token"), None);
    }

    #[test]
    fn settings_update_is_all_or_nothing() {
        let mut r = Registry::default();
        assert!(r.apply_json(&json!({"identity_header": "h2", "bogus": 1})).is_err());
        assert_eq!(r.identity_header, DEFAULT_IDENTITY_HEADER);
        r.apply_json(&json!({"identity_header": "h2", "system_assigned": null, "user_assigned": {"client_id": "c"}}))
            .unwrap();
        assert_eq!(r.identity_header, "h2");
        assert!(r.system.is_none());
        assert_eq!(r.user_assigned[0].object_id, ManagedIdentity::named("c").object_id);
        r.reset();
        assert_eq!(r.identity_header, DEFAULT_IDENTITY_HEADER);
        assert!(r.system.is_some());
        assert_eq!(r.user_assigned.len(), 1);
    }
}

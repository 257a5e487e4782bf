//! The token endpoints: Entra (`/{tenant}/oauth2/v2.0/token`) and generic
//! OAuth 2.0 (`/oauth2/token`), with Entra's checks, errors and token shape.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use crate::faults::FaultKind;
use crate::http::{Body, Request, Response};
use crate::state::{ClientAuth, RecordedRequest, Shared};
use crate::util;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    /// Microsoft Entra ID v2.0 endpoint: full error JSON.
    Entra,
    /// RFC 6749 server: `error` + `error_description` only.
    Generic,
}

pub(crate) enum Outcome {
    Respond(Response),
    /// Close the connection with an RST, no response.
    Reset,
}

/// An OAuth error as Entra reports it.
pub(crate) struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub code: u32,
    /// Text after `AADSTSnnnn: `.
    pub message: String,
}

pub(crate) fn err(status: u16, error: &'static str, code: u32, message: impl Into<String>) -> OAuthError {
    OAuthError { status, error, code, message: message.into() }
}

fn missing(param: &str) -> OAuthError {
    err(400, "invalid_request", 900144, format!("The request body must contain the following parameter: '{param}'."))
}

pub(crate) struct Ids {
    pub trace_id: String,
    pub correlation_id: String,
    pub client_request_id: Option<String>,
}

#[derive(Serialize)]
struct GenericErrorBody<'a> {
    error: &'a str,
    error_description: String,
}

/// Field order as Entra sends it.
#[derive(Serialize)]
struct EntraErrorBody<'a> {
    error: &'a str,
    error_description: String,
    error_codes: [u32; 1],
    timestamp: &'a str,
    trace_id: &'a str,
    correlation_id: &'a str,
    error_uri: String,
}

impl OAuthError {
    pub fn body(&self, flavour: Flavour, ids: &Ids) -> String {
        let ts = util::entra_timestamp(util::unix_now());
        let result = match flavour {
            Flavour::Generic => serde_json::to_string(&GenericErrorBody {
                error: self.error,
                error_description: format!("AADSTS{}: {}", self.code, self.message),
            }),
            Flavour::Entra => serde_json::to_string(&EntraErrorBody {
                error: self.error,
                error_description: format!(
                    "AADSTS{}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
                    self.code, self.message, ids.trace_id, ids.correlation_id, ts
                ),
                error_codes: [self.code],
                timestamp: &ts,
                trace_id: &ids.trace_id,
                correlation_id: &ids.correlation_id,
                error_uri: format!("https://login.microsoftonline.com/error?code={}", self.code),
            }),
        };
        result.unwrap_or_default()
    }

    pub fn response(&self, flavour: Flavour, ids: &Ids) -> Response {
        let mut r = Response::new(self.status, "application/json; charset=utf-8", self.body(flavour, ids))
            .header("Cache-Control", "no-store, no-cache")
            .header("Pragma", "no-cache");
        if self.status == 401 {
            r = r.header("WWW-Authenticate", "Basic realm=\"paytrim-entra-emulator\"");
        }
        r
    }
}

/// Match a token-endpoint path: `Some((flavour, tenant))`.
pub(crate) fn route(path: &str) -> Option<(Flavour, Option<String>)> {
    if path.eq_ignore_ascii_case("/oauth2/token") {
        return Some((Flavour::Generic, None));
    }
    let rest = path.strip_prefix('/')?;
    let (tenant, tail) = rest.split_once('/')?;
    if tail.eq_ignore_ascii_case("oauth2/v2.0/token") {
        return Some((Flavour::Entra, Some(util::percent_decode(tenant, false))));
    }
    None
}

struct Parsed {
    form: Vec<(String, String)>,
    basic: Option<Result<(String, String), ()>>,
}

fn parse(req: &Request) -> Parsed {
    let form = util::parse_form(&String::from_utf8_lossy(&req.body));
    let basic = req.header("authorization").and_then(|h| {
        let (scheme, rest) = h.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        Some(
            util::b64_decode_std(rest)
                .and_then(|raw| String::from_utf8(raw).ok())
                .and_then(|s| {
                    let (id, secret) = s.split_once(':')?;
                    Some((util::percent_decode(id, true), util::percent_decode(secret, true)))
                })
                .ok_or(()),
        )
    });
    Parsed { form, basic }
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn record_of(req: &Request, scheme: &str, tenant: &Option<String>, p: &Parsed) -> RecordedRequest {
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
    let mut form = BTreeMap::new();
    for (k, v) in &p.form {
        form.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let (basic_id, basic_secret) = match &p.basic {
        Some(Ok((i, s))) => (Some(i.clone()), Some(s.clone())),
        _ => (None, None),
    };
    let post = field(&p.form, "client_secret").is_some();
    let assertion = field(&p.form, "client_assertion").is_some();
    let client_auth = match (p.basic.is_some(), post) {
        _ if assertion && (post || p.basic.is_some()) => Some(ClientAuth::Both),
        _ if assertion => Some(ClientAuth::ClientAssertion),
        (true, true) => Some(ClientAuth::Both),
        (true, false) => Some(ClientAuth::ClientSecretBasic),
        (false, true) => Some(ClientAuth::ClientSecretPost),
        (false, false) => None,
    };
    RecordedRequest {
        seq: 0,
        scheme: scheme.to_string(),
        method: req.method.clone(),
        path: req.path.clone(),
        tenant: tenant.clone(),
        headers,
        query: util::first_of_each(util::parse_form(&req.query)),
        body: String::from_utf8_lossy(&req.body).into_owned(),
        form,
        basic_client_id: basic_id,
        basic_client_secret: basic_secret,
        client_auth,
        fault: None,
        status: None,
    }
}

const TENANTLESS: [&str; 3] = ["common", "organizations", "consumers"];

fn is_dns_like(t: &str) -> bool {
    !t.is_empty()
        && t.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
        && !t.starts_with(['.', '-'])
        && !t.ends_with(['.', '-'])
        && !t.contains("..")
}

struct Issued {
    client_id: String,
    audience: String,
    tenant_id: String,
}

/// Entra's checks, in Entra's order.
fn validate(
    shared: &Shared,
    req: &Request,
    flavour: Flavour,
    tenant: Option<&str>,
    p: &Parsed,
    token_url: &str,
) -> Result<Issued, OAuthError> {
    if req.method != "POST" {
        return Err(err(
            405,
            "invalid_request",
            900561,
            format!("The endpoint only accepts POST, OPTIONS requests. Received a {} request.", req.method),
        ));
    }
    let ct = req.header("content-type").unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(missing("grant_type"));
    }
    match field(&p.form, "grant_type") {
        None | Some("") => return Err(missing("grant_type")),
        Some("client_credentials") => {}
        Some(other) => {
            return Err(err(
                400,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            ))
        }
    }

    let (knobs, tenant_id) = {
        let st = shared.lock();
        let tid = match tenant {
            None => shared.generic_tid.clone(),
            Some(t) if util::is_guid(t) => t.to_ascii_lowercase(),
            Some(t) => util::guid_from_name(t),
        };
        (st.knobs.clone(), tid)
    };
    if let (Flavour::Entra, Some(t)) = (flavour, tenant) {
        let lower = t.to_ascii_lowercase();
        if TENANTLESS.contains(&lower.as_str()) {
            if knobs.reject_tenantless {
                return Err(err(
                    400,
                    "invalid_request",
                    50059,
                    "No tenant-identifying information found in either the request or implied by any provided credentials.",
                ));
            }
        } else if knobs.unknown_tenants.iter().any(|u| u.eq_ignore_ascii_case(t)) {
            return Err(err(
                400,
                "invalid_request",
                90002,
                format!(
                    "Tenant '{t}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
                ),
            ));
        } else if !util::is_guid(t) && !is_dns_like(t) {
            return Err(err(
                400,
                "invalid_request",
                900023,
                format!("Specified tenant identifier '{t}' is neither a valid DNS name, nor a valid external domain."),
            ));
        }
    }

    // Client authentication.
    let form_id = field(&p.form, "client_id").filter(|s| !s.is_empty());
    let form_secret = field(&p.form, "client_secret");
    let (client_id, secret) = match &p.basic {
        Some(Err(())) => {
            return Err(err(
                401,
                "invalid_client",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type. (The Authorization: Basic header could not be decoded.)",
            ))
        }
        Some(Ok(_)) if form_secret.is_some() => {
            return Err(err(
                400,
                "invalid_request",
                90014,
                "The request used more than one client authentication method (client_secret_basic and client_secret_post). Only one client authentication method may be used per request.",
            ))
        }
        Some(Ok((id, s))) => {
            if let Some(fid) = form_id {
                if fid != id {
                    return Err(err(
                        400,
                        "invalid_request",
                        90014,
                        format!("The client_id '{fid}' in the request body does not match the client_id '{id}' in the Authorization header."),
                    ));
                }
            }
            (Some(id.as_str()).filter(|s| !s.is_empty()), Some(s.as_str()))
        }
        None => (form_id, form_secret),
    };
    let client_id = client_id.ok_or_else(|| missing("client_id"))?;
    let directory = tenant.unwrap_or("the directory");
    let client = shared.lock().clients.get(client_id).cloned();
    let client = client.ok_or_else(|| {
        err(
            400,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{directory}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        )
    })?;
    if let Some(assertion) = field(&p.form, "client_assertion") {
        if p.basic.is_some() || form_secret.is_some() {
            return Err(err(
                400,
                "invalid_request",
                90014,
                "The request used more than one client authentication method (client_assertion and client_secret). Only one client authentication method may be used per request.",
            ));
        }
        let kind = field(&p.form, "client_assertion_type").unwrap_or("");
        if kind != crate::assertion::ASSERTION_TYPE {
            return Err(err(
                400,
                "invalid_request",
                50027,
                format!("Invalid client_assertion_type '{kind}'; expected '{}'.", crate::assertion::ASSERTION_TYPE),
            ));
        }
        shared.lock().assertions.validate(client_id, assertion, token_url)?;
    } else {
        let secret = secret.filter(|s| !s.is_empty()).ok_or_else(|| {
            err(
                401,
                "invalid_client",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
            )
        })?;
        if secret != client.secret {
            return Err(err(
                401,
                "invalid_client",
                7000215,
                format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
            ));
        }
        if client.expired {
            return Err(err(
                401,
                "invalid_client",
                7000222,
                format!("The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds."),
            ));
        }
    }

    // Scope.
    let scope = field(&p.form, "scope").map(str::trim).filter(|s| !s.is_empty());
    let scope = scope.ok_or_else(|| missing("scope"))?;
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !s.ends_with("/.default") {
            return Err(err(
                400,
                "invalid_scope",
                1002012,
                format!("The provided value for scope {s} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
            ));
        }
    }
    let first = scope.split(' ').find(|s| !s.is_empty()).unwrap_or(scope);
    Ok(Issued {
        client_id: client_id.to_string(),
        audience: first.trim_end_matches("/.default").to_string(),
        tenant_id,
    })
}

fn rand_b64(n: usize) -> String {
    let mut b = vec![0u8; n];
    util::random_bytes(&mut b);
    util::b64url(&b)
}

/// A JWT-shaped, ~1 KB, unique access token (not really signed).
fn make_jwt(shared: &Shared, is: &Issued, expires_in: u64) -> String {
    let now = util::unix_now();
    let header = json!({"typ": "JWT", "alg": "RS256", "x5t": shared.kid, "kid": shared.kid});
    let iss = format!("https://sts.windows.net/{}/", is.tenant_id);
    let oid = util::guid_from_name(&format!("sp:{}", is.client_id));
    let payload = json!({
        "aud": is.audience,
        "iss": iss,
        "iat": now,
        "nbf": now,
        "exp": now + expires_in,
        "aio": rand_b64(48),
        "app_displayname": "paytrim-entra-emulator test client",
        "appid": is.client_id,
        "appidacr": "1",
        "idp": iss,
        "idtyp": "app",
        "oid": oid,
        "rh": format!("0.{}.", rand_b64(40)),
        "roles": ["Payments.ReadWrite.All"],
        "sub": oid,
        "tid": is.tenant_id,
        "uti": rand_b64(16),
        "jti": util::uuid_v4(),
        "ver": "1.0",
        "xms_idrel": "7 12",
        "xms_tcdt": 1_600_000_000u64,
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

fn success(shared: &Shared, is: &Issued) -> Response {
    let k = shared.lock().knobs.clone();
    let num = |n: u64| {
        if k.expires_in_as_string {
            Value::String(n.to_string())
        } else {
            json!(n)
        }
    };
    let token = make_jwt(shared, is, k.expires_in);
    // Field order matches Entra: token_type, expires_in, ext_expires_in, [refresh_in], access_token.
    let mut body = format!(
        "{{\"token_type\":{},\"expires_in\":{},\"ext_expires_in\":{}",
        json!(k.token_type),
        num(k.expires_in),
        num(k.ext_expires_in.unwrap_or(k.expires_in))
    );
    if let Some(r) = k.refresh_in {
        body.push_str(&format!(",\"refresh_in\":{}", num(r)));
    }
    body.push_str(&format!(",\"access_token\":{}}}", json!(token)));
    Response::new(200, "application/json; charset=utf-8", body)
        .header("Cache-Control", "no-store, no-cache")
        .header("Pragma", "no-cache")
}

fn status_fault_error(status: u16) -> OAuthError {
    match status {
        503 | 504 => err(status, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again."),
        429 => err(
            status,
            "invalid_request",
            50196,
            "The server terminated an operation because it encountered a client request loop or too many requests from this client. Please wait and retry later.",
        ),
        s if s >= 500 => err(
            status,
            "server_error",
            50000,
            "There was an error issuing a token or an issue with our sign-in service.",
        ),
        _ => err(status, "invalid_request", 9002313, "Invalid request. Request is malformed or invalid."),
    }
}

fn html_page(status: u16) -> String {
    let reason = crate::http::reason(status);
    format!(
        "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>corporate-proxy</center>\r\n</body>\r\n</html>\r\n"
    )
}

/// Handle one token-endpoint request.
pub(crate) fn handle(
    shared: &Shared,
    req: &Request,
    scheme: &str,
    flavour: Flavour,
    tenant: Option<String>,
) -> Outcome {
    let parsed = parse(req);
    let mut record = record_of(req, scheme, &tenant, &parsed);
    let (seq, fault, latency) = {
        let mut st = shared.lock();
        let fault = st.next_fault();
        record.fault = fault.as_ref().map(|f| f.name().to_string());
        let latency = st.knobs.latency;
        (st.record(record), fault, latency)
    };
    let client_request_id = req.header("client-request-id").map(str::to_string);
    let ids = Ids {
        trace_id: util::uuid_v4(),
        correlation_id: client_request_id.clone().unwrap_or_else(util::uuid_v4),
        client_request_id,
    };

    if !shared.sleep(latency) {
        return Outcome::Reset;
    }
    let mut issued = false;
    let resp = match fault {
        Some(FaultKind::Reset) => return Outcome::Reset,
        Some(FaultKind::Stall { ms }) => {
            if !shared.sleep(std::time::Duration::from_millis(ms)) {
                return Outcome::Reset;
            }
            None
        }
        Some(FaultKind::Status { status, retry_after, body, content_type }) => {
            let mut r = match body {
                Some(b) => {
                    Response::new(status, content_type.as_deref().unwrap_or("application/json; charset=utf-8"), b)
                }
                None => status_fault_error(status).response(flavour, &ids),
            };
            if let Some(ra) = retry_after {
                r = r.header("Retry-After", ra);
            }
            Some(r)
        }
        Some(FaultKind::MalformedJson) => Some(Response::new(
            200,
            "application/json; charset=utf-8",
            "{\"token_type\":\"Bearer\",\"access_token\":\"ey",
        )),
        Some(FaultKind::Oversized { bytes }) => Some(Response {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json; charset=utf-8".into())],
            body: Body::Oversized(bytes),
        }),
        Some(FaultKind::Html { status }) => Some(Response::new(status, "text/html", html_page(status))),
        Some(FaultKind::Body { status, body, content_type }) => {
            Some(Response::new(status, content_type.as_deref().unwrap_or("application/json; charset=utf-8"), body))
        }
        None => None,
    };
    let token_url = format!("{scheme}://{}{}", req.header("host").unwrap_or(""), req.path);
    let resp = resp.unwrap_or_else(|| match validate(shared, req, flavour, tenant.as_deref(), &parsed, &token_url) {
        Ok(is) => {
            issued = true;
            success(shared, &is)
        }
        Err(e) => {
            let r = e.response(flavour, &ids);
            if e.status == 405 {
                r.header("Allow", "POST, OPTIONS")
            } else {
                r
            }
        }
    });
    let mut resp = resp.header("x-ms-request-id", ids.trace_id.clone());
    if let Some(c) = &ids.client_request_id {
        resp = resp.header("client-request-id", c.clone());
    }
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
        assert_eq!(route("/oauth2/token").unwrap().0, Flavour::Generic);
        let (f, t) = route("/contoso.com/oauth2/v2.0/token").unwrap();
        assert_eq!((f, t.as_deref()), (Flavour::Entra, Some("contoso.com")));
        assert_eq!(route("/a%20b/oauth2/v2.0/token").unwrap().1.as_deref(), Some("a b"));
        assert!(route("/x/oauth2/token").is_none());
        assert!(route("/_emulator/stats").is_none());
    }

    #[test]
    fn dns_like() {
        assert!(is_dns_like("contoso.onmicrosoft.com"));
        assert!(is_dns_like("unknown-tenant"));
        assert!(!is_dns_like("a b"));
        assert!(!is_dns_like("x_y"));
        assert!(!is_dns_like(""));
    }
}

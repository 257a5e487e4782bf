//! The control API under `/_emulator/`, served on both listeners.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::faults::parse_faults;
use crate::http::{Request, Response};
use crate::state::{Client, Shared};

pub(crate) const PREFIX: &str = "/_emulator/";

fn ok() -> Response {
    Response::json(200, &json!({"ok": true}))
}

fn bad(msg: impl Into<String>) -> Response {
    Response::json(400, &json!({"ok": false, "error": msg.into()}))
}

#[derive(Deserialize)]
struct NewClient {
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    expired: bool,
    /// PEM certificate: the client authenticates with assertions signed by its key.
    #[serde(default)]
    certificate_pem: Option<String>,
    /// Federated identity credential: `iss` and `sub` of accepted tokens.
    #[serde(default)]
    federated_issuer: Option<String>,
    #[serde(default)]
    federated_subject: Option<String>,
}

fn add_client(shared: &Shared, c: NewClient) -> Response {
    let cert =
        match c.certificate_pem.as_deref().map(|p| crate::assertion::RegisteredCert::from_pem_or_der(p.as_bytes())) {
            Some(Err(e)) => return bad(format!("certificate_pem: {e}")),
            Some(Ok(cert)) => Some(cert),
            None => None,
        };
    let federated = match (c.federated_issuer, c.federated_subject) {
        (Some(issuer), Some(subject)) => Some(crate::assertion::FederatedRecord {
            issuer,
            subject,
            audience: crate::assertion::FEDERATED_AUDIENCE.to_owned(),
        }),
        (None, None) => None,
        _ => return bad("federated_issuer and federated_subject go together"),
    };
    if c.client_secret.is_none() && cert.is_none() && federated.is_none() {
        return bad("give client_secret, certificate_pem, or federated_issuer + federated_subject");
    }
    let mut st = shared.lock();
    let secret = c.client_secret.unwrap_or_else(|| crate::util::uuid_v4() + &crate::util::uuid_v4());
    st.clients.insert(c.client_id.clone(), Client { secret, expired: c.expired });
    if let Some(cert) = cert {
        st.assertions.certs.entry(c.client_id.clone()).or_default().push(cert);
    }
    if let Some(f) = federated {
        st.assertions.federated.entry(c.client_id).or_default().push(f);
    }
    ok()
}

pub(crate) fn handle(shared: &Shared, req: &Request) -> Response {
    let what = req.path[PREFIX.len()..].trim_end_matches('/');
    let get = req.method == "GET" || req.method == "HEAD";
    let post = req.method == "POST";
    match (what, get, post) {
        ("stats", true, _) => {
            let st = shared.lock();
            Response::json(200, &json!({"token_requests": st.token_requests, "tokens_issued": st.tokens_issued}))
        }
        ("requests", true, _) => {
            let st = shared.lock();
            let v = serde_json::to_value(&st.requests).unwrap_or(Value::Null);
            Response::json(200, &v)
        }
        ("config", true, _) => Response::json(200, &shared.lock().knobs.to_json()),
        ("faults", true, _) => {
            let st = shared.lock();
            Response::json(200, &serde_json::to_value(&st.faults).unwrap_or(Value::Null))
        }
        ("config", _, true) => match serde_json::from_slice::<Value>(&req.body) {
            Ok(v) => match shared.lock().knobs.apply_json(&v) {
                Ok(()) => ok(),
                Err(e) => bad(e),
            },
            Err(e) => bad(format!("invalid JSON: {e}")),
        },
        ("faults", _, true) => match parse_faults(&req.body) {
            Ok(f) => {
                shared.lock().faults.extend(f);
                ok()
            }
            Err(e) => bad(e),
        },
        ("clients", _, true) => match serde_json::from_slice::<NewClient>(&req.body) {
            Ok(c) if !c.client_id.is_empty() => add_client(shared, c),
            Ok(_) => bad("client_id must not be empty"),
            Err(e) => bad(format!("invalid client: {e}")),
        },
        ("managed_identity", true, _) => Response::json(200, &shared.lock().managed.to_json()),
        ("managed_identity", _, true) => match serde_json::from_slice::<Value>(&req.body) {
            Ok(v) => match shared.lock().managed.apply_json(&v) {
                Ok(()) => ok(),
                Err(e) => bad(e),
            },
            Err(e) => bad(format!("invalid JSON: {e}")),
        },
        ("reset", _, true) => {
            shared.lock().reset();
            ok()
        }
        ("stats" | "requests" | "config" | "faults" | "clients" | "managed_identity" | "reset", _, _) => {
            Response::json(405, &json!({"ok": false, "error": "method not allowed"}))
        }
        _ => Response::json(404, &json!({"ok": false, "error": "no such control endpoint"})),
    }
}

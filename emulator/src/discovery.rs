//! Entra's OpenID Connect discovery document,
//! `GET /{tenant}/v2.0/.well-known/openid-configuration`, which MSAL and
//! azure-identity fetch before their first token. Only what they read.

use crate::http::{Request, Response};
use serde_json::json;

/// The tenant of a discovery path, if `path` is one.
pub(crate) fn route(path: &str) -> Option<&str> {
    let rest = path.strip_prefix('/')?;
    let (tenant, tail) = rest.split_once('/')?;
    (!tenant.is_empty() && tail.eq_ignore_ascii_case("v2.0/.well-known/openid-configuration")).then_some(tenant)
}

pub(crate) fn handle(req: &Request, scheme: &str, tenant: &str) -> Response {
    if req.method != "GET" && req.method != "HEAD" {
        return Response::json(405, &json!({"error": "invalid_request", "error_description": "use GET"}))
            .header("Allow", "GET, HEAD");
    }
    let host = req.header("host").unwrap_or("127.0.0.1");
    let base = format!("{scheme}://{host}/{tenant}");
    Response::json(
        200,
        &json!({
            "token_endpoint": format!("{base}/oauth2/v2.0/token"),
            "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
            "issuer": format!("{base}/v2.0"),
            "jwks_uri": format!("{base}/discovery/v2.0/keys"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
            "tenant_region_scope": "NA",
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_only_discovery_paths() {
        assert_eq!(route("/contoso.com/v2.0/.well-known/openid-configuration"), Some("contoso.com"));
        assert_eq!(route("/contoso.com/oauth2/v2.0/token"), None);
        assert_eq!(route("//v2.0/.well-known/openid-configuration"), None);
    }
}

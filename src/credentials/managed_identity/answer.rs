//! What a managed-identity endpoint answers, as data: a token (numbers may be
//! strings; `expires_in` and/or `expires_on`) or an error in IMDS's or App
//! Service's own shape, turned into a categorized [`Error`]. No I/O here;
//! never panics, whatever the bytes.

use super::Flavour;
use crate::error::{Error, ErrorCode, OAuthDetails};
use crate::protocol::{self, HttpAnswer, TokenAnswer, MAX_BODY_BYTES};
use crate::secret::Secret;
use serde::Deserialize;
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// Lifetimes beyond this (one day, as for Entra's answers) are cut to it: a
/// token is then refreshed early, never held past what the server said, and
/// no instant arithmetic overflows.
const MAX_LIFETIME: Duration = protocol::MAX_TOKEN_LIFETIME;

#[derive(Deserialize)]
struct RawAnswer {
    access_token: Option<Value>,
    token_type: Option<Value>,
    expires_in: Option<Value>,
    expires_on: Option<Value>,
    refresh_in: Option<Value>,
}

/// A whole number of seconds, sent as a JSON number or a string of digits
/// (IMDS and App Service send strings). `None` when absent or null.
fn seconds(field: &str, v: Option<&Value>) -> Result<Option<u64>, String> {
    let text = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(_) => return Err(format!("{field} is neither a number nor a string of digits")),
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        let shown: String = text.chars().take(32).collect();
        return Err(format!("{field} '{shown}' is not a whole number of seconds"));
    }
    // More digits than u64 holds is absurd, not an error: clamp.
    Ok(Some(text.parse::<u64>().unwrap_or(u64::MAX)))
}

/// Turns an answer into a token (lifetime measured from `now`, the wall
/// clock when the request was sent) or a categorized error.
pub fn interpret(answer: &HttpAnswer, flavour: Flavour, endpoint: &str, now: SystemTime) -> Result<TokenAnswer, Error> {
    let status = answer.status;
    if answer.truncated {
        return Err(Error::new(
            ErrorCode::Protocol,
            format!("the answer from {endpoint} (HTTP {status}) exceeds {MAX_BODY_BYTES} bytes; a token answer is a few kilobytes"),
        )
        .with_http_status(status));
    }
    if (200..300).contains(&status) {
        return parse_success(answer, now).map_err(|why| {
            Error::new(ErrorCode::Protocol, format!("unusable managed-identity token answer from {endpoint}: {why}"))
                .with_http_status(status)
        });
    }
    Err(classify_failure(answer, flavour, endpoint))
}

fn parse_success(answer: &HttpAnswer, now: SystemTime) -> Result<TokenAnswer, String> {
    let raw: RawAnswer = serde_json::from_slice(&answer.body)
        .map_err(|_| format!("not a JSON object ({}; a proxy may have answered)", protocol::describe_body(answer)))?;
    match raw.token_type.as_ref() {
        Some(Value::String(t)) if t.eq_ignore_ascii_case("bearer") => {}
        None | Some(Value::Null) => return Err("token_type is missing".into()),
        Some(Value::String(t)) => {
            return Err(format!("token_type is '{}', expected Bearer", t.chars().take(32).collect::<String>()))
        }
        Some(_) => return Err("token_type is not a string".into()),
    }
    let token = match raw.access_token {
        Some(Value::String(t)) if !t.is_empty() => Secret::new(t),
        Some(Value::String(_)) | None | Some(Value::Null) => return Err("access_token is missing or empty".into()),
        Some(_) => return Err("access_token is not a string".into()),
    };
    if token.expose().bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err("access_token contains spaces or control characters".into());
    }
    let expires_in = seconds("expires_in", raw.expires_in.as_ref())?;
    let expires_on = seconds("expires_on", raw.expires_on.as_ref())?;
    let refresh_in = seconds("refresh_in", raw.refresh_in.as_ref())?;
    // expires_in is relative, so a skewed local clock cannot distort it; it
    // wins when present. App Service sends only expires_on (Unix seconds).
    let lifetime = match (expires_in, expires_on) {
        (Some(0), _) => return Err("expires_in is 0".into()),
        (Some(secs), _) => Duration::from_secs(secs),
        (None, Some(on)) => {
            let now_secs = now.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            if on <= now_secs {
                return Err(format!(
                    "expires_on {on} is not in the future (local clock: {now_secs}); the token is already expired or this machine's clock is wrong"
                ));
            }
            Duration::from_secs(on - now_secs)
        }
        (None, None) => return Err("both expires_in and expires_on are missing".into()),
    };
    Ok(TokenAnswer {
        access_token: token,
        expires_in: lifetime.min(MAX_LIFETIME),
        ext_expires_in: None,
        refresh_in: refresh_in.filter(|&r| r > 0).map(|r| Duration::from_secs(r).min(MAX_LIFETIME)),
    })
}

/// IMDS errors: `{"error":"invalid_request","error_description":"Identity not found"}`.
/// App Service errors: `{"statusCode":400,"message":"...","correlationId":"..."}`.
#[derive(Deserialize, Default)]
struct RawError {
    error: Option<Value>,
    error_description: Option<Value>,
    message: Option<Value>,
    #[serde(rename = "correlationId")]
    correlation_id: Option<Value>,
}

fn text(v: Option<Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            // A server may echo a token in its text: never show one.
            let first = protocol::hide_tokens(s.lines().next().unwrap_or("").trim());
            Some(first.chars().take(300).collect())
        }
        _ => None,
    }
}

fn classify_failure(answer: &HttpAnswer, flavour: Flavour, endpoint: &str) -> Error {
    let status = answer.status;
    let raw: RawError = serde_json::from_slice(&answer.body).unwrap_or_default();
    let error = text(raw.error);
    let description = text(raw.error_description).or_else(|| text(raw.message));
    let retry_after = answer.retry_after.as_deref().and_then(protocol::parse_retry_after);
    let lower = description.as_deref().unwrap_or("").to_ascii_lowercase();
    let identity_unknown = lower.contains("identity not found") || lower.contains("no user assigned");
    let (code, what) = match (flavour, status) {
        (_, 429) => (ErrorCode::Throttled, "throttled by".to_owned()),
        (Flavour::Imds, 410) => (ErrorCode::Server, "IMDS is upgrading (HTTP 410) at".to_owned()),
        (Flavour::Imds, 404) => (ErrorCode::Server, "identity not yet available (HTTP 404) at".to_owned()),
        (_, 408) => (ErrorCode::Network, "request timeout reported by".to_owned()),
        (_, 500..=599) => (ErrorCode::Server, format!("server error (HTTP {status}) from")),
        (_, 400) if identity_unknown => {
            (ErrorCode::CredentialRejected, "managed identity not found (HTTP 400) at".to_owned())
        }
        (_, 401 | 403) => (
            ErrorCode::CredentialRejected,
            format!(
                "managed identity request refused (HTTP {status}){} by",
                if flavour == Flavour::AppService { "; is IDENTITY_HEADER current?" } else { "" }
            ),
        ),
        (_, 400..=499) => (ErrorCode::RequestRejected, format!("request rejected (HTTP {status}) by")),
        _ => (ErrorCode::Protocol, format!("unexpected answer (HTTP {status}) from")),
    };
    let mut msg = format!("{what} {endpoint}");
    match (&error, &description) {
        (Some(e), Some(d)) => msg.push_str(&format!(": {e}: {d}")),
        (Some(e), None) => msg.push_str(&format!(": {e}")),
        (None, Some(d)) => msg.push_str(&format!(": {d}")),
        (None, None) if !answer.body.is_empty() => msg.push_str(&format!(" ({})", protocol::describe_body(answer))),
        (None, None) => {}
    }
    if let Some(after) = retry_after {
        msg.push_str(&format!("; retry after {}s", after.as_secs_f64().ceil() as u64));
    }
    let mut err = Error::new(code, msg).with_http_status(status).with_retry_after(retry_after);
    if error.is_some() || description.is_some() {
        err = err.with_oauth(OAuthDetails {
            error,
            error_description: description,
            correlation_id: text(raw.correlation_id),
            ..OAuthDetails::default()
        });
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    const EP: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

    fn answer(status: u16, body: &str) -> HttpAnswer {
        HttpAnswer { status, content_type: None, retry_after: None, body: body.as_bytes().to_vec(), truncated: false }
    }
    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn imds_answer_with_numbers_as_strings() {
        let body = r#"{"access_token":"eyJ0","client_id":"c","expires_in":"86399","expires_on":"1700086399","ext_expires_in":"86399","not_before":"1700000000","resource":"https://management.azure.com","token_type":"Bearer"}"#;
        let t = interpret(&answer(200, body), Flavour::Imds, EP, at(1_700_000_000)).unwrap();
        assert_eq!(t.access_token.expose(), "eyJ0");
        assert_eq!(t.expires_in, Duration::from_secs(86399));
    }

    #[test]
    fn app_service_answer_has_only_expires_on() {
        let body =
            r#"{"access_token":"tok","expires_on":"1700003600","resource":"r","token_type":"Bearer","client_id":"c"}"#;
        let t = interpret(&answer(200, body), Flavour::AppService, EP, at(1_700_000_000)).unwrap();
        assert_eq!(t.expires_in, Duration::from_secs(3600));
        // Numbers as numbers are fine too.
        let body = r#"{"access_token":"tok","expires_on":1700003600,"token_type":"bearer"}"#;
        assert!(interpret(&answer(200, body), Flavour::AppService, EP, at(1_700_000_000)).is_ok());
    }

    #[test]
    fn absurd_lifetimes_are_clamped_not_trusted() {
        let body = r#"{"access_token":"t","expires_in":"99999999999999999999999","token_type":"Bearer"}"#;
        let t = interpret(&answer(200, body), Flavour::Imds, EP, at(1_700_000_000)).unwrap();
        assert_eq!(t.expires_in, MAX_LIFETIME);
        let body = r#"{"access_token":"t","expires_on":"18446744073709551615","token_type":"Bearer"}"#;
        let t = interpret(&answer(200, body), Flavour::AppService, EP, at(1_700_000_000)).unwrap();
        assert_eq!(t.expires_in, MAX_LIFETIME);
    }

    #[test]
    fn malformed_answers_are_protocol_errors_naming_the_field() {
        for (body, needle) in [
            (r#"{"access_token":"t","expires_in":"soon","token_type":"Bearer"}"#, "expires_in 'soon'"),
            (r#"{"access_token":"t","expires_in":"-5","token_type":"Bearer"}"#, "expires_in '-5'"),
            (r#"{"access_token":"t","expires_in":3.5,"token_type":"Bearer"}"#, "expires_in '3.5'"),
            (r#"{"access_token":"t","expires_in":"0","token_type":"Bearer"}"#, "expires_in is 0"),
            (r#"{"access_token":"t","expires_on":"11/06/2024 08:49:37 +00:00","token_type":"Bearer"}"#, "expires_on"),
            (r#"{"access_token":"t","expires_on":"1600000000","token_type":"Bearer"}"#, "not in the future"),
            (r#"{"access_token":"t","token_type":"Bearer"}"#, "both expires_in and expires_on are missing"),
            (r#"{"access_token":"","expires_in":"1","token_type":"Bearer"}"#, "access_token is missing"),
            (r#"{"access_token":5,"expires_in":"1","token_type":"Bearer"}"#, "access_token is not a string"),
            (r#"{"access_token":"a b","expires_in":"1","token_type":"Bearer"}"#, "spaces"),
            (r#"{"access_token":"t","expires_in":"1"}"#, "token_type is missing"),
            (r#"{"access_token":"t","expires_in":"1","token_type":"pop"}"#, "'pop'"),
            (r#"{"access_token":"t","expires_in":[1],"token_type":"Bearer"}"#, "neither a number"),
            (r#"["access_token"]"#, "not a JSON object"),
            ("<html>login</html>", "HTML"),
            (r#"{"access_token":"ey"#, "not a JSON object"),
        ] {
            let e = interpret(&answer(200, body), Flavour::Imds, EP, at(1_700_000_000)).unwrap_err();
            assert_eq!(e.code(), ErrorCode::Protocol, "{body}");
            assert!(e.message().contains(needle), "{body}: {}", e.message());
            assert!(!e.message().contains("eyJ"), "{}", e.message());
        }
    }

    #[test]
    fn failures_are_categorized_per_endpoint() {
        let imds =
            |status, body: &str| interpret(&answer(status, body), Flavour::Imds, EP, SystemTime::now()).unwrap_err();
        let e = imds(400, r#"{"error":"invalid_request","error_description":"Identity not found"}"#);
        assert_eq!(e.code(), ErrorCode::CredentialRejected);
        assert!(e.message().contains("Identity not found"), "{}", e.message());
        assert_eq!(imds(410, "").code(), ErrorCode::Server);
        assert!(imds(410, "").message().contains("upgrading"));
        assert_eq!(imds(404, "").code(), ErrorCode::Server);
        assert_eq!(imds(503, "").code(), ErrorCode::Server);
        assert_eq!(
            imds(400, r#"{"error":"invalid_request","error_description":"Required metadata header not specified"}"#)
                .code(),
            ErrorCode::RequestRejected
        );
        let mut a = answer(429, "");
        a.retry_after = Some("3".into());
        let e = interpret(&a, Flavour::Imds, EP, SystemTime::now()).unwrap_err();
        assert_eq!((e.code(), e.retry_after()), (ErrorCode::Throttled, Some(Duration::from_secs(3))));

        let app = |status, body: &str| {
            interpret(&answer(status, body), Flavour::AppService, EP, SystemTime::now()).unwrap_err()
        };
        let e = app(
            400,
            r#"{"statusCode":400,"message":"No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.","correlationId":"c-1"}"#,
        );
        assert_eq!(e.code(), ErrorCode::CredentialRejected);
        assert_eq!(e.correlation_id(), Some("c-1"));
        let e = app(401, r#"{"statusCode":401,"message":"bad header"}"#);
        assert_eq!(e.code(), ErrorCode::CredentialRejected);
        assert!(e.message().contains("IDENTITY_HEADER"), "{}", e.message());
        assert_eq!(app(404, "").code(), ErrorCode::RequestRejected);
        assert_eq!(app(302, "").code(), ErrorCode::Protocol);
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL3gifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
        let e = app(400, &format!(r#"{{"statusCode":400,"message":"bad token {jwt}"}}"#));
        assert!(!e.message().contains(jwt) && e.message().contains("<token>"), "{}", e.message());
    }
}

//! The OAuth 2.0 client-credentials exchange as data: the request body and
//! Basic header we send, and how an answer (status, headers, body) becomes a
//! token or a categorized error. No I/O happens here.

use crate::error::{Error, ErrorCode, OAuthDetails};
use crate::secret::Secret;
use base64::Engine;
use serde::de::{self, Deserializer};
use serde::Deserialize;
use std::time::{Duration, SystemTime};

/// Largest answer body we read; a token answer is a few kilobytes.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Longest token lifetime believed: Entra's configurable access-token
/// lifetime ends at one day. Larger `expires_in`, `ext_expires_in` and
/// `refresh_in` values are clamped to it, so a broken or hostile server cannot
/// overflow expiry arithmetic or pin a token for centuries.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Longest `Retry-After` honoured, as MSAL.NET (`RetryAfterProvider.MaxRetryAfter`)
/// and msal-js (`DEFAULT_MAX_THROTTLE_TIME_SECONDS`) cap it: one hour. One 429
/// cannot block a key for longer.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Seconds from the server, clamped to [`MAX_TOKEN_LIFETIME`].
fn lifetime_secs(secs: u64) -> Duration {
    Duration::from_secs(secs).min(MAX_TOKEN_LIFETIME)
}

/// `application/x-www-form-urlencoded` serialization of one value (WHATWG URL
/// standard): alphanumerics and `*-._` stay, space becomes `+`, every other
/// byte of the UTF-8 encoding becomes `%XX`.
pub fn form_encode_value(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
}

/// Length of `value` once form-encoded.
fn form_encoded_len(value: &str) -> usize {
    value
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_' | b' ') { 1 } else { 3 })
        .sum()
}

/// `k1=v1&k2=v2`, every key and value form-encoded, in a buffer allocated
/// once at its final size: growing would leave a partial copy (of a secret)
/// in the block it moved out of.
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let len = pairs.iter().map(|(k, v)| form_encoded_len(k) + 1 + form_encoded_len(v)).sum::<usize>()
        + pairs.len().saturating_sub(1);
    let mut out = String::with_capacity(len);
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        form_encode_value(k, &mut out);
        out.push('=');
        form_encode_value(v, &mut out);
    }
    debug_assert_eq!(out.len(), len);
    out
}

/// The client-credentials request body. With `include_secret` false (HTTP
/// Basic), the client id still goes in the body, as RFC 6749 allows and
/// Entra accepts; the secret does not.
pub fn token_request_body(client_id: &str, secret: &Secret, scope: &str, include_secret: bool) -> Secret {
    let mut pairs = vec![("grant_type", "client_credentials"), ("client_id", client_id)];
    if include_secret {
        pairs.push(("client_secret", secret.expose()));
    }
    pairs.push(("scope", scope));
    Secret::new(form_encode(&pairs))
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`, RFC 6749 §2.3.1.
pub fn basic_authorization(client_id: &str, secret: &Secret) -> Secret {
    use zeroize::Zeroizing;
    // Every buffer is allocated once at its final size and wiped on drop.
    let raw_len = form_encoded_len(client_id) + 1 + form_encoded_len(secret.expose());
    let mut raw = Zeroizing::new(String::with_capacity(raw_len));
    form_encode_value(client_id, &mut raw);
    raw.push(':');
    form_encode_value(secret.expose(), &mut raw);
    const PREFIX: &[u8] = b"Basic ";
    let b64_len = base64::encoded_len(raw.len(), true).unwrap_or(0);
    let mut header = vec![0u8; PREFIX.len() + b64_len];
    header[..PREFIX.len()].copy_from_slice(PREFIX);
    let written = base64::engine::general_purpose::STANDARD
        .encode_slice(raw.as_bytes(), &mut header[PREFIX.len()..])
        .unwrap_or(0);
    header.truncate(PREFIX.len() + written);
    // Base64 output is ASCII: this never fails (and an empty header would).
    Secret::new(String::from_utf8(header).unwrap_or_default())
}

/// The sensitive texts of a request, in every form a server could echo
/// them: each credential field of the form (`client_secret`,
/// `client_assertion`) as sent and decoded, and the `Authorization` value with
/// and without its scheme.
pub fn sensitive_parts(body: &Secret, authorization: Option<&Secret>) -> Vec<Secret> {
    let mut out = Vec::new();
    let mut client_id = Secret::new("");
    let mut secret = None;
    for pair in body.expose().split('&') {
        if let Some((k, v)) = pair.split_once('=') {
            match k {
                "client_id" => client_id = form_decode_value(v),
                "client_secret" if !v.is_empty() => secret = Some(form_decode_value(v)),
                "client_assertion" if !v.is_empty() => {
                    out.push(Secret::new(v));
                    out.push(form_decode_value(v));
                }
                _ => {}
            }
        }
    }
    if let Some(auth) = authorization {
        out.push(auth.clone());
        if let Some((_, credentials)) = auth.expose().split_once(' ') {
            out.push(Secret::new(credentials));
            // Basic: base64(urlencode(id) ":" urlencode(secret)).
            let raw = base64::engine::general_purpose::STANDARD.decode(credentials).unwrap_or_default();
            let raw = Secret::new(String::from_utf8_lossy(&raw).into_owned());
            if let Some((id, s)) = raw.expose().split_once(':') {
                client_id = form_decode_value(id);
                secret = secret.or_else(|| Some(form_decode_value(s)));
            }
        }
    }
    // The secret in every form: as is, form-encoded, and as Basic credentials.
    if let Some(secret) = secret {
        let mut encoded = String::new();
        form_encode_value(secret.expose(), &mut encoded);
        let basic = basic_authorization(client_id.expose(), &secret);
        if let Some((_, credentials)) = basic.expose().split_once(' ') {
            out.push(Secret::new(credentials));
        }
        out.push(Secret::new(encoded));
        out.push(basic);
        out.push(secret);
    }
    out
}

/// Decodes one `application/x-www-form-urlencoded` value (`+` is a space,
/// `%XX` a byte); malformed escapes stay as they are.
fn form_decode_value(v: &str) -> Secret {
    let b = v.as_bytes();
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(b.len()));
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    Secret::new(String::from_utf8_lossy(&out).into_owned())
}

/// A successful token answer.
#[derive(Debug)]
pub struct TokenAnswer {
    pub access_token: Secret,
    pub expires_in: Duration,
    /// Entra's extended lifetime (for outages of its token service); parsed
    /// and checked, not used for caching.
    #[allow(dead_code)]
    pub ext_expires_in: Option<Duration>,
    pub refresh_in: Option<Duration>,
}

#[derive(Deserialize)]
struct RawTokenAnswer {
    token_type: Option<String>,
    access_token: Option<String>,
    #[serde(default, deserialize_with = "lenient_u64")]
    expires_in: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    ext_expires_in: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    refresh_in: Option<u64>,
}

#[derive(Deserialize, Default)]
struct RawErrorAnswer {
    error: Option<String>,
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<u32>,
    trace_id: Option<String>,
    correlation_id: Option<String>,
    timestamp: Option<String>,
}

/// Accepts `3599`, `"3599"` (Entra v1, some proxies) and `null`.
fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        N(u64),
        F(f64),
        S(String),
    }
    match Option::<Num>::deserialize(d)? {
        None => Ok(None),
        Some(Num::N(n)) => Ok(Some(n)),
        Some(Num::F(f)) if f >= 0.0 && f.is_finite() => Ok(Some(f as u64)),
        Some(Num::F(f)) => Err(de::Error::custom(format!("negative or invalid number {f}"))),
        Some(Num::S(s)) => s
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| de::Error::custom("a number given as a string is not a whole number")),
    }
}

/// What came back over HTTP (the transport fills it in).
#[derive(Debug)]
pub struct HttpAnswer {
    pub status: u16,
    pub content_type: Option<String>,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
    /// The body was longer than [`MAX_BODY_BYTES`] and was cut there.
    pub truncated: bool,
}

/// Context for messages: where we asked, and whether the tenant was one Entra
/// refuses for this grant.
pub struct Context<'a> {
    pub endpoint: &'a str,
    pub tenantless: bool,
}

/// AADSTS codes that mean the credential (or the client id) was refused.
const CREDENTIAL_CODES: &[u32] = &[7000215, 7000216, 7000222, 700016, 700027, 7000112];
/// AADSTS codes that mean the tenant is wrong or missing.
const TENANT_CODES: &[u32] = &[90002, 50059, 900023, 90013];

/// Turns an HTTP answer into a token or a categorized error.
pub fn interpret(answer: &HttpAnswer, cx: &Context<'_>) -> Result<TokenAnswer, Error> {
    let status = answer.status;
    if answer.truncated {
        return Err(Error::new(
            ErrorCode::Protocol,
            format!(
                "the answer from {} (HTTP {status}) exceeds {} bytes; a token answer is a few kilobytes",
                cx.endpoint, MAX_BODY_BYTES
            ),
        )
        .with_http_status(status));
    }
    if (200..300).contains(&status) {
        return parse_success(answer, cx).map_err(|e| e.with_http_status(status));
    }
    Err(classify_failure(answer, cx))
}

fn parse_success(answer: &HttpAnswer, cx: &Context<'_>) -> Result<TokenAnswer, Error> {
    let protocol =
        |why: String| Error::new(ErrorCode::Protocol, format!("unusable token answer from {}: {why}", cx.endpoint));
    let raw: RawTokenAnswer = serde_json::from_slice(&answer.body).map_err(|e| {
        protocol(format!(
            "not JSON ({}{}; a proxy or captive portal may have answered)",
            describe_body(answer),
            if e.is_syntax() || e.is_eof() { "" } else { ", wrong field types" }
        ))
    })?;
    let token_type = raw.token_type.unwrap_or_default();
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(protocol(if token_type.is_empty() {
            "token_type is missing".to_owned()
        } else {
            format!("token_type is '{}', expected Bearer", token_type.chars().take(32).collect::<String>())
        }));
    }
    let token = raw.access_token.unwrap_or_default();
    if token.is_empty() {
        return Err(protocol("access_token is missing or empty".to_owned()));
    }
    if token.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(protocol("access_token contains spaces or control characters".to_owned()));
    }
    let expires_in = raw.expires_in.ok_or_else(|| protocol("expires_in is missing".to_owned()))?;
    if expires_in == 0 {
        return Err(protocol("expires_in is 0".to_owned()));
    }
    Ok(TokenAnswer {
        access_token: Secret::new(token),
        expires_in: lifetime_secs(expires_in),
        ext_expires_in: raw.ext_expires_in.map(lifetime_secs),
        refresh_in: raw.refresh_in.filter(|&r| r > 0).map(lifetime_secs),
    })
}

fn classify_failure(answer: &HttpAnswer, cx: &Context<'_>) -> Error {
    let status = answer.status;
    let raw: Option<RawErrorAnswer> = serde_json::from_slice(&answer.body).ok();
    let retry_after = answer.retry_after.as_deref().and_then(parse_retry_after);
    let oauth = raw
        .map(|r| OAuthDetails {
            error: r.error.filter(|s| !s.is_empty()).map(|e| hide_tokens(&e)),
            error_description: r.error_description.map(|d| hide_tokens(&d)),
            error_codes: r.error_codes,
            trace_id: r.trace_id,
            correlation_id: r.correlation_id,
            timestamp: r.timestamp,
        })
        .filter(|o| o.error.is_some());

    let code = match (&oauth, status) {
        (_, 429) => ErrorCode::Throttled,
        (_, 408) => ErrorCode::Network,
        (_, 500..=599) => ErrorCode::Server,
        (Some(o), _) if o.error_codes.iter().any(|c| TENANT_CODES.contains(c)) => ErrorCode::TenantNotFound,
        (Some(o), _)
            if o.error_codes.iter().any(|c| CREDENTIAL_CODES.contains(c))
                || matches!(o.error.as_deref(), Some("invalid_client" | "unauthorized_client")) =>
        {
            ErrorCode::CredentialRejected
        }
        (Some(_), _) => ErrorCode::RequestRejected,
        (None, _) => ErrorCode::Protocol,
    };

    let mut msg = match code {
        ErrorCode::Throttled => format!("throttled by {} (HTTP 429)", cx.endpoint),
        ErrorCode::Server => format!("server error from {} (HTTP {status})", cx.endpoint),
        ErrorCode::Network => format!("request timeout reported by {} (HTTP 408)", cx.endpoint),
        ErrorCode::TenantNotFound => format!("tenant refused by {} (HTTP {status})", cx.endpoint),
        ErrorCode::CredentialRejected => format!("credential rejected by {} (HTTP {status})", cx.endpoint),
        ErrorCode::RequestRejected => format!("request rejected by {} (HTTP {status})", cx.endpoint),
        _ => format!(
            "unexpected answer from {} (HTTP {status}, {}); a proxy may have answered",
            cx.endpoint,
            describe_body(answer)
        ),
    };
    if let Some(o) = &oauth {
        msg.push_str(": ");
        msg.push_str(o.error.as_deref().unwrap_or(""));
        if let Some(first) = o.error_description.as_deref().and_then(|d| d.lines().next()) {
            msg.push_str(": ");
            msg.push_str(first.trim());
        }
    } else if !matches!(code, ErrorCode::Protocol) && !answer.body.is_empty() {
        msg.push_str(&format!(" ({})", describe_body(answer)));
    }
    if let Some(after) = retry_after {
        msg.push_str(&format!("; retry after {}s", after.as_secs_f64().ceil() as u64));
    }
    if code == ErrorCode::TenantNotFound && cx.tenantless {
        msg.push_str(
            ". Entra needs your tenant for the client-credentials grant: configure your tenant ID \
             (config key 'tenant', e.g. the directory GUID or contoso.onmicrosoft.com) instead of a \
             tenant-less authority such as 'common' or 'organizations'",
        );
    }

    let mut err = Error::new(code, msg).with_http_status(status).with_retry_after(retry_after);
    if let Some(o) = oauth {
        err = err.with_oauth(o);
    }
    err
}

/// `text` with every JWT-shaped word (three base64url parts joined by dots,
/// such as an access token or an assertion a server echoes) replaced by
/// `<token>`. Entra's error descriptions never need one.
pub(crate) fn hide_tokens(text: &str) -> String {
    let is_b64url = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let parts: Vec<&str> = word.split('.').collect();
        if parts.len() == 3 && parts.iter().all(|p| p.len() >= 8) && word.len() >= 40 {
            out.push_str("<token>");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if is_b64url(c) || c == '.' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// A short description of a body that is not what we expected, never its text
/// (it could echo something sensitive).
pub(crate) fn describe_body(answer: &HttpAnswer) -> String {
    // The media type only, printable ASCII, bounded: a header's text must not
    // put line breaks or control characters into an error message.
    let ct: String = match answer.content_type.as_deref() {
        Some(v) => {
            v.split(';').next().unwrap_or("").trim().chars().filter(|c| c.is_ascii_graphic()).take(100).collect()
        }
        None => String::new(),
    };
    let ct = if ct.is_empty() { "no content type".to_owned() } else { ct };
    let looks_html =
        answer.body.iter().take(512).copied().skip_while(|b| b.is_ascii_whitespace()).take(1).any(|b| b == b'<');
    format!("{} bytes of {ct}{}", answer.body.len(), if looks_html { ", an HTML page" } else { "" })
}

/// `Retry-After` in both its forms, delay-seconds or an HTTP-date, clamped
/// to [`MAX_RETRY_AFTER`]. A number too large for `u64` counts as the cap.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        let secs = v.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    let when = parse_http_date(v)?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER))
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form RFC 9110 requires
/// senders to use.
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() != 6 || parts[5] != "GMT" {
        return None;
    }
    let day: u64 = parts[1].parse().ok()?;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| *m == parts[2])? as u64
        + 1;
    let year: u64 = parts[3].parse().ok()?;
    let hms: Vec<u64> = parts[4].split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    if hms.len() != 3
        || day == 0
        || day > 31
        || !(1970..=9999).contains(&year)
        || hms[0] > 23
        || hms[1] > 59
        || hms[2] > 60
    {
        return None;
    }
    // Days from civil date (Howard Hinnant's algorithm).
    let (y, m) = if month <= 2 { (year - 1, month + 9) } else { (year, month - 3) };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2];
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_content_type_header_cannot_put_control_characters_into_a_message() {
        let a = HttpAnswer {
            status: 400,
            content_type: Some("text/plain\r\nX-Injected: 1; charset=utf-8".into()),
            retry_after: None,
            body: b"\x01not json".to_vec(),
            truncated: false,
        };
        let d = describe_body(&a);
        assert!(!d.chars().any(|c| c.is_control()), "{d:?}");
        assert!(d.starts_with("9 bytes of text/plainX-Injected:"), "{d:?}");
        let blank = HttpAnswer { content_type: Some(" \n ".into()), ..a };
        assert_eq!(describe_body(&blank), "9 bytes of no content type");
    }

    fn ok(body: &str) -> HttpAnswer {
        HttpAnswer {
            status: 200,
            content_type: Some("application/json".into()),
            retry_after: None,
            body: body.as_bytes().to_vec(),
            truncated: false,
        }
    }
    const CX: Context<'static> = Context { endpoint: "https://login.example/t/oauth2/v2.0/token", tenantless: true };

    #[test]
    fn form_encoding_keeps_special_characters_intact() {
        assert_eq!(form_encode(&[("a", "x+y%z&w=v:/ é")]), "a=x%2By%25z%26w%3Dv%3A%2F+%C3%A9");
        let body = token_request_body("id", &Secret::new("s"), "https://graph.microsoft.com/.default", true);
        assert_eq!(
            body.expose(),
            "grant_type=client_credentials&client_id=id&client_secret=s&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
        );
        let basic = token_request_body("id", &Secret::new("s"), "x", false);
        assert!(!basic.expose().contains("client_secret"));
    }

    #[test]
    fn basic_header_form_encodes_then_base64s() {
        let h = basic_authorization("my id", &Secret::new("p:w+"));
        // base64("my+id:p%3Aw%2B")
        assert_eq!(h.expose(), "Basic bXkraWQ6cCUzQXclMkI=");
    }

    #[test]
    fn numbers_may_be_strings() {
        let t = interpret(&ok(r#"{"token_type":"bearer","expires_in":"3599","ext_expires_in":"3599","refresh_in":"1800","access_token":"abc"}"#), &CX).unwrap();
        assert_eq!(t.expires_in, Duration::from_secs(3599));
        assert_eq!(t.refresh_in, Some(Duration::from_secs(1800)));
        assert_eq!(t.access_token.expose(), "abc");
    }

    #[test]
    fn bad_success_answers_are_protocol_errors() {
        for body in [
            r#"{"token_type":"Bearer","expires_in":3599}"#,
            r#"{"token_type":"Bearer","expires_in":3599,"access_token":""}"#,
            r#"{"token_type":"mac","expires_in":3599,"access_token":"a"}"#,
            r#"{"token_type":"Bearer","access_token":"a"}"#,
            r#"{"token_type":"Bearer","expires_in":"soon","access_token":"a"}"#,
            "<html><body>Proxy login</body></html>",
            r#"{"token_type":"Bearer","access_token":"ey"#,
        ] {
            let e = interpret(&ok(body), &CX).unwrap_err();
            assert_eq!(e.code(), ErrorCode::Protocol, "{body}");
            assert_eq!(e.http_status(), Some(200));
        }
        let html = interpret(&ok("<html>hi</html>"), &CX).unwrap_err();
        assert!(html.message().contains("HTML"), "{}", html.message());
    }

    #[test]
    fn entra_errors_are_categorized_with_their_details() {
        let body = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t\r\nCorrelation ID: c","error_codes":[7000215],"timestamp":"2026-01-01 00:00:00Z","trace_id":"t-1","correlation_id":"c-1"}"#;
        let a = HttpAnswer { status: 401, content_type: None, retry_after: None, body: body.into(), truncated: false };
        let e = interpret(&a, &CX).unwrap_err();
        assert_eq!(e.code(), ErrorCode::CredentialRejected);
        assert_eq!(e.aadsts_codes(), &[7000215]);
        assert_eq!(e.trace_id(), Some("t-1"));
        assert_eq!(e.correlation_id(), Some("c-1"));
        assert!(e.message().contains("AADSTS7000215: Invalid client secret provided."));
        assert!(!e.message().contains("Trace ID: t\r"));

        let tenant = r#"{"error":"invalid_request","error_description":"AADSTS50059: No tenant-identifying information found","error_codes":[50059]}"#;
        let a =
            HttpAnswer { status: 400, content_type: None, retry_after: None, body: tenant.into(), truncated: false };
        let e = interpret(&a, &CX).unwrap_err();
        assert_eq!(e.code(), ErrorCode::TenantNotFound);
        assert!(e.message().contains("configure your tenant ID"), "{}", e.message());

        let scope = r#"{"error":"invalid_scope","error_codes":[1002012]}"#;
        let a = HttpAnswer { status: 400, content_type: None, retry_after: None, body: scope.into(), truncated: false };
        assert_eq!(interpret(&a, &CX).unwrap_err().code(), ErrorCode::RequestRejected);
    }

    #[test]
    fn throttling_and_server_errors_keep_retry_after() {
        let a = HttpAnswer {
            status: 429,
            content_type: None,
            retry_after: Some("7".into()),
            body: vec![],
            truncated: false,
        };
        let e = interpret(&a, &CX).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Throttled);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        let a = HttpAnswer {
            status: 502,
            content_type: Some("text/html".into()),
            retry_after: None,
            body: b"<html>bad gateway</html>".to_vec(),
            truncated: false,
        };
        let e = interpret(&a, &CX).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Server);
        assert!(e.message().contains("HTML"));
    }

    #[test]
    fn absurd_lifetimes_are_clamped_not_trusted() {
        for n in ["10000000000000000000", "1e19", "18446744073709551615", "1e16", "1000000000000", "86401"] {
            let body = format!(
                r#"{{"token_type":"Bearer","expires_in":{n},"ext_expires_in":{n},"refresh_in":{n},"access_token":"a"}}"#
            );
            let t = interpret(&ok(&body), &CX).unwrap_or_else(|e| panic!("{n}: {e}"));
            assert_eq!(t.expires_in, MAX_TOKEN_LIFETIME, "{n}");
            assert_eq!(t.ext_expires_in, Some(MAX_TOKEN_LIFETIME), "{n}");
            assert_eq!(t.refresh_in, Some(MAX_TOKEN_LIFETIME), "{n}");
        }
        let t =
            interpret(&ok(r#"{"token_type":"Bearer","expires_in":"99999999999999999999","access_token":"a"}"#), &CX);
        assert!(t.is_err(), "a string number beyond u64 is refused, not wrapped");
        let t = interpret(&ok(r#"{"token_type":"Bearer","expires_in":86400,"access_token":"a"}"#), &CX).unwrap();
        assert_eq!(t.expires_in, Duration::from_secs(86400));
    }

    #[test]
    fn retry_after_is_capped_at_an_hour() {
        assert_eq!(parse_retry_after("3000000000"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("99999999999999999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("3600"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("Fri, 31 Dec 99999999999999 23:59:59 GMT"), None);
        assert_eq!(parse_retry_after("-5"), None);
        let a = HttpAnswer {
            status: 429,
            content_type: None,
            retry_after: Some("3000000000".into()),
            body: vec![],
            truncated: false,
        };
        assert_eq!(interpret(&a, &CX).unwrap_err().retry_after(), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn echoed_tokens_are_hidden_in_error_texts() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJhcGk6Ly94In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
        assert_eq!(hide_tokens(&format!("token {jwt} refused.")), "token <token> refused.");
        assert_eq!(
            hide_tokens("AADSTS7000215: Invalid client secret. Trace ID: a.b.c"),
            "AADSTS7000215: Invalid client secret. Trace ID: a.b.c"
        );
    }

    #[test]
    fn sensitive_parts_cover_every_form_of_the_secret() {
        let secret = Secret::new("p+w/é");
        let body = token_request_body("id", &secret, "s", true);
        let parts = sensitive_parts(&body, Some(&basic_authorization("id", &secret)));
        let shown: Vec<&str> = parts.iter().map(|p| p.expose()).collect();
        assert!(shown.contains(&"p+w/é"), "{shown:?}");
        assert!(shown.contains(&"p%2Bw%2F%C3%A9"), "{shown:?}");
        assert!(shown.iter().any(|p| p.starts_with("Basic ")));
        assert!(shown.iter().any(|p| !p.starts_with("Basic ") && p.len() > 10 && p.ends_with('=')));
        assert_eq!(form_decode_value("a%2x%").expose(), "a%2x%");
    }

    #[test]
    fn http_dates() {
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(), 784111777);
        assert!(parse_http_date("yesterday").is_none());
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(" 12 "), Some(Duration::from_secs(12)));
    }
}

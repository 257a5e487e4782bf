//! Any failure answer (HTTP 400-599) from a token endpoint, raw bytes or an
//! Entra-shaped JSON error with fuzzed fields: always a categorized error
//! fitting the status, a Retry-After clamped to an hour, and a message that
//! never echoes a body that is not an OAuth error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use paytrim_auth::ErrorCode;
use std::time::Duration;

type Fields<'a> = (Option<&'a str>, Option<&'a str>, Vec<u32>, Option<&'a str>);

fuzz_target!(|input: (u16, bool, Option<&str>, Option<&str>, Fields<'_>, &[u8])| {
    let (status_seed, structured, content_type, retry_after, (error, description, codes, trace_id), raw) = input;
    let status = 400 + status_seed % 200;
    let body = if structured {
        serde_json::to_vec(&serde_json::json!({
            "error": error, "error_description": description, "error_codes": codes, "trace_id": trace_id,
        }))
        .unwrap()
    } else {
        raw.to_vec()
    };
    let err = match paytrim_auth::fuzzing::interpret_full(status, content_type, retry_after, &body) {
        Ok(_) => panic!("HTTP {status} became a token"),
        Err(e) => e,
    };
    match status {
        429 => assert_eq!(err.code(), ErrorCode::Throttled),
        408 => assert_eq!(err.code(), ErrorCode::Network),
        500..=599 => assert_eq!(err.code(), ErrorCode::Server),
        _ => assert!(matches!(
            err.code(),
            ErrorCode::TenantNotFound
                | ErrorCode::CredentialRejected
                | ErrorCode::RequestRejected
                | ErrorCode::Protocol
        )),
    }
    assert_eq!(err.http_status(), Some(status));
    assert!(err.retry_after().unwrap_or_default() <= Duration::from_secs(3600), "{:?}", err.retry_after());
    let message = err.message();
    assert!(!message.is_empty() && message.len() <= body.len() + 2048, "{} bytes", message.len());
    // A body that is not JSON (a proxy page, garbage) is described, never quoted.
    if serde_json::from_slice::<serde_json::Value>(&body).is_err() {
        if let Ok(text) = std::str::from_utf8(&body) {
            let text = text.trim();
            // (The message names the Content-Type's media type, printable
            // characters only; the fuzzer may make it contain the body.)
            let media_type: Option<String> = content_type.map(|c| {
                c.split(';').next().unwrap_or("").trim().chars().filter(|c| c.is_ascii_graphic()).take(100).collect()
            });
            if text.len() >= 12 && !media_type.is_some_and(|m| m.contains(text)) {
                assert!(!message.contains(text), "the message quotes the body: {message}");
            }
        }
    }
});

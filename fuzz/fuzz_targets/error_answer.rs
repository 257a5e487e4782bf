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
            // The message's own words (endpoint, status, the Content-Type's
            // media type, length) are what libFuzzer learns to put into the
            // body, so "the message contains the body" alone is no proof of
            // quoting: the same answer with the body's letters and digits
            // masked (same length, still not JSON) must give a message that
            // contains the text just as well; if not, it came from the body.
            let masked: Vec<u8> = body.iter().map(|&b| if b.is_ascii_alphanumeric() { b'#' } else { b }).collect();
            if text.len() >= 12
                && message.contains(text)
                && serde_json::from_slice::<serde_json::Value>(&masked).is_err()
            {
                let again = paytrim_auth::fuzzing::interpret_full(status, content_type, retry_after, &masked);
                let from_own_words = again.as_ref().err().is_some_and(|m| m.message().contains(text));
                assert!(from_own_words, "the message quotes the body: {message}");
            }
        }
    }
});

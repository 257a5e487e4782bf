//! Any answer from a managed-identity endpoint (IMDS or App Service): a
//! token with a bounded lifetime, or a categorized error that does not quote
//! a non-JSON body; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use paytrim_auth::ErrorCode;
use std::time::Duration;

/// The endpoint `paytrim_auth::fuzzing::interpret_managed_identity` names in its errors.
const ENDPOINT: &str = "http://fuzz.invalid/msi/token";

fuzz_target!(|input: (bool, u16, Option<&str>, &[u8])| {
    let (imds, status, retry_after, body) = input;
    match paytrim_auth::fuzzing::interpret_managed_identity(imds, status, retry_after, body) {
        Ok((token, lifetime)) => {
            assert!(!token.is_empty());
            assert!(lifetime > Duration::ZERO && lifetime <= Duration::from_secs(7 * 24 * 3600), "{lifetime:?}");
        }
        Err(e) => {
            assert_ne!(e.code(), ErrorCode::Internal, "{}", e.message());
            assert!(!e.message().is_empty());
            if serde_json::from_slice::<serde_json::Value>(body).is_err() {
                if let Ok(text) = std::str::from_utf8(body) {
                    let text = text.trim();
                    // The message names the endpoint (and may name the status and
                    // Retry-After); the fuzzer can make the body a piece of those.
                    // What must not appear is the body beyond them.
                    let message = e.message().replace(ENDPOINT, "");
                    let named_elsewhere =
                        ENDPOINT.contains(text) || retry_after.is_some_and(|r| r.contains(text));
                    if text.len() >= 12 && !named_elsewhere {
                        assert!(!message.contains(text), "the message quotes the body: {}", e.message());
                    }
                }
            }
        }
    }
});

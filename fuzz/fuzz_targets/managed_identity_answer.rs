//! Any answer from a managed-identity endpoint (IMDS or App Service): a
//! token with a bounded lifetime, or a categorized error that does not quote
//! a non-JSON body; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use paytrim_auth::ErrorCode;
use std::time::Duration;

/// The body with every ASCII letter and digit replaced: same length, same
/// punctuation, none of the original words.
fn mask(body: &[u8]) -> Vec<u8> {
    body.iter().map(|&b| if b.is_ascii_alphanumeric() { b'#' } else { b }).collect()
}

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
                    // The message's own words (endpoint, status, length, media
                    // type) are what libFuzzer learns to put into the body, so
                    // "the message contains the body" alone is no proof of
                    // quoting. The same answer with the body's letters and
                    // digits masked (same length, still not JSON) must give a
                    // message that contains the text just as well: if it does
                    // not, the text came from the body.
                    let masked = mask(body);
                    if text.len() >= 12
                        && e.message().contains(text)
                        && serde_json::from_slice::<serde_json::Value>(&masked).is_err()
                    {
                        let again =
                            paytrim_auth::fuzzing::interpret_managed_identity(imds, status, retry_after, &masked);
                        let from_own_words = again.as_ref().err().is_some_and(|m| m.message().contains(text));
                        assert!(from_own_words, "the message quotes the body: {}", e.message());
                    }
                }
            }
        }
    }
});

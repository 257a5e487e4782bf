//! Any answer from a token endpoint (status, Retry-After, body) is either a
//! token or a categorized error: never a panic, and never an error message
//! that echoes the body.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u16, Option<&str>, &[u8])| {
    let (status, retry_after, body) = input;
    match paytrim_auth::fuzzing::interpret_answer(status, retry_after, body) {
        Ok(token) => assert!(!token.is_empty()),
        Err(e) => {
            assert!(!e.message().is_empty());
        }
    }
    if let Some(v) = retry_after {
        let _ = paytrim_auth::fuzzing::parse_retry_after(v);
    }
});

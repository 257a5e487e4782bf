//! `ClientConfig::set` with any key (known ones chosen often) and any value:
//! accepted, or refused as invalid_argument naming the key, with the
//! configuration unchanged, a bounded message, and secret values never in
//! its Debug output.
#![no_main]
use libfuzzer_sys::fuzz_target;
use paytrim_auth::{ClientConfig, ErrorCode, CONFIG_KEYS};

fuzz_target!(|input: (u8, bool, &str, &str)| {
    let (pick, known, free_key, value) = input;
    let key = if known { CONFIG_KEYS[pick as usize % CONFIG_KEYS.len()].0 } else { free_key };
    let mut config = ClientConfig::default();
    let before = format!("{config:?}");
    match config.set(key, value) {
        Ok(()) => {
            // Setting the same value again is accepted too.
            config.set(key, value).expect("a value accepted once is accepted again");
        }
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::InvalidArgument);
            let m = e.message();
            assert!(m.contains(key) || m.starts_with("unknown config key"), "{m}");
            assert!(m.len() <= key.len().min(64) + value.len().min(16 * 1024) * 2 + 1024, "{} bytes", m.len());
            assert_eq!(format!("{config:?}"), before, "a refused value changed the configuration");
        }
    }
    // (A value that is part of the field names, such as "ls_roots", proves nothing.)
    if key == "identity_header" && value.trim().len() >= 8 && !before.contains(value.trim()) {
        assert!(!format!("{config:?}").contains(value.trim()), "Debug shows the identity header");
    }
});

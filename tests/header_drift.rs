//! The committed C header must be exactly what cbindgen generates from
//! src/ffi/ now. Regenerate with `PAYTRIM_AUTH_WRITE_HEADER=1 cargo build`.

#[test]
fn committed_header_matches_a_fresh_generation() {
    let fresh = include_str!(concat!(env!("OUT_DIR"), "/paytrim_auth.h"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/paytrim_auth.h");
    let committed = std::fs::read_to_string(path).expect("include/paytrim_auth.h exists");
    assert!(
        committed == fresh,
        "include/paytrim_auth.h is out of date with src/ffi/; run `PAYTRIM_AUTH_WRITE_HEADER=1 cargo build` and commit it"
    );
}

#[test]
fn header_declares_every_error_code_of_the_core() {
    let header = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/include/paytrim_auth.h"));
    for code in paytrim_auth::ErrorCode::ALL {
        let line = format!("#define PAYTRIM_AUTH_ERROR_{} {}", code.name().to_uppercase(), code.as_u32());
        assert!(header.contains(&line), "missing `{line}`");
    }
    assert!(!header.contains("Java_"), "JNI symbols leaked into the C header");
}

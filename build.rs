//! Generates the C header with cbindgen into OUT_DIR on every build. The
//! committed copy in include/ is refreshed with
//! `PAYTRIM_AUTH_WRITE_HEADER=1 cargo build`, and tests/header_drift.rs fails
//! when the two differ.

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=PAYTRIM_AUTH_WRITE_HEADER");
    // A soname, so a runtime that dlopen()s the library by path (Mono, Node)
    // and later resolves it by name finds the copy already loaded.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libpaytrim_auth.so");
        // Never unmapped by dlclose(): fetch and refresh threads may still be
        // running library code when a host unloads it (Node's koffi dlclose()s
        // when the last environment that loaded it, e.g. a worker, ends).
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }

    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml is readable and valid");
    // Only src/ffi/ is the C ABI: parse that module tree, not the Rust core.
    let bindings = cbindgen::Builder::new()
        .with_src(crate_dir.join("src/ffi/mod.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header");
    bindings.write_to_file(out_dir.join("paytrim_auth.h"));
    if std::env::var_os("PAYTRIM_AUTH_WRITE_HEADER").is_some() {
        bindings.write_to_file(crate_dir.join("include/paytrim_auth.h"));
    }
}

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
    // The shared library's versioned name (scripts/install.sh installs
    // libpaytrim_auth.so.MAJOR.MINOR.PATCH with the .so.MAJOR and .so links).
    // A program linked with -lpaytrim_auth records the soname and loads
    // libpaytrim_auth.so.MAJOR; the major number changes only with an
    // incompatible ABI (0 for every 0.x, as Cargo's 0.x semver is read for
    // the C ABI: PAYTRIM_AUTH_ABI_VERSION is checked at load time anyway).
    // The wrappers load the file they carry by path (Java, Node) or by its
    // file name next to the assembly (Mono's dllmap, .NET's runtimes/): a
    // library loaded once is found again by path or file name, so the
    // soname need not equal the file name (their suites pass with it).
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let version = std::env::var("CARGO_PKG_VERSION").unwrap();
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    if target_os == "linux" || target_os == "android" || target_os.ends_with("bsd") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libpaytrim_auth.so.{major}");
        soname_link_in_target_dir(&out_dir, &format!("libpaytrim_auth.so.{major}"));
    }
    if target_os == "macos" || target_os == "ios" {
        // The Mach-O equivalent (reviewed, not linked here): found through
        // the program's rpath until scripts/install.sh rewrites it to the
        // installed absolute path, as Homebrew and cargo-c do.
        // (A compatibility version of 0 is ld64's default: only given from 1.)
        println!("cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libpaytrim_auth.{major}.dylib");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-current_version,{version}");
        if major != "0" {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-compatibility_version,{major}.0.0");
        }
    }
    if target_os == "linux" {
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

/// Programs built in this tree (tests/c, the examples, the soak and
/// sanitizer builds, the README's quickstart) link `-L target/<profile>
/// -lpaytrim_auth` and then ask for the soname at run time: a link named
/// after it beside the library, as an installed tree has (the library itself
/// is linked after this script runs; until then the link dangles).
fn soname_link_in_target_dir(out_dir: &std::path::Path, soname: &str) {
    // OUT_DIR is target/[<triple>/]<profile>/build/paytrim-auth-<hash>/out.
    let Some(profile_dir) = out_dir.ancestors().nth(3) else { return };
    if out_dir.ancestors().nth(2).and_then(|p| p.file_name()) != Some(std::ffi::OsStr::new("build")) {
        return;
    }
    let link = profile_dir.join(soname);
    #[cfg(unix)]
    {
        if std::fs::read_link(&link).ok().as_deref() != Some(std::path::Path::new("libpaytrim_auth.so")) {
            let _ = std::fs::remove_file(&link);
            if let Err(e) = std::os::unix::fs::symlink("libpaytrim_auth.so", &link) {
                println!("cargo:warning=cannot create {}: {e}", link.display());
            }
        }
    }
    #[cfg(not(unix))]
    let _ = link;
}

//! Managed identity through the C ABI: the cold fetch (first token of a new
//! key from IMDS or the App Service endpoint) and the cache hit, next to a
//! client-secret client against the same emulator for reference.
//!
//!     cargo build --release -p paytrim-entra-emulator
//!     cargo bench --bench managed_identity
//!
//! Prints one line per figure (medians of the cold fetches; mean ns of a hit
//! = get_token + string_free).

#[path = "common/mod.rs"]
mod common;

use common::*;
use paytrim_auth::ffi::*;
use std::ffi::{CStr, CString};
use std::hint::black_box;
use std::ptr;
use std::time::Instant;

const COLD_KEYS: usize = 30;
const HITS: u32 = 2_000_000;

/// `paytrim_auth_client_new_managed_identity("system", config)` with the
/// given endpoint keys and `scope`.
fn mi_client(settings: &[(&str, &str)], scope: &str) -> ClientPtr {
    unsafe {
        let cfg = paytrim_auth_config_new();
        for (k, v) in settings.iter().copied().chain([("scope", scope), ("proxy", "none")]) {
            let (k, v) = (CString::new(k).unwrap(), CString::new(v).unwrap());
            let err = paytrim_auth_config_set(cfg, k.as_ptr(), v.as_ptr());
            assert!(err.is_null(), "config_set {k:?}");
        }
        let mut client = ptr::null_mut();
        let id = CString::new("system").unwrap();
        let err = paytrim_auth_client_new_managed_identity(id.as_ptr(), cfg, &mut client);
        if !err.is_null() {
            panic!("{}", CStr::from_ptr(paytrim_auth_error_message(err)).to_string_lossy());
        }
        paytrim_auth_config_free(cfg);
        ClientPtr(client)
    }
}

/// Median ms of the first get_token of `COLD_KEYS` fresh keys (client creation not timed).
fn cold(make: &dyn Fn(&str) -> ClientPtr, tag: &str) -> f64 {
    let mut v: Vec<f64> = (0..COLD_KEYS)
        .map(|i| {
            let c = make(&format!("api://bench-{tag}-{}-{i}/.default", std::process::id()));
            let t = Instant::now();
            black_box(get_token(c));
            let took = ms(t.elapsed());
            free_client(c);
            took
        })
        .collect();
    median(&mut v)
}

/// Mean ns per hit over `HITS` calls on a warm client.
fn hit(c: ClientPtr) -> f64 {
    get_token(c);
    for _ in 0..10_000 {
        black_box(get_token(black_box(c)));
    }
    let t = Instant::now();
    for _ in 0..HITS {
        black_box(get_token(black_box(c)));
    }
    t.elapsed().as_nanos() as f64 / HITS as f64
}

fn main() {
    let emu = start_emulator();
    let http = emu.http_url();
    let app = format!("{http}/msi/token");
    let imds: Vec<(&str, &str)> = vec![("imds_endpoint", &http)];
    let app_service: Vec<(&str, &str)> =
        vec![("identity_endpoint", &app), ("identity_header", "emulator-identity-header")];

    let before = emu.token_requests();
    let imds_cold = cold(&|s| mi_client(&imds, s), "imds");
    let app_cold = cold(&|s| mi_client(&app_service, s), "app");
    let secret_cold = cold(&|s| new_client(&emu, s), "secret");
    assert_eq!(emu.token_requests() - before, 3 * COLD_KEYS as u64, "one request per cold key");

    let c = mi_client(&imds, "api://bench-hit-imds/.default");
    let imds_hit = hit(c);
    free_client(c);
    let c = new_client(&emu, "api://bench-hit-secret/.default");
    let secret_hit = hit(c);
    free_client(c);

    println!("managed identity cold fetch, IMDS (plain http, loopback):       median {imds_cold:.3} ms over {COLD_KEYS} keys");
    println!("managed identity cold fetch, App Service (plain http, loopback): median {app_cold:.3} ms over {COLD_KEYS} keys");
    println!("client secret cold fetch (https, loopback, for reference):      median {secret_cold:.3} ms over {COLD_KEYS} keys");
    println!("managed identity cache hit (get_token + string_free):           {imds_hit:.1} ns/call over {HITS} calls");
    println!(
        "client secret cache hit (same path, for reference):             {secret_hit:.1} ns/call over {HITS} calls"
    );
}

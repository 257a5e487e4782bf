//! Cache-hit cost through the C ABI (`paytrim_auth_client_get_token` +
//! `paytrim_auth_string_free`), and how it stays flat with 1, 100 and 10,000
//! cached keys. Against the in-process emulator on 127.0.0.1.
//!
//!     cargo bench --bench cache_hit
//!
//! Criterion writes medians to target/criterion/<group>/<id>/new/estimates.json;
//! bench/report.py reads them.

#[path = "common/mod.rs"]
mod common;

use common::*;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

fn hit(c: &mut Criterion) {
    let emu = start_emulator();
    let client = new_client(&emu, "api://hit/.default");
    get_token(client); // the one cold fetch
                       // A scope set named per call: one lock and a lookup more than the default.
    let other = c"api://hit-other/.default";
    get_token_for_scopes(client, other); // its cold fetch
    let before = emu.token_requests();

    let mut g = c.benchmark_group("hit");
    g.bench_function("c_abi", |b| b.iter(|| black_box(get_token(black_box(client)))));
    g.bench_function("c_abi_for_scopes", |b| b.iter(|| black_box(get_token_for_scopes(black_box(client), other))));
    g.finish();

    assert_eq!(emu.token_requests(), before, "a cache hit sent a request");
    free_client(client);

    // The same with the on-host cache tier on (PAYTRIM_CACHE_DIR): a hit
    // must not touch it, so the cost must not change.
    let dir = std::env::temp_dir().join(format!("paytrim-bench-tier-{}", std::process::id()));
    std::env::set_var("PAYTRIM_CACHE_DIR", &dir);
    let tiered = new_client(&emu, "api://hit-tiers/.default");
    std::env::remove_var("PAYTRIM_CACHE_DIR");
    get_token(tiered);
    let before = emu.token_requests();
    let mut g = c.benchmark_group("hit");
    g.bench_function("c_abi_tiers_on", |b| b.iter(|| black_box(get_token(black_box(tiered)))));
    g.finish();
    assert_eq!(emu.token_requests(), before, "a cache hit sent a request");
    free_client(tiered);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Keys per emulator process. Clients share their connection pool, so this
/// no longer bounds descriptors; spreading the keys over several token
/// endpoints also keeps the many-keys row honest about distinct endpoints.
const KEYS_PER_EMULATOR: usize = 4000;

/// Fills the cache to `n` keys (distinct scopes `api://k{i}/.default`),
/// fetching the missing ones on a few threads at once.
fn fill(emus: &mut Vec<Emulator>, clients: &mut Vec<ClientPtr>, n: usize) {
    let start = clients.len();
    while emus.len() < n.div_ceil(KEYS_PER_EMULATOR) {
        emus.push(start_emulator());
    }
    let new: Vec<ClientPtr> =
        (start..n).map(|i| new_client(&emus[i / KEYS_PER_EMULATOR], &format!("api://k{i}/.default"))).collect();
    let threads = 8;
    std::thread::scope(|s| {
        for chunk in new.chunks(new.len().div_ceil(threads).max(1)) {
            s.spawn(move || {
                for &c in chunk {
                    get_token(c);
                }
            });
        }
    });
    clients.extend(new);
}

fn many_keys(c: &mut Criterion) {
    let mut emus: Vec<Emulator> = Vec::new();
    let mut clients: Vec<ClientPtr> = Vec::new();
    let mut g = c.benchmark_group("many_keys");
    let requests = |emus: &Vec<Emulator>| emus.iter().map(Emulator::token_requests).sum::<u64>();
    for n in [1usize, 100, 10_000] {
        let t = std::time::Instant::now();
        fill(&mut emus, &mut clients, n);
        eprintln!(
            "cache filled to {n} keys in {:.1} s ({} requests so far)",
            t.elapsed().as_secs_f64(),
            requests(&emus)
        );
        let before = requests(&emus);
        let first = clients[0];
        // The same client, with n keys in the process-wide cache.
        g.bench_function(format!("one_client/{n}"), |b| b.iter(|| black_box(get_token(black_box(first)))));
        // Every key in turn (touches n different tokens: memory traffic, not
        // lookup cost; a hit never consults the key registry).
        let mut i = 0usize;
        g.bench_function(format!("round_robin/{n}"), |b| {
            b.iter(|| {
                i += 1;
                if i >= clients.len() {
                    i = 0;
                }
                black_box(get_token(clients[i]))
            })
        });
        assert_eq!(requests(&emus), before, "a cache hit sent a request");
    }
    g.finish();
    for c in clients {
        free_client(c);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40);
    targets = hit, many_keys
}
criterion_main!(benches);

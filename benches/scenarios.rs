//! The scenarios criterion is not made for: hit throughput on 1 and 2
//! threads, a cold fetch next to curl's, a 1000-caller stampede. All through
//! the C ABI, against the emulator binary on 127.0.0.1. Prints one
//! `RESULT {json}` line per figure (and appends it to $PAYTRIM_BENCH_OUT).
//!
//!     cargo bench --bench scenarios
//!
//! Environment: PAYTRIM_EMULATOR (emulator binary), PAYTRIM_BENCH_QUICK=1
//! (fewer rounds, for a smoke test).

#[path = "common/mod.rs"]
mod common;

use common::*;
use std::hint::black_box;
use std::process::Command;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use std::time::{Duration, Instant};

fn quick() -> bool {
    std::env::var("PAYTRIM_BENCH_QUICK").is_ok_and(|v| v == "1")
}

/// Aggregate calls per second of `step` on `threads` threads over `window`;
/// each thread keeps its own state, made by `init(thread index)`.
fn calls_per_second<S>(
    threads: usize,
    window: Duration,
    init: impl Fn(usize) -> S + Sync,
    step: impl Fn(&mut S) + Sync,
) -> f64 {
    let barrier = Barrier::new(threads);
    std::thread::scope(|sc| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (barrier, init, step) = (&barrier, &init, &step);
                sc.spawn(move || {
                    let mut state = init(t);
                    barrier.wait();
                    let start = Instant::now();
                    let mut calls = 0u64;
                    loop {
                        for _ in 0..1024 {
                            step(&mut state);
                        }
                        calls += 1024;
                        if start.elapsed() >= window {
                            break;
                        }
                    }
                    calls as f64 / start.elapsed().as_secs_f64()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    })
}

/// A control with no library call and no shared memory: xorshift rounds
/// per second on `threads` threads. Its 2-thread scaling is what the machine
/// offers at the moment (other processes take cores too).
fn control(threads: usize, window: Duration) -> f64 {
    calls_per_second(
        threads,
        window,
        |t| 0x9E3779B97F4A7C15u64 ^ t as u64,
        |x| {
            for _ in 0..64 {
                *x ^= *x << 13;
                *x ^= *x >> 7;
                *x ^= *x << 17;
            }
            black_box(*x);
        },
    )
}

/// Aggregate get_token+string_free calls per second on `threads` threads
/// sharing one client, over `window`.
fn throughput(client: ClientPtr, threads: usize, window: Duration) -> f64 {
    calls_per_second(
        threads,
        window,
        |_| (),
        |_| {
            black_box(get_token(client));
        },
    )
}

fn bench_throughput(emu: &Emulator) {
    let client = new_client(emu, "api://throughput/.default");
    get_token(client);
    let before = emu.token_requests();
    let rounds = if quick() { 3 } else { 7 };
    let window = Duration::from_millis(if quick() { 300 } else { 700 });
    throughput(client, 2, window / 2); // warm up
    let (mut one, mut two, mut ctl) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        one.push(throughput(client, 1, window));
        two.push(throughput(client, 2, window));
        ctl.push(control(2, window / 2) / control(1, window / 2));
    }
    assert_eq!(emu.token_requests(), before);
    let (one, two, ctl) = (median(&mut one), median(&mut two), median(&mut ctl));
    record(format!(
        r#"{{"name":"hit_throughput","threads_1_calls_per_s":{one:.0},"threads_2_calls_per_s":{two:.0},"scaling":{:.3},"control_scaling":{ctl:.3},"rounds":{rounds},"window_ms":{}}}"#,
        two / one,
        window.as_millis()
    ));
    free_client(client);
}

/// New client + first token (+ string_free + client_free), in ms.
fn our_cold_fetch(emu: &Emulator, scope: &str) -> f64 {
    let t = Instant::now();
    let c = new_client(emu, scope);
    get_token(c);
    let ms = ms(t.elapsed());
    free_client(c);
    ms
}

/// The same POST by curl: (curl's own time_total, wall time of the process) in ms.
fn curl_cold_fetch(emu: &Emulator, scope: &str) -> (f64, f64) {
    let body = format!(
        "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}&scope={}",
        scope.replace(':', "%3A").replace('/', "%2F")
    );
    let t = Instant::now();
    let out = Command::new("curl")
        .args(["-sS", "--cacert"])
        .arg(emu.ca_file())
        .args([
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{time_total}",
            "-H",
            "Content-Type: application/x-www-form-urlencoded",
            "--data-raw",
        ])
        .arg(&body)
        .arg(emu.token_url())
        .output()
        .expect("curl runs");
    let wall = ms(t.elapsed());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    assert_eq!(it.next(), Some("200"), "curl: {text} {}", String::from_utf8_lossy(&out.stderr));
    let total: f64 = it.next().unwrap().parse().unwrap();
    (total * 1e3, wall)
}

fn bench_cold(emu: &Emulator) -> f64 {
    // The first fetch in a process also loads the system roots; measure it
    // apart, then steady-state cold fetches (new client, new key, new TLS
    // connection, each time), interleaved with curl's.
    let first = our_cold_fetch(emu, "api://cold-first/.default");
    let n = if quick() { 7 } else { 25 };
    let before = emu.token_requests();
    let (mut ours, mut curl_total, mut curl_wall) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        ours.push(our_cold_fetch(emu, &format!("api://cold{i}/.default")));
        let (t, w) = curl_cold_fetch(emu, &format!("api://curl{i}/.default"));
        curl_total.push(t);
        curl_wall.push(w);
    }
    assert_eq!(emu.token_requests() - before, 2 * n as u64);
    let (o, ct, cw) = (median(&mut ours), median(&mut curl_total), median(&mut curl_wall));
    record(format!(
        r#"{{"name":"cold_fetch","ours_ms":{o:.3},"curl_time_total_ms":{ct:.3},"curl_process_ms":{cw:.3},"ratio_vs_curl_time_total":{:.3},"first_in_process_ms":{first:.3},"n":{n}}}"#,
        o / ct
    ));
    o
}

/// A start gate: one futex word, one FUTEX_WAKE for every waiter (a
/// `std::sync::Barrier` wakes them into a mutex herd, which costs more than
/// the fetch on 2 cores).
#[derive(Default)]
struct Gate(std::sync::atomic::AtomicU32);

impl Gate {
    fn wait(&self) {
        while self.0.load(Ordering::Acquire) == 0 {
            unsafe {
                libc::syscall(
                    libc::SYS_futex,
                    self.0.as_ptr(),
                    libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                    0,
                    std::ptr::null::<libc::timespec>(),
                );
            }
        }
    }
    fn open(&self) {
        self.0.store(1, Ordering::Release);
        unsafe {
            libc::syscall(libc::SYS_futex, self.0.as_ptr(), libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, i32::MAX);
        }
    }
}

/// `callers` threads released together; each calls get_token on its own
/// client of one key (or, with `warm`, of a key already cached). Returns
/// (ms until the last caller has its token, requests sent).
fn stampede(emu: &Emulator, scope: &str, callers: usize, warm: bool) -> (f64, u64) {
    let clients: Vec<ClientPtr> = (0..callers).map(|_| new_client(emu, scope)).collect();
    if warm {
        get_token(clients[0]);
    }
    let before = emu.token_requests();
    let ready = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let (gate, exit_gate) = (Arc::new(Gate::default()), Arc::new(Gate::default()));
    let base = Instant::now();
    let served: Arc<Vec<AtomicU64>> = Arc::new((0..callers).map(|_| AtomicU64::new(0)).collect());
    let handles: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let (ready, finished, gate, exit_gate, served) =
                (ready.clone(), finished.clone(), gate.clone(), exit_gate.clone(), served.clone());
            std::thread::Builder::new()
                .stack_size(128 * 1024)
                .spawn(move || {
                    ready.fetch_add(1, Ordering::SeqCst);
                    gate.wait();
                    black_box(get_token(c));
                    served[i].store(base.elapsed().as_nanos() as u64, Ordering::SeqCst);
                    finished.fetch_add(1, Ordering::SeqCst);
                    // Stay alive until every caller is served: thread exits
                    // must not compete with callers still waiting.
                    exit_gate.wait();
                })
                .expect("spawn caller")
        })
        .collect();
    while ready.load(Ordering::SeqCst) < callers {
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(20)); // all parked at the gate
    let t0 = base.elapsed().as_nanos() as u64;
    gate.open();
    while finished.load(Ordering::SeqCst) < callers {
        std::thread::sleep(Duration::from_micros(200));
    }
    exit_gate.open();
    for h in handles {
        h.join().unwrap();
    }
    let mut done: Vec<f64> = served.iter().map(|t| (t.load(Ordering::SeqCst) - t0) as f64 / 1e6).collect();
    let sent = emu.token_requests() - before;
    for c in clients {
        free_client(c);
    }
    done.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if std::env::var("PAYTRIM_BENCH_VERBOSE").is_ok() {
        let p = |q: f64| done[((done.len() - 1) as f64 * q) as usize];
        eprintln!(
            "stampede {scope} warm={warm}: served first {:.2} ms, p10 {:.2}, p50 {:.2}, p90 {:.2}, last {:.2}; {sent} request(s)",
            p(0.0), p(0.1), p(0.5), p(0.9), p(1.0)
        );
    }
    (*done.last().unwrap(), sent)
}

/// get_token on a fresh client of a new key (client creation not timed), ms.
fn cold_get_token(emu: &Emulator, scope: &str) -> f64 {
    let c = new_client(emu, scope);
    let t = Instant::now();
    get_token(c);
    let ms = ms(t.elapsed());
    free_client(c);
    ms
}

fn bench_stampede(emu: &Emulator) {
    let callers = 1000;
    let trials = if quick() { 3 } else { 7 };
    let (mut times, mut requests, mut singles, mut floors) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for t in 0..trials {
        singles.push(cold_get_token(emu, &format!("api://single{t}/.default")));
        let (ms, sent) = stampede(emu, &format!("api://stampede{t}/.default"), callers, false);
        times.push(ms);
        requests.push(sent);
        // The same 1000 threads on an already cached key: what releasing
        // 1000 threads on 2 cores costs by itself.
        floors.push(stampede(emu, &format!("api://stampede{t}/.default"), callers, true).0);
    }
    let max_requests = *requests.iter().max().unwrap();
    let (st, single, floor) = (median(&mut times), median(&mut singles), median(&mut floors));
    record(format!(
        r#"{{"name":"stampede","callers":{callers},"requests_max":{max_requests},"requests":{requests:?},"last_served_ms":{st:.3},"one_cold_fetch_ms":{single:.3},"ratio":{:.3},"release_floor_ms":{floor:.3},"trials":{trials}}}"#,
        st / single
    ));
}

fn main() {
    // `cargo bench` passes --bench; a filter argument selects scenarios.
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let want = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    let emu = start_emulator();
    if want("throughput") {
        bench_throughput(&emu);
    }
    if want("cold") {
        bench_cold(&emu);
    }
    if want("stampede") {
        bench_stampede(&emu);
    }
}

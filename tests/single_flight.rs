//! Single flight: a stampede on a cold key costs one request, and every
//! caller gets its result or its error.

mod common;
use common::*;
use paytrim_auth::ErrorCode;
use std::sync::Barrier;
use std::time::Duration;

const THREADS: usize = 64;

#[test]
fn sixty_four_cold_callers_cause_one_request() {
    let s = setup();
    s.emu.set_latency(Duration::from_millis(300));
    let client = s.client();
    let barrier = Barrier::new(THREADS);
    let tokens: Vec<String> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..THREADS)
            .map(|_| {
                sc.spawn(|| {
                    barrier.wait();
                    client.token().unwrap().secret().to_owned()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(tokens.len(), THREADS);
    assert!(tokens.iter().all(|t| t == &tokens[0]));
    assert_eq!(s.emu.token_requests(), 1);
}

#[test]
fn separate_clients_of_one_key_also_share_the_request() {
    let s = setup();
    s.emu.set_latency(Duration::from_millis(300));
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|sc| {
        for _ in 0..THREADS {
            sc.spawn(|| {
                let c = s.client();
                barrier.wait();
                c.token().unwrap();
            });
        }
    });
    assert_eq!(s.emu.token_requests(), 1);
}

#[test]
fn every_caller_receives_the_shared_error() {
    let mut s = setup();
    s.set("max_attempts", "1");
    s.emu.set_latency(Duration::from_millis(300));
    s.emu.push_fault(Fault::status(500));
    let client = s.client();
    let barrier = Barrier::new(THREADS);
    let codes: Vec<ErrorCode> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..THREADS)
            .map(|_| {
                sc.spawn(|| {
                    barrier.wait();
                    client.token().unwrap_err().code()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(codes.iter().all(|c| *c == ErrorCode::Server), "{codes:?}");
    assert_eq!(s.emu.token_requests(), 1);
}

#[test]
fn hits_do_not_wait_for_a_fetch_of_another_key() {
    let s = setup();
    let warm = s.client();
    warm.token().unwrap();
    s.emu.set_latency(Duration::from_millis(3000));
    let cold = s.client_with(|c| c.set("scope", "api://cold/.default").unwrap());
    std::thread::scope(|sc| {
        sc.spawn(|| cold.token().unwrap());
        // The other key's fetch has reached the server (and waits there).
        assert!(s.emu.wait_for_requests(2, Duration::from_secs(20)));
        let (_, took) = timed(|| {
            for _ in 0..1000 {
                warm.with_token(|t| t.secret().len()).unwrap();
            }
        });
        // The other key's fetch takes 3 s; these hits must not wait for it.
        assert!(took < Duration::from_millis(1500), "{took:?}");
    });
}

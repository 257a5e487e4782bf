//! Shared helpers for the integration tests: an emulator per test, and a
//! fresh client id per test (the token cache is process-wide, so tests that
//! count requests must not share a key).

#![allow(dead_code)]

pub mod certs;

use paytrim_auth::{Client, ClientConfig, Credential};
use paytrim_entra_emulator::Emulator;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

#[allow(unused_imports)]
pub use paytrim_entra_emulator::Fault;

static NEXT: AtomicU32 = AtomicU32::new(1);

pub struct Setup {
    pub emu: Emulator,
    pub client_id: String,
    pub secret: String,
    pub config: ClientConfig,
}

/// A started emulator, a client registered at it under a unique id, and a
/// configuration pointing at it over HTTPS with its CA trusted.
pub fn setup() -> Setup {
    let emu = Emulator::start().expect("emulator starts");
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let client_id = format!("{:08x}-0000-4000-8000-{:012x}", std::process::id(), n);
    let secret = format!("s3cr3t+%&=:/é-{n}");
    emu.add_client(&client_id, &secret);
    let mut config = ClientConfig::default();
    config.set("authority_host", &emu.https_url()).unwrap();
    config.set("tenant", "contoso.onmicrosoft.com").unwrap();
    config.set("ca_file", emu.ca_file().to_str().unwrap()).unwrap();
    Setup { emu, client_id, secret, config }
}

impl Setup {
    pub fn client(&self) -> Client {
        Client::new(&self.client_id, Credential::client_secret(&self.secret), &self.config).expect("client")
    }

    pub fn client_with(&self, f: impl FnOnce(&mut ClientConfig)) -> Client {
        let mut c = self.config.clone();
        f(&mut c);
        Client::new(&self.client_id, Credential::client_secret(&self.secret), &c).expect("client")
    }

    pub fn set(&mut self, key: &str, value: &str) -> &mut Self {
        self.config.set(key, value).unwrap();
        self
    }
}

/// Runs `f` and returns its result with the wall time it took.
pub fn timed<R>(f: impl FnOnce() -> R) -> (R, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

/// Waits until `cond` holds, up to `limit`.
pub fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

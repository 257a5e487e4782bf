//! Proxies: the `proxy` key, `HTTPS_PROXY` and `NO_PROXY`, through a CONNECT
//! proxy this test runs on 127.0.0.1. One test function, because it changes
//! the process environment.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// A minimal HTTP CONNECT proxy that records the targets it tunnels to.
struct ConnectProxy {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let log = log.clone();
                std::thread::spawn(move || tunnel(conn, &log));
            }
        });
        ConnectProxy { url, seen }
    }

    fn connects(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn tunnel(client: TcpStream, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
            break;
        }
    }
    log.lock().unwrap().push(target.clone());
    let mut client = client;
    let Ok(upstream) = TcpStream::connect(&target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
        return;
    };
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").unwrap();
    let (mut up_r, mut up_w) = (upstream.try_clone().unwrap(), upstream);
    let mut down_w = client;
    let t = std::thread::spawn(move || {
        let _ = std::io::copy(&mut reader, &mut up_w);
        let _ = up_w.shutdown(std::net::Shutdown::Write);
    });
    let mut buf = [0u8; 16 * 1024];
    loop {
        match up_r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if down_w.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = down_w.shutdown(std::net::Shutdown::Both);
    let _ = t.join();
}

#[test]
fn proxies_from_config_and_environment() {
    let proxy = ConnectProxy::start();
    // 1. The `proxy` configuration key.
    let mut s = setup();
    let emu_target = format!("127.0.0.1:{}", s.emu.https_port());
    s.set("proxy", &proxy.url);
    s.client().token().unwrap();
    assert_eq!(proxy.connects(), vec![emu_target.clone()]);
    assert_eq!(s.emu.token_requests(), 1);

    // 2. HTTPS_PROXY from the environment (a new scope: a new cache key).
    std::env::set_var("HTTPS_PROXY", &proxy.url);
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");
    let s2 = setup();
    s2.client().token().unwrap();
    assert_eq!(proxy.connects().len(), 2);
    assert_eq!(proxy.connects()[1], format!("127.0.0.1:{}", s2.emu.https_port()));

    // 3. NO_PROXY bypasses it.
    std::env::set_var("NO_PROXY", "example.com,127.0.0.1");
    let s3 = setup();
    s3.client().token().unwrap();
    assert_eq!(proxy.connects().len(), 2, "NO_PROXY host went through the proxy");
    assert_eq!(s3.emu.token_requests(), 1);

    // 4. `proxy = none` ignores the environment.
    std::env::remove_var("NO_PROXY");
    let mut s4 = setup();
    s4.set("proxy", "none");
    s4.client().token().unwrap();
    assert_eq!(proxy.connects().len(), 2);

    // 5. A dead proxy is a network error that names it.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut s5 = setup();
    s5.set("proxy", &format!("http://{dead}")).set("max_attempts", "1");
    let e = s5.client().token().unwrap_err();
    assert_eq!(e.code(), paytrim_auth::ErrorCode::Network);
    assert!(e.message().contains("proxy"), "{}", e.message());
    std::env::remove_var("HTTPS_PROXY");
}

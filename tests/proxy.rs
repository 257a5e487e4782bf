//! Proxies: the `proxy` key, `HTTPS_PROXY` and `NO_PROXY`, through a proxy
//! this test runs on 127.0.0.1 (CONNECT tunnels to 127.0.0.1 only; every other
//! request or target is recorded and refused). One test function, because it
//! changes the process environment.

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
    let _ = reader.read_line(&mut line);
    let mut method = line.split_whitespace();
    let (method, target) = (method.next().unwrap_or("").to_owned(), method.next().unwrap_or("").to_owned());
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
    }
    // Forwarded (non-CONNECT) requests are recorded with their method.
    log.lock().unwrap().push(if method == "CONNECT" { target.clone() } else { format!("{method} {target}") });
    let mut client = client;
    let loopback = target.starts_with("127.0.0.1:");
    let upstream = if method == "CONNECT" && loopback { TcpStream::connect(&target).ok() } else { None };
    let Some(upstream) = upstream else {
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

/// Sets one proxy variable for the whole test process (one test per binary).
fn set_env(k: &str, v: &str) {
    std::env::set_var(k, v);
}

fn clear_proxy_env() {
    for k in
        ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"]
    {
        std::env::remove_var(k);
    }
}

#[test]
fn proxies_from_config_and_environment() {
    clear_proxy_env();
    let proxy = ConnectProxy::start();
    // 1. The `proxy` configuration key carries https (TLS end to end), even
    //    to a loopback host: the application asked for it explicitly.
    let mut s = setup();
    let emu_target = format!("127.0.0.1:{}", s.emu.https_port());
    s.set("proxy", &proxy.url);
    s.client().token().unwrap();
    assert_eq!(proxy.connects(), vec![emu_target.clone()]);
    assert_eq!(s.emu.token_requests(), 1);

    // 2. HTTPS_PROXY from the environment carries a non-loopback host: the
    //    proxy sees the CONNECT (and refuses it: nothing leaves this machine).
    set_env("HTTPS_PROXY", &proxy.url);
    let mut remote = setup();
    remote.set("authority_host", "https://login.paytrim-test.invalid").set("max_attempts", "1");
    let e = remote.client().token().unwrap_err();
    assert_eq!(e.code(), paytrim_auth::ErrorCode::Network, "{}", e.message());
    assert_eq!(proxy.connects().len(), 2);
    assert_eq!(proxy.connects()[1], "login.paytrim-test.invalid:443");

    // 3. ...but never a loopback one (127.0.0.0/8, ::1, localhost), and
    //    NO_PROXY exempts the hosts it names.
    let s2 = setup();
    s2.client().token().unwrap();
    assert_eq!(proxy.connects().len(), 2, "a loopback host went through the environment's proxy");
    assert_eq!(s2.emu.token_requests(), 1);
    set_env("NO_PROXY", "example.com,.paytrim-test.invalid");
    let e = remote.client_with(|c| c.set("scope", "api://no-proxy/.default").unwrap()).token().unwrap_err();
    assert_eq!(proxy.connects().len(), 2, "a NO_PROXY host went through the proxy: {}", e.message());
    std::env::remove_var("NO_PROXY");

    // 4. `proxy = none` ignores the environment.
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
    clear_proxy_env();

    // 5b. ALL_PROXY alone carries https too; with both set, HTTPS_PROXY wins.
    let all = ConnectProxy::start();
    set_env("ALL_PROXY", &all.url);
    let e = remote.client_with(|c| c.set("scope", "api://all-proxy/.default").unwrap()).token().unwrap_err();
    assert_eq!(all.connects(), vec!["login.paytrim-test.invalid:443".to_owned()], "{}", e.message());
    set_env("HTTPS_PROXY", &proxy.url);
    let before_https = proxy.connects().len();
    remote.client_with(|c| c.set("scope", "api://https-over-all/.default").unwrap()).token().unwrap_err();
    assert_eq!(all.connects().len(), 1, "ALL_PROXY was used although HTTPS_PROXY is set");
    assert_eq!(proxy.connects().len(), before_https + 1);
    clear_proxy_env();
    set_env("all_proxy", &all.url);
    remote.client_with(|c| c.set("scope", "api://all-proxy-lower/.default").unwrap()).token().unwrap_err();
    assert_eq!(all.connects().len(), 2, "lower-case all_proxy was ignored");
    clear_proxy_env();

    // 6. Plain http to a loopback endpoint carries the secret in clear: with
    //    every proxy variable set (httpoxy's HTTP_PROXY included) and with the
    //    `proxy` key, nothing at all reaches the proxy.
    let before = proxy.connects().len();
    for k in ["http_proxy", "HTTP_PROXY", "ALL_PROXY", "all_proxy", "HTTPS_PROXY"] {
        set_env(k, &proxy.url);
    }
    let plain = setup();
    let token_url = plain.emu.http_token_url("contoso.onmicrosoft.com");
    plain.client_with(|c| c.set("token_url", &token_url).unwrap()).token().unwrap();
    let localhost_url = token_url.replace("127.0.0.1", "localhost");
    plain
        .client_with(|c| {
            c.set("token_url", &localhost_url).unwrap();
            c.set("scope", "api://localhost/.default").unwrap();
        })
        .token()
        .unwrap();
    plain
        .client_with(|c| {
            c.set("token_url", &token_url).unwrap();
            c.set("scope", "api://configured-proxy/.default").unwrap();
            c.set("proxy", &proxy.url).unwrap();
        })
        .token()
        .unwrap();
    assert_eq!(plain.emu.token_requests(), 3);
    let leaked: Vec<String> = proxy.connects()[before..].to_vec();
    assert!(leaked.is_empty(), "plain-http loopback requests went to the proxy: {leaked:?}");
    clear_proxy_env();
}

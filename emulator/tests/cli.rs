mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn wait_exit(child: &mut std::process::Child, max: Duration) -> std::process::ExitStatus {
    let t = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if t.elapsed() > max {
            let _ = child.kill();
            panic!("emulator did not exit within {max:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn(extra: &[&str]) -> (std::process::Child, serde_json::Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paytrim-entra-emulator"))
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let ready: serde_json::Value = serde_json::from_str(&line).unwrap();
    (child, ready)
}

#[test]
fn prints_ready_line_and_exits_on_sigterm() {
    let (mut child, ready) = spawn(&["--client", "cli-client:cli-secret", "--expires-in", "100"]);
    assert_eq!(ready["client_id"], "11111111-1111-1111-1111-111111111111");
    assert_eq!(ready["client_secret"], "your-client-secret");
    assert!(ready["https"].as_str().unwrap().starts_with("https://127.0.0.1:"));
    let ca = std::path::PathBuf::from(ready["ca_file"].as_str().unwrap());
    assert!(ca.is_absolute() && ca.exists());

    let http = ready["http"].as_str().unwrap();
    let body = common::form(&[
        ("grant_type", "client_credentials"),
        ("client_id", "cli-client"),
        ("client_secret", "cli-secret"),
        ("scope", "api://x/.default"),
    ]);
    let r = common::http(http, "POST", "/common/oauth2/v2.0/token", &[("Content-Type", common::FORM)], &body).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["expires_in"], 100);

    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = wait_exit(&mut child, Duration::from_secs(5));
    assert!(status.success(), "{status:?}");
    assert!(!ca.exists(), "temp CA file removed");
}

#[test]
fn exits_on_stdin_eof() {
    let dir = std::env::temp_dir().join(format!("emu-cli-test-{}.pem", std::process::id()));
    let (mut child, ready) = spawn(&["--exit-on-stdin-eof", "--ca-file", dir.to_str().unwrap()]);
    assert_eq!(std::path::Path::new(ready["ca_file"].as_str().unwrap()), dir);
    assert!(dir.exists());
    drop(child.stdin.take());
    let status = wait_exit(&mut child, Duration::from_secs(5));
    assert!(status.success(), "{status:?}");
    assert!(dir.exists(), "an explicit --ca-file is left in place");
    let _ = std::fs::remove_file(dir);
}

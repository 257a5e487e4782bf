//! `paytrim-entra-emulator` command-line tool: runs the emulator until
//! SIGINT/SIGTERM, stdin EOF (`--exit-on-stdin-eof`) or the parent's death.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use paytrim_entra_emulator::{Emulator, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};

static SIGNALLED: AtomicBool = AtomicBool::new(false);

const USAGE: &str = "\
usage: paytrim-entra-emulator [options]
  --https-port N          HTTPS port on 127.0.0.1 (default 0 = any)
  --http-port N           plain HTTP port on 127.0.0.1 (default 0 = any)
  --ca-file PATH          write the CA certificate (PEM) here (default: temp file, removed at exit)
  --dns-name NAME         also name this host in the server certificate (repeatable; for tests that
                          reach 127.0.0.1 under a name through their own proxy)
  --client ID:SECRET      register a client (repeatable; the default test client is always there)
  --expired-client ID:SECRET  register a client whose secret is expired
  --latency-ms N          delay before every token response
  --expires-in N          expires_in of issued tokens (default 3599)
  --reject-tenantless     reject common/organizations/consumers (AADSTS50059)
  --exit-on-stdin-eof     exit when stdin reaches EOF
  --verbose               one line per request on stderr
On ready, prints one JSON line to stdout: {\"https\",\"http\",\"ca_file\",\"client_id\",\"client_secret\",
  \"imds_endpoint\",\"identity_endpoint\",\"identity_header\"}.";

#[cfg(unix)]
extern "C" fn on_signal(_: libc::c_int) {
    SIGNALLED.store(true, Ordering::SeqCst);
}

#[cfg(unix)]
fn install_signal_handlers() {
    // SAFETY: the handler only stores to an atomic (async-signal-safe).
    unsafe {
        let h = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::signal(libc::SIGINT, h);
        libc::signal(libc::SIGTERM, h);
        libc::signal(libc::SIGHUP, h);
    }
}

#[cfg(unix)]
fn parent_pid() -> i64 {
    // SAFETY: getppid has no preconditions.
    unsafe { libc::getppid() as i64 }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("paytrim-entra-emulator: {msg}\n{USAGE}");
    ExitCode::from(2)
}

fn split_client(v: &str) -> Option<(String, String)> {
    let (id, secret) = v.split_once(':')?;
    (!id.is_empty()).then(|| (id.to_string(), secret.to_string()))
}

fn main() -> ExitCode {
    let mut b = Emulator::builder();
    let mut exit_on_eof = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| -> Result<String, String> {
            inline.clone().or_else(|| args.next()).ok_or(format!("{what} needs a value"))
        };
        macro_rules! num {
            ($t:ty) => {
                match value(&name).map(|v| v.parse::<$t>()) {
                    Ok(Ok(n)) => n,
                    Ok(Err(_)) => return fail(&format!("{name}: not a number")),
                    Err(e) => return fail(&e),
                }
            };
        }
        match name.as_str() {
            "--https-port" => b = b.https_port(num!(u16)),
            "--http-port" => b = b.http_port(num!(u16)),
            "--latency-ms" => b = b.latency(Duration::from_millis(num!(u64))),
            "--expires-in" => b = b.expires_in(num!(u64)),
            "--ca-file" => match value(&name) {
                Ok(p) => b = b.ca_file(p),
                Err(e) => return fail(&e),
            },
            "--dns-name" => match value(&name) {
                Ok(n) => b = b.dns_name(n),
                Err(e) => return fail(&e),
            },
            "--client" | "--expired-client" => {
                let Some((id, secret)) = value(&name).ok().as_deref().and_then(split_client) else {
                    return fail(&format!("{name} needs ID:SECRET"));
                };
                b = if name == "--client" { b.client(id, secret) } else { b.expired_client(id, secret) };
            }
            "--reject-tenantless" => b = b.configure(|k| k.reject_tenantless = true),
            "--exit-on-stdin-eof" => exit_on_eof = true,
            "--verbose" | "-v" => b = b.verbose(true),
            "--help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return fail(&format!("unknown option '{other}'")),
        }
    }

    #[cfg(unix)]
    install_signal_handlers();
    #[cfg(unix)]
    let initial_ppid = parent_pid();

    let emu = match b.start() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("paytrim-entra-emulator: failed to start: {e}");
            return ExitCode::FAILURE;
        }
    };
    #[derive(serde::Serialize)]
    struct Ready<'a> {
        https: String,
        http: String,
        ca_file: std::borrow::Cow<'a, str>,
        client_id: &'a str,
        client_secret: &'a str,
        imds_endpoint: String,
        identity_endpoint: String,
        identity_header: String,
    }
    let ready = serde_json::to_string(&Ready {
        https: emu.https_url(),
        http: emu.http_url(),
        ca_file: emu.ca_file().to_string_lossy(),
        client_id: DEFAULT_CLIENT_ID,
        client_secret: DEFAULT_CLIENT_SECRET,
        imds_endpoint: emu.imds_endpoint(),
        identity_endpoint: emu.identity_endpoint(),
        identity_header: emu.identity_header(),
    })
    .expect("ready line");
    {
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{ready}").and_then(|_| out.flush()).is_err() {
            return ExitCode::FAILURE;
        }
    }

    let stdin_eof = Arc::new(AtomicBool::new(false));
    if exit_on_eof {
        let flag = stdin_eof.clone();
        std::thread::spawn(move || {
            let mut sink = [0u8; 4096];
            let mut stdin = std::io::stdin().lock();
            loop {
                match std::io::Read::read(&mut stdin, &mut sink) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            flag.store(true, Ordering::SeqCst);
        });
    }

    let mut last_ppid_check = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        if SIGNALLED.load(Ordering::SeqCst) || stdin_eof.load(Ordering::SeqCst) {
            break;
        }
        #[cfg(unix)]
        if last_ppid_check.elapsed() >= Duration::from_millis(250) {
            last_ppid_check = Instant::now();
            if initial_ppid != 1 && parent_pid() != initial_ppid {
                break;
            }
        }
        #[cfg(not(unix))]
        let _ = &mut last_ppid_check;
    }
    emu.shutdown();
    ExitCode::SUCCESS
}

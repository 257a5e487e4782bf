//! Listeners and connection threads.

use std::io::{self, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::json;

use crate::entra::{self, Outcome};
use crate::http::{self, ReadError, Response};
use crate::state::Shared;

/// Idle keep-alive connections are dropped after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Something we can serve HTTP on, with access to the TCP socket underneath.
pub(crate) trait Conn: Read + Write {
    fn tcp(&self) -> &TcpStream;
    /// Orderly end of the session (TLS `close_notify`).
    fn close(&mut self) {}
}

impl Conn for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Conn for rustls::StreamOwned<rustls::ServerConnection, TcpStream> {
    fn tcp(&self) -> &TcpStream {
        &self.sock
    }
    fn close(&mut self) {
        self.conn.send_close_notify();
        let _ = self.sock.set_write_timeout(Some(Duration::from_secs(1)));
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut self.sock).is_err() {
                break;
            }
        }
    }
}

/// Make the next close send an RST instead of a FIN.
fn set_linger_zero(s: &TcpStream) {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        let l = libc::linger { l_onoff: 1, l_linger: 0 };
        // SAFETY: valid fd, correctly sized option value.
        unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                &l as *const libc::linger as *const libc::c_void,
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) enum Scheme {
    Https,
    Http,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
}

pub(crate) fn spawn_listener(
    shared: Arc<Shared>,
    listener: TcpListener,
    scheme: Scheme,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name(format!("emulator-{}-accept", scheme.as_str())).spawn(move || {
        for stream in listener.incoming() {
            if shared.is_shutdown() {
                break;
            }
            let Ok(stream) = stream else {
                // EMFILE and friends: back off a little.
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            let shared = shared.clone();
            let tls = tls.clone();
            let _ = std::thread::Builder::new()
                .name("emulator-conn".into())
                .spawn(move || connection(shared, stream, scheme, tls));
        }
    })
}

/// Wake a listener blocked in `accept` so it notices shutdown.
pub(crate) fn poke(addr: SocketAddr) {
    let _ = TcpStream::connect_timeout(&addr, Duration::from_millis(200));
}

fn connection(shared: Arc<Shared>, stream: TcpStream, scheme: Scheme, tls: Option<Arc<rustls::ServerConfig>>) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let id = shared.register_conn(&stream);
    match tls {
        Some(cfg) => match rustls::ServerConnection::new(cfg) {
            Ok(conn) => serve(&shared, rustls::StreamOwned::new(conn, stream), scheme, id),
            Err(_) => shared.unregister_conn(id),
        },
        None => serve(&shared, stream, scheme, id),
    }
    shared.conn_finished();
}

fn serve<S: Conn>(shared: &Shared, stream: S, scheme: Scheme, id: u64) {
    let mut r = BufReader::new(stream);
    loop {
        if shared.is_shutdown() {
            break;
        }
        let req = match http::read_request(&mut r) {
            Ok(req) => req,
            Err(ReadError::Bad(status, msg)) => {
                let resp = Response::json(status, &json!({"error": "invalid_request", "error_description": msg}));
                let _ = http::write_response(r.get_mut(), &resp, false, false);
                break;
            }
            Err(ReadError::Closed) | Err(ReadError::Io) => break,
        };
        let keep_alive = req.keep_alive();
        let head_only = req.method == "HEAD";
        let outcome = dispatch(shared, &req, scheme);
        match outcome {
            Outcome::Reset => {
                if shared.verbose {
                    eprintln!("{} {} -> RST", req.method, req.path);
                }
                set_linger_zero(r.get_ref().tcp());
                shared.unregister_conn(id);
                return; // dropping the stream (last descriptor) sends the RST
            }
            Outcome::Respond(resp) => {
                if shared.verbose {
                    eprintln!("{} {} -> {}", req.method, req.path, resp.status);
                }
                if http::write_response(r.get_mut(), &resp, keep_alive, head_only).is_err() || !keep_alive {
                    break;
                }
            }
        }
    }
    // Orderly close: TLS close_notify, then FIN.
    let mut s = r.into_inner();
    let _ = s.flush();
    s.close();
    shared.unregister_conn(id);
    let _ = s.tcp().shutdown(std::net::Shutdown::Write);
}

fn dispatch(shared: &Shared, req: &http::Request, scheme: Scheme) -> Outcome {
    if req.path.starts_with(crate::control::PREFIX) {
        return Outcome::Respond(crate::control::handle(shared, req));
    }
    if let Some(tenant) = crate::discovery::route(&req.path) {
        return Outcome::Respond(crate::discovery::handle(req, scheme.as_str(), tenant));
    }
    if let Some(flavour) = crate::managed_identity::route(&req.path) {
        return crate::managed_identity::handle(shared, req, scheme.as_str(), flavour);
    }
    if let Some((flavour, tenant)) = entra::route(&req.path) {
        return entra::handle(shared, req, scheme.as_str(), flavour, tenant);
    }
    Outcome::Respond(Response::json(
        404,
        &json!({"error": "not_found", "error_description": format!("No route for {}", req.path)}),
    ))
}

//! A one-way wake-up channel over loopback TCP, for hosts whose event loop
//! cannot watch a socket pair's descriptor (Node on Windows: no socket pair,
//! and `net.Socket` cannot wrap a raw `SOCKET`). The host makes a random
//! cookie and listens on 127.0.0.1; once it listens (Node learns its port only
//! asynchronously, while the notifier must exist at once), the library
//! connects, writes the cookie first and then one byte per wake-up, exactly
//! as on the socket pair. The host accepts only the connection that starts
//! with the cookie and then stops listening, so no other local process can
//! inject or take wake-ups. A wake-up that comes before the connection is
//! written right after the cookie.
//!
//! Portable (std only): writes never block (and never raise SIGPIPE: std
//! sends with `MSG_NOSIGNAL` or sets `SO_NOSIGPIPE`), and a host that closed
//! its end is seen by a non-blocking peek (end of stream or reset) before a
//! byte is written into nothing. A host that never connects (its environment
//! ended first) counts as gone after [`CONNECT_WINDOW`].

use super::wake_socket::Wake;
use parking_lot::Mutex;
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// How long connecting to the host's listener, and writing the cookie, may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A channel not connected by then belongs to a host that is gone.
pub(crate) const CONNECT_WINDOW: Duration = Duration::from_secs(60);

/// Cookies shorter than this are guessable; longer ones are refused as a
/// caller's mistake.
pub(crate) const COOKIE_LEN: std::ops::RangeInclusive<usize> = 16..=64;

enum State {
    /// Made, not yet connected; `missed` when a wake-up came meanwhile.
    Waiting {
        cookie: Zeroizing<Vec<u8>>,
        since: Instant,
        missed: bool,
    },
    Connected(TcpStream),
    /// The connection could not be made: nobody will ever read.
    Failed,
}

/// The library's end of a loopback wake-up connection.
pub(crate) struct LoopbackWake {
    state: Mutex<State>,
}

impl LoopbackWake {
    /// A channel that will send `cookie` first once connected.
    pub(crate) fn new(cookie: &[u8]) -> LoopbackWake {
        let cookie = Zeroizing::new(cookie.to_vec());
        LoopbackWake { state: Mutex::new(State::Waiting { cookie, since: Instant::now(), missed: false }) }
    }

    /// Connects to 127.0.0.1:`port`, writes the cookie (and a wake-up that
    /// came before), and leaves the connection non-blocking. Once only: a
    /// second call, or a call after a failed one, is refused.
    pub(crate) fn connect(&self, port: u16) -> io::Result<()> {
        let cookie = match &*self.state.lock() {
            State::Waiting { cookie, .. } => cookie.clone(),
            _ => return Err(io::Error::new(io::ErrorKind::AlreadyExists, "the notifier is already connected")),
        };
        let stream = match open(port, &cookie) {
            Ok(s) => s,
            Err(e) => {
                *self.state.lock() = State::Failed;
                return Err(e);
            }
        };
        let mut state = self.state.lock();
        let missed = matches!(*state, State::Waiting { missed: true, .. });
        *state = State::Connected(stream);
        drop(state);
        if missed {
            self.wake();
        }
        Ok(())
    }

    /// Writes one byte, without blocking (before the connection: remembers it).
    pub(crate) fn wake(&self) -> Wake {
        let mut state = self.state.lock();
        let stream = match &mut *state {
            State::Waiting { since, .. } if since.elapsed() > CONNECT_WINDOW => return Wake::ReaderGone,
            State::Waiting { missed, .. } => {
                *missed = true;
                return Wake::Sent;
            }
            State::Failed => return Wake::ReaderGone,
            State::Connected(s) => s,
        };
        if peer_gone(stream) {
            return Wake::ReaderGone;
        }
        loop {
            #[allow(clippy::unused_io_amount)]
            match stream.write(b"!") {
                // One byte: written whole (1) or not at all (0 cannot happen on a socket).
                Ok(_) => return Wake::Sent,
                Err(e) => match e.kind() {
                    io::ErrorKind::Interrupted => continue,
                    // A full buffer means unread wake-ups: the reader will come.
                    io::ErrorKind::WouldBlock => return Wake::Sent,
                    // Anything else is a broken connection: nobody will read.
                    _ => return Wake::ReaderGone,
                },
            }
        }
    }

    /// True when the host closed its end (end of stream or reset), checked
    /// without writing; or never connected within [`CONNECT_WINDOW`].
    pub(crate) fn reader_gone(&self) -> bool {
        match &*self.state.lock() {
            State::Waiting { since, .. } => since.elapsed() > CONNECT_WINDOW,
            State::Connected(s) => peer_gone(s),
            State::Failed => true,
        }
    }
}

fn open(port: u16, cookie: &[u8]) -> io::Result<TcpStream> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(CONNECT_TIMEOUT))?;
    stream.write_all(cookie)?;
    stream.set_nonblocking(true)?;
    Ok(stream)
}

/// The host never writes, so a readable byte cannot occur; if it did, it is
/// left unread and the connection counts as alive.
fn peer_gone(stream: &TcpStream) -> bool {
    let mut b = [0u8; 1];
    loop {
        return match stream.peek(&mut b) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => false,
                _ => true,
            },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;
    use std::net::TcpStream;

    const COOKIE: &[u8] = b"0123456789abcdef0123";

    fn listener() -> (TcpListener, u16) {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = l.local_addr().unwrap().port();
        (l, port)
    }

    fn connected(cookie: &[u8]) -> (LoopbackWake, TcpStream) {
        let (l, port) = listener();
        let w = LoopbackWake::new(cookie);
        w.connect(port).unwrap();
        let (host, _) = l.accept().unwrap();
        host.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        (w, host)
    }

    #[test]
    fn the_cookie_comes_first_then_one_byte_per_wake_up() {
        let (w, mut host) = connected(COOKIE);
        assert!(!w.reader_gone());
        assert_eq!(w.wake(), Wake::Sent);
        assert_eq!(w.wake(), Wake::Sent);
        let mut got = vec![0u8; COOKIE.len() + 2];
        host.read_exact(&mut got).unwrap();
        assert_eq!(&got[..COOKIE.len()], COOKIE);
        assert_eq!(&got[COOKIE.len()..], b"!!");
    }

    #[test]
    fn a_wake_up_before_the_connection_follows_the_cookie() {
        let (l, port) = listener();
        let w = LoopbackWake::new(COOKIE);
        assert_eq!(w.wake(), Wake::Sent);
        assert!(!w.reader_gone(), "not connected yet is not gone");
        w.connect(port).unwrap();
        let (mut host, _) = l.accept().unwrap();
        host.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut got = vec![0u8; COOKIE.len() + 1];
        host.read_exact(&mut got).unwrap();
        assert_eq!(&got[COOKIE.len()..], b"!");
        assert_eq!(w.connect(port).unwrap_err().kind(), io::ErrorKind::AlreadyExists, "connects once");
    }

    #[test]
    fn a_host_that_closed_its_end_is_detected_before_writing() {
        let (w, mut host) = connected(COOKIE);
        // Read what came (as Node does), so the close is a clean end of stream, not a reset.
        let mut cookie = vec![0u8; COOKIE.len()];
        host.read_exact(&mut cookie).unwrap();
        drop(host);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !w.reader_gone() {
            assert!(std::time::Instant::now() < deadline, "the closed host was never seen");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(w.wake(), Wake::ReaderGone);
    }

    #[test]
    fn nobody_listening_is_a_connect_error() {
        let (l, port) = listener();
        drop(l); // the port is free again: nothing listens there
        let w = LoopbackWake::new(COOKIE);
        let e = w.connect(port).expect_err("connected to nothing");
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        assert!(w.reader_gone(), "a failed connection means nobody will read");
        assert_eq!(w.wake(), Wake::ReaderGone);
    }
}

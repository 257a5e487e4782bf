//! A one-way wake-up channel between the library's threads and an event loop:
//! a Unix socket pair. The library keeps the write end; the read end is
//! handed to the host, whose event loop watches it (Node wraps it in a
//! `net.Socket`). Writing never blocks and never raises SIGPIPE, and a write
//! end whose reader is gone is detected, not written into.
//!
//! Platforms: Linux and the other Unixes (the pair is made by std, close-on-exec
//! everywhere); macOS and iOS have no `MSG_NOSIGNAL`, so the write end gets
//! `SO_NOSIGPIPE` instead (reviewed, not compiled here). Windows has no socket
//! pair a host's event loop can take as a descriptor: there
//! [`WakeSocket::pair`] fails with `Unsupported`, so
//! `paytrim_auth_notifier_new` returns an error naming the platform; notifiers
//! there wake their host over loopback TCP instead (`wake_loopback.rs`,
//! `paytrim_auth_notifier_new_loopback`, which Node uses on Windows).

/// A descriptor as C sees it (`int`), handed to the host.
pub(crate) type HostFd = i32;

/// What a wake-up write found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    /// The byte was queued (or the reader already has unread bytes).
    Sent,
    /// The reader closed its end: nobody will ever read.
    ReaderGone,
}

#[cfg(unix)]
pub(crate) use self::unix::{close_fd, WakeSocket};
#[cfg(not(unix))]
pub(crate) use self::unsupported::{close_fd, WakeSocket};

#[cfg(unix)]
mod unix {
    use super::{HostFd, Wake};
    use std::io;
    use std::net::Shutdown;
    use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd};
    use std::os::unix::net::UnixStream;

    /// Never SIGPIPE from the wake-up write: a flag of the send on most
    /// Unixes, a socket option set once on Apple's.
    #[cfg(not(target_vendor = "apple"))]
    const SEND_FLAGS: libc::c_int = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    #[cfg(target_vendor = "apple")]
    const SEND_FLAGS: libc::c_int = libc::MSG_DONTWAIT;

    /// The library's end of the pair.
    pub(crate) struct WakeSocket {
        fd: OwnedFd,
    }

    impl WakeSocket {
        /// A new pair: the write end, and the read end's descriptor, owned by
        /// the caller from now on. Both ends are close-on-exec.
        pub(crate) fn pair() -> io::Result<(WakeSocket, HostFd)> {
            let (read, write) = UnixStream::pair()?;
            // The library never reads; the host never writes.
            write.shutdown(Shutdown::Read)?;
            #[cfg(target_vendor = "apple")]
            {
                let on: libc::c_int = 1;
                // SAFETY: a valid socket and an int option of the right size.
                let rc = unsafe {
                    libc::setsockopt(
                        write.as_raw_fd(),
                        libc::SOL_SOCKET,
                        libc::SO_NOSIGPIPE,
                        &on as *const libc::c_int as *const libc::c_void,
                        std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                    )
                };
                if rc != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok((WakeSocket { fd: OwnedFd::from(write) }, read.into_raw_fd()))
        }

        /// Writes one byte, without blocking and without SIGPIPE.
        pub(crate) fn wake(&self) -> Wake {
            loop {
                // SAFETY: a valid descriptor and a one-byte buffer.
                let n = unsafe { libc::send(self.fd.as_raw_fd(), b"!".as_ptr() as *const libc::c_void, 1, SEND_FLAGS) };
                if n == 1 {
                    return Wake::Sent;
                }
                match io::Error::last_os_error().raw_os_error() {
                    Some(libc::EINTR) => continue,
                    // A full buffer means unread wake-ups: the reader will come.
                    Some(libc::EAGAIN) => return Wake::Sent,
                    Some(libc::EPIPE) | Some(libc::ECONNRESET) => return Wake::ReaderGone,
                    _ => return Wake::Sent,
                }
            }
        }

        /// True when the reader closed its end (checked without writing).
        pub(crate) fn reader_gone(&self) -> bool {
            let mut p = libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLOUT, revents: 0 };
            // SAFETY: one valid pollfd; zero timeout.
            let rc = unsafe { libc::poll(&mut p, 1, 0) };
            rc == 1 && p.revents & (libc::POLLHUP | libc::POLLERR) != 0
        }
    }

    /// Closes a descriptor the host could not take over.
    pub(crate) fn close_fd(fd: HostFd) {
        // SAFETY: the caller owns `fd` and never uses it again.
        unsafe {
            libc::close(fd);
        }
    }
}

#[cfg(not(unix))]
mod unsupported {
    use super::{HostFd, Wake};
    use std::io;

    /// Never made: [`WakeSocket::pair`] always fails here.
    pub(crate) struct WakeSocket {
        _never: std::convert::Infallible,
    }

    impl WakeSocket {
        pub(crate) fn pair() -> io::Result<(WakeSocket, HostFd)> {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "notifiers need a Unix socket pair, which {} does not have; \
                     use paytrim_auth_notifier_new_loopback instead",
                    std::env::consts::OS
                ),
            ))
        }

        pub(crate) fn wake(&self) -> Wake {
            match self._never {}
        }

        pub(crate) fn reader_gone(&self) -> bool {
            match self._never {}
        }
    }

    /// No descriptor was ever handed out: nothing to close.
    pub(crate) fn close_fd(_fd: HostFd) {}
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn read_byte(fd: HostFd) -> isize {
        let mut b = [0u8; 8];
        // SAFETY: a valid descriptor and buffer.
        unsafe { libc::recv(fd, b.as_mut_ptr() as *mut libc::c_void, b.len(), libc::MSG_DONTWAIT) }
    }

    #[test]
    fn a_wake_up_is_readable_and_a_closed_reader_is_detected() {
        let (w, r) = WakeSocket::pair().unwrap();
        assert!(!w.reader_gone());
        assert_eq!(w.wake(), Wake::Sent);
        assert_eq!(read_byte(r), 1);
        close_fd(r);
        assert!(w.reader_gone());
        // No SIGPIPE (the test harness would die of it if the flag were missing
        // and SIGPIPE were default; Rust ignores it, so check the result too).
        assert_eq!(w.wake(), Wake::ReaderGone);
    }
}

//! A one-way wake-up channel between the library's threads and an event loop:
//! a Unix socket pair. The library keeps the write end; the read end is
//! handed to the host, whose event loop watches it (Node wraps it in a
//! `net.Socket`). Writing never blocks and never raises SIGPIPE, and a write
//! end whose reader is gone is detected, not written into.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The library's end of the pair.
pub(crate) struct WakeSocket {
    fd: OwnedFd,
}

/// What a wake-up write found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    /// The byte was queued (or the reader already has unread bytes).
    Sent,
    /// The reader closed its end: nobody will ever read.
    ReaderGone,
}

impl WakeSocket {
    /// A new pair: the write end, and the read end's descriptor, owned by the
    /// caller from now on. Both ends are close-on-exec.
    pub(crate) fn pair() -> io::Result<(WakeSocket, RawFd)> {
        let mut fds = [-1 as libc::c_int; 2];
        // SAFETY: `fds` has room for the two descriptors socketpair writes.
        let rc =
            unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: socketpair succeeded; fds[1] is ours alone.
        let write = unsafe { OwnedFd::from_raw_fd(fds[1]) };
        // The library never reads; the host never writes.
        // SAFETY: a valid socket descriptor.
        unsafe {
            libc::shutdown(write.as_raw_fd(), libc::SHUT_RD);
        }
        Ok((WakeSocket { fd: write }, fds[0]))
    }

    /// Writes one byte, without blocking and without SIGPIPE.
    pub(crate) fn wake(&self) -> Wake {
        loop {
            // SAFETY: a valid descriptor and a one-byte buffer.
            let n = unsafe {
                libc::send(
                    self.fd.as_raw_fd(),
                    b"!".as_ptr() as *const libc::c_void,
                    1,
                    libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                )
            };
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
pub(crate) fn close_fd(fd: RawFd) {
    // SAFETY: the caller owns `fd` and never uses it again.
    unsafe {
        libc::close(fd);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_byte(fd: RawFd) -> isize {
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

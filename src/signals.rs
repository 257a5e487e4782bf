//! SIGPIPE. Writing to a connection the peer has reset raises SIGPIPE, whose
//! default action kills the process; rustls writes TLS records with
//! `writev`, which has no `MSG_NOSIGNAL`. Every socket write of this library
//! happens on a thread it owns (see `fetch_pool`), and those threads block
//! SIGPIPE in their own signal mask: the write then fails with `EPIPE`, which
//! becomes a retryable network error. The host's signal dispositions and
//! its threads' masks are never changed.
//!
//! Platforms: on macOS (and the BSDs) a broken-pipe write on a socket raises
//! a process-wide SIGPIPE, which a thread's mask does not hold back; there
//! std creates every socket (ureq's included) with `SO_NOSIGPIPE`, so no
//! SIGPIPE is raised at all, and the mask below only adds a harmless second
//! guard. Windows has no SIGPIPE (a write to a reset connection fails with
//! `WSAECONNRESET`): nothing to do there.

/// Blocks SIGPIPE for the calling thread only. A SIGPIPE raised by a write
/// on this thread stays pending on it (harmlessly) and is discarded when the
/// thread ends.
#[cfg(unix)]
pub fn block_sigpipe_on_this_thread() {
    // SAFETY: plain libc calls on a local, zero-initialised sigset_t.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Windows and other non-Unix targets have no SIGPIPE.
#[cfg(not(unix))]
pub fn block_sigpipe_on_this_thread() {}

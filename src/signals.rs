//! SIGPIPE. Writing to a connection the peer has reset raises SIGPIPE, whose
//! default action kills the process; rustls writes TLS records with
//! `writev`, which has no `MSG_NOSIGNAL`. Every socket write of this library
//! happens on a thread it owns (see `fetch_pool`), and those threads block
//! SIGPIPE in their own signal mask: the write then fails with `EPIPE`, which
//! becomes a retryable network error. The host's signal dispositions and
//! its threads' masks are never changed.

/// Blocks SIGPIPE for the calling thread only. A SIGPIPE raised by a write
/// on this thread stays pending on it (harmlessly) and is discarded when the
/// thread ends.
pub fn block_sigpipe_on_this_thread() {
    // SAFETY: plain libc calls on a local, zero-initialised sigset_t.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

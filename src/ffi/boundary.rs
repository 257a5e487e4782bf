//! The panic boundary every export runs inside: a panic becomes an
//! `internal` error, never an unwind into C, and prints nothing to the
//! host's stderr (see `crate::panics`).

use super::error::paytrim_auth_error;
use crate::error::Error;
use crate::panics::silently;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

/// Runs a fallible export body; NULL on success, an owned error otherwise.
pub(crate) fn run(body: impl FnOnce() -> Result<(), Error>) -> *mut paytrim_auth_error {
    match catch_unwind(AssertUnwindSafe(|| {
        silently(|| {
            #[cfg(test)]
            test_hook::maybe_panic();
            body()
        })
    })) {
        Ok(Ok(())) => ptr::null_mut(),
        Ok(Err(e)) => paytrim_auth_error::boxed(e),
        Err(panic) => paytrim_auth_error::boxed(Error::internal(format!(
            "internal error (caught panic: {}); please report this bug",
            panic_text(&*panic)
        ))),
    }
}

/// Runs an infallible export body (getters, `_free`); a panic yields `fallback`.
pub(crate) fn run_or<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(|| silently(body))).unwrap_or(fallback)
}

/// The body of the `_free` of a boxed object: drops `object` behind the
/// panic boundary; NULL is accepted.
///
/// # Safety
/// `object` is NULL or comes from `Box::into_raw`, is not yet freed, and no
/// other thread is using it.
pub(crate) unsafe fn free_boxed<T>(object: *mut T) {
    run_or((), || {
        if !object.is_null() {
            drop(Box::from_raw(object));
        }
    })
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Test builds only: arm a panic inside the next fallible export called on
/// this thread, to observe the boundary from the outside (release builds
/// have no such path).
#[cfg(test)]
pub(crate) mod test_hook {
    use std::cell::Cell;
    thread_local! {
        static ARMED: Cell<bool> = const { Cell::new(false) };
    }

    pub(crate) fn panic_in_next_export() {
        ARMED.with(|a| a.set(true));
    }

    pub(super) fn maybe_panic() {
        if ARMED.with(|a| a.replace(false)) {
            panic!("test hook: a bug inside an export");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::error::{paytrim_auth_error_code, paytrim_auth_error_free, PAYTRIM_AUTH_ERROR_INTERNAL};
    use std::process::Command;

    /// A panic inside an FFI call or on a library thread is caught and
    /// reported, and prints nothing to the host's stderr; a panic on a host
    /// thread still reaches the hook that was there before. Runs
    /// `panicking_child` in a child process (this test binary, filtered to
    /// that test) and reads its real stderr.
    #[test]
    fn panics_inside_the_library_print_nothing_to_the_host_stderr() {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "ffi::boundary::tests::panicking_child", "--nocapture", "--include-ignored"])
            .args(["--test-threads", "1"])
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && stdout.contains("panicking child: done"), "{stdout}\n{stderr}");
        for quiet in ["ffi-call-panic", "library-thread-panic"] {
            assert!(!stderr.contains(quiet), "'{quiet}' reached stderr:\n{stderr}");
        }
        assert!(stderr.contains("host-thread-panic"), "the previous hook no longer runs:\n{stderr}");
        // One message (with its backtrace): the host thread's.
        assert_eq!(stderr.matches("panicked at").count(), 1, "{stderr}");
    }

    /// Real exports, with a panic inside: each returns an `internal` error
    /// (code 10, not retryable, the message says it is a bug) instead of
    /// unwinding into C, and the library keeps working afterwards.
    #[test]
    fn a_panic_inside_an_export_is_an_internal_error() {
        use crate::ffi::client::*;
        use crate::ffi::config::*;
        use crate::ffi::error::*;
        use std::ffi::{CStr, CString};
        unsafe {
            let check = |err: *mut paytrim_auth_error, what: &str| {
                assert!(!err.is_null(), "{what}: no error");
                assert_eq!(paytrim_auth_error_code(err), PAYTRIM_AUTH_ERROR_INTERNAL, "{what}");
                assert_eq!(
                    CStr::from_ptr(paytrim_auth_error_code_name(PAYTRIM_AUTH_ERROR_INTERNAL)).to_str().unwrap(),
                    "internal"
                );
                assert!(!paytrim_auth_error_is_retryable(err), "{what}");
                let m = CStr::from_ptr(paytrim_auth_error_message(err)).to_str().unwrap();
                assert!(m.contains("caught panic: test hook") && m.contains("bug"), "{what}: {m}");
                paytrim_auth_error_free(err);
            };
            let config = paytrim_auth_config_new();
            let (k, v) = (CString::new("tenant").unwrap(), CString::new("contoso.onmicrosoft.com").unwrap());
            test_hook::panic_in_next_export();
            check(paytrim_auth_config_set(config, k.as_ptr(), v.as_ptr()), "config_set");
            assert!(paytrim_auth_config_set(config, k.as_ptr(), v.as_ptr()).is_null(), "config_set after a panic");
            let (id, secret) = (CString::new("panic-client").unwrap(), CString::new("panic-secret").unwrap());
            let mut client = ptr::null_mut();
            test_hook::panic_in_next_export();
            check(paytrim_auth_client_new(id.as_ptr(), secret.as_ptr(), config, &mut client), "client_new");
            assert!(client.is_null());
            assert!(paytrim_auth_client_new(id.as_ptr(), secret.as_ptr(), config, &mut client).is_null());
            let mut token = ptr::null_mut();
            test_hook::panic_in_next_export();
            check(paytrim_auth_client_get_cached_token(client, &mut token, ptr::null_mut()), "get_cached_token");
            assert!(token.is_null());
            paytrim_auth_client_free(client);
            paytrim_auth_config_free(config);
        }
    }

    #[test]
    #[ignore = "run in a child process by panics_inside_the_library_print_nothing_to_the_host_stderr"]
    fn panicking_child() {
        // Inside an FFI call: an `internal` error.
        let err = run(|| panic!("ffi-call-panic"));
        assert_eq!(paytrim_auth_error_code(err), PAYTRIM_AUTH_ERROR_INTERNAL);
        unsafe { paytrim_auth_error_free(err) };
        assert_eq!(run_or(7, || panic!("ffi-call-panic")), 7);

        // On a library-owned (fetch pool) thread.
        let (tx, rx) = std::sync::mpsc::channel();
        crate::fetch_pool::submit(Box::new(move || {
            let caught = catch_unwind(|| panic!("library-thread-panic")).is_err();
            tx.send(caught).unwrap();
        }))
        .unwrap();
        assert!(rx.recv().unwrap());

        // On a thread of the host's: its panics are its own business.
        assert!(std::thread::spawn(|| panic!("host-thread-panic")).join().is_err());
        println!("panicking child: done");
    }
}

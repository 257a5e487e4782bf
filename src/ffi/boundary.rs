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
    match catch_unwind(AssertUnwindSafe(|| silently(body))) {
        Ok(Ok(())) => ptr::null_mut(),
        Ok(Err(e)) => paytrim_auth_error::boxed(e),
        Err(panic) => paytrim_auth_error::boxed(Error::internal(format!(
            "internal error (caught panic: {}); please report this bug",
            panic_text(&panic)
        ))),
    }
}

/// Runs an infallible export body (getters, `_free`); a panic yields `fallback`.
pub(crate) fn run_or<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(|| silently(body))).unwrap_or(fallback)
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".to_owned())
}

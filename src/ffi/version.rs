//! Version numbers: the crate's, and the ABI's, which wrappers check at load.

use std::ffi::c_char;

/// The ABI version of this header. Bumped on any incompatible change to a
/// function's signature or meaning; wrappers refuse a library whose
/// `paytrim_auth_abi_version()` differs from the one they were built for.
pub const PAYTRIM_AUTH_ABI_VERSION: u32 = 1;

/// The ABI version the loaded library implements (`PAYTRIM_AUTH_ABI_VERSION`
/// of the header it was built with).
#[no_mangle]
pub extern "C" fn paytrim_auth_abi_version() -> u32 {
    PAYTRIM_AUTH_ABI_VERSION
}

/// The library version, e.g. `0.1.0`. Static storage; never free it.
#[no_mangle]
pub extern "C" fn paytrim_auth_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

//! The C ABI. This module only converts, checks and delegates: C strings in,
//! owned C strings and error objects out, every call behind a panic boundary.
//! It knows nothing of HTTP; the Rust core knows nothing of it.
//!
//! Conventions (also in the generated header):
//! - Every symbol starts with `paytrim_auth_`, every macro with `PAYTRIM_AUTH_`.
//! - Fallible functions return `paytrim_auth_error *`: NULL on success, else an
//!   error the caller owns and frees with `paytrim_auth_error_free`. Output
//!   parameters are set to NULL/0 first and written on success only.
//! - Strings returned as `char *` are owned by the caller and freed with
//!   `paytrim_auth_string_free`; strings returned as `const char *` are
//!   borrowed from the object they came from.
//! - Every `_free` accepts NULL. Every pointer argument is checked for NULL and
//!   every string for UTF-8.
//! - A `const paytrim_auth_client *` may be used from many threads at once.
//! - Host-process guarantees (fork, SIGPIPE, threads, panics) are listed in
//!   the header's preamble (`cbindgen.toml`) and README "Inside any host process".

#![allow(non_camel_case_types)]

mod boundary;
mod client;
mod config;
mod credential;
mod error;
mod log;
mod managed_identity;
mod notify;
mod scopes;
mod strings;
mod version;
mod wake_loopback;
mod wake_socket;

#[cfg(feature = "jni")]
pub mod jni;
#[cfg(feature = "jni")]
mod jni_convert;
#[cfg(feature = "jni")]
pub mod jni_credentials;
#[cfg(feature = "jni")]
pub mod jni_scopes;

pub use client::*;
pub use config::*;
pub use credential::*;
pub use error::*;
pub use log::*;
pub use managed_identity::*;
pub use notify::*;
pub use scopes::*;
pub use strings::paytrim_auth_string_free;
pub use version::*;

//! C strings across the boundary: borrowed `const char *` in (checked for
//! NULL and UTF-8), owned `char *` out (allocated here, freed here).

use crate::error::Error;
use std::ffi::{c_char, CStr};
use std::ptr;

/// Borrows a C string argument as `&str`.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn arg<'a>(p: *const c_char, name: &str) -> Result<&'a str, Error> {
    if p.is_null() {
        return Err(Error::invalid_argument(format!("{name} is NULL")));
    }
    CStr::from_ptr(p)
        .to_str()
        .map_err(|e| Error::invalid_argument(format!("{name} is not valid UTF-8 (bad byte at offset {})", e.valid_up_to())))
}

/// Checks an output pointer and clears what it points to.
///
/// # Safety
/// `p` is NULL or valid for writes.
pub(crate) unsafe fn out<'a, T>(p: *mut T, name: &str, cleared: T) -> Result<&'a mut T, Error> {
    if p.is_null() {
        return Err(Error::invalid_argument(format!("{name} is NULL")));
    }
    p.write(cleared);
    Ok(&mut *p)
}

/// Copies `s` into a new NUL-terminated C string owned by the caller, to be
/// freed with `paytrim_auth_string_free`. `s` must hold no NUL byte (tokens
/// and JSON are checked on arrival). NULL if memory is exhausted.
pub(crate) fn owned(s: &str) -> *mut c_char {
    // SAFETY: malloc'd len+1 bytes, fully written before use.
    unsafe {
        let p = libc::malloc(s.len() + 1) as *mut u8;
        if p.is_null() {
            return ptr::null_mut();
        }
        ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
        *p.add(s.len()) = 0;
        p as *mut c_char
    }
}

/// Like [`owned`], but an out-of-memory becomes an error.
pub(crate) fn owned_or_err(s: &str) -> Result<*mut c_char, Error> {
    let p = owned(s);
    if p.is_null() {
        Err(Error::internal("out of memory"))
    } else {
        Ok(p)
    }
}

/// Frees a string returned by this library. The bytes are wiped first: they
/// usually hold a token. NULL is accepted.
///
/// # Safety
/// `s` is NULL or a string returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    let len = libc::strlen(s);
    // Volatile-equivalent: zeroize's guarantees, then free.
    zeroize::Zeroize::zeroize(std::slice::from_raw_parts_mut(s as *mut u8, len));
    libc::free(s as *mut libc::c_void);
}

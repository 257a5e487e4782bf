//! C strings across the boundary: borrowed `const char *` in (checked for
//! NULL and UTF-8), owned `char *` out (allocated here, freed here).

use crate::error::Error;
use std::cell::Cell;
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
    CStr::from_ptr(p).to_str().map_err(|e| {
        Error::invalid_argument(format!("{name} is not valid UTF-8 (bad byte at offset {})", e.valid_up_to()))
    })
}

/// Clears an output if it is not NULL. Functions with several outputs clear
/// them all first, so a call that fails on one NULL output (or any other
/// argument) leaves every other output it was given cleared.
///
/// # Safety
/// `p` is NULL or valid for writes.
pub(crate) unsafe fn clear<T>(p: *mut T, cleared: T) {
    if !p.is_null() {
        p.write(cleared);
    }
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

// Owned strings carry a 32-byte header before the text: the block's capacity,
// the text's length, and a liveness tag. `paytrim_auth_string_free` reads the
// length (no strlen), wipes the text, and parks the block in a one-slot spare
// of the freeing thread, which the next string made on that thread reuses. A
// cache hit (string made, used, freed) then costs no malloc and no free:
// callgrind showed those at ~40 % of a hit's instructions (a token is larger
// than glibc's per-thread cache, so every malloc took the slow path).
//
// The tag (`LIVE` mixed with the block's address) is set when a string is
// handed out and cleared when it is freed, so a second free of the same
// string finds no tag and does nothing, instead of parking or freeing the
// block twice (which corrupts the heap). This catches every double free while
// the block is parked or unused; a block already handed out again as a new
// string at the same address cannot be told apart from it (as with any
// allocator, freeing a string twice remains a caller bug).
const HEADER: usize = 32;
const LIVE: usize = 0x5041_5954_5249_4d21_u64 as usize;
/// Blocks larger than this are freed, not parked.
const MAX_PARKED: usize = 64 * 1024;

struct Spare(Cell<*mut u8>);

impl Drop for Spare {
    fn drop(&mut self) {
        let p = self.0.replace(ptr::null_mut());
        if !p.is_null() {
            // SAFETY: a block from `owned`'s malloc, parked by `string_free`.
            unsafe { libc::free(p as *mut libc::c_void) };
        }
    }
}

thread_local! {
    static SPARE: Spare = const { Spare(Cell::new(ptr::null_mut())) };
}

/// # Safety
/// `base` is the start of a block made by [`owned`].
unsafe fn capacity(base: *const u8) -> usize {
    (base as *const usize).read()
}

/// The liveness tag of the block at `base`.
fn live_tag(base: *const u8) -> usize {
    LIVE ^ base as usize
}

/// Copies `s` into a new NUL-terminated C string owned by the caller, to be
/// freed with `paytrim_auth_string_free`. `s` must hold no NUL byte (tokens
/// and JSON are checked on arrival). NULL if memory is exhausted.
pub(crate) fn owned(s: &str) -> *mut c_char {
    let need = s.len() + 1;
    // SAFETY: blocks are HEADER + capacity bytes, capacity >= need, written
    // fully (header, text, NUL) before the pointer is handed out.
    unsafe {
        let reused = SPARE
            .try_with(|spare| {
                let p = spare.0.get();
                if !p.is_null() && capacity(p) >= need {
                    spare.0.set(ptr::null_mut());
                    p
                } else {
                    ptr::null_mut()
                }
            })
            .unwrap_or(ptr::null_mut());
        let base = if reused.is_null() {
            let cap = (need + 63) & !63;
            let p = libc::malloc(HEADER + cap) as *mut u8;
            if p.is_null() {
                return ptr::null_mut();
            }
            (p as *mut usize).write(cap);
            p
        } else {
            reused
        };
        (base as *mut usize).add(1).write(s.len());
        (base as *mut usize).add(2).write(live_tag(base));
        let text = base.add(HEADER);
        ptr::copy_nonoverlapping(s.as_ptr(), text, s.len());
        *text.add(s.len()) = 0;
        text as *mut c_char
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
/// usually hold a token. NULL is accepted. Freeing the same string a second
/// time is detected (while its memory has not been handed out again) and does
/// nothing.
///
/// # Safety
/// `s` is NULL or a string returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    let base = (s as *mut u8).sub(HEADER);
    let tag = (base as *mut usize).add(2);
    if tag.read() != live_tag(base) {
        return; // freed already
    }
    tag.write(0);
    let len = (base as *const usize).add(1).read();
    // zeroize's guarantee: the wipe is not optimized away.
    zeroize::Zeroize::zeroize(std::slice::from_raw_parts_mut(s as *mut u8, len));
    let cap = capacity(base);
    let mut to_free = base;
    if cap <= MAX_PARKED {
        // Park the block; if one is parked already, keep the larger.
        to_free = SPARE
            .try_with(|spare| {
                let parked = spare.0.get();
                if parked.is_null() {
                    spare.0.set(base);
                    ptr::null_mut()
                } else if capacity(parked) < cap {
                    spare.0.set(base);
                    parked
                } else {
                    base
                }
            })
            .unwrap_or(base);
    }
    if !to_free.is_null() {
        libc::free(to_free as *mut libc::c_void);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn owned_strings_round_trip_reuse_blocks_and_are_wiped() {
        unsafe {
            let a = owned("first token");
            assert_eq!(CStr::from_ptr(a).to_str().unwrap(), "first token");
            paytrim_auth_string_free(a);
            // Parked, not released: its text is readable, and wiped.
            let text = std::slice::from_raw_parts(a as *const u8, "first token".len());
            assert!(text.iter().all(|&b| b == 0), "not wiped on free: {text:?}");
            // The parked block is reused for a string that fits...
            let b = owned("second");
            assert_eq!(b, a);
            assert_eq!(CStr::from_ptr(b).to_str().unwrap(), "second");
            // ...and a larger one gets a new block, in either order of frees.
            let big = "x".repeat(5000);
            let c = owned(&big);
            assert_ne!(c, b);
            assert_eq!(CStr::from_ptr(c).to_bytes().len(), 5000);
            paytrim_auth_string_free(b);
            paytrim_auth_string_free(c);
            let d = owned(&big);
            assert_eq!(d, c, "the larger block is the one kept");
            paytrim_auth_string_free(d);
            // Empty strings and frees on another thread work too.
            let e = owned("");
            assert_eq!(CStr::from_ptr(e).to_bytes().len(), 0);
            let addr = e as usize;
            std::thread::spawn(move || paytrim_auth_string_free(addr as *mut c_char)).join().unwrap();
            paytrim_auth_string_free(ptr::null_mut());
        }
    }

    #[test]
    fn a_second_free_of_the_same_string_is_a_harmless_no_op() {
        unsafe {
            // Parked after the first free: a second free must not park it
            // again, or the next two strings would share one block.
            let a = owned("token-a");
            paytrim_auth_string_free(a);
            paytrim_auth_string_free(a);
            let b = owned("token-b");
            let c = owned("token-c");
            assert_ne!(b, c, "a double free parked one block twice");
            assert_eq!(CStr::from_ptr(b).to_str().unwrap(), "token-b");
            assert_eq!(CStr::from_ptr(c).to_str().unwrap(), "token-c");
            paytrim_auth_string_free(b);
            paytrim_auth_string_free(c);
        }
    }
}

//! Zero-on-free for every Rust heap block of this library (feature
//! `wipe-freed-memory`, on by default).
//!
//! The secret, its encodings and the token answer pass through buffers this
//! library does not own: ureq's header strings and request prelude, rustls's
//! record and plaintext buffers, serde_json's scratch space, a `Vec` left
//! behind when it grows. Dropped, they went back to malloc with their bytes
//! intact, where a core dump, a heap-reading bug or a later allocation could
//! find them. This allocator wipes every block as it is freed (and the old
//! block when one is reallocated), so such copies live only as long as the
//! buffer that holds them.
//!
//! Cost: one memset per freed byte. The cache-hit path allocates nothing
//! from this allocator (C strings come from a per-thread spare block), so it
//! is unaffected; a fetch frees a few hundred kilobytes at most.
//! A Rust program that links this crate and sets its own global allocator
//! turns the feature off (`default-features = false, features = ["jni"]`).

use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator, wiping blocks before freeing them.
pub struct WipeOnFree;

/// Zeroes `len` bytes at `ptr` in a way the compiler cannot drop as a dead
/// store before `free`.
///
/// # Safety
/// `ptr` is valid for writes of `len` bytes.
unsafe fn wipe(ptr: *mut u8, len: usize) {
    std::ptr::write_bytes(ptr, 0, len);
    keep_written(ptr);
}

/// An empty asm block that may read the memory behind `ptr`: the zeroing
/// before it must happen (the technique of Linux's `memzero_explicit`).
/// Stable `asm!` covers every architecture this library ships for (x86-64,
/// AArch64, and 32-bit x86/ARM, RISC-V, LoongArch); elsewhere a compiler
/// fence and `black_box` keep the stores, less strictly guaranteed.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64",
    target_arch = "riscv32",
    target_arch = "loongarch64"
))]
#[inline(always)]
unsafe fn keep_written(ptr: *mut u8) {
    std::arch::asm!("/* {0} */", in(reg) ptr, options(nostack, preserves_flags));
}

#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64",
    target_arch = "riscv32",
    target_arch = "loongarch64"
)))]
#[inline(always)]
unsafe fn keep_written(ptr: *mut u8) {
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    std::hint::black_box(ptr);
}

// SAFETY: every call forwards to `System` with the same layout contract;
// `wipe` only writes inside the block being freed.
unsafe impl GlobalAlloc for WipeOnFree {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        System.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        wipe(ptr, layout.size());
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Never in place: the old block's bytes would survive a shrink or a
        // move done inside malloc. Allocate, copy, wipe and free the old one.
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        let new = System.alloc(new_layout);
        if !new.is_null() {
            std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        new
    }
}

/// Overwrites [`STACK_SCRUB`] bytes of stack below the caller's frame,
/// where the frames of the HTTP exchange it just made were: `std::io::copy`
/// (inside ureq) moves the request body through an 8 KiB stack buffer, and
/// TLS and JSON code keep plaintext in locals. Called on the fetch thread
/// after each request, so a finished (or parked) fetch thread's stack holds
/// no copy of the secret or the answer.
#[inline(never)]
pub(crate) fn scrub_stack() {
    let mut area = [0u8; STACK_SCRUB];
    // SAFETY: `area` is a local array of exactly this size.
    unsafe { wipe(area.as_mut_ptr(), area.len()) };
    std::hint::black_box(&area);
}

/// Stack bytes scrubbed after each request: generous for unoptimized builds,
/// whose frames are large (fetch threads have 2 MiB stacks).
const STACK_SCRUB: usize = 128 * 1024;

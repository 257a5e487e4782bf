//! Panics stay off the host's stderr. Every panic in this library is caught
//! (on its threads and at the FFI boundary) and reported as an `internal`
//! error; the standard panic hook would still print a message (and maybe a
//! backtrace) into the host's stderr first. A hook installed once, the first
//! time a library thread starts or an FFI call is made, stays silent for
//! panics raised on library-owned threads or inside an FFI call (a
//! thread-local flag) and hands every other panic to the hook that was
//! installed before it, so a Rust host's own hook and messages are kept.

use std::cell::Cell;
use std::sync::Once;

thread_local! {
    static SILENT: Cell<bool> = const { Cell::new(false) };
}

static HOOK: Once = Once::new();

fn install_hook() {
    if std::thread::panicking() {
        return; // the hook cannot be changed while this thread unwinds
    }
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !SILENT.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// For threads this library owns, for their whole life.
pub fn silence_this_thread() {
    install_hook();
    SILENT.with(|s| s.set(true));
}

/// Runs `f` with this thread's panics silenced (an FFI call's body).
pub fn silently<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SILENT.with(|s| s.set(self.0));
        }
    }
    install_hook();
    let _restore = Restore(SILENT.with(|s| s.replace(true)));
    f()
}

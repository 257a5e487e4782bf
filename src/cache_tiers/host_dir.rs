//! The on-host tier: one sealed file per entry in a directory that only this
//! user can write, and a lock file per key whose `flock` gives single flight
//! across the processes of the host.
//!
//! The directory is created with mode 0700. An existing one is refused when
//! it is not a directory, is owned by another user, or is writable by group
//! or others: then client creation fails with a message saying why (a
//! misconfigured shared cache is a configuration error, caught at start, not
//! a silent stampede on Entra later). Everything after creation is best
//! effort: an unreadable, truncated, corrupt or foreign entry is a miss and
//! is overwritten by the next fetch.
//!
//! Writes go to a temporary file (mode 0600, `O_EXCL | O_NOFOLLOW`) that is
//! renamed over the entry, so readers see the old or the new entry, whole.

use super::sealed_entry::{Entry, Sealer, Slot, MAX_SEALED_LEN};
use super::{CacheTier, LockTry, TierGuard};
use crate::error::Error;
use crate::log::Level;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(crate) struct HostDir {
    dir: PathBuf,
    token_file: PathBuf,
    throttle_file: PathBuf,
    lock_file: PathBuf,
}

impl HostDir {
    /// Creates `dir` (0700) if needed and checks that only this user can
    /// write it.
    pub fn open(dir: &Path, sealer: &Sealer) -> Result<HostDir, Error> {
        prepare_dir(dir)?;
        let token = sealer.name(Slot::Token);
        Ok(HostDir {
            dir: dir.to_owned(),
            token_file: dir.join(&token),
            throttle_file: dir.join(sealer.name(Slot::Throttle)),
            lock_file: dir.join(format!("{token}.lock")),
        })
    }

    fn file(&self, slot: Slot) -> &Path {
        match slot {
            Slot::Token => &self.token_file,
            Slot::Throttle => &self.throttle_file,
        }
    }
}

/// Creates the directory with mode 0700, or checks an existing one.
pub(crate) fn prepare_dir(dir: &Path) -> Result<(), Error> {
    let bad = |why: String| Error::invalid_argument(format!("cache_dir '{}': {why}", dir.display()));
    match fs::DirBuilder::new().recursive(true).mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) => return Err(bad(format!("cannot be created ({e})"))),
    }
    // The directory itself, not what a symlink points to: a link planted by
    // someone else must not redirect the cache.
    let meta = fs::symlink_metadata(dir).map_err(|e| bad(format!("cannot be read ({e})")))?;
    if meta.file_type().is_symlink() {
        return Err(bad("is a symbolic link; give the real directory".to_owned()));
    }
    if !meta.is_dir() {
        return Err(bad("is not a directory".to_owned()));
    }
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(bad(format!(
            "is owned by user {} but this process runs as user {me}; use a directory of your own",
            meta.uid()
        )));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o022 != 0 {
        return Err(bad(format!("is writable by group or others (mode {mode:o}); chmod 700 it or use another")));
    }
    Ok(())
}

impl CacheTier for HostDir {
    fn name(&self) -> &'static str {
        "on-host cache"
    }

    fn poll_interval(&self) -> Duration {
        Duration::from_millis(5)
    }

    fn read(&self, slot: Slot, sealer: &Sealer, _budget: &mut super::Budget) -> Option<Entry> {
        let path = self.file(slot);
        let mut f = match OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                crate::log_event!(Level::Warn, "on-host cache: cannot open an entry ({e}); treated as a miss");
                return None;
            }
        };
        let meta = f.metadata().ok()?;
        if !meta.is_file() || meta.len() > MAX_SEALED_LEN as u64 {
            crate::log_event!(Level::Warn, "on-host cache: an entry is not a regular file or too large; a miss");
            return None;
        }
        let mut sealed = Vec::with_capacity(meta.len() as usize);
        if Read::by_ref(&mut f).take(MAX_SEALED_LEN as u64 + 1).read_to_end(&mut sealed).is_err() {
            return None;
        }
        let entry = sealer.open(slot, &sealed);
        if entry.is_none() {
            crate::log_event!(
                Level::Warn,
                "on-host cache: an entry in {} is truncated, corrupt or sealed with another credential; \
                 treated as a miss and rewritten",
                self.dir.display()
            );
        }
        entry
    }

    fn write(&self, slot: Slot, sealer: &Sealer, entry: &Entry, _budget: &mut super::Budget) {
        let sealed = sealer.seal(slot, entry);
        let target = self.file(slot);
        let tmp = self.dir.join(format!(".tmp-{}-{}", std::process::id(), crate::transport::new_request_id()));
        let written = (|| -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&tmp)?;
            f.write_all(&sealed)?;
            fs::rename(&tmp, target)
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            crate::log_event!(Level::Warn, "on-host cache: cannot write an entry in {} ({e})", self.dir.display());
        }
    }

    fn try_lock(&self, _budget: &mut super::Budget) -> LockTry {
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&self.lock_file)
        {
            Ok(f) => f,
            Err(e) => {
                crate::log_event!(
                    Level::Warn,
                    "on-host cache: cannot open the lock file in {} ({e}); fetching without it",
                    self.dir.display()
                );
                return LockTry::Unavailable;
            }
        };
        // SAFETY: flock on a descriptor we own.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return LockTry::Held(TierGuard::File(FileLock(file)));
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            LockTry::Busy
        } else {
            crate::log_event!(Level::Warn, "on-host cache: flock failed ({err}); fetching without it");
            LockTry::Unavailable
        }
    }
}

/// A held `flock`. Released explicitly (not only by close): after a fork()
/// the child shares the open file description, and closing our descriptor
/// alone would leave the lock held for as long as the child lives.
pub(crate) struct FileLock(File);

impl Drop for FileLock {
    fn drop(&mut self) {
        // SAFETY: flock on a descriptor we own.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("paytrim-hostdir-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn the_directory_is_made_0700_and_unsafe_ones_are_refused() {
        let d = temp_dir("perm");
        prepare_dir(&d).unwrap();
        assert_eq!(fs::metadata(&d).unwrap().mode() & 0o777, 0o700);
        fs::set_permissions(&d, fs::Permissions::from_mode(0o777)).unwrap();
        let e = prepare_dir(&d).unwrap_err();
        assert!(e.message().contains("writable by group or others"), "{}", e.message());
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
        prepare_dir(&d).unwrap();
        let link = d.with_extension("link");
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(&d, &link).unwrap();
        assert!(prepare_dir(&link).unwrap_err().message().contains("symbolic link"));
        let file = d.join("plain");
        fs::write(&file, b"x").unwrap();
        assert!(prepare_dir(&file).is_err());
        let _ = fs::remove_file(&link);
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn entries_are_written_atomically_with_mode_0600_and_a_lock_excludes() {
        let d = temp_dir("rw");
        let sealer = Sealer::new(b"s", &[1; 32]);
        let tier = HostDir::open(&d, &sealer).unwrap();
        let mut budget = super::super::Budget::unlimited();
        assert!(tier.read(Slot::Token, &sealer, &mut budget).is_none());
        tier.write(Slot::Throttle, &sealer, &Entry::Throttle { until_ms: 5 }, &mut budget);
        assert!(matches!(tier.read(Slot::Throttle, &sealer, &mut budget), Some(Entry::Throttle { until_ms: 5 })));
        let names: Vec<String> =
            fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(names, vec![sealer.name(Slot::Throttle)], "no temporary file is left behind");
        assert_eq!(fs::metadata(d.join(&names[0])).unwrap().mode() & 0o777, 0o600);
        let held = tier.try_lock(&mut budget);
        assert!(matches!(held, LockTry::Held(_)));
        assert!(matches!(tier.try_lock(&mut budget), LockTry::Busy));
        drop(held);
        assert!(matches!(tier.try_lock(&mut budget), LockTry::Held(_)));
        let _ = fs::remove_dir_all(&d);
    }
}

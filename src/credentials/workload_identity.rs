//! Workload identity federation: the client assertion is a token another
//! identity provider issued (Kubernetes service account, GitHub Actions...),
//! which a platform writes to a file and rotates (`AZURE_FEDERATED_TOKEN_FILE`).
//!
//! The file is re-read when it changes (size, modification time or inode,
//! following symlinks, as Kubernetes swaps a `..data` symlink) and at least
//! every [`MAX_REUSE`], and only when an attempt needs it: never on the
//! cache-hit path.

use super::jwt_bearer::{check_compact_jwt, AssertionSource};
use crate::error::Error;
use crate::secret::Secret;
use parking_lot::Mutex;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// A token read from the file is reused at most this long.
pub const MAX_REUSE: Duration = Duration::from_secs(300);

/// A federated token file. Clones share the last read.
#[derive(Clone)]
pub struct FederatedTokenFile {
    path: Arc<PathBuf>,
    last: Arc<Mutex<Option<LastRead>>>,
}

struct LastRead {
    token: Secret,
    stamp: FileStamp,
    at: Instant,
}

#[derive(PartialEq, Eq, Clone, Copy)]
struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl FederatedTokenFile {
    /// Checks now that the file is readable and holds a token.
    pub fn new(path: impl Into<PathBuf>) -> Result<FederatedTokenFile, Error> {
        let path: PathBuf = path.into();
        if path.as_os_str().is_empty() {
            return Err(Error::invalid_argument("federated token file: the path is empty"));
        }
        let file = FederatedTokenFile { path: Arc::new(path), last: Arc::new(Mutex::new(None)) };
        file.current()?;
        Ok(file)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The token: the last one read, unless the file changed or it is
    /// older than [`MAX_REUSE`].
    pub(crate) fn current(&self) -> Result<Secret, Error> {
        let stamp = stamp(&self.path).map_err(|e| self.error(&format!("cannot read it: {e}")))?;
        let mut last = self.last.lock();
        if let Some(l) = last.as_ref() {
            if l.stamp == stamp && l.at.elapsed() < MAX_REUSE {
                return Ok(l.token.clone());
            }
        }
        let raw = std::fs::read(&*self.path).map_err(|e| self.error(&format!("cannot read it: {e}")))?;
        let text = String::from_utf8(raw).map_err(|_| self.error("it is not UTF-8 text"))?;
        let token = Secret::new(text.trim());
        drop(text);
        if token.is_empty() {
            return Err(self.error("it is empty"));
        }
        check_compact_jwt(token.expose()).map_err(|why| self.error(&why))?;
        *last = Some(LastRead { token: token.clone(), stamp, at: Instant::now() });
        Ok(token)
    }

    fn error(&self, why: &str) -> Error {
        Error::invalid_argument(format!("federated token file '{}': {why}", self.path.display()))
    }
}

fn stamp(path: &Path) -> std::io::Result<FileStamp> {
    let m = std::fs::metadata(path)?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let inode = 0;
    Ok(FileStamp { len: m.len(), modified: m.modified().ok(), inode })
}

impl fmt::Debug for FederatedTokenFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FederatedTokenFile({})", self.path.display())
    }
}

impl AssertionSource for FederatedTokenFile {
    fn assertion(&self, _client_id: &str, _audience: &str, _deadline: Instant) -> Result<Secret, Error> {
        self.current()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rereads_on_change_and_names_the_path() {
        let dir = std::env::temp_dir().join(format!("paytrim-wi-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "aaa.bbb.ccc\n").unwrap();
        let f = FederatedTokenFile::new(&path).unwrap();
        assert_eq!(f.current().unwrap().expose(), "aaa.bbb.ccc");
        // A rotation by rename (new inode), as Kubernetes does.
        let next = dir.join("token.new");
        std::fs::write(&next, "ddd.eee.fff").unwrap();
        std::fs::rename(&next, &path).unwrap();
        assert_eq!(f.current().unwrap().expose(), "ddd.eee.fff");
        std::fs::write(&path, "").unwrap();
        let e = f.current().unwrap_err();
        assert!(e.message().contains("is empty") && e.message().contains(path.to_str().unwrap()));
        std::fs::remove_file(&path).unwrap();
        assert!(f.current().unwrap_err().message().contains("cannot read it"));
        assert!(FederatedTokenFile::new(&path).is_err());
        assert!(!format!("{f:?}").contains("ddd"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

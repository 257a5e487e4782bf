//! The operating system's trusted root certificates, read the way
//! rustls-native-certs reads them on Linux and the BSDs, but fast enough for
//! a process's first request.
//!
//! Where: `SSL_CERT_FILE` and `SSL_CERT_DIR` (a `:`-separated list) when
//! either is set, else the file and directories OpenSSL would use
//! (openssl-probe). The file is read first, then every regular file of each
//! directory (symlinks followed, each file once by device and inode), and
//! the certificates are sorted and deduplicated: the same sources, order and
//! result as `rustls_native_certs::load_native_certs`.
//!
//! Why not that function: its PEM reader decodes base64 in constant time (it
//! is written for private keys) and line by line through a `BufRead`; for a
//! Debian store (a 220 KB bundle plus ~140 files in `/etc/ssl/certs`) that was
//! 19.5 M of the 24 M instructions of a whole cold process (callgrind), more
//! than the TLS handshake. Root certificates are public: here each file is
//! read in one call into a buffer reused across files, and each PEM section
//! is decoded with the `base64` crate's ordinary decoder. On macOS and
//! Windows (platform stores, not files) rustls-native-certs is used as is.

use rustls::pki_types::CertificateDer;

/// What a load found: the certificates (sorted, no duplicates), and every
/// error met on the way (a file or directory that could not be read, a
/// malformed PEM section), for the message when nothing usable was found.
#[derive(Default)]
pub(crate) struct Found {
    pub certs: Vec<CertificateDer<'static>>,
    pub errors: Vec<String>,
}

/// Reads the system's root certificates.
#[cfg(all(unix, not(target_os = "macos")))]
pub(crate) fn load() -> Found {
    let (file, dirs) = files::locations();
    files::load_from(file.as_deref(), &dirs)
}

/// Reads the system's root certificates (the platform's store).
#[cfg(not(all(unix, not(target_os = "macos"))))]
pub(crate) fn load() -> Found {
    let found = rustls_native_certs::load_native_certs();
    Found { certs: found.certs, errors: found.errors.iter().map(|e| e.to_string()).collect() }
}

#[cfg(all(unix, not(target_os = "macos")))]
mod files {
    use super::Found;
    use rustls::pki_types::CertificateDer;
    use std::collections::HashSet;
    use std::fs;
    use std::io::{self, Read};
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    use std::path::{Path, PathBuf};

    /// The bundle file and the hashed directories to read.
    pub(super) fn locations() -> (Option<PathBuf>, Vec<PathBuf>) {
        let file = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
        let dirs: Vec<PathBuf> = match std::env::var_os("SSL_CERT_DIR") {
            Some(d) => std::env::split_paths(&d).filter(|p| !p.as_os_str().is_empty()).collect(),
            None => Vec::new(),
        };
        if file.is_some() || !dirs.is_empty() {
            return (file, dirs);
        }
        let probed = openssl_probe::probe();
        (probed.cert_file, probed.cert_dir)
    }

    pub(super) fn load_from(file: Option<&Path>, dirs: &[PathBuf]) -> Found {
        let mut out = Found::default();
        if file.is_none() && dirs.is_empty() {
            return out;
        }
        let mut reader = Reader::default();
        let mut seen = HashSet::new();
        if let Some(file) = file {
            match open(file) {
                Ok(Some(opened)) => {
                    seen.insert(opened.id);
                    reader.read_file(opened.file, opened.size, file, &mut out);
                }
                Ok(None) => out.errors.push(format!("failed to read PEM from file: not a file: '{}'", file.display())),
                Err(e) => out.errors.push(format!("failed to read PEM from file: {e} at '{}'", file.display())),
            }
        }
        for dir in dirs {
            let entries = match fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(e) => {
                    out.errors.push(format!("opening directory: {e} at '{}'", dir.display()));
                    continue;
                }
            };
            for entry in entries {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(e) => {
                        out.errors.push(format!("reading directory entries: {e} at '{}'", dir.display()));
                        continue;
                    }
                };
                // The type from the directory listing (no system call):
                // directories, pipes, sockets and devices are never opened.
                // Symlinks (hashed directories are made of them) are followed.
                let path = entry.path();
                match entry.file_type() {
                    Ok(t) if t.is_symlink() && is_hash_name(&entry.file_name()) && points_into_same_dir(&path) => {
                        continue
                    }
                    Ok(t) if t.is_file() || t.is_symlink() => {}
                    Ok(_) => continue,
                    Err(_) => {} // unknown: opened and checked below
                }
                // One path walk per entry: open, then the identity and type
                // of what was opened (fstat), not stat then open.
                let opened = match open(&path) {
                    Ok(Some(opened)) => opened,
                    Ok(None) => continue,                                      // not a regular file
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue, // dangling link
                    Err(e) => {
                        out.errors.push(format!("failed to open file: {e} at '{}'", path.display()));
                        continue;
                    }
                };
                if seen.insert(opened.id) {
                    reader.read_file(opened.file, opened.size, &path, &mut out);
                }
            }
        }
        out.certs.sort_unstable_by(|a, b| a.as_ref().cmp(b.as_ref()));
        out.certs.dedup();
        out
    }

    /// Whether `name` is one `c_rehash` / `openssl rehash` gives its links
    /// (`3513523f.0`, `a94d09e5.r1`): the links worth a `readlink`; any
    /// other entry is opened directly.
    pub(super) fn is_hash_name(name: &std::ffi::OsStr) -> bool {
        use std::os::unix::ffi::OsStrExt;
        match name.as_bytes().split_at_checked(8) {
            Some((hash, rest)) => {
                let digits = rest.strip_prefix(b".r").or_else(|| rest.strip_prefix(b"."));
                hash.iter().all(u8::is_ascii_hexdigit)
                    && digits.is_some_and(|d| !d.is_empty() && d.iter().all(u8::is_ascii_digit))
            }
            None => false,
        }
    }

    /// Whether the symlink at `path` names a file of its own directory (no
    /// `/` in its target), as the hash links of `c_rehash` name the
    /// certificates beside them: that file is an entry of the same listing,
    /// read under its own name, so this link could only be a duplicate
    /// (same device and inode). One `readlink`, instead of opening a file
    /// through two links.
    fn points_into_same_dir(path: &Path) -> bool {
        use std::os::unix::ffi::OsStrExt;
        fs::read_link(path).is_ok_and(|t| {
            let t = t.as_os_str().as_bytes();
            !t.contains(&b'/') && t != b"." && t != b".."
        })
    }

    /// Opens a regular file (without blocking on a FIFO a link may point
    /// to) and returns it with its identity (device, inode) and size; `None`
    /// for anything else.
    fn open(path: &Path) -> io::Result<Option<Opened>> {
        let file = fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path)?;
        let m = file.metadata()?;
        Ok(m.is_file().then(|| Opened { file, id: (m.dev(), m.ino()), size: m.len() }))
    }

    /// A regular file, open, with its identity (device, inode) and size.
    struct Opened {
        file: fs::File,
        id: (u64, u64),
        size: u64,
    }

    /// Buffers reused from file to file (every freed heap block is wiped by
    /// the library's allocator: few, small blocks cost less). A file is read
    /// in chunks of [`CHUNK`] bytes and fed to the PEM reader whole lines at
    /// a time; `carry` holds a line cut by the end of a chunk.
    #[derive(Default)]
    struct Reader {
        /// Grown to the first file's size (at most [`CHUNK`]): a store of
        /// one small file touches one page, not four.
        chunk: Vec<u8>,
        carry: Vec<u8>,
        pem: Pem,
    }

    const CHUNK: usize = 16 * 1024;

    impl Reader {
        /// Reads `f` to its end: EOF, or its `size` from fstat once read
        /// (sparing the read that would return 0; a size of 0, as some
        /// special files show, reads to EOF).
        fn read_file(&mut self, mut f: fs::File, size: u64, path: &Path, out: &mut Found) {
            let Reader { chunk, carry, pem } = self;
            let want = (size as usize).saturating_add(1).clamp(1024, CHUNK);
            if chunk.len() < want {
                chunk.resize(want, 0);
            }
            pem.label = None;
            carry.clear();
            let fail = |why: String| format!("failed to read PEM from file: {why} in '{}'", path.display());
            let mut total = 0u64;
            loop {
                let n = if size > 0 && total >= size {
                    0
                } else {
                    match f.read(&mut chunk[..]) {
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return out.errors.push(fail(e.to_string())),
                    }
                };
                total += n as u64;
                if n == 0 {
                    let last = pem.lines(carry, &mut out.certs).and_then(|()| pem.finish());
                    if let Err(why) = last {
                        out.errors.push(fail(why));
                    }
                    return;
                }
                let data = &chunk[..n];
                // Whole lines now; the cut one waits for the next chunk.
                let Some(cut) = memchr::memrchr2(b'\n', b'\r', data).map(|i| i + 1) else {
                    carry.extend_from_slice(data);
                    continue;
                };
                let fed = if carry.is_empty() {
                    pem.lines(&data[..cut], &mut out.certs)
                } else {
                    carry.extend_from_slice(&data[..cut]);
                    let fed = pem.lines(carry, &mut out.certs);
                    carry.clear();
                    fed
                };
                if let Err(why) = fed {
                    return out.errors.push(fail(why));
                }
                carry.extend_from_slice(&data[cut..]);
            }
        }
    }

    /// A PEM reader fed whole lines: keeps the `CERTIFICATE` sections, skips
    /// the others, and stops at the first malformed section, as the PEM
    /// reader of rustls-pki-types does. Lines are found with `memchr` and
    /// copied whole: a few instructions per line, not per byte.
    #[derive(Default)]
    pub(super) struct Pem {
        /// The label of the section being read (`CERTIFICATE`, ...).
        label: Option<Vec<u8>>,
        base64: Vec<u8>,
        /// The base64 of every section decoded so far: the same text again
        /// (a directory holds the bundle's certificates once more) would
        /// decode to a certificate already found, which the final
        /// deduplication would drop; it is not decoded twice.
        decoded: HashSet<Section>,
    }

    /// A section's base64, hashed by its length and last 64 bytes (the
    /// signature: distinct per certificate) and compared whole.
    #[derive(PartialEq, Eq)]
    struct Section(Vec<u8>);

    impl std::hash::Hash for Section {
        fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
            h.write_usize(self.0.len());
            h.write(&self.0[self.0.len().saturating_sub(64)..]);
        }
    }

    impl Pem {
        pub(super) fn lines(&mut self, text: &[u8], certs: &mut Vec<CertificateDer<'static>>) -> Result<(), String> {
            let mut rest = text;
            while !rest.is_empty() {
                let end = memchr::memchr2(b'\n', b'\r', rest).unwrap_or(rest.len());
                let line = &rest[..end];
                rest = &rest[(end + 1).min(rest.len())..];
                if let Some(after) = line.strip_prefix(b"-----BEGIN ") {
                    match after.trim_ascii_end().strip_suffix(b"-----") {
                        Some(l) if !l.ends_with(b"-") => self.label = Some(l.to_vec()),
                        _ => return Err("a BEGIN line does not end with five hyphens".to_owned()),
                    }
                    self.base64.clear();
                    continue;
                }
                let Some(l) = &self.label else { continue };
                let certificate = l == b"CERTIFICATE";
                if let Some(after) = line.strip_prefix(b"-----END ") {
                    if after.strip_prefix(&l[..]).is_some_and(|r| r.starts_with(b"-----")) {
                        self.label = None;
                        if certificate {
                            let mut text = Section(std::mem::take(&mut self.base64));
                            if self.decoded.contains(&text) {
                                self.base64 = text.0; // reused for the next section
                            } else {
                                certs.push(CertificateDer::from(decode(&mut text.0)?));
                                self.decoded.insert(text);
                            }
                        }
                        continue;
                    }
                }
                if certificate {
                    self.base64.extend_from_slice(line.trim_ascii());
                }
            }
            Ok(())
        }

        /// At the end of the text: an open section is an error.
        pub(super) fn finish(&mut self) -> Result<(), String> {
            match self.label.take() {
                Some(l) => Err(format!("no END line for a {} section", String::from_utf8_lossy(&l))),
                None => Ok(()),
            }
        }
    }

    /// A section's base64 (lines trimmed and joined); whitespace inside a
    /// line, which some writers leave, is removed on a second try.
    fn decode(base64: &mut Vec<u8>) -> Result<Vec<u8>, String> {
        use base64::Engine;
        if let Ok(der) = PEM_BASE64.decode(&base64[..]) {
            return Ok(der);
        }
        base64.retain(|b| !b.is_ascii_whitespace());
        PEM_BASE64.decode(&base64[..]).map_err(|e| format!("a CERTIFICATE section is not valid base64 ({e})"))
    }

    /// Standard alphabet; padding optional, as PEM writers differ.
    const PEM_BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
}

#[cfg(all(test, unix, not(target_os = "macos")))]
mod tests {
    use super::files::{load_from, Pem};
    use rustls::pki_types::CertificateDer;

    fn certificates(text: &[u8], certs: &mut Vec<CertificateDer<'static>>) -> Result<(), String> {
        let mut pem = Pem::default();
        pem.lines(text, certs)?;
        pem.finish()
    }
    use std::path::PathBuf;

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nAAEC\nAwQF\n-----END CERTIFICATE-----\n\
                       -----BEGIN PRIVATE KEY-----\nBwgJ\n-----END PRIVATE KEY-----\n\
                       junk between\r\n-----BEGIN CERTIFICATE-----\r\nCgsM\r\n-----END CERTIFICATE-----\r\n";

    #[test]
    fn pem_certificates_only_in_order_crlf_or_lf() {
        let mut certs = Vec::new();
        certificates(PEM.as_bytes(), &mut certs).unwrap();
        let ders: Vec<&[u8]> = certs.iter().map(|c| c.as_ref()).collect();
        assert_eq!(ders, [&[0u8, 1, 2, 3, 4, 5][..], &[10, 11, 12][..]]);
    }

    #[test]
    fn hash_link_names() {
        use super::files::is_hash_name;
        for yes in ["3513523f.0", "a94d09e5.r12", "ABCDEF01.1"] {
            assert!(is_hash_name(yes.as_ref()), "{yes}");
        }
        for no in ["3513523f", "3513523f.", "3513523f.x", "ca-certificates.crt", "GTS_Root_R1.pem", "3513523g.0"] {
            assert!(!is_hash_name(no.as_ref()), "{no}");
        }
    }

    #[test]
    fn malformed_sections_are_errors() {
        let mut certs = Vec::new();
        let bad = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(certificates(bad.as_bytes(), &mut certs).is_err());
        let open = "-----BEGIN CERTIFICATE-----\nAAEC\n";
        assert!(certificates(open.as_bytes(), &mut certs).is_err());
        assert!(certs.is_empty());
    }

    /// Matches rustls-native-certs on the same file and directory: this
    /// machine's store when it has one, else a directory made here.
    #[test]
    fn same_certificates_as_rustls_native_certs() {
        let dir = std::env::temp_dir().join(format!("paytrim-roots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.pem"), PEM).unwrap();
        std::fs::write(dir.join("b.pem"), "-----BEGIN CERTIFICATE-----\nAAEC\nAwQF\n-----END CERTIFICATE-----\n")
            .unwrap();
        std::os::unix::fs::symlink("a.pem", dir.join("1234abcd.0")).unwrap();
        // A link out of the directory (as Debian's name.pem links are) is followed.
        let outside = std::env::temp_dir().join(format!("paytrim-roots-out-{}.crt", std::process::id()));
        std::fs::write(&outside, "-----BEGIN CERTIFICATE-----\nDQ4P\n-----END CERTIFICATE-----\n").unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("c.pem")).unwrap();
        std::os::unix::fs::symlink(dir.join("gone.pem"), dir.join("dangling.0")).unwrap();
        let mut cases: Vec<(Option<PathBuf>, Option<PathBuf>)> = vec![(None, Some(dir.clone()))];
        let system = (PathBuf::from("/etc/ssl/certs/ca-certificates.crt"), PathBuf::from("/etc/ssl/certs"));
        if system.0.exists() {
            cases.push((Some(system.0.clone()), Some(system.1.clone())));
            cases.push((Some(system.0), None));
            cases.push((None, Some(system.1)));
        }
        for (file, d) in cases {
            let theirs = rustls_native_certs::load_certs_from_paths(file.as_deref(), d.as_deref());
            let ours = load_from(file.as_deref(), &d.iter().cloned().collect::<Vec<_>>());
            assert!(!ours.certs.is_empty());
            assert_eq!(ours.certs, theirs.certs, "{file:?} {d:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_file(&outside).unwrap();
    }
}

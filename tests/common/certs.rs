//! Certificates and keys made at run time: RSA keys by the `openssl` CLI
//! (ring cannot generate RSA keys), certificates with chosen validity by
//! rcgen, PKCS#12 files and encrypted keys by `openssl`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

static N: AtomicU32 = AtomicU32::new(0);

/// A fresh directory under the temp dir, removed by the caller if wanted.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "paytrim-certs-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().expect("the openssl CLI is installed");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

pub struct TestCert {
    pub dir: PathBuf,
    /// PKCS#8 PEM private key (unencrypted).
    pub key_pem: String,
    /// The certificate, PEM.
    pub cert_pem: String,
}

impl TestCert {
    /// A 2048-bit RSA key and a self-signed certificate valid from
    /// `from_days` to `to_days` around now.
    pub fn rsa(from_days: i64, to_days: i64) -> TestCert {
        let dir = temp_dir("rsa");
        let key = dir.join("key.pem");
        openssl(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key.to_str().unwrap()]);
        let key_pem = std::fs::read_to_string(&key).unwrap();
        let cert_pem = self_signed(&key_pem, from_days, to_days);
        TestCert { dir, key_pem, cert_pem }
    }

    /// Another certificate for the same key.
    pub fn reissue(&self, from_days: i64, to_days: i64) -> String {
        self_signed(&self.key_pem, from_days, to_days)
    }

    /// Writes `name` with `content` in this cert's directory.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    /// Certificate and key in one PEM file.
    pub fn combined_pem_file(&self) -> PathBuf {
        self.write("combined.pem", &format!("{}{}", self.cert_pem, self.key_pem))
    }

    /// The key as PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    pub fn pkcs1_key_pem(&self) -> String {
        let src = self.write("k8.pem", &self.key_pem);
        let dst = self.dir.join("k1.pem");
        openssl(&["rsa", "-in", p(&src), "-traditional", "-out", p(&dst)]);
        std::fs::read_to_string(dst).unwrap()
    }

    /// The key as encrypted PKCS#8 (PBES2, AES-256-CBC).
    pub fn encrypted_key_pem(&self, password: &str) -> String {
        let src = self.write("k8.pem", &self.key_pem);
        let dst = self.dir.join("enc.pem");
        let pass = format!("pass:{password}");
        openssl(&["pkcs8", "-topk8", "-in", p(&src), "-v2", "aes-256-cbc", "-passout", &pass, "-out", p(&dst)]);
        std::fs::read_to_string(dst).unwrap()
    }

    /// A PKCS#12 file: OpenSSL 3's default encryption (PBES2/AES-256-CBC),
    /// or with `legacy_3des` the older PBE-SHA1-3DES.
    pub fn pkcs12(&self, password: &str, legacy_3des: bool) -> PathBuf {
        self.pkcs12_with(password, if legacy_3des { "3des" } else { "modern" })
    }

    /// A PKCS#12 file in `mode`: `modern` (OpenSSL 3's default, PBES2 with
    /// AES-256-CBC), `3des` (PBE-SHA1-3DES) or `rc2` (`openssl -legacy`:
    /// RC2-40 certificates, 3DES key, SHA-1 MAC, as old Windows exports).
    pub fn pkcs12_with(&self, password: &str, mode: &str) -> PathBuf {
        let cert = self.write("c.pem", &self.cert_pem);
        let key = self.write("k8.pem", &self.key_pem);
        let out = self.dir.join(format!("{mode}.pfx"));
        let pass = format!("pass:{password}");
        let mut args =
            vec!["pkcs12", "-export", "-in", p(&cert), "-inkey", p(&key), "-passout", &pass, "-out", p(&out)];
        match mode {
            "3des" => args.extend(["-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"]),
            "rc2" => args.push("-legacy"),
            _ => {}
        }
        openssl(&args);
        out
    }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn self_signed(key_pem: &str, from_days: i64, to_days: i64) -> String {
    let key = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(key_pem, &rcgen::PKCS_RSA_SHA256).expect("RSA key");
    let mut params = rcgen::CertificateParams::new(vec!["paytrim-test".to_owned()]).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let at =
        |days: i64| rcgen::date_time_ymd(1970, 1, 1) + std::time::Duration::from_secs((now + days * 86_400) as u64);
    params.not_before = at(from_days);
    params.not_after = at(to_days);
    params.self_signed(&key).unwrap().pem()
}

/// An EC P-256 key and certificate, PEM (for the unsupported-key test).
pub fn ec_key_and_cert() -> (String, String) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["ec".to_owned()]).unwrap().self_signed(&key).unwrap();
    (key.serialize_pem(), cert.pem())
}

//! `paytrim_auth_credential`: what a client proves its identity with (a
//! secret, a certificate, an assertion callback or a federated token file),
//! and the client constructors that take one or read the environment.

use super::boundary::{free_boxed, run};
use super::client::paytrim_auth_client;
use super::config::paytrim_auth_config;
use super::error::paytrim_auth_error;
use super::strings;
use crate::client::Client;
use crate::config::ClientConfig;
use crate::credentials::{AssertionCallback, AssertionCompletion, CertificateCredential, Credential, SigningAlgorithm};
use crate::error::Error;
use std::ffi::{c_char, c_void, CString};
use std::ptr;

/// A credential. Create with one of the `paytrim_auth_credential_from_*`
/// functions, adjust with `paytrim_auth_credential_set`, pass to
/// `paytrim_auth_client_new_with_credential` (which keeps its own reference,
/// so the credential may be freed right after), free with
/// `paytrim_auth_credential_free`. Not safe to modify from several threads
/// at once. Its key material, passwords and assertions never appear in
/// errors or logs.
pub struct paytrim_auth_credential {
    inner: Credential,
}

/// The answer slot of one assertion request: complete it exactly once with
/// `paytrim_auth_assertion_complete` or `paytrim_auth_assertion_fail`, from
/// any thread, during the callback or later. Completing frees it.
pub struct paytrim_auth_assertion_completion {
    inner: AssertionCompletion,
}

impl paytrim_auth_assertion_completion {
    /// Hands `inner` to the host as an owned pointer (freed by completing it).
    pub(super) fn into_raw(inner: AssertionCompletion) -> *mut Self {
        Box::into_raw(Box::new(paytrim_auth_assertion_completion { inner }))
    }
}

/// Asked for a signed client assertion (a JWT with `aud` = `audience`, the
/// token endpoint, and `iss` = `sub` = `client_id`) when a token fetch needs
/// one: once per request attempt, on a library-owned thread. `client_id` and
/// `audience` are borrowed for the duration of the call. Answer through
/// `completion`, exactly once, during the call or later from any thread (an
/// async wrapper may return at once and complete when its signer answers).
/// The fetch waits for the answer at most until its time budget
/// (`total_timeout_ms`) runs out, then fails; a completion answered after
/// that is still accepted and freed (its answer is discarded).
pub type paytrim_auth_assertion_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        client_id: *const c_char,
        audience: *const c_char,
        completion: *mut paytrim_auth_assertion_completion,
    ),
>;

/// Called once with `user_data` when no credential or client uses the
/// callback any more (possibly on a library-owned thread).
pub type paytrim_auth_free_callback = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

pub(super) unsafe fn new_credential(
    out: *mut *mut paytrim_auth_credential,
    make: impl FnOnce() -> Result<Credential, Error>,
) -> *mut paytrim_auth_error {
    run(|| {
        let out = strings::out(out, "out_credential", ptr::null_mut())?;
        let inner = make()?;
        *out = Box::into_raw(Box::new(paytrim_auth_credential { inner }));
        Ok(())
    })
}

/// A client-secret credential (what `paytrim_auth_client_new` uses).
///
/// # Safety
/// `client_secret` is NULL or NUL-terminated; `out_credential` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_credential_from_secret(
    client_secret: *const c_char,
    out_credential: *mut *mut paytrim_auth_credential,
) -> *mut paytrim_auth_error {
    new_credential(out_credential, || {
        let secret = strings::arg(client_secret, "client_secret")?;
        let c = Credential::client_secret(secret);
        c.check()?;
        Ok(c)
    })
}

/// A certificate credential from a file: PEM (certificate chain, leaf first,
/// and an RSA private key: PKCS#8, PKCS#1, or encrypted PKCS#8) or PKCS#12
/// (`.pfx`/`.p12`), told apart by content. `password` (NULL for none)
/// decrypts the key or the PKCS#12 file. The file is read and checked now: a
/// certificate that is expired or not yet valid, a key that does not match
/// it, or a non-RSA key is an `PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT` naming
/// the file. Assertions are signed PS256 with `x5t#S256` unless
/// `paytrim_auth_credential_set` says otherwise.
///
/// # Safety
/// Strings are NULL (password only) or NUL-terminated; `out_credential` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_credential_from_certificate_file(
    path: *const c_char,
    password: *const c_char,
    out_credential: *mut *mut paytrim_auth_credential,
) -> *mut paytrim_auth_error {
    new_credential(out_credential, || {
        let path = strings::arg(path, "path")?;
        let password = opt_arg(password, "password")?;
        Credential::certificate_file(path, password)
    })
}

/// A certificate credential from PEM text: `cert_pem` holds the certificate
/// chain (leaf first), `key_pem` the RSA private key (they may be the same
/// text); `password` (NULL for none) decrypts an encrypted PKCS#8 key.
/// Checked as for `paytrim_auth_credential_from_certificate_file`.
///
/// # Safety
/// Strings are NULL (password only) or NUL-terminated; `out_credential` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_credential_from_certificate_pem(
    cert_pem: *const c_char,
    key_pem: *const c_char,
    password: *const c_char,
    out_credential: *mut *mut paytrim_auth_credential,
) -> *mut paytrim_auth_error {
    new_credential(out_credential, || {
        let cert = strings::arg(cert_pem, "cert_pem")?;
        let key = strings::arg(key_pem, "key_pem")?;
        let password = opt_arg(password, "password")?;
        CertificateCredential::from_pem(cert.as_bytes(), key.as_bytes(), password).map(Credential::Certificate)
    })
}

/// A certificate credential from a PKCS#12 (`.pfx`) archive in memory:
/// `len` bytes at `data`, with `password` (NULL or "" for none). For
/// wrappers that hold the archive already (a .NET `X509Certificate2` export,
/// a Java `KeyStore`). Checked as for
/// `paytrim_auth_credential_from_certificate_file`.
///
/// # Safety
/// `data` is NULL or readable for `len` bytes; `password` is NULL or
/// NUL-terminated; `out_credential` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_credential_from_pkcs12(
    data: *const u8,
    len: usize,
    password: *const c_char,
    out_credential: *mut *mut paytrim_auth_credential,
) -> *mut paytrim_auth_error {
    new_credential(out_credential, || {
        if data.is_null() {
            return Err(Error::invalid_argument("data is NULL"));
        }
        if len == 0 || len > 16 << 20 {
            return Err(Error::invalid_argument(format!("PKCS#12 data: {len} bytes (expected 1 byte to 16 MiB)")));
        }
        let bytes = std::slice::from_raw_parts(data, len);
        let password = opt_arg(password, "password")?.unwrap_or("");
        CertificateCredential::from_pkcs12(bytes, password, "PKCS#12 data").map(Credential::Certificate)
    })
}

/// A credential whose assertions come from `callback` (keys in an HSM or a
/// key vault); see `paytrim_auth_assertion_callback`. `free_user_data`
/// (may be NULL) is called once with `user_data` when the credential and
/// every client made from it are gone. On error, `free_user_data` is not
/// called: the caller still owns `user_data`.
///
/// # Safety
/// `user_data` may be used from library-owned threads until
/// `free_user_data` runs; `out_credential` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_credential_from_assertion_callback(
    callback: paytrim_auth_assertion_callback,
    user_data: *mut c_void,
    free_user_data: paytrim_auth_free_callback,
    out_credential: *mut *mut paytrim_auth_credential,
) -> *mut paytrim_auth_error {
    new_credential(out_credential, || {
        let callback = callback.ok_or_else(|| Error::invalid_argument("callback is NULL"))?;
        let user = UserData { ptr: user_data, free: free_user_data };
        Ok(Credential::AssertionCallback(AssertionCallback::new(move |request, completion| {
            let user = &user;
            let (Ok(id), Ok(aud)) = (CString::new(request.client_id.as_str()), CString::new(request.audience.as_str()))
            else {
                completion.fail("the client id or audience holds a NUL byte");
                return;
            };
            let completion = Box::into_raw(Box::new(paytrim_auth_assertion_completion { inner: completion }));
            callback(user.ptr, id.as_ptr(), aud.as_ptr(), completion);
        })))
    })
}

/// The user data of an assertion callback, released once.
struct UserData {
    ptr: *mut c_void,
    free: paytrim_auth_free_callback,
}
// SAFETY: the caller of paytrim_auth_credential_from_assertion_callback
// promises user_data may be used from library-owned threads (documented).
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

impl Drop for UserData {
    fn drop(&mut self) {
        if let Some(free) = self.free {
            // SAFETY: documented contract: called once, when nothing uses it.
            let _ = std::panic::catch_unwind(|| unsafe { free(self.ptr) });
        }
    }
}

/// Answers an assertion request with `assertion` (a compact JWT, copied) and
/// frees `completion`. A NULL, empty, non-UTF-8 or non-JWT `assertion` fails
/// the request with a clear error (and is reported here too); `completion`
/// is freed in every case except when it is NULL.
///
/// # Safety
/// `completion` is NULL or an unanswered completion from a callback;
/// `assertion` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_assertion_complete(
    completion: *mut paytrim_auth_assertion_completion,
    assertion: *const c_char,
) -> *mut paytrim_auth_error {
    run(|| {
        if completion.is_null() {
            return Err(Error::invalid_argument("completion is NULL"));
        }
        let completion = Box::from_raw(completion).inner;
        let text = match strings::arg(assertion, "assertion") {
            Ok(t) => t,
            Err(e) => {
                completion.fail(format!("the callback answered with an unusable assertion: {}", e.message()));
                return Err(e);
            }
        };
        if let Err(why) = crate::credentials::check_assertion_shape(text) {
            completion.fail(format!("the callback answered with an unusable assertion: {why}"));
            return Err(Error::invalid_argument(format!("assertion: {why}")));
        }
        completion.succeed(text);
        Ok(())
    })
}

/// Answers an assertion request with a failure: the token fetch fails with
/// `PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT` and a message that includes
/// `message` (NULL for none; keep secrets out of it). Frees `completion`.
///
/// # Safety
/// As for `paytrim_auth_assertion_complete`.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_assertion_fail(
    completion: *mut paytrim_auth_assertion_completion,
    message: *const c_char,
) -> *mut paytrim_auth_error {
    run(|| {
        if completion.is_null() {
            return Err(Error::invalid_argument("completion is NULL"));
        }
        let completion = Box::from_raw(completion).inner;
        let message = if message.is_null() {
            "no message".to_owned()
        } else {
            std::ffi::CStr::from_ptr(message).to_string_lossy().into_owned()
        };
        completion.fail(message);
        Ok(())
    })
}

/// A workload-identity credential: the client assertion is the federated
/// token in the file at `path` (as `AZURE_FEDERATED_TOKEN_FILE` names it),
/// re-read when the file changes and at least every 5 minutes. The file is
/// read now: unreadable or empty is an error naming the path.
///
/// # Safety
/// `path` is NULL or NUL-terminated; `out_credential` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_credential_from_federated_token_file(
    path: *const c_char,
    out_credential: *mut *mut paytrim_auth_credential,
) -> *mut paytrim_auth_error {
    new_credential(out_credential, || {
        let path = strings::arg(path, "path")?;
        Credential::federated_token_file(path)
    })
}

/// Sets a credential option. Certificate credentials: `signing_algorithm`
/// (`PS256`, the default, or `RS256`, which adds `x5t`) and
/// `send_certificate_chain` (`true`/`false`: send the chain as `x5c`, for
/// subject name + issuer registration). Other kinds have no options. An
/// unknown key or bad value is refused and changes nothing; clients already
/// made are not affected.
///
/// # Safety
/// `credential` is NULL or live and not used by another thread during the
/// call; `key` and `value` are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_credential_set(
    credential: *mut paytrim_auth_credential,
    key: *const c_char,
    value: *const c_char,
) -> *mut paytrim_auth_error {
    run(|| {
        let credential = credential.as_mut().ok_or_else(|| Error::invalid_argument("credential is NULL"))?;
        let key = strings::arg(key, "key")?;
        let value = strings::arg(value, "value")?;
        set_option(&mut credential.inner, key, value)
    })
}

/// Signs a client assertion with a certificate credential, as a fetch would
/// (fresh `jti`, 10 minutes of validity, the credential's algorithm and
/// options), for `client_id` and `audience` (a token endpoint). For an
/// assertion callback that signs with a certificate this library holds, and
/// for tests. Writes the assertion (owned; free with
/// `paytrim_auth_string_free`, which wipes it) to `*out_assertion`.
///
/// # Safety
/// `credential` is NULL or live; strings are NULL or NUL-terminated;
/// `out_assertion` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_credential_sign_assertion(
    credential: *const paytrim_auth_credential,
    client_id: *const c_char,
    audience: *const c_char,
    out_assertion: *mut *mut c_char,
) -> *mut paytrim_auth_error {
    run(|| {
        let out = strings::out(out_assertion, "out_assertion", ptr::null_mut())?;
        let credential = credential.as_ref().ok_or_else(|| Error::invalid_argument("credential is NULL"))?;
        let client_id = strings::arg(client_id, "client_id")?;
        let audience = strings::arg(audience, "audience")?;
        let Credential::Certificate(cert) = &credential.inner else {
            return Err(Error::invalid_argument(format!(
                "only a certificate credential signs assertions; this is a {} credential",
                credential.inner.kind()
            )));
        };
        let assertion = cert.sign_assertion(client_id, audience)?;
        *out = strings::owned_or_err(assertion.expose())?;
        Ok(())
    })
}

/// Sets one credential option (see `paytrim_auth_credential_set`; also used
/// by the JNI glue). Refused options change nothing.
pub(super) fn set_option(credential: &mut Credential, key: &str, value: &str) -> Result<(), Error> {
    let Credential::Certificate(cert) = &*credential else {
        return Err(Error::invalid_argument(format!(
            "credential option '{key}': a {} credential has no options",
            credential.kind()
        )));
    };
    let updated = match key {
        "signing_algorithm" => cert.clone().with_algorithm(SigningAlgorithm::parse(value)?),
        "send_certificate_chain" => {
            let on = crate::environment::parse_bool(value).ok_or_else(|| {
                Error::invalid_argument("credential option 'send_certificate_chain': must be true or false")
            })?;
            cert.clone().with_chain(on)
        }
        _ => {
            return Err(Error::invalid_argument(format!(
                "unknown credential option '{key}' (known: signing_algorithm, send_certificate_chain)"
            )))
        }
    };
    *credential = Credential::Certificate(updated);
    Ok(())
}

/// Frees a credential. NULL is accepted. Clients made from it keep working.
///
/// # Safety
/// `credential` is NULL or a credential from this library, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_credential_free(credential: *mut paytrim_auth_credential) {
    free_boxed(credential)
}

/// Creates a client for `client_id` with `credential` (not consumed: the
/// client keeps its own reference) and `config` (NULL for the defaults;
/// copied). Sends no request. Writes the new client to `*out_client`.
///
/// # Safety
/// `client_id` is NULL or NUL-terminated; `credential` and `config` are NULL
/// or live; `out_client` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_new_with_credential(
    client_id: *const c_char,
    credential: *const paytrim_auth_credential,
    config: *const paytrim_auth_config,
    out_client: *mut *mut paytrim_auth_client,
) -> *mut paytrim_auth_error {
    run(|| {
        let out = strings::out(out_client, "out_client", ptr::null_mut())?;
        let id = strings::arg(client_id, "client_id")?;
        let credential = credential.as_ref().ok_or_else(|| Error::invalid_argument("credential is NULL"))?;
        let client = Client::new(id, credential.inner.clone(), &config_or_default(config))?;
        *out = Box::into_raw(Box::new(paytrim_auth_client { inner: client }));
        Ok(())
    })
}

/// Creates a client from the environment: `PAYTRIM_*` variables first, then
/// `AZURE_*` (`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_CLIENT_SECRET`,
/// `AZURE_CLIENT_CERTIFICATE_PATH`, `AZURE_CLIENT_CERTIFICATE_PASSWORD`,
/// `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`, `AZURE_FEDERATED_TOKEN_FILE`,
/// `AZURE_AUTHORITY_HOST`), on top of `config` (NULL for the defaults; the
/// environment's tenant and authority replace its own). The credential is
/// chosen from what is set, never by trying; exactly one kind must be set.
/// Errors name the variables that are missing or conflict. Sends no request.
///
/// # Safety
/// `config` is NULL or live; `out_client` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_new_from_environment(
    config: *const paytrim_auth_config,
    out_client: *mut *mut paytrim_auth_client,
) -> *mut paytrim_auth_error {
    run(|| {
        let out = strings::out(out_client, "out_client", ptr::null_mut())?;
        let client = Client::from_environment(&config_or_default(config))?;
        *out = Box::into_raw(Box::new(paytrim_auth_client { inner: client }));
        Ok(())
    })
}

unsafe fn config_or_default(config: *const paytrim_auth_config) -> ClientConfig {
    config.as_ref().map(|c| c.inner.clone()).unwrap_or_default()
}

unsafe fn opt_arg<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>, Error> {
    if p.is_null() {
        Ok(None)
    } else {
        strings::arg(p, name).map(Some)
    }
}

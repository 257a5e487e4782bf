//! JNI glue for the Java wrapper's credentials (class
//! `com.paytrim.auth.CredentialBridge`): certificate, assertion provider,
//! federated token file, environment and managed identity. Like `jni.rs` it
//! only converts, checks and delegates to the Rust core, behind the same
//! panic boundary; clients it makes are ordinary `jni.rs` handles.
//!
//! Credential handles are `Box<Credential>` pointers carried as `long`; the
//! Java side frees each exactly once (`free`) right after making the client
//! (the client holds its own copy).
//!
//! Assertion providers: the core asks on a library fetch thread, attached to
//! the JVM as a daemon (as async results are delivered), by calling
//! `AssertionBridge.request(String clientId, String audience, long completion)`
//! on the Java object given to `assertionCallback`. Java answers exactly once,
//! now or later, from any thread, with `assertionComplete` or
//! `assertionFail` (the Java side guards the handle so that it is used once).
//! The fetch waits at most until its time budget ends, so a slow or silent
//! provider cannot deadlock anything.
//!
//! cbindgen:ignore

#![allow(non_snake_case)]

use super::jni::{attach_for_callbacks, cache, client_handle, config_from};
use super::jni_convert::{boundary, free_handle, into_handle, java_string, non_null, JResult};
use crate::client::Client;
use crate::credentials::{
    AssertionCallback, AssertionCompletion, CertificateCredential, Credential, ManagedIdentityId,
};
use crate::error::Error;
use jni::objects::{GlobalRef, JCharArray, JClass, JMethodID, JObject, JObjectArray, JString, JValue};
use jni::signature::{Primitive, ReturnType};
use jni::sys::jlong;
use jni::JNIEnv;
use once_cell::sync::OnceCell;
use zeroize::Zeroizing;

/// `void request(String clientId, String audience, long completion)` of
/// `com.paytrim.auth.AssertionBridge`, looked up once.
static REQUEST: OnceCell<(GlobalRef, JMethodID)> = OnceCell::new();
const REQUEST_SIG: &str = "(Ljava/lang/String;Ljava/lang/String;J)V";

fn credential_handle(c: Credential) -> jlong {
    into_handle(c)
}

fn credential_ref<'a>(handle: jlong) -> Result<&'a mut Credential, Error> {
    // SAFETY: the Java side passes only live handles from this module, from
    // one thread, and frees each once.
    unsafe { (handle as *mut Credential).as_mut() }.ok_or_else(|| Error::invalid_argument("credential handle is 0"))
}

/// A Java `char[]` password as zeroizing UTF-8 (null: none).
fn password(env: &mut JNIEnv, chars: &JCharArray) -> JResult<Option<Zeroizing<String>>> {
    if chars.is_null() {
        return Ok(None);
    }
    let n = env.get_array_length(chars)? as usize;
    let mut units = Zeroizing::new(vec![0u16; n]);
    env.get_char_array_region(chars, 0, &mut units)?;
    let text = String::from_utf16(&units).map_err(|_| Error::invalid_argument("password is not valid UTF-16"))?;
    Ok(Some(Zeroizing::new(text)))
}

/// `static native long secret(String clientSecret)`
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_CredentialBridge_secret<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    secret: JString<'local>,
) -> jlong {
    boundary(&mut env, 0, |env| {
        let c = Credential::client_secret(java_string(env, &secret, "clientSecret")?);
        c.check()?;
        Ok(credential_handle(c))
    })
}

/// `static native long certificateFile(String path, char[] password)`
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_CredentialBridge_certificateFile<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    path: JString<'local>,
    pw: JCharArray<'local>,
) -> jlong {
    boundary(&mut env, 0, |env| {
        let path = java_string(env, &path, "certificate path")?;
        let pw = password(env, &pw)?;
        Ok(credential_handle(Credential::certificate_file(path, pw.as_deref().map(String::as_str))?))
    })
}

/// `static native long certificatePem(String certPem, String keyPem, char[] password)`
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_CredentialBridge_certificatePem<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    cert_pem: JString<'local>,
    key_pem: JString<'local>,
    pw: JCharArray<'local>,
) -> jlong {
    boundary(&mut env, 0, |env| {
        let cert = java_string(env, &cert_pem, "certificatePem")?;
        let key = Zeroizing::new(java_string(env, &key_pem, "keyPem")?);
        let pw = password(env, &pw)?;
        let c = CertificateCredential::from_pem(cert.as_bytes(), key.as_bytes(), pw.as_deref().map(String::as_str))?;
        Ok(credential_handle(Credential::Certificate(c)))
    })
}

/// `static native long federatedTokenFile(String path)`
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_CredentialBridge_federatedTokenFile<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    path: JString<'local>,
) -> jlong {
    boundary(&mut env, 0, |env| {
        let path = java_string(env, &path, "federated token file")?;
        Ok(credential_handle(Credential::federated_token_file(path)?))
    })
}

/// `static native long assertionCallback(AssertionBridge bridge)`: a
/// credential whose assertions come from `bridge.request(...)`.
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_CredentialBridge_assertionCallback<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    bridge: JObject<'local>,
) -> jlong {
    boundary(&mut env, 0, |env| {
        non_null(&bridge, "assertion provider")?;
        cache()?;
        if REQUEST.get().is_none() {
            let class = env.get_object_class(&bridge)?;
            let method = env.get_method_id(&class, "request", REQUEST_SIG)?;
            let _ = REQUEST.set((env.new_global_ref(&class)?, method));
        }
        let bridge = env.new_global_ref(&bridge)?;
        let callback = AssertionCallback::new(move |request, completion| {
            // Never let a panic unwind into the fetch thread (the core turns
            // an unanswered completion into a clear error).
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                ask_java(&bridge, &request.client_id, &request.audience, completion)
            }));
        });
        Ok(credential_handle(Credential::AssertionCallback(callback)))
    })
}

/// Calls `bridge.request(clientId, audience, completion)` on this (library)
/// thread, attached to the JVM once, as a daemon.
fn ask_java(bridge: &GlobalRef, client_id: &str, audience: &str, completion: AssertionCompletion) {
    let (Some(c), Some((_, method))) = (cache().ok(), REQUEST.get()) else {
        completion.fail("the Java bridge is not initialized");
        return;
    };
    let Ok(mut env) = attach_for_callbacks(&c.vm) else {
        completion.fail("could not attach the fetch thread to the JVM");
        return;
    };
    let env: &mut JNIEnv = &mut env;
    if env.exception_check().unwrap_or(true) {
        completion.fail("a Java exception was pending on the fetch thread");
        return;
    }
    let handle = Box::into_raw(Box::new(completion));
    let called = env.with_local_frame(4, |env| -> JResult<()> {
        let id = env.new_string(client_id)?;
        let aud = env.new_string(audience)?;
        let args =
            [JValue::Object(&id).as_jni(), JValue::Object(&aud).as_jni(), JValue::Long(handle as jlong).as_jni()];
        // SAFETY: the method id was looked up on AssertionBridge with
        // REQUEST_SIG, `bridge` is an AssertionBridge, and `args` matches.
        unsafe { env.call_method_unchecked(bridge.as_obj(), *method, ReturnType::Primitive(Primitive::Void), &args)? };
        Ok(())
    });
    if called.is_err() && !env.exception_check().unwrap_or(false) {
        // The call never reached Java (a string could not be made): the
        // handle is still ours.
        // SAFETY: made above and not handed out.
        let completion = unsafe { Box::from_raw(handle) };
        completion.fail("could not call the Java assertion provider");
        return;
    }
    if env.exception_check().unwrap_or(false) {
        // AssertionBridge.request catches everything and owns the handle from
        // its first line; an exception here is an OutOfMemoryError or a
        // StackOverflowError. The fetch fails when its budget ends.
        let _ = env.exception_clear();
    }
}

fn take_completion(handle: jlong) -> Result<Box<AssertionCompletion>, Error> {
    if handle == 0 {
        return Err(Error::invalid_argument("completion handle is 0 (already answered)"));
    }
    // SAFETY: a handle made by `ask_java`, answered once (AssertionBridge
    // clears it atomically before calling).
    Ok(unsafe { Box::from_raw(handle as *mut AssertionCompletion) })
}

/// `static native void assertionComplete(long completion, String assertion)`:
/// answers one request; the core checks the shape and fails the fetch with a
/// clear error for a null or non-JWT answer.
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_CredentialBridge_assertionComplete<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    assertion: JString<'local>,
) {
    boundary(&mut env, (), |env| {
        let completion = take_completion(handle)?;
        if assertion.is_null() {
            completion.fail("the provider answered null");
            return Ok(());
        }
        match env.get_string(&assertion) {
            Ok(s) => completion.succeed(String::from(s)),
            Err(e) => {
                completion.fail("the provider's answer could not be read");
                return Err(e.into());
            }
        }
        Ok(())
    })
}

/// `static native void assertionFail(long completion, String message)`
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_CredentialBridge_assertionFail<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    message: JString<'local>,
) {
    boundary(&mut env, (), |env| {
        let completion = take_completion(handle)?;
        let text = if message.is_null() {
            "no message".to_owned()
        } else {
            env.get_string(&message).map(String::from).unwrap_or_else(|_| "unreadable message".to_owned())
        };
        completion.fail(text);
        Ok(())
    })
}

/// `static native void set(long credential, String key, String value)`:
/// `signing_algorithm`, `send_certificate_chain` (certificates only).
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_CredentialBridge_set<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    key: JString<'local>,
    value: JString<'local>,
) {
    boundary(&mut env, (), |env| {
        let credential = credential_ref(handle)?;
        let key = java_string(env, &key, "credential option key")?;
        let value = java_string(env, &value, "credential option value")?;
        super::credential::set_option(credential, &key, &value)?;
        Ok(())
    })
}

/// `static native void free(long credential)`: 0 is accepted.
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_CredentialBridge_free<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    boundary(&mut env, (), |_| {
        // SAFETY: a live handle from this module, freed once.
        unsafe { free_handle::<Credential>(handle) };
        Ok(())
    })
}

/// `static native long newClient(String clientId, long credential, String[] keys, String[] values)`:
/// a client handle for `NativeBridge` (the credential is not consumed).
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_CredentialBridge_newClient<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    client_id: JString<'local>,
    credential: jlong,
    keys: JObjectArray<'local>,
    values: JObjectArray<'local>,
) -> jlong {
    boundary(&mut env, 0, |env| {
        let id = java_string(env, &client_id, "clientId")?;
        let credential = credential_ref(credential)?.clone();
        let config = config_from(env, &keys, &values)?;
        Ok(client_handle(Client::new(&id, credential, &config)?))
    })
}

/// `static native long newClientFromEnvironment(String[] keys, String[] values)`
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_CredentialBridge_newClientFromEnvironment<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    keys: JObjectArray<'local>,
    values: JObjectArray<'local>,
) -> jlong {
    boundary(&mut env, 0, |env| {
        let config = config_from(env, &keys, &values)?;
        Ok(client_handle(Client::from_environment(&config)?))
    })
}

/// `static native long newManagedIdentityClient(String identity, String[] keys, String[] values)`:
/// `identity` null or `system` for the system-assigned identity, else
/// `client_id:…`, `object_id:…`, `resource_id:…` (see the C ABI).
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_CredentialBridge_newManagedIdentityClient<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    identity: JString<'local>,
    keys: JObjectArray<'local>,
    values: JObjectArray<'local>,
) -> jlong {
    boundary(&mut env, 0, |env| {
        let id = if identity.is_null() {
            ManagedIdentityId::SystemAssigned
        } else {
            ManagedIdentityId::parse(&java_string(env, &identity, "identity")?)?
        };
        let config = config_from(env, &keys, &values)?;
        Ok(client_handle(Client::managed_identity(id, &config)?))
    })
}

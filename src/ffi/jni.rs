//! JNI glue for the Java wrapper (bindings/java, class
//! `com.paytrim.auth.NativeBridge`). Like the C ABI it only converts, checks
//! and delegates to the Rust core (`Client`, `ClientConfig`, `Credential`,
//! `Error`). Every entry point runs behind a panic boundary; every failure
//! becomes a pending Java exception, never a crash or an unwind into the JVM.
//!
//! Handles are `Box<JniClient>` pointers carried as `long`. The Java side
//! guarantees that `freeClient` never races with a call using the handle (it
//! counts calls in flight and frees after the last one).
//!
//! Speed: the cache-hit path of `getToken` is one JNI call that returns the
//! token's Java `String` (made once per token and memoized on the client, so a
//! hit copies nothing) and writes the expiry into a caller-supplied `long[1]`;
//! classes and method ids are looked up once, in `init`.
//!
//! These are JNI exports (`extern "system"`, `Java_*`), not part of the C
//! ABI: cbindgen skips `extern "system"` functions and this module is excluded
//! from the header (checked by bindings/java's tests).
//!
//! cbindgen:ignore

#![allow(non_snake_case)]

use super::jni_convert::{
    boundary, free_handle, into_handle, java_string, new_exception, non_null, string_element, write_long_out, Failure,
    JResult,
};
use crate::client::Client;
use crate::config::ClientConfig;
use crate::credentials::Credential;
use crate::error::Error;
use crate::token::AccessToken;
use arc_swap::ArcSwapOption;
use jni::objects::{GlobalRef, JClass, JLongArray, JMethodID, JObject, JObjectArray, JStaticMethodID, JString, JValue};
use jni::signature::{Primitive, ReturnType};
use jni::sys::{jint, jlong, jstring};
use jni::{JNIEnv, JavaVM};
use once_cell::sync::OnceCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

/// Classes and method ids, looked up once by `NativeBridge.init`.
pub(super) struct Cache {
    pub(super) vm: JavaVM,
    /// `com.paytrim.auth.NativeBridge`
    bridge: GlobalRef,
    /// `static void asyncResult(Object future, String token, long expiresOnUnixMs, Throwable error)`
    async_result: JStaticMethodID,
    /// `static void logEvent(int level, String message)`
    log_event: JStaticMethodID,
    /// `com.paytrim.auth.PaytrimAuthException`
    pub(super) exception: GlobalRef,
    /// `PaytrimAuthException(int code, String message, boolean retryable, int httpStatus,
    ///  String oauthError, String oauthErrorDescription, int[] aadstsCodes, String traceId,
    ///  String correlationId, String clientRequestId, String timestamp, long retryAfterMs)`
    pub(super) exception_ctor: JMethodID,
}

static CACHE: OnceCell<Cache> = OnceCell::new();

/// What a Java `long` handle points to: the core client, plus the Java
/// string of the token most recently handed out, so that a cache hit returns
/// that same string (a new local reference; no copy, no UTF conversion).
pub(super) struct JniClient {
    pub(super) client: Client,
    memo: ArcSwapOption<Memo>,
}

struct Memo {
    /// The serial of the token the string was made from.
    serial: u64,
    /// A global reference to the Java string: one per token, not per call.
    string: GlobalRef,
}

const ASYNC_RESULT_SIG: &str = "(Ljava/lang/Object;Ljava/lang/String;JLjava/lang/Throwable;)V";
const LOG_EVENT_SIG: &str = "(ILjava/lang/String;)V";
const EXCEPTION_CTOR_SIG: &str = "(ILjava/lang/String;ZILjava/lang/String;Ljava/lang/String;[ILjava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;J)V";

pub(super) fn cache() -> Result<&'static Cache, Error> {
    CACHE
        .get()
        .ok_or_else(|| Error::internal("NativeBridge.init was not called; load the library through com.paytrim.auth"))
}

/// A Java string holding `s`. Tokens are checked on arrival to be printable
/// text, so this is almost always the ASCII fast path: one copy into a
/// buffer that is wiped afterwards, and one `NewStringUTF`.
pub(super) fn token_string<'local>(env: &JNIEnv<'local>, s: &str) -> JResult<JString<'local>> {
    if !s.is_ascii() || s.as_bytes().contains(&0) {
        // Modified UTF-8 re-encoding (rare: tokens are ASCII in practice).
        return Ok(env.new_string(s)?);
    }
    let mut buf = Vec::with_capacity(s.len() + 1);
    buf.extend_from_slice(s.as_bytes());
    buf.push(0);
    let raw = env.get_raw();
    // SAFETY: `raw` is this thread's live JNIEnv; `buf` is NUL-terminated
    // ASCII, which is valid modified UTF-8.
    let js = unsafe {
        let new_string_utf = (**raw).NewStringUTF.ok_or(jni::errors::Error::JNIEnvMethodNotFound("NewStringUTF"));
        new_string_utf.map(|f| f(raw, buf.as_ptr() as *const std::ffi::c_char))
    };
    // Wipe the copy (memset, kept by black_box; cheaper than volatile writes).
    buf.fill(0);
    std::hint::black_box(&buf);
    let js = js?;
    if js.is_null() {
        // OutOfMemoryError is pending.
        return Err(Failure::Jni(jni::errors::Error::NullPtr("NewStringUTF")));
    }
    // SAFETY: a fresh local reference to a java.lang.String.
    Ok(unsafe { JString::from_raw(js) })
}

pub(super) fn client_ref<'a>(handle: jlong) -> Result<&'a JniClient, Error> {
    // SAFETY: the Java side passes only live handles from `newClient`, never
    // concurrently with `freeClient`.
    unsafe { (handle as *const JniClient).as_ref() }
        .ok_or_else(|| Error::invalid_argument("client handle is 0 (closed)"))
}

/// Returns the token as a Java string and writes its expiry to
/// `expires_out[0]`. The string is made once per token and memoized on the
/// client; later calls return a new local reference to it.
fn token_out<'local>(
    env: &JNIEnv<'local>,
    jc: &JniClient,
    t: &AccessToken,
    expires_out: &JLongArray,
) -> JResult<jstring> {
    let memo = jc.memo.load();
    let s: JObject<'local> = match memo.as_deref() {
        Some(m) if m.serial == t.serial() => env.new_local_ref(m.string.as_obj())?,
        _ => {
            let s = token_string(env, t.secret())?;
            let string = env.new_global_ref(&s)?;
            jc.memo.store(Some(Arc::new(Memo { serial: t.serial(), string })));
            s.into()
        }
    };
    drop(memo);
    write_long_out(env, expires_out, t.expires_on_unix_ms())?;
    Ok(s.into_raw())
}

// ---------------------------------------------------------------- exports

/// `static native int abiVersion()`: the C ABI version this library implements.
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_abiVersion<'local>(
    _env: JNIEnv<'local>,
    _class: JClass<'local>,
) -> jint {
    super::version::PAYTRIM_AUTH_ABI_VERSION as jint
}

/// `static native String version()`
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_version<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
) -> jstring {
    boundary(&mut env, ptr::null_mut(), |env| Ok(env.new_string(crate::VERSION)?.into_raw()))
}

/// `static native void init(Class<?> bridge, Class<?> exceptionClass)`: caches
/// the classes and method ids the other calls use. Idempotent.
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_init<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    bridge: JClass<'local>,
    exception: JClass<'local>,
) {
    boundary(&mut env, (), |env| {
        if CACHE.get().is_some() {
            return Ok(());
        }
        non_null(&bridge, "init: class")?;
        non_null(&exception, "init: class")?;
        let async_result = env.get_static_method_id(&bridge, "asyncResult", ASYNC_RESULT_SIG)?;
        let log_event = env.get_static_method_id(&bridge, "logEvent", LOG_EVENT_SIG)?;
        let exception_ctor = env.get_method_id(&exception, "<init>", EXCEPTION_CTOR_SIG)?;
        let cache = Cache {
            vm: env.get_java_vm()?,
            bridge: env.new_global_ref(&bridge)?,
            async_result,
            log_event,
            exception: env.new_global_ref(&exception)?,
            exception_ctor,
        };
        let _ = CACHE.set(cache);
        Ok(())
    })
}

/// `static native long newClient(String clientId, String clientSecret, String[] keys, String[] values)`
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_newClient<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    client_id: JString<'local>,
    client_secret: JString<'local>,
    keys: JObjectArray<'local>,
    values: JObjectArray<'local>,
) -> jlong {
    boundary(&mut env, 0, |env| {
        let id = java_string(env, &client_id, "clientId")?;
        let secret = Credential::client_secret(java_string(env, &client_secret, "clientSecret")?);
        let config = config_from(env, &keys, &values)?;
        Ok(client_handle(Client::new(&id, secret, &config)?))
    })
}

/// The configuration named by the parallel arrays `keys` and `values`
/// (both null for the defaults).
pub(super) fn config_from(env: &mut JNIEnv, keys: &JObjectArray, values: &JObjectArray) -> JResult<ClientConfig> {
    let mut config = ClientConfig::default();
    if !keys.is_null() || !values.is_null() {
        if keys.is_null() || values.is_null() {
            return Err(Error::invalid_argument("options: keys and values must both be given").into());
        }
        let n = env.get_array_length(keys)?;
        if n != env.get_array_length(values)? {
            return Err(Error::invalid_argument("options: keys and values differ in length").into());
        }
        for i in 0..n {
            let key = string_element(env, keys, i, "option key")?;
            let value = string_element(env, values, i, "option value")?;
            config.set(&key, &value)?;
        }
    }
    Ok(config)
}

/// A new Java handle (`long`) owning `client`; freed by `freeClient`.
pub(super) fn client_handle(client: Client) -> jlong {
    into_handle(JniClient { client, memo: ArcSwapOption::empty() })
}

/// `static native void freeClient(long handle)`: 0 is accepted.
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_freeClient<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    boundary(&mut env, (), |_| {
        // SAFETY: a live handle from newClient, freed once (the Java side
        // takes it out of its state atomically before calling this).
        unsafe { free_handle::<JniClient>(handle) };
        Ok(())
    })
}

/// `static native String getToken(long handle, long[] expiresOut)`: blocks on a miss.
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_getToken<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    expires_out: JLongArray<'local>,
) -> jstring {
    boundary(&mut env, ptr::null_mut(), |env| {
        let jc = client_ref(handle)?;
        jc.client.with_token(|t| token_out(env, jc, t, &expires_out))?
    })
}

/// `static native String getCachedToken(long handle, long[] expiresOut)`:
/// never blocks; null when no valid token is cached.
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_getCachedToken<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    expires_out: JLongArray<'local>,
) -> jstring {
    boundary(&mut env, ptr::null_mut(), |env| {
        let jc = client_ref(handle)?;
        match jc.client.with_cached_token(|t| token_out(env, jc, t, &expires_out)) {
            Some(r) => r,
            None => Ok(ptr::null_mut()),
        }
    })
}

/// `static native String refreshToken(long handle, long[] expiresOut)`: force refresh.
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_refreshToken<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    expires_out: JLongArray<'local>,
) -> jstring {
    boundary(&mut env, ptr::null_mut(), |env| {
        let jc = client_ref(handle)?;
        jc.client.with_refreshed_token(|t| token_out(env, jc, t, &expires_out))?
    })
}

/// `static native String getTokenJson(long handle)`
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_getTokenJson<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jstring {
    boundary(&mut env, ptr::null_mut(), |env| {
        let json = client_ref(handle)?.client.with_token(|t| t.to_json())?;
        Ok(token_string(env, json.expose())?.into_raw())
    })
}

/// `static native String getCachedTokenJson(long handle)`: never blocks;
/// null when no valid token is cached (the virtual-thread path of `getTokenJson`).
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_getCachedTokenJson<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jstring {
    boundary(&mut env, ptr::null_mut(), |env| match client_ref(handle)?.client.with_cached_token(|t| t.to_json()) {
        Some(json) => Ok(token_string(env, json.expose())?.into_raw()),
        None => Ok(ptr::null_mut()),
    })
}

/// `static native void getTokenAsync(long handle, Object future)`: never
/// blocks on the network. `NativeBridge.asyncResult(future, ...)` is called
/// exactly once: inline on a cache hit or an immediate failure, else on the
/// library's fetch thread, attached to the JVM (once, as a daemon) for the
/// rest of its life.
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_getTokenAsync<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    future: JObject<'local>,
) {
    start_async(&mut env, handle, future, false)
}

/// `static native void refreshTokenAsync(long handle, Object future)`: the
/// non-blocking force refresh; completes like `getTokenAsync`.
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_refreshTokenAsync<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    future: JObject<'local>,
) {
    start_async(&mut env, handle, future, true)
}

fn start_async(env: &mut JNIEnv, handle: jlong, future: JObject, refresh: bool) {
    boundary(env, (), |env| start_async_on(env, &client_ref(handle)?.client, &future, refresh))
}

/// Starts `client`'s async token call completing `future` (see `getTokenAsync`).
pub(super) fn start_async_on(env: &mut JNIEnv, client: &Client, future: &JObject, refresh: bool) -> JResult<()> {
    {
        non_null(future, "future")?;
        cache()?;
        let future = env.new_global_ref(future)?;
        let deliver: crate::flight::Callback = Box::new(move |result| {
            // Never let a panic unwind into the core's fetch thread.
            let _ = catch_unwind(AssertUnwindSafe(|| complete_async(future, result)));
        });
        if refresh {
            client.force_refresh_async(deliver);
        } else {
            client.token_async(deliver);
        }
        Ok(())
    }
}

/// Hands an async result to Java: calls `NativeBridge.asyncResult` on this
/// thread, attaching it to the JVM first if it is a library fetch thread.
/// The global reference is released while attached.
fn complete_async(future: GlobalRef, result: Result<&AccessToken, &Error>) {
    let Some(c) = CACHE.get() else { return };
    let Ok(mut env) = attach_for_callbacks(&c.vm) else {
        // The JVM is going away; nothing can observe the future any more.
        std::mem::forget(future);
        return;
    };
    let env: &mut JNIEnv = &mut env;
    let call = |env: &mut JNIEnv| -> JResult<()> {
        env.with_local_frame(8, |env| -> JResult<()> {
            let (token, expires, error): (JObject, jlong, JObject) = match result {
                Ok(t) => (token_string(env, t.secret())?.into(), t.expires_on_unix_ms(), JObject::null()),
                Err(e) => (JObject::null(), 0, new_exception(env, e)?.into()),
            };
            let args = [
                JValue::Object(future.as_obj()).as_jni(),
                JValue::Object(&token).as_jni(),
                JValue::Long(expires).as_jni(),
                JValue::Object(&error).as_jni(),
            ];
            let class: &JClass = c.bridge.as_obj().into();
            // SAFETY: the method id was looked up on this class with
            // ASYNC_RESULT_SIG, and `args` matches it.
            unsafe {
                env.call_static_method_unchecked(class, c.async_result, ReturnType::Primitive(Primitive::Void), &args)?;
            }
            Ok(())
        })
    };
    let _ = call(env);
    if env.exception_check().unwrap_or(false) {
        // asyncResult catches everything; an exception here is an OOM or a
        // bug. The future stays incomplete rather than the thread dying.
        let _ = env.exception_describe();
        let _ = env.exception_clear();
    }
    drop(future);
}

// ---------------------------------------------------------------- logging

/// `static native void setLogLevel(int level)`: the core's log events at
/// `level` (1 error .. 5 trace) and more severe go to `NativeBridge.logEvent`
/// (which queues them for the user's logger); 0 turns logging off.
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_setLogLevel<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    level: jint,
) {
    boundary(&mut env, (), |_| {
        if level == 0 {
            crate::log::set_sink(crate::log::Level::Error, None);
            return Ok(());
        }
        let level = u32::try_from(level)
            .ok()
            .and_then(crate::log::Level::from_u32)
            .ok_or_else(|| Error::invalid_argument(format!("log level {level} is not 0 (off) or 1..5")))?;
        cache()?;
        crate::log::set_sink(level, Some(Arc::new(log_to_java)));
        Ok(())
    })
}

/// `static native void setLogPii(boolean enabled)`
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_setLogPii<'local>(
    _env: JNIEnv<'local>,
    _class: JClass<'local>,
    enabled: jni::sys::jboolean,
) {
    crate::log::set_include_pii(enabled != 0);
}

/// The log sink: hands one event to `NativeBridge.logEvent` on this thread
/// (a Java thread inside a call, or a library thread, attached once as a
/// daemon). The Java side only queues it, so the library never waits for the
/// user's logger. Never lets a Java exception or a panic escape.
fn log_to_java(level: crate::log::Level, message: &str) {
    let Some(c) = CACHE.get() else { return };
    let Ok(mut env) = attach_for_callbacks(&c.vm) else { return };
    let env: &mut JNIEnv = &mut env;
    if env.exception_check().unwrap_or(true) {
        // A Java exception is pending on this thread (an entry point failing): calling
        // into Java now is not allowed. Drop the event rather than the exception.
        return;
    }
    let _ = env.with_local_frame(4, |env| -> JResult<()> {
        let text = env.new_string(message)?;
        let args = [JValue::Int(level.as_u32() as jint).as_jni(), JValue::Object(&text).as_jni()];
        let class: &JClass = c.bridge.as_obj().into();
        // SAFETY: the method id was looked up on this class with LOG_EVENT_SIG, and
        // `args` matches it.
        unsafe {
            env.call_static_method_unchecked(class, c.log_event, ReturnType::Primitive(Primitive::Void), &args)?;
        }
        Ok(())
    });
    if env.exception_check().unwrap_or(false) {
        // logEvent catches everything; this is an OutOfMemoryError. The caller's own
        // work must not see it.
        let _ = env.exception_clear();
    }
}

/// The JNIEnv of this thread, attaching it once for the rest of its life.
///
/// A library thread (a fetch thread, or a background refresh) may deliver
/// many callbacks: one per waiting future. Attaching and detaching around
/// each of them costs a JVM thread creation and teardown every time (with
/// 1,250 futures per fetch, most of a second), so the thread stays attached
/// until it ends. It is attached as a daemon, so it never holds up JVM
/// exit. The jni crate keeps the attachment in a thread-local guard whose
/// destructor calls `DetachCurrentThread` when the thread exits (library
/// threads end when their fetch does), so an exited thread never stays
/// registered with the JVM. A thread that is already attached (a Java
/// thread completing a future inline) is left as it is.
pub(super) fn attach_for_callbacks(vm: &JavaVM) -> jni::errors::Result<JNIEnv<'_>> {
    vm.attach_current_thread_as_daemon()
}

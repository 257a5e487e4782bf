//! What every JNI entry point (`jni.rs`, `jni_credentials.rs`,
//! `jni_scopes.rs`) converts the same way: Java arguments in (strings,
//! `String[]` elements, objects that must not be null), results out (`long`
//! handles, `long[1]` out-parameters), and failures out, as a pending
//! `PaytrimAuthException`, behind the panic boundary each entry point runs in.
//!
//! cbindgen:ignore

use super::jni::cache;
use crate::error::Error;
use jni::objects::{JClass, JLongArray, JObject, JObjectArray, JString, JThrowable, JValue};
use jni::sys::{jint, jlong, jsize, jvalue};
use jni::JNIEnv;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Why an entry point failed.
pub(super) enum Failure {
    /// A core error: thrown as `PaytrimAuthException`.
    Core(Error),
    /// A JNI call failed; usually a Java exception is already pending.
    Jni(jni::errors::Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

impl From<jni::errors::Error> for Failure {
    fn from(e: jni::errors::Error) -> Self {
        Failure::Jni(e)
    }
}

pub(super) type JResult<T> = Result<T, Failure>;

/// The panic boundary of every entry point: runs `body`; on failure or panic
/// leaves a Java exception pending and returns `fallback`.
pub(super) fn boundary<'local, T>(
    env: &mut JNIEnv<'local>,
    fallback: T,
    body: impl FnOnce(&mut JNIEnv<'local>) -> JResult<T>,
) -> T {
    let outcome = catch_unwind(AssertUnwindSafe(|| crate::panics::silently(|| body(env))));
    match outcome {
        Ok(Ok(v)) => v,
        Ok(Err(Failure::Core(e))) => {
            throw_error(env, &e);
            fallback
        }
        Ok(Err(Failure::Jni(e))) => {
            if !env.exception_check().unwrap_or(true) {
                throw_error(env, &Error::internal(format!("JNI call failed: {e}")));
            }
            fallback
        }
        Err(_) => {
            if !env.exception_check().unwrap_or(true) {
                throw_error(
                    env,
                    &Error::internal("internal error (caught panic in the JNI glue); please report this bug"),
                );
            }
            fallback
        }
    }
}

/// Leaves a `PaytrimAuthException` for `e` pending (or, if even that fails,
/// whatever exception the failing JNI call left, or a `RuntimeException`).
fn throw_error(env: &mut JNIEnv, e: &Error) {
    let thrown = new_exception(env, e).and_then(|ex| env.throw(ex).map_err(Failure::Jni));
    if thrown.is_err() && !env.exception_check().unwrap_or(true) {
        let _ = env.throw_new("java/lang/RuntimeException", e.message());
    }
}

fn opt_string<'local>(env: &JNIEnv<'local>, s: Option<&str>) -> JResult<JObject<'local>> {
    match s {
        Some(s) => Ok(env.new_string(s)?.into()),
        None => Ok(JObject::null()),
    }
}

/// A new `PaytrimAuthException` carrying every detail of `e`.
pub(super) fn new_exception<'local>(env: &mut JNIEnv<'local>, e: &Error) -> JResult<JThrowable<'local>> {
    let c = cache()?;
    let message = env.new_string(e.message())?;
    let oauth_error = opt_string(env, e.oauth_error())?;
    let description = opt_string(env, e.oauth().error_description.as_deref())?;
    let codes = e.aadsts_codes();
    let aadsts = env.new_int_array(codes.len() as jint)?;
    let codes_i32: Vec<jint> = codes.iter().map(|&n| n as jint).collect();
    env.set_int_array_region(&aadsts, 0, &codes_i32)?;
    let trace = opt_string(env, e.trace_id())?;
    let correlation = opt_string(env, e.correlation_id())?;
    let request_id = opt_string(env, e.client_request_id())?;
    let timestamp = opt_string(env, e.oauth().timestamp.as_deref())?;
    let retry_after_ms: jlong = e.retry_after().map(|d| d.as_millis().min(i64::MAX as u128) as jlong).unwrap_or(-1);
    let args: [jvalue; 12] = [
        JValue::Int(e.code().as_u32() as jint).as_jni(),
        JValue::Object(&message).as_jni(),
        JValue::Bool(e.is_retryable() as u8).as_jni(),
        JValue::Int(e.http_status().map(jint::from).unwrap_or(0)).as_jni(),
        JValue::Object(&oauth_error).as_jni(),
        JValue::Object(&description).as_jni(),
        JValue::Object(&aadsts).as_jni(),
        JValue::Object(&trace).as_jni(),
        JValue::Object(&correlation).as_jni(),
        JValue::Object(&request_id).as_jni(),
        JValue::Object(&timestamp).as_jni(),
        JValue::Long(retry_after_ms).as_jni(),
    ];
    let class: &JClass = c.exception.as_obj().into();
    // SAFETY: the constructor id was looked up on this class with EXCEPTION_CTOR_SIG,
    // and `args` matches that signature.
    let obj = unsafe { env.new_object_unchecked(class, c.exception_ctor, &args)? };
    Ok(JThrowable::from(obj))
}

/// An invalid-argument failure ("`what` is null") when `obj` is Java null.
pub(super) fn non_null(obj: &JObject, what: &str) -> JResult<()> {
    if obj.is_null() {
        return Err(Error::invalid_argument(format!("{what} is null")).into());
    }
    Ok(())
}

/// The Java string argument `s` (`what` names it in errors; null is one).
pub(super) fn java_string(env: &mut JNIEnv, s: &JString, what: &str) -> JResult<String> {
    non_null(s, what)?;
    Ok(env.get_string(s)?.into())
}

/// Element `i` of the `String[]` argument `array`, as `java_string` reads
/// it; its local reference is released, so a long array cannot exhaust the
/// local frame.
pub(super) fn string_element(env: &mut JNIEnv, array: &JObjectArray, i: jsize, what: &str) -> JResult<String> {
    let s = JString::from(env.get_object_array_element(array, i)?);
    let text = java_string(env, &s, what)?;
    env.delete_local_ref(s)?;
    Ok(text)
}

/// Writes `value` to the out-parameter `out[0]`; a null `out` (the caller
/// does not want it) is skipped.
#[inline]
pub(super) fn write_long_out(env: &JNIEnv, out: &JLongArray, value: jlong) -> JResult<()> {
    if !out.is_null() {
        env.set_long_array_region(out, 0, &[value])?;
    }
    Ok(())
}

/// A Java `long` handle owning `value`; freed with `free_handle::<T>`.
pub(super) fn into_handle<T>(value: T) -> jlong {
    Box::into_raw(Box::new(value)) as jlong
}

/// Frees the `T` behind `handle`; 0 is accepted.
///
/// # Safety
/// `handle` is 0 or comes from `into_handle::<T>`, is freed once, and no
/// other call is using it.
pub(super) unsafe fn free_handle<T>(handle: jlong) {
    if handle != 0 {
        drop(Box::from_raw(handle as *mut T));
    }
}

//! JNI exports for per-call scopes (`NativeBridge.*ForScopes`): the token
//! getters for a scope set named per call, as `String[]` (each element one
//! scope, checked one by one so errors name the bad one).

use super::client::Which;
use super::jni::{client_ref, start_async_on, token_string};
use super::jni_convert::{boundary, non_null, string_element, write_long_out, JResult};
use crate::client::Client;
use crate::scopes::ScopeSet;
use crate::token::AccessToken;
use jni::objects::{JClass, JLongArray, JObject, JObjectArray};
use jni::sys::{jlong, jstring};
use jni::JNIEnv;
use std::ptr;

/// The client of `handle` for the scope set `scopes` names.
fn scoped(env: &mut JNIEnv, handle: jlong, scopes: &JObjectArray) -> JResult<Client> {
    let client = &client_ref(handle)?.client;
    non_null(scopes, "scopes")?;
    let n = env.get_array_length(scopes)?;
    let mut list = Vec::with_capacity(n as usize);
    for i in 0..n {
        list.push(string_element(env, scopes, i, &format!("scope {i}"))?);
    }
    Ok(client.for_scope_set(&ScopeSet::new(&list)?)?)
}

/// The token as a new Java string (not memoized: the client's memo stays
/// with its configured scopes) and its expiry in `expires_out[0]`.
fn token_out(env: &JNIEnv, t: &AccessToken, expires_out: &JLongArray) -> JResult<jstring> {
    let s = token_string(env, t.secret())?;
    write_long_out(env, expires_out, t.expires_on_unix_ms())?;
    Ok(s.into_raw())
}

/// The body of the scoped getters: the token `which` names for the scope set
/// `scopes` (null when `Cached` finds none), its expiry in `expires_out[0]`.
fn scoped_token(
    env: &mut JNIEnv,
    handle: jlong,
    scopes: &JObjectArray,
    expires_out: &JLongArray,
    which: Which,
) -> jstring {
    boundary(env, ptr::null_mut(), |env| {
        let client = scoped(env, handle, scopes)?;
        let out = |t: &AccessToken| token_out(env, t, expires_out);
        match which {
            Which::Valid => client.with_token(out)?,
            Which::Cached => client.with_cached_token(out).unwrap_or(Ok(ptr::null_mut())),
            Which::Refreshed => client.with_refreshed_token(out)?,
        }
    })
}

/// The body of the scoped async getters: starts the call completing `future`
/// (see `getTokenAsync`).
fn scoped_async(env: &mut JNIEnv, handle: jlong, scopes: &JObjectArray, future: &JObject, refresh: bool) {
    boundary(env, (), |env| {
        let client = scoped(env, handle, scopes)?;
        start_async_on(env, &client, future, refresh)
    })
}

/// `static native String getTokenForScopes(long handle, String[] scopes, long[] expiresOut)`
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_getTokenForScopes<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    scopes: JObjectArray<'local>,
    expires_out: JLongArray<'local>,
) -> jstring {
    scoped_token(&mut env, handle, &scopes, &expires_out, Which::Valid)
}

/// `static native String getCachedTokenForScopes(long handle, String[] scopes, long[] expiresOut)`:
/// never blocks; null when that scope set has no valid cached token.
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_getCachedTokenForScopes<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    scopes: JObjectArray<'local>,
    expires_out: JLongArray<'local>,
) -> jstring {
    scoped_token(&mut env, handle, &scopes, &expires_out, Which::Cached)
}

/// `static native String refreshTokenForScopes(long handle, String[] scopes, long[] expiresOut)`
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_refreshTokenForScopes<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    scopes: JObjectArray<'local>,
    expires_out: JLongArray<'local>,
) -> jstring {
    scoped_token(&mut env, handle, &scopes, &expires_out, Which::Refreshed)
}

/// `static native void getTokenForScopesAsync(long handle, String[] scopes, Object future)`:
/// completes like `getTokenAsync`.
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_getTokenForScopesAsync<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    scopes: JObjectArray<'local>,
    future: JObject<'local>,
) {
    scoped_async(&mut env, handle, &scopes, &future, false)
}

/// `static native void refreshTokenForScopesAsync(long handle, String[] scopes, Object future)`
#[no_mangle]
pub extern "system" fn Java_com_paytrim_auth_NativeBridge_refreshTokenForScopesAsync<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    scopes: JObjectArray<'local>,
    future: JObject<'local>,
) {
    scoped_async(&mut env, handle, &scopes, &future, true)
}

//! `paytrim_auth_client_new_managed_identity`: a client for an Azure managed
//! identity (IMDS on VMs, the App Service endpoint on App Service, Functions
//! and Container Apps). Only converts and delegates to
//! `Client::managed_identity`.

use super::boundary::run;
use super::client::paytrim_auth_client;
use super::config::paytrim_auth_config;
use super::error::paytrim_auth_error;
use super::strings;
use crate::client::Client;
use crate::config::ClientConfig;
use crate::credentials::ManagedIdentityId;
use std::ffi::c_char;
use std::ptr;

/// Creates a client that gets its tokens from an Azure managed identity: no
/// client id or secret. `identity` is NULL or `"system"` for the
/// system-assigned identity, or a user-assigned one as `"client_id:GUID"`
/// (or a bare GUID), `"object_id:GUID"` or
/// `"resource_id:/subscriptions/.../userAssignedIdentities/NAME"`.
///
/// `config` (NULL for the defaults; copied) names the resource through its one
/// `scope` (`https://management.azure.com/.default` asks for
/// `https://management.azure.com`; several scopes are refused). The endpoint
/// is config key `identity_endpoint` (+ `identity_header`), else
/// `imds_endpoint`, else the variables Azure sets (`IDENTITY_ENDPOINT` +
/// `IDENTITY_HEADER`, then `IMDS_ENDPOINT`), else IMDS at
/// `http://169.254.169.254`; it is chosen here, once. Sends no request. The
/// client shares the process-wide cache, single flight and background
/// refresh; free it with `paytrim_auth_client_free`.
///
/// # Safety
/// `identity` is NULL or NUL-terminated; `config` is NULL or live;
/// `out_client` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paytrim_auth_client_new_managed_identity(
    identity: *const c_char,
    config: *const paytrim_auth_config,
    out_client: *mut *mut paytrim_auth_client,
) -> *mut paytrim_auth_error {
    run(|| {
        let out = strings::out(out_client, "out_client", ptr::null_mut())?;
        let id = if identity.is_null() {
            ManagedIdentityId::SystemAssigned
        } else {
            ManagedIdentityId::parse(strings::arg(identity, "identity")?)?
        };
        let default;
        let cfg = match config.as_ref() {
            Some(c) => &c.inner,
            None => {
                default = ClientConfig::default();
                &default
            }
        };
        let client = Client::managed_identity(id, cfg)?;
        *out = paytrim_auth_client::boxed(client);
        Ok(())
    })
}

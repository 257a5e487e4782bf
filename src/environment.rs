//! A client configured from the environment: `PAYTRIM_*` variables first,
//! then Azure's conventions (`AZURE_*`, as azure-identity's
//! EnvironmentCredential and the AKS workload-identity webhook set them).
//!
//! The credential is chosen from what is set, never by trying one after
//! another over the network: if any `PAYTRIM_` credential variable is set,
//! only the `PAYTRIM_` ones are considered, else only the `AZURE_` ones; of
//! those exactly one kind must be set. Every error names the variables that
//! are missing or conflict. See the README's table.

use crate::config::ClientConfig;
use crate::credentials::{CertificateCredential, Credential, ManagedIdentityId};
use crate::error::Error;

/// Variables read, in the README's order (for docs and tests).
pub const VARIABLES: &[&str] = &[
    "PAYTRIM_CLIENT_ID",
    "PAYTRIM_TENANT_ID",
    "PAYTRIM_AUTHORITY_HOST",
    "PAYTRIM_CLIENT_SECRET",
    "PAYTRIM_CLIENT_CERTIFICATE_PATH",
    "PAYTRIM_CLIENT_CERTIFICATE_PASSWORD",
    "PAYTRIM_CLIENT_SEND_CERTIFICATE_CHAIN",
    "PAYTRIM_FEDERATED_TOKEN_FILE",
    "PAYTRIM_MANAGED_IDENTITY",
    "PAYTRIM_SCOPE",
    "PAYTRIM_TOKEN_URL",
    "PAYTRIM_CA_FILE",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_AUTHORITY_HOST",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
    "AZURE_FEDERATED_TOKEN_FILE",
];

/// The credential variables, by kind (suffix after `PAYTRIM_`/`AZURE_`).
/// Managed identity is asked for explicitly, with `PAYTRIM_MANAGED_IDENTITY`
/// (Azure's conventions have no variable for it: azure-identity probes).
const CREDENTIAL_SUFFIXES: &[&str] =
    &["CLIENT_SECRET", "CLIENT_CERTIFICATE_PATH", "FEDERATED_TOKEN_FILE", "MANAGED_IDENTITY"];

/// What the environment asks for.
#[derive(Debug)]
pub struct FromEnvironment {
    pub client_id: String,
    pub credential: Credential,
    pub config: ClientConfig,
}

/// Reads the process environment on top of `base` (tenant, authority, scope,
/// token URL and CA file from the environment replace `base`'s).
pub fn from_environment(base: &ClientConfig) -> Result<FromEnvironment, Error> {
    resolve(base, &|name| std::env::var(name).ok())
}

/// [`from_environment`] with an injectable environment (tests).
pub fn resolve(base: &ClientConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<FromEnvironment, Error> {
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    // PAYTRIM_X, else AZURE_X: the value and the name it came from.
    let either = |suffix: &str| -> Option<(String, String)> {
        let p = format!("PAYTRIM_{suffix}");
        let a = format!("AZURE_{suffix}");
        get(&p).map(|v| (p, v)).or_else(|| get(&a).map(|v| (a, v)))
    };
    let bad = |name: &str, why: String| Error::invalid_argument(format!("environment variable {name}: {why}"));

    let mut config = base.clone();
    if let Some((name, v)) = either("AUTHORITY_HOST") {
        let v = v.trim();
        let url = if v.contains("://") { v.to_owned() } else { format!("https://{v}") };
        config.set("authority_host", &url).map_err(|e| bad(&name, e.message().to_owned()))?;
    }
    if let Some((name, v)) = either("TENANT_ID") {
        config.set("tenant", &v).map_err(|e| bad(&name, e.message().to_owned()))?;
    }
    for (var, key) in [("PAYTRIM_SCOPE", "scope"), ("PAYTRIM_TOKEN_URL", "token_url"), ("PAYTRIM_CA_FILE", "ca_file")] {
        if let Some(v) = get(var) {
            config.set(key, &v).map_err(|e| bad(var, e.message().to_owned()))?;
        }
    }

    let family =
        if CREDENTIAL_SUFFIXES.iter().any(|s| get(&format!("PAYTRIM_{s}")).is_some()) { "PAYTRIM" } else { "AZURE" };
    let var = |suffix: &str| format!("{family}_{suffix}");
    let set: Vec<String> = CREDENTIAL_SUFFIXES.iter().map(|s| var(s)).filter(|n| get(n).is_some()).collect();
    let managed = get("PAYTRIM_MANAGED_IDENTITY").filter(|_| family == "PAYTRIM");

    let mut missing = Vec::new();
    let client_id = either("CLIENT_ID").map(|(_, v)| v.trim().to_owned());
    if client_id.is_none() && managed.is_none() {
        missing.push("PAYTRIM_CLIENT_ID (or AZURE_CLIENT_ID)".to_owned());
    }
    if config.is_tenantless() && either("TENANT_ID").is_none() && managed.is_none() {
        missing.push("PAYTRIM_TENANT_ID (or AZURE_TENANT_ID)".to_owned());
    }
    if set.is_empty() {
        missing.push(
            "a credential: one of PAYTRIM_CLIENT_SECRET, PAYTRIM_CLIENT_CERTIFICATE_PATH, \
             PAYTRIM_FEDERATED_TOKEN_FILE, PAYTRIM_MANAGED_IDENTITY (or AZURE_CLIENT_SECRET, \
             AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE)"
                .to_owned(),
        );
    }
    if set.len() > 1 {
        return Err(Error::invalid_argument(format!(
            "conflicting credentials in the environment: {} are all set; set exactly one",
            set.join(" and ")
        )));
    }
    let cert_path = get(&var("CLIENT_CERTIFICATE_PATH"));
    for extra in ["CLIENT_CERTIFICATE_PASSWORD", "CLIENT_SEND_CERTIFICATE_CHAIN"] {
        if get(&var(extra)).is_some() && cert_path.is_none() && !set.is_empty() {
            return Err(Error::invalid_argument(format!(
                "environment variable {} is set, but {} is not (it applies to a certificate only)",
                var(extra),
                var("CLIENT_CERTIFICATE_PATH")
            )));
        }
    }
    if !missing.is_empty() {
        return Err(Error::invalid_argument(format!(
            "cannot configure a client from the environment; missing: {}",
            missing.join("; ")
        )));
    }
    if let Some(text) = managed {
        let id =
            ManagedIdentityId::parse(&text).map_err(|e| bad("PAYTRIM_MANAGED_IDENTITY", e.message().to_owned()))?;
        return Ok(FromEnvironment { client_id: id.to_string(), credential: Credential::managed_identity(id), config });
    }
    let client_id = client_id.expect("checked above");

    let credential = if let Some(secret) = get(&var("CLIENT_SECRET")) {
        Credential::client_secret(secret)
    } else if let Some(path) = cert_path {
        let password = get(&var("CLIENT_CERTIFICATE_PASSWORD")).map(zeroize::Zeroizing::new);
        let send_chain = match get(&var("CLIENT_SEND_CERTIFICATE_CHAIN")) {
            None => false,
            Some(v) => parse_bool(&v).ok_or_else(|| {
                bad(&var("CLIENT_SEND_CERTIFICATE_CHAIN"), "must be true or false (or 1 or 0)".to_owned())
            })?,
        };
        let cert = CertificateCredential::from_file(path.trim(), password.as_ref().map(|p| p.as_str()))
            .map_err(|e| bad(&var("CLIENT_CERTIFICATE_PATH"), e.message().to_owned()))?;
        Credential::Certificate(cert.with_chain(send_chain))
    } else {
        let path = get(&var("FEDERATED_TOKEN_FILE")).expect("one credential is set");
        Credential::federated_token_file(path.trim())
            .map_err(|e| bad(&var("FEDERATED_TOKEN_FILE"), e.message().to_owned()))?
    };
    Ok(FromEnvironment { client_id, credential, config })
}

pub(crate) fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(vars: &[(&str, &str)]) -> Result<FromEnvironment, Error> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        resolve(&ClientConfig::default(), &|k| map.get(k).cloned())
    }

    #[test]
    fn secret_from_either_family_with_paytrim_first() {
        let r = run(&[("AZURE_CLIENT_ID", "a"), ("AZURE_TENANT_ID", "t1"), ("AZURE_CLIENT_SECRET", "s")]).unwrap();
        assert_eq!(r.client_id, "a");
        assert_eq!(r.config.tenant, "t1");
        assert_eq!(r.credential.kind(), "client_secret");
        let r = run(&[
            ("PAYTRIM_CLIENT_ID", "p"),
            ("AZURE_CLIENT_ID", "a"),
            ("PAYTRIM_TENANT_ID", "t2"),
            ("AZURE_TENANT_ID", "t1"),
            ("PAYTRIM_CLIENT_SECRET", "s"),
            // Set by a platform; ignored because a PAYTRIM_ credential is set.
            ("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent"),
            ("AZURE_AUTHORITY_HOST", "login.microsoftonline.us"),
        ])
        .unwrap();
        assert_eq!((r.client_id.as_str(), r.config.tenant.as_str()), ("p", "t2"));
        assert_eq!(r.config.authority_host, "https://login.microsoftonline.us");
    }

    #[test]
    fn managed_identity_is_asked_for_explicitly() {
        let r = run(&[("PAYTRIM_MANAGED_IDENTITY", "system"), ("AZURE_CLIENT_ID", "ignored")]).unwrap();
        assert_eq!(r.credential.kind(), "managed_identity");
        let r = run(&[("PAYTRIM_MANAGED_IDENTITY", "11111111-2222-3333-4444-555555555555")]).unwrap();
        assert!(format!("{:?}", r.credential).contains("11111111-2222-3333-4444-555555555555"));
        let e = run(&[("PAYTRIM_MANAGED_IDENTITY", "sys"), ("PAYTRIM_CLIENT_ID", "x")]).unwrap_err();
        assert!(e.message().contains("PAYTRIM_MANAGED_IDENTITY") && e.message().contains("not understood"));
        let e = run(&[("PAYTRIM_MANAGED_IDENTITY", "system"), ("PAYTRIM_CLIENT_SECRET", "s")]).unwrap_err();
        assert!(e.message().contains("PAYTRIM_CLIENT_SECRET and PAYTRIM_MANAGED_IDENTITY"), "{}", e.message());
        // Set by the platform, but not asked for: not managed identity.
        let e = run(&[("IDENTITY_ENDPOINT", "http://127.0.0.1:1/x")]).unwrap_err();
        assert!(e.message().contains("missing"), "{}", e.message());
    }

    #[test]
    fn errors_name_the_missing_and_conflicting_variables() {
        let e = run(&[]).unwrap_err();
        for v in ["PAYTRIM_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE"] {
            assert!(e.message().contains(v), "{v}: {}", e.message());
        }
        let e = run(&[("AZURE_CLIENT_SECRET", "s"), ("AZURE_TENANT_ID", "t")]).unwrap_err();
        assert!(e.message().contains("missing: PAYTRIM_CLIENT_ID (or AZURE_CLIENT_ID)"), "{}", e.message());
        assert!(!e.message().contains("TENANT"), "{}", e.message());
        let e = run(&[
            ("AZURE_CLIENT_ID", "a"),
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_SECRET", "s"),
            ("AZURE_CLIENT_CERTIFICATE_PATH", "/x.pem"),
        ])
        .unwrap_err();
        assert!(
            e.message().contains("AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH are all set"),
            "{}",
            e.message()
        );
        assert!(!e.message().contains("\"s\""));
        let e = run(&[
            ("AZURE_CLIENT_ID", "a"),
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_SECRET", "s"),
            ("AZURE_CLIENT_CERTIFICATE_PASSWORD", "pw"),
        ])
        .unwrap_err();
        assert!(e.message().contains("AZURE_CLIENT_CERTIFICATE_PASSWORD is set, but AZURE_CLIENT_CERTIFICATE_PATH"));
        let e = run(&[("AZURE_CLIENT_ID", "a"), ("AZURE_TENANT_ID", "t"), ("AZURE_FEDERATED_TOKEN_FILE", "/nope")])
            .unwrap_err();
        assert!(e.message().contains("AZURE_FEDERATED_TOKEN_FILE") && e.message().contains("/nope"), "{}", e.message());
        let e = run(&[
            ("AZURE_CLIENT_ID", "a"),
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_CERTIFICATE_PATH", "/nope.pem"),
            ("AZURE_CLIENT_CERTIFICATE_PASSWORD", "hunter2"),
        ])
        .unwrap_err();
        assert!(e.message().contains("/nope.pem") && !e.message().contains("hunter2"), "{}", e.message());
    }
}

//! paytrim-auth: OAuth 2.0 client-credentials tokens from Microsoft Entra ID
//! (or any OAuth 2.0 server), fetched on library-owned threads, cached per
//! key, shared by every caller that asks at once, refreshed before they
//! expire, and handed to C, Java, C# and Node through one C ABI.
//!
//! ```no_run
//! use paytrim_auth::{Client, ClientConfig, Credential};
//! let mut config = ClientConfig::default();
//! config.set("tenant", "contoso.onmicrosoft.com")?;
//! let client = Client::new("11111111-1111-1111-1111-111111111111",
//!                          Credential::client_secret("your-client-secret"), &config)?;
//! let token = client.token()?;
//! println!("Authorization: Bearer {}", token.secret());
//! # Ok::<(), paytrim_auth::Error>(())
//! ```
//!
//! The Rust API (everything outside `ffi`) is safe Rust and knows nothing of
//! FFI; `ffi` only converts, checks and delegates.

mod cache;
mod cache_tiers;
mod client;
mod clock;
mod config;
mod credentials;
pub mod environment;
mod error;
mod fetch;
mod fetch_pool;
mod flight;
mod fork;
pub mod log;
mod panics;
mod protocol;
mod random;
mod retry;
mod scopes;
mod secret;
mod signals;
mod token;
mod token_endpoint;
mod transport;
mod wipe_alloc;

/// Wipes every freed heap block of this library (see `wipe_alloc`).
#[cfg(feature = "wipe-freed-memory")]
#[global_allocator]
static WIPE_ON_FREE: wipe_alloc::WipeOnFree = wipe_alloc::WipeOnFree;

pub mod ffi;

pub use client::Client;
pub use config::{
    ClientAuth, ClientConfig, ProxySetting, TlsRoots, CONFIG_KEYS, DEFAULT_AUTHORITY_HOST, DEFAULT_SCOPE,
    DEFAULT_TENANT,
};
pub use credentials::{
    AssertionCallback, AssertionCompletion, AssertionProvider, AssertionRequest, CertificateCredential, Credential,
    FederatedTokenFile, ManagedIdentityId, SigningAlgorithm,
};
pub use error::{Error, ErrorCode, OAuthDetails};
pub use fetch_pool::MAX_CONCURRENT_FETCHES;
pub use scopes::{ScopeSet, MAX_SCOPE_SETS};
pub use secret::Secret;
pub use token::AccessToken;

/// The library version, e.g. `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Entry points for the fuzz targets in `fuzz/`; not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    use crate::protocol::{self, Context, HttpAnswer};

    /// Interprets a token endpoint's answer as the fetch does. Must never
    /// panic, whatever the bytes.
    pub fn interpret_answer(status: u16, retry_after: Option<&str>, body: &[u8]) -> Result<String, crate::Error> {
        let answer = HttpAnswer {
            status,
            content_type: None,
            retry_after: retry_after.map(str::to_owned),
            body: body.to_vec(),
            truncated: false,
        };
        let cx = Context { endpoint: "https://fuzz.invalid/token", tenantless: true };
        protocol::interpret(&answer, &cx).map(|t| t.access_token.expose().to_owned())
    }

    /// Parses a `Retry-After` value.
    pub fn parse_retry_after(value: &str) -> Option<std::time::Duration> {
        protocol::parse_retry_after(value)
    }

    /// Interprets a token endpoint's answer with its content type, returning
    /// the token and its lifetime, or the categorized error (with its OAuth
    /// details and Retry-After) as the fetch would see it.
    pub fn interpret_full(
        status: u16,
        content_type: Option<&str>,
        retry_after: Option<&str>,
        body: &[u8],
    ) -> Result<(String, std::time::Duration), crate::Error> {
        let answer = HttpAnswer {
            status,
            content_type: content_type.map(str::to_owned),
            retry_after: retry_after.map(str::to_owned),
            body: body.to_vec(),
            truncated: false,
        };
        let cx = Context { endpoint: "https://fuzz.invalid/token", tenantless: false };
        protocol::interpret(&answer, &cx).map(|t| (t.access_token.expose().to_owned(), t.expires_in))
    }

    /// Interprets a managed-identity endpoint's answer (IMDS when `imds`,
    /// else App Service), returning the token and its lifetime.
    pub fn interpret_managed_identity(
        imds: bool,
        status: u16,
        retry_after: Option<&str>,
        body: &[u8],
    ) -> Result<(String, std::time::Duration), crate::Error> {
        use crate::credentials::managed_identity::{answer, Flavour};
        let answer = HttpAnswer {
            status,
            content_type: Some("application/json".to_owned()),
            retry_after: retry_after.map(str::to_owned),
            body: body.to_vec(),
            truncated: false,
        };
        let flavour = if imds { Flavour::Imds } else { Flavour::AppService };
        answer::interpret(&answer, flavour, "http://fuzz.invalid/msi/token", std::time::SystemTime::now())
            .map(|t| (t.access_token.expose().to_owned(), t.expires_in))
    }
}

/// Number of token keys the process-wide cache holds (diagnostics).
pub fn cached_keys() -> usize {
    cache::len()
}

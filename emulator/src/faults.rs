//! Fault injection: what the next token request(s) get instead of a normal answer.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

/// One kind of misbehaviour. The JSON form is tagged by `kind`
/// (`{"kind":"status","status":503,"retry_after":"1"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with `status`. `retry_after` is sent verbatim as `Retry-After`.
    /// Without `body`, an Entra-style error JSON fitting the status is sent.
    Status {
        status: u16,
        #[serde(default, deserialize_with = "string_or_number", skip_serializing_if = "Option::is_none")]
        retry_after: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content_type: Option<String>,
    },
    /// Read the request, wait `ms`, then answer normally (cut short by shutdown).
    Stall { ms: u64 },
    /// Read the request, then close the TCP connection with an RST, no response.
    Reset,
    /// 200 with the truncated body `{"token_type":"Bearer","access_token":"ey`.
    MalformedJson,
    /// 200 `application/json` with a body of exactly `bytes` bytes, streamed.
    Oversized {
        #[serde(default = "default_oversized")]
        bytes: u64,
    },
    /// A proxy-style HTML error page with this status (default 502).
    Html {
        #[serde(default = "default_html_status")]
        status: u16,
    },
    /// Any raw answer.
    Body {
        #[serde(default = "default_body_status")]
        status: u16,
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content_type: Option<String>,
    },
}

fn default_oversized() -> u64 {
    10 * 1024 * 1024
}
fn default_html_status() -> u16 {
    502
}
fn default_body_status() -> u16 {
    200
}
fn default_count() -> u32 {
    1
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum V {
        S(String),
        N(u64),
    }
    Ok(Option::<V>::deserialize(d)?.map(|v| match v {
        V::S(s) => s,
        V::N(n) => n.to_string(),
    }))
}

impl FaultKind {
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Status { .. } => "status",
            FaultKind::Stall { .. } => "stall",
            FaultKind::Reset => "reset",
            FaultKind::MalformedJson => "malformed_json",
            FaultKind::Oversized { .. } => "oversized",
            FaultKind::Html { .. } => "html",
            FaultKind::Body { .. } => "body",
        }
    }
}

/// A queued fault: a [`FaultKind`] applied to the next `count` token requests.
///
/// ```
/// use paytrim_entra_emulator::Fault;
/// let f = Fault::status(503).retry_after("1").times(2);
/// assert_eq!(f.count, 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    #[serde(flatten)]
    pub kind: FaultKind,
    #[serde(default = "default_count")]
    pub count: u32,
}

impl From<FaultKind> for Fault {
    fn from(kind: FaultKind) -> Fault {
        Fault { kind, count: 1 }
    }
}

impl Fault {
    /// Answer with `status` and an Entra-style error body.
    pub fn status(status: u16) -> Fault {
        FaultKind::Status { status, retry_after: None, body: None, content_type: None }.into()
    }
    /// Wait `d` before answering normally.
    pub fn stall(d: Duration) -> Fault {
        FaultKind::Stall { ms: d.as_millis() as u64 }.into()
    }
    /// Close the connection with a TCP RST after reading the request.
    pub fn reset() -> Fault {
        FaultKind::Reset.into()
    }
    /// 200 with a truncated JSON body.
    pub fn malformed_json() -> Fault {
        FaultKind::MalformedJson.into()
    }
    /// 200 with a JSON-looking body of `bytes` bytes.
    pub fn oversized(bytes: u64) -> Fault {
        FaultKind::Oversized { bytes }.into()
    }
    /// A corporate-proxy HTML error page.
    pub fn html(status: u16) -> Fault {
        FaultKind::Html { status }.into()
    }
    /// A raw answer with `Content-Type: application/json`.
    pub fn json_body(status: u16, body: impl Into<String>) -> Fault {
        FaultKind::Body { status, body: body.into(), content_type: None }.into()
    }
    /// A raw answer with any content type.
    pub fn body(status: u16, content_type: impl Into<String>, body: impl Into<String>) -> Fault {
        FaultKind::Body { status, body: body.into(), content_type: Some(content_type.into()) }.into()
    }
    /// Set `Retry-After` (only meaningful for [`Fault::status`]).
    pub fn retry_after(mut self, value: impl Into<String>) -> Fault {
        if let FaultKind::Status { retry_after, .. } = &mut self.kind {
            *retry_after = Some(value.into());
        }
        self
    }
    /// Replace the default error body of a [`Fault::status`].
    pub fn with_body(mut self, content_type: impl Into<String>, value: impl Into<String>) -> Fault {
        match &mut self.kind {
            FaultKind::Status { body, content_type: ct, .. } => {
                *body = Some(value.into());
                *ct = Some(content_type.into());
            }
            FaultKind::Body { body, content_type: ct, .. } => {
                *body = value.into();
                *ct = Some(content_type.into());
            }
            _ => {}
        }
        self
    }
    /// Apply to the next `n` token requests (default 1).
    pub fn times(mut self, n: u32) -> Fault {
        self.count = n.max(1);
        self
    }
}

/// Parse one fault object or an array of them.
pub(crate) fn parse_faults(json: &[u8]) -> Result<Vec<Fault>, String> {
    let v: serde_json::Value = serde_json::from_slice(json).map_err(|e| format!("invalid JSON: {e}"))?;
    let items = match v {
        serde_json::Value::Array(a) => a,
        other => vec![other],
    };
    items.into_iter().map(|i| serde_json::from_value::<Fault>(i).map_err(|e| format!("invalid fault: {e}"))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let f = parse_faults(
            br#"[{"kind":"status","status":503,"retry_after":1,"body":null,"content_type":null},
            {"kind":"stall","ms":5,"count":3},{"kind":"reset"},{"kind":"html"},{"kind":"oversized","bytes":10}]"#,
        )
        .unwrap();
        assert_eq!(f[0], Fault::status(503).retry_after("1"));
        assert_eq!(f[1], Fault::stall(Duration::from_millis(5)).times(3));
        assert_eq!(f[2], Fault::reset());
        assert_eq!(f[3], Fault::html(502));
        assert_eq!(f[4], Fault::oversized(10));
        assert!(parse_faults(br#"{"kind":"nope"}"#).is_err());
        let s = serde_json::to_string(&Fault::reset()).unwrap();
        assert_eq!(s, r#"{"kind":"reset","count":1}"#);
    }
}

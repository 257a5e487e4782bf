//! No error message, OAuth detail or `Debug` output of a representative
//! error matrix (every error category, both client authentication methods,
//! a hostile server that echoes the request) shows the secret, its
//! form-encoded or Basic forms, or an access token.

mod common;
use common::*;
use paytrim_auth::{Client, ClientConfig, Credential, Error};
use std::time::Duration;

struct Forbidden {
    needles: Vec<(String, String)>,
}

impl Forbidden {
    fn new(client_id: &str, secret: &str) -> Forbidden {
        use base64::Engine;
        let enc = |s: &str| -> String {
            s.bytes()
                .map(|b| match b {
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => (b as char).to_string(),
                    b' ' => "+".into(),
                    _ => format!("%{b:02X}"),
                })
                .collect()
        };
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", enc(client_id), enc(secret)));
        Forbidden {
            needles: vec![
                ("secret".into(), secret.to_owned()),
                ("form-encoded secret".into(), enc(secret)),
                ("Basic credentials".into(), basic),
            ],
        }
    }

    fn token(&mut self, token: &str) {
        self.needles.push(("access token".into(), token.to_owned()));
        // A token's signature alone is still the token.
        if let Some((_, sig)) = token.rsplit_once('.') {
            self.needles.push(("access token signature".into(), sig.to_owned()));
        }
    }

    fn check(&self, what: &str, text: &str) {
        for (name, needle) in &self.needles {
            assert!(!text.contains(needle.as_str()), "{what} shows the {name}: {text}");
        }
    }

    fn check_error(&self, case: &str, e: &Error) {
        self.check(&format!("{case}: message"), e.message());
        self.check(&format!("{case}: Debug"), &format!("{e:?}"));
        self.check(&format!("{case}: Display"), &e.to_string());
        let o = e.oauth();
        for field in [&o.error, &o.error_description, &o.trace_id, &o.correlation_id, &o.timestamp] {
            self.check(&format!("{case}: OAuth detail"), field.as_deref().unwrap_or(""));
        }
    }
}

#[test]
fn errors_and_debug_output_never_show_the_secret_or_a_token() {
    let s = setup();
    let mut forbidden = Forbidden::new(&s.client_id, &s.secret);
    let mut seen = 0;
    for auth in ["client_secret_post", "client_secret_basic"] {
        let mut cfg: ClientConfig = s.config.clone();
        cfg.set("client_auth", auth).unwrap();
        cfg.set("proxy", "none").unwrap();
        cfg.set("max_attempts", "1").unwrap();
        cfg.set("scope", &format!("api://{auth}/.default")).unwrap();
        let client = Client::new(&s.client_id, Credential::client_secret(&s.secret), &cfg).unwrap();
        let token = client.token().expect("a first token");
        forbidden.token(token.secret());
        forbidden.check("AccessToken Debug", &format!("{token:?}"));
        forbidden.check("Client Debug", &format!("{client:?}"));
        forbidden.check("ClientConfig Debug", &format!("{cfg:?}"));
        forbidden.check("Credential Debug", &format!("{:?}", Credential::client_secret(&s.secret)));

        let echo = format!(
            r#"{{"error":"invalid_client","error_description":"AADSTS7000215: bad secret '{}' / '{}'\r\nTrace ID: x","error_codes":[7000215]}}"#,
            s.secret.replace('\\', "\\\\").replace('"', "\\\""),
            forbidden.needles[2].1
        );
        let faults: Vec<(&str, Fault)> = vec![
            ("429", Fault::status(429).retry_after("2")),
            ("500", Fault::status(500)),
            ("503", Fault::status(503).retry_after("1")),
            ("malformed JSON", Fault::malformed_json()),
            ("HTML 502", Fault::html(502)),
            ("oversized", Fault::oversized(2 << 20)),
            ("reset", Fault::reset()),
            ("stall", Fault::stall(Duration::from_secs(3))),
            ("server echoes the secret", Fault::json_body(401, echo)),
            (
                "server echoes the token",
                Fault::json_body(
                    400,
                    format!(r#"{{"error":"invalid_request","error_description":"token {} refused"}}"#, token.secret()),
                ),
            ),
            (
                "200 without a token type",
                Fault::json_body(200, format!(r#"{{"access_token":"{}","expires_in":3599}}"#, token.secret())),
            ),
            (
                "token with a space",
                Fault::json_body(
                    200,
                    format!(r#"{{"token_type":"Bearer","access_token":"{} x","expires_in":3599}}"#, token.secret()),
                ),
            ),
        ];
        for (name, fault) in faults {
            s.emu.push_fault(fault);
            let c = Client::new(&s.client_id, Credential::client_secret(&s.secret), &{
                let mut c = cfg.clone();
                c.set("timeout_ms", "1000").unwrap();
                c.set("scope", &format!("api://{auth}-{name}/.default").replace(' ', "-")).unwrap();
                c
            })
            .unwrap();
            let e = c.token().expect_err(name);
            forbidden.check_error(&format!("{auth}, {name}"), &e);
            seen += 1;
        }
        // Wrong secret, unknown tenant, untrusted CA, refused connection.
        let wrong = Client::new(&s.client_id, Credential::client_secret("not-the-secret"), &cfg).unwrap();
        forbidden.check_error("wrong secret", &wrong.token().unwrap_err());
        s.emu.set_unknown_tenants(["nowhere.example"]);
        let mut t = cfg.clone();
        t.set("tenant", "nowhere.example").unwrap();
        let e = Client::new(&s.client_id, Credential::client_secret(&s.secret), &t).unwrap().token().unwrap_err();
        forbidden.check_error("unknown tenant", &e);
        let stranger = paytrim_entra_emulator::Emulator::start().unwrap();
        let mut ca = cfg.clone();
        ca.set("ca_file", stranger.ca_file().to_str().unwrap()).unwrap();
        let e = Client::new(&s.client_id, Credential::client_secret(&s.secret), &ca).unwrap().token().unwrap_err();
        forbidden.check_error("untrusted CA", &e);
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let mut d = cfg.clone();
        d.set("token_url", &format!("https://{dead}/t")).unwrap();
        let e = Client::new(&s.client_id, Credential::client_secret(&s.secret), &d).unwrap().token().unwrap_err();
        forbidden.check_error("connection refused", &e);
        seen += 4;
    }
    assert_eq!(seen, 32);
}

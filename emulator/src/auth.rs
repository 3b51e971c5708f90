//! `POST /rest/v1/authenticate` and the tokens it issues: JWTs signed with a per-run secret,
//! so a forged, expired or revoked token is told from a valid one.

use crate::state::Answer;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) struct Tokens {
    secret: [u8; 32],
    lifetime: Duration,
    /// Tokens minted before the current generation are refused (revocation).
    generation: AtomicU64,
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl Tokens {
    /// `seed` should differ between runs, so no token outlives its emulator.
    pub fn new(seed: &str, lifetime: Duration) -> Tokens {
        let mut secret = [0u8; 32];
        secret.copy_from_slice(&Sha256::digest(seed.as_bytes()));
        Tokens {
            secret,
            lifetime,
            generation: AtomicU64::new(0),
        }
    }

    fn sign(&self, input: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.secret);
        hasher.update(input.as_bytes());
        URL_SAFE_NO_PAD.encode(hasher.finalize())
    }

    pub fn mint(&self, username: &str) -> String {
        let now = now_unix();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(
            json!({
                "uid": username,
                "crt": now,
                "exp": now + self.lifetime.as_secs(),
                "gen": self.generation.load(Ordering::SeqCst),
            })
            .to_string(),
        );
        let input = format!("{header}.{payload}");
        let signature = self.sign(&input);
        format!("{input}.{signature}")
    }

    pub fn is_valid(&self, token: &str) -> bool {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        if self.sign(&format!("{header}.{payload}")) != signature {
            return false;
        }
        let Some(claims) = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        else {
            return false;
        };
        let exp = claims["exp"].as_u64().unwrap_or(0);
        let generation = claims["gen"].as_u64().unwrap_or(0);
        exp > now_unix() && generation >= self.generation.load(Ordering::SeqCst)
    }

    /// Makes every token issued so far invalid.
    pub fn revoke(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether an `Authorization` header carries a valid token, with or without `Bearer `:
    /// the vendor's pages show both.
    pub fn admits(&self, authorization: Option<&str>) -> bool {
        authorization
            .map(|a| a.strip_prefix("Bearer ").unwrap_or(a).trim())
            .is_some_and(|token| self.is_valid(token))
    }
}

pub(crate) fn unauthorized() -> Answer {
    (401, json!({"message": "Unauthorized"}))
}

/// The reference's request body `{"username", "password"}`; 200 gives `{"data": "<JWT>"}`.
pub(crate) fn authenticate(tokens: &Tokens, username: &str, password: &str, body: &[u8]) -> Answer {
    #[derive(Deserialize)]
    struct Login {
        username: String,
        password: String,
    }
    match serde_json::from_slice::<Login>(body) {
        Ok(login) if login.username == username && login.password == password => {
            (200, json!({"data": tokens.mint(&login.username)}))
        }
        Ok(_) => (401, json!({"message": "Invalid username or password"})),
        Err(_) => (
            400,
            json!({"message": "The body must be {\"username\", \"password\"}"}),
        ),
    }
}

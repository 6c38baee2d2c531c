//! Values that must never be printed: passwords, and the hashes standing in for API tokens.
//!
//! ```
//! use sendbox_config::Secret;
//! let s = Secret::new("hunter2");
//! assert_eq!(format!("{s} {s:?}"), "*** ***");
//! assert_eq!(s.expose(), "hunter2");
//! ```

use serde::{Deserialize, Deserializer};
use std::fmt;

/// A password or token. Debug and Display print `***`; [`Secret::expose`] gives the value to the
/// one place that needs it (the bind PDU, the digest computation). It is deliberately not
/// `Serialize`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value. Call it only where the value is sent to a peer.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// The SHA-256 of an API token as 64 lower-case hex digits; the token itself is never stored.
///
/// Validation at load checks the length and digits (and lower-cases them). Debug prints only
/// `sha256:` and the first 8 digits, enough to tell two accounts apart in a log.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct TokenHash(pub(crate) String);

impl TokenHash {
    /// The 64 hex digits, as the engine's token table takes them.
    pub fn as_hex(&self) -> &str {
        &self.0
    }

    /// Whether this is 64 hex digits; used by validation.
    pub(crate) fn is_well_formed(&self) -> bool {
        self.0.len() == 64 && self.0.bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// A short, non-reversible label: `sha256:` and the first 8 digits.
    pub fn short(&self) -> String {
        if self.is_well_formed() {
            format!("sha256:{}…", &self.0[..8])
        } else {
            "sha256:(malformed)".to_owned()
        }
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())
    }
}

impl<'de> Deserialize<'de> for TokenHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(TokenHash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_its_value() {
        let s = Secret::new("p4ss");
        assert!(!format!("{s:?}{s}").contains("p4ss"));
    }

    #[test]
    fn token_hash_debug_shows_only_a_prefix() {
        let h = TokenHash("ab".repeat(32));
        assert_eq!(format!("{h:?}"), "sha256:abababab…");
        assert!(TokenHash("raw-token".into()).short().contains("malformed"));
    }
}

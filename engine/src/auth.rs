//! API authentication: bearer tokens, stored only as SHA-256 hashes.

use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Who is calling the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// An account, by index.
    Account(u32),
    /// The operations team (admin token).
    Admin,
}

/// Token hashes to callers.
#[derive(Debug, Default)]
pub struct Tokens {
    by_hash: HashMap<[u8; 32], Caller>,
}

impl Tokens {
    /// Register a caller under the SHA-256 hash given as 64 hex digits (validated by the config).
    pub fn insert(&mut self, sha256_hex: &str, caller: Caller) {
        let mut key = [0u8; 32];
        if hex::decode_to_slice(sha256_hex, &mut key).is_ok() {
            self.by_hash.insert(key, caller);
        }
    }

    /// The caller presenting `Authorization: Bearer <token>`, if the token is known.
    pub fn caller(&self, authorization: Option<&str>) -> Option<Caller> {
        let token = authorization?.strip_prefix("Bearer ")?.trim();
        self.by_hash.get(&hash(token)).copied()
    }
}

/// SHA-256 of a token.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// SHA-256 of a token as 64 lower-case hex digits (what goes into the config).
pub fn hash_hex(token: &str) -> String {
    hex::encode(hash(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_token_maps_to_its_caller_and_others_do_not() {
        let mut t = Tokens::default();
        t.insert(&hash_hex("s3cret"), Caller::Account(3));
        t.insert(&hash_hex("admin"), Caller::Admin);
        assert_eq!(t.caller(Some("Bearer s3cret")), Some(Caller::Account(3)));
        assert_eq!(t.caller(Some("Bearer admin")), Some(Caller::Admin));
        assert_eq!(t.caller(Some("Bearer nope")), None);
        assert_eq!(t.caller(Some("s3cret")), None);
        assert_eq!(t.caller(None), None);
    }
}

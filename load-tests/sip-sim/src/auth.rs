//! Digest authentication on the UAS side: challenges with stateless nonces, and verification.
//!
//! Nonces are `COUNTER.MAC` where MAC is a keyed SHA-256 over the counter, so a retry is accepted
//! even on a new Call-ID and nothing needs to be stored per challenge. Verification recomputes
//! the response with `digest_auth` (RFC 2617/7616: MD5, SHA-256, `-sess`, `qop=auth`, `nc` as
//! 8 hex digits) and compares.

use digest_auth::{AlgorithmType, AuthContext, AuthorizationHeader, HttpMethod};
use sha2::{Digest, Sha256};

use crate::behaviour::DigestAlgorithm;

/// Issues nonces and checks Authorization headers against one username/password.
#[derive(Debug, Clone)]
pub struct DigestVerifier {
    secret: [u8; 16],
    counter: u64,
    username: String,
    password: String,
}

/// Outcome of checking one Authorization / Proxy-Authorization value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthCheck {
    /// Username, realm, nonce and response all match.
    Ok,
    /// Parseable, but something is wrong (reason for logs).
    Wrong(&'static str),
    /// Not a digest header we can read.
    Malformed,
}

impl DigestVerifier {
    /// A verifier for `username`/`password`; `secret` keys the nonce MAC.
    pub fn new(username: &str, password: &str, secret: [u8; 16]) -> Self {
        Self {
            secret,
            counter: 0,
            username: username.to_owned(),
            password: password.to_owned(),
        }
    }

    fn mac(&self, counter: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update(counter.as_bytes());
        hex::encode(&h.finalize()[..12])
    }

    /// A fresh challenge value for a WWW-/Proxy-Authenticate header.
    pub fn challenge(&mut self, realm: &str, algorithm: DigestAlgorithm) -> String {
        self.counter += 1;
        let counter = format!("{:x}", self.counter);
        let nonce = format!("{counter}.{}", self.mac(&counter));
        let algo = match algorithm {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Sha256 => "SHA-256",
        };
        format!("Digest realm=\"{realm}\", nonce=\"{nonce}\", algorithm={algo}, qop=\"auth\"")
    }

    fn nonce_is_ours(&self, nonce: &str) -> bool {
        nonce
            .split_once('.')
            .is_some_and(|(counter, mac)| self.mac(counter) == mac)
    }

    /// Check an Authorization header value for `method` in `realm`.
    pub fn verify(&self, header: &str, method: &str, realm: &str) -> AuthCheck {
        let Ok(given) = AuthorizationHeader::parse(header) else {
            return AuthCheck::Malformed;
        };
        if !matches!(
            given.algorithm.algo,
            AlgorithmType::MD5 | AlgorithmType::SHA2_256
        ) {
            return AuthCheck::Wrong("algorithm not supported");
        }
        if given.realm != realm {
            return AuthCheck::Wrong("realm");
        }
        if !self.nonce_is_ours(&given.nonce) {
            return AuthCheck::Wrong("nonce");
        }
        if given.userhash || given.username != self.username {
            return AuthCheck::Wrong("username");
        }
        let ctx = AuthContext::new_with_method(
            self.username.as_str(),
            self.password.as_str(),
            given.uri.as_str(),
            None::<&[u8]>,
            HttpMethod(method.into()),
        );
        let mut expected = given.clone();
        expected.digest(&ctx);
        if expected.response.eq_ignore_ascii_case(&given.response) {
            AuthCheck::Ok
        } else {
            AuthCheck::Wrong("response")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use digest_auth::WwwAuthenticateHeader;

    fn answer(challenge: &str, user: &str, pass: &str, times: u32) -> String {
        let mut prompt = WwwAuthenticateHeader::parse(challenge).unwrap();
        let ctx = AuthContext::new_with_method(
            user,
            pass,
            "sip:77010000001@127.0.0.1",
            None::<&[u8]>,
            HttpMethod("INVITE".into()),
        );
        let mut last = String::new();
        for _ in 0..times {
            last = prompt.respond(&ctx).unwrap().to_header_string();
        }
        last
    }

    #[test]
    fn correct_md5_and_sha256_responses_verify() {
        let mut v = DigestVerifier::new("alice", "s3cret", [7; 16]);
        for algo in [DigestAlgorithm::Md5, DigestAlgorithm::Sha256] {
            let ch = v.challenge("kz", algo);
            assert_eq!(
                v.verify(&answer(&ch, "alice", "s3cret", 1), "INVITE", "kz"),
                AuthCheck::Ok
            );
        }
    }

    #[test]
    fn nonce_count_is_read_as_hex() {
        let mut v = DigestVerifier::new("alice", "s3cret", [7; 16]);
        let ch = v.challenge("kz", DigestAlgorithm::Md5);
        let h = answer(&ch, "alice", "s3cret", 10);
        assert!(h.contains("nc=0000000a"), "{h}");
        assert_eq!(v.verify(&h, "INVITE", "kz"), AuthCheck::Ok);
    }

    #[test]
    fn wrong_password_nonce_or_realm_fail() {
        let mut v = DigestVerifier::new("alice", "s3cret", [7; 16]);
        let ch = v.challenge("kz", DigestAlgorithm::Md5);
        assert_eq!(
            v.verify(&answer(&ch, "alice", "nope", 1), "INVITE", "kz"),
            AuthCheck::Wrong("response")
        );
        assert_eq!(
            v.verify(&answer(&ch, "bob", "s3cret", 1), "INVITE", "kz"),
            AuthCheck::Wrong("username")
        );
        assert_eq!(
            v.verify(&answer(&ch, "alice", "s3cret", 1), "INVITE", "other"),
            AuthCheck::Wrong("realm")
        );
        let forged = ch.replace("nonce=\"1.", "nonce=\"2.");
        assert_eq!(
            v.verify(&answer(&forged, "alice", "s3cret", 1), "INVITE", "kz"),
            AuthCheck::Wrong("nonce")
        );
        assert_eq!(v.verify("Basic abc", "INVITE", "kz"), AuthCheck::Malformed);
    }
}

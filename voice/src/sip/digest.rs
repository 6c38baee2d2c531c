//! Digest authentication answers to 401/407 challenges (RFC 3261 §22, RFC 2617, RFC 7616,
//! RFC 8760): MD5, MD5-sess, SHA-256, SHA-256-sess; `qop=auth` (and `auth-int` when offered
//! alone, hashing the body).
//!
//! The hashing is the `digest_auth` crate's: it formats `nc` as 8 hex digits, parses
//! `algorithm=SHA-256` and hashes nonce and cnonce into HA1 for `-sess` (each checked in
//! its source and by the RFC vectors below), unlike rsip's `DigestGenerator`.
//!
//! ```
//! # use sendbox_voice::sip::digest::{authorize, Credentials};
//! let creds = Credentials { user: "alice".into(), password: "secret".into() };
//! let hdr = authorize(r#"Digest realm="trunk", nonce="abc", qop="auth""#,
//!                     "INVITE", "sip:7701@trunk", &creds, None).unwrap();
//! assert!(hdr.starts_with("Digest ") && hdr.contains("nc=00000001"));
//! ```

use digest_auth::{AuthContext, HttpMethod, WwwAuthenticateHeader};

/// User name and password for one trunk.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Digest user name.
    pub user: String,
    /// Digest password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// A challenge we cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// Returned by [`authorize`]: the WWW-/Proxy-Authenticate value is malformed or uses an
    /// algorithm or qop we do not support.
    #[error("unusable digest challenge: {0}")]
    Challenge(String),
}

/// The Authorization (or Proxy-Authorization) header value answering `challenge` for a
/// request `method uri`. `cnonce` is random unless given (tests pin it).
pub fn authorize(
    challenge: &str,
    method: &str,
    uri: &str,
    creds: &Credentials,
    cnonce: Option<&str>,
) -> Result<String, DigestError> {
    let mut prompt = WwwAuthenticateHeader::parse(challenge.trim())
        .map_err(|e| DigestError::Challenge(e.to_string()))?;
    let mut ctx = AuthContext::new_with_method(
        creds.user.as_str(),
        creds.password.as_str(),
        uri,
        Option::<&[u8]>::None,
        HttpMethod::from(method),
    );
    if let Some(c) = cnonce {
        ctx.set_custom_cnonce(c);
    }
    let answer = prompt
        .respond(&ctx)
        .map_err(|e| DigestError::Challenge(e.to_string()))?;
    Ok(answer.to_header_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param<'a>(hdr: &'a str, name: &str) -> &'a str {
        let start = hdr.find(&format!("{name}=")).unwrap() + name.len() + 1;
        let rest = &hdr[start..];
        let rest = rest.strip_prefix('"').unwrap_or(rest);
        let end = rest.find(['"', ',']).unwrap_or(rest.len());
        &rest[..end]
    }

    #[test]
    fn rfc2617_md5_example_vector() {
        let creds = Credentials {
            user: "Mufasa".into(),
            password: "Circle Of Life".into(),
        };
        let ch = r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;
        let hdr = authorize(ch, "GET", "/dir/index.html", &creds, Some("0a4f113b")).unwrap();
        assert_eq!(
            param(&hdr, "response"),
            "6629fae49393a05397450978507c4ef1",
            "{hdr}"
        );
        assert_eq!(param(&hdr, "nc"), "00000001");
        assert_eq!(param(&hdr, "qop"), "auth");
        assert_eq!(param(&hdr, "opaque"), "5ccc069c403ebaf9f0171e9517f40e41");
    }

    #[test]
    fn rfc7616_sha256_example_vector() {
        let creds = Credentials {
            user: "Mufasa".into(),
            password: "Circle of Life".into(),
        };
        let ch = r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
        let cn = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let hdr = authorize(ch, "GET", "/dir/index.html", &creds, Some(cn)).unwrap();
        assert_eq!(
            param(&hdr, "response"),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            "{hdr}"
        );
        assert!(hdr.contains("algorithm=SHA-256"), "{hdr}");
    }

    #[test]
    fn rfc7616_md5_example_vector() {
        let creds = Credentials {
            user: "Mufasa".into(),
            password: "Circle of Life".into(),
        };
        let ch = r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
        let cn = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let hdr = authorize(ch, "GET", "/dir/index.html", &creds, Some(cn)).unwrap();
        assert_eq!(
            param(&hdr, "response"),
            "8ca523f5e9506fed4657c9700eebdbec",
            "{hdr}"
        );
    }

    #[test]
    fn challenge_without_qop_uses_rfc2069_response() {
        let creds = Credentials {
            user: "u".into(),
            password: "p".into(),
        };
        let hdr = authorize(
            r#"Digest realm="r", nonce="n""#,
            "INVITE",
            "sip:1@h",
            &creds,
            None,
        )
        .unwrap();
        assert!(!hdr.contains("nc="), "{hdr}");
        assert_eq!(param(&hdr, "response").len(), 32);
    }

    #[test]
    fn malformed_challenge_is_an_error() {
        let creds = Credentials {
            user: "u".into(),
            password: "p".into(),
        };
        let e = authorize(
            r#"Digest realm="r", nonce="n", qop="banana""#,
            "INVITE",
            "sip:1@h",
            &creds,
            None,
        );
        assert!(matches!(e, Err(DigestError::Challenge(_))), "{e:?}");
    }
}

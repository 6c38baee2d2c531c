//! SIP message helpers on top of `rsip`: parse a datagram, read the few fields the
//! transaction and dialog cores match on, build requests and responses, encode with a
//! correct `Content-Length`.
//!
//! rsip keeps headers untyped (strings) and parses a typed form on demand; these helpers
//! turn its `rsip::Error` into our [`MsgError`] naming the header that was wrong.
//!
//! ```
//! # use sendbox_voice::sip::msg;
//! let raw = b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc\r\n\
//! From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\
//! Content-Length: 0\r\n\r\n";
//! let m = msg::parse(raw).unwrap();
//! assert_eq!(msg::branch(&m).unwrap(), "z9hG4bKabc");
//! assert_eq!(msg::status(&m), Some(180));
//! ```

use bytes::Bytes;
use rand::Rng;
use rsip::headers::{ToTypedHeader, UntypedHeader};
use rsip::message::HeadersExt;
use rsip::{Header, Headers, Method, Request, Response, SipMessage};

/// Why a SIP message could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MsgError {
    /// Returned by [`parse`]: the datagram is not a SIP message.
    #[error("unparsable SIP message: {0}")]
    Syntax(String),
    /// Returned by the field readers: a required header is missing or malformed.
    #[error("SIP header {header} missing or malformed")]
    Header {
        /// The header's name.
        header: &'static str,
    },
}

/// Parse one datagram.
pub fn parse(data: &[u8]) -> Result<SipMessage, MsgError> {
    SipMessage::try_from(data).map_err(|e| MsgError::Syntax(e.to_string()))
}

/// Encode a message, setting `Content-Length` to the body's length.
pub fn encode(msg: impl Into<SipMessage>) -> Bytes {
    let mut msg: SipMessage = msg.into();
    let len = msg.body().len();
    let headers = match &mut msg {
        SipMessage::Request(r) => &mut r.headers,
        SipMessage::Response(r) => &mut r.headers,
    };
    headers.retain(|h| !matches!(h, Header::ContentLength(_)));
    headers.push(rsip::headers::ContentLength::new(len.to_string()).into());
    Bytes::from(msg.to_string())
}

fn headers_of(m: &SipMessage) -> &Headers {
    match m {
        SipMessage::Request(r) => &r.headers,
        SipMessage::Response(r) => &r.headers,
    }
}

/// The branch of the top Via.
pub fn branch(m: &SipMessage) -> Result<String, MsgError> {
    let err = MsgError::Header { header: "Via" };
    let via = headers_of(m)
        .iter()
        .find_map(|h| match h {
            Header::Via(v) => Some(v),
            _ => None,
        })
        .ok_or(err.clone())?;
    let typed = via.typed().map_err(|_| err.clone())?;
    typed.branch().map(ToString::to_string).ok_or(err)
}

/// The Call-ID.
pub fn call_id(m: &SipMessage) -> Result<String, MsgError> {
    headers_of(m)
        .iter()
        .find_map(|h| match h {
            Header::CallId(c) => Some(c.value().trim().to_string()),
            _ => None,
        })
        .ok_or(MsgError::Header { header: "Call-ID" })
}

/// The CSeq number and method.
pub fn cseq(m: &SipMessage) -> Result<(u32, Method), MsgError> {
    let err = MsgError::Header { header: "CSeq" };
    let h = headers_of(m)
        .iter()
        .find_map(|h| match h {
            Header::CSeq(c) => Some(c),
            _ => None,
        })
        .ok_or(err.clone())?;
    Ok((
        h.seq().map_err(|_| err.clone())?,
        h.method().map_err(|_| err)?,
    ))
}

/// The tag of the To header, if any.
pub fn to_tag(m: &SipMessage) -> Result<Option<String>, MsgError> {
    let err = MsgError::Header { header: "To" };
    let to = match m {
        SipMessage::Request(r) => r.to_header(),
        SipMessage::Response(r) => r.to_header(),
    }
    .map_err(|_| err.clone())?;
    Ok(to.tag().map_err(|_| err)?.map(|t| t.to_string()))
}

/// The status code of a response, `None` for a request.
pub fn status(m: &SipMessage) -> Option<u16> {
    match m {
        SipMessage::Response(r) => Some(r.status_code.code()),
        SipMessage::Request(_) => None,
    }
}

/// The first value of a header by name (case-insensitive), as its raw text.
pub fn header_value<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers.iter().find_map(|h| match h {
        Header::WwwAuthenticate(v) if name.eq_ignore_ascii_case("WWW-Authenticate") => {
            Some(v.value())
        }
        Header::ProxyAuthenticate(v) if name.eq_ignore_ascii_case("Proxy-Authenticate") => {
            Some(v.value())
        }
        Header::Contact(v) if name.eq_ignore_ascii_case("Contact") => Some(v.value()),
        Header::Other(n, v) if n.eq_ignore_ascii_case(name) => Some(v.as_str()),
        _ => None,
    })
}

/// The URIs of every Record-Route header, top first, each as `<uri>;params`.
pub fn record_route(r: &Response) -> Vec<String> {
    r.headers
        .iter()
        .filter_map(|h| match h {
            Header::RecordRoute(rr) => rr.typed().ok(),
            _ => None,
        })
        .flat_map(|rr| {
            rr.uris()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The Contact URI of a message, if it has a well-formed one.
pub fn contact_uri(headers: &Headers) -> Option<rsip::Uri> {
    headers.iter().find_map(|h| match h {
        Header::Contact(c) => c.typed().ok().map(|c| c.uri),
        _ => None,
    })
}

/// A fresh RFC 3261 branch (magic cookie + 64 random bits).
pub fn new_branch() -> String {
    format!("z9hG4bK{:016x}", rand::rng().random::<u64>())
}

/// A fresh From/To tag.
pub fn new_tag() -> String {
    format!("{:012x}", rand::rng().random::<u64>() & 0xffff_ffff_ffff)
}

/// A fresh Call-ID at `host`.
pub fn new_call_id(host: &str) -> String {
    format!("{:032x}@{host}", rand::rng().random::<u128>())
}

/// A response to `req` with `status`: Via, From, Call-ID, CSeq copied; To copied with
/// `to_tag` added when it has none.
pub fn response_to(req: &Request, status: u16, to_tag: Option<&str>) -> Response {
    let mut headers = Headers::default();
    for h in req.headers.iter() {
        match h {
            Header::Via(_) | Header::From(_) | Header::CallId(_) | Header::CSeq(_) => {
                headers.push(h.clone())
            }
            Header::To(to) => {
                let has_tag = matches!(to.tag(), Ok(Some(_)));
                match to_tag {
                    Some(tag) if !has_tag => headers
                        .push(rsip::headers::To::new(format!("{};tag={tag}", to.value())).into()),
                    _ => headers.push(h.clone()),
                }
            }
            _ => {}
        }
    }
    Response {
        status_code: status.into(),
        version: rsip::Version::V2,
        headers,
        body: Vec::new(),
    }
}

/// Push an untyped header built from text.
pub fn push<H: for<'a> UntypedHeader<'a>>(headers: &mut Headers, value: impl Into<String>) {
    headers.push(H::new(value).into());
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &[u8] = b"INVITE sip:7701@10.0.0.2 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=f1\r\n\
To: <sip:7701@10.0.0.2>\r\nCall-ID: abc@x\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn reads_matching_fields_from_a_request() {
        let m = parse(INVITE).unwrap();
        assert_eq!(branch(&m).unwrap(), "z9hG4bK1");
        assert_eq!(call_id(&m).unwrap(), "abc@x");
        assert_eq!(cseq(&m).unwrap(), (7, Method::Invite));
        assert_eq!(to_tag(&m).unwrap(), None);
        assert_eq!(status(&m), None);
    }

    #[test]
    fn response_copies_dialog_headers_and_adds_a_to_tag() {
        let SipMessage::Request(req) = parse(INVITE).unwrap() else {
            panic!("request")
        };
        let resp = response_to(&req, 486, Some("t9"));
        let bytes = encode(resp);
        let back = parse(&bytes).unwrap();
        assert_eq!(status(&back), Some(486));
        assert_eq!(to_tag(&back).unwrap().as_deref(), Some("t9"));
        assert_eq!(call_id(&back).unwrap(), "abc@x");
        assert!(
            std::str::from_utf8(&bytes)
                .unwrap()
                .contains("Content-Length: 0")
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(parse(b"\x00\x01hello"), Err(MsgError::Syntax(_))));
        let no_via = b"SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: 1 BYE\r\n\r\n";
        let m = parse(no_via).unwrap();
        assert_eq!(branch(&m), Err(MsgError::Header { header: "Via" }));
    }

    #[test]
    fn fresh_identifiers_carry_the_magic_cookie_and_differ() {
        let a = new_branch();
        assert!(a.starts_with("z9hG4bK"));
        assert_ne!(a, new_branch());
        assert_ne!(new_tag(), new_tag());
        assert!(new_call_id("h").ends_with("@h"));
    }
}

//! Building the SIP messages a UAS sends (responses, BYE) with rsip, and reading requests.

use std::net::SocketAddr;

use bytes::Bytes;
use rsip::Header;
use rsip::prelude::*;

/// `Server` / `User-Agent` value.
pub const AGENT: &str = "sendbox-sip-sim";
const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO";

/// Extra content of a response beyond the copied headers.
#[derive(Debug, Default)]
pub struct Extra<'a> {
    /// Our To tag (added unless the request's To already has one).
    pub to_tag: Option<&'a str>,
    /// Contact URI to advertise.
    pub contact: Option<&'a str>,
    /// Additional headers (challenges, Allow, ...).
    pub headers: Vec<Header>,
    /// SDP body.
    pub sdp: Option<String>,
}

/// Build a response to `req` (Via, From, To, Call-ID, CSeq and Record-Route copied).
pub fn response(req: &rsip::Request, code: u16, extra: Extra<'_>) -> Bytes {
    let mut headers = rsip::Headers::default();
    for h in req.headers.iter() {
        match h {
            Header::Via(_) | Header::From(_) | Header::CallId(_) | Header::CSeq(_) => {
                headers.push(h.clone())
            }
            Header::RecordRoute(_) if (101..300).contains(&code) => headers.push(h.clone()),
            Header::To(to) => {
                let value = to.value();
                match extra.to_tag {
                    Some(tag) if code > 100 && !has_tag(value) => {
                        headers.push(rsip::headers::To::new(format!("{value};tag={tag}")).into())
                    }
                    _ => headers.push(h.clone()),
                }
            }
            _ => {}
        }
    }
    if let Some(contact) = extra.contact {
        headers.push(rsip::headers::Contact::new(format!("<{contact}>")).into());
    }
    headers.push(rsip::headers::Server::new(AGENT).into());
    if code == 200 || code == 405 || code == 501 {
        headers.push(rsip::headers::Allow::new(ALLOW).into());
    }
    headers.extend(extra.headers);
    let body = extra.sdp.map(String::into_bytes).unwrap_or_default();
    if !body.is_empty() {
        headers.push(rsip::headers::ContentType::new("application/sdp").into());
    }
    headers.push(rsip::headers::ContentLength::new(body.len().to_string()).into());
    rsip::Response {
        status_code: code.into(),
        version: rsip::Version::V2,
        headers,
        body,
    }
    .into()
}

/// Whether a From/To value carries a tag parameter.
pub fn has_tag(value: &str) -> bool {
    let after_uri = value.rsplit_once('>').map_or(value, |(_, rest)| rest);
    after_uri
        .split(';')
        .skip(1)
        .any(|p| p.trim().to_ascii_lowercase().starts_with("tag="))
}

/// The dialog state needed to send a BYE from the UAS side.
#[derive(Debug, Clone)]
pub struct ByeDialog {
    /// Where to send it (Contact of the caller, else its source address).
    pub target_uri: String,
    /// Caller's From value (becomes our To).
    pub remote: String,
    /// Caller's To value plus our tag (becomes our From).
    pub local: String,
    /// The dialog's Call-ID.
    pub call_id: String,
    /// Record-Route values, in the order received (our route set as UAS).
    pub routes: Vec<String>,
}

/// Build an in-dialog BYE.
pub fn bye(d: &ByeDialog, cseq: u32, branch: &str, via_addr: SocketAddr) -> Bytes {
    let mut headers = rsip::Headers::default();
    headers.push(rsip::headers::Via::new(format!("SIP/2.0/UDP {via_addr};branch={branch}")).into());
    headers.push(rsip::headers::MaxForwards::new("70").into());
    headers.push(rsip::headers::From::new(d.local.clone()).into());
    headers.push(rsip::headers::To::new(d.remote.clone()).into());
    headers.push(rsip::headers::CallId::new(d.call_id.clone()).into());
    headers.push(rsip::headers::CSeq::new(format!("{cseq} BYE")).into());
    for r in &d.routes {
        headers.push(rsip::headers::Route::new(r.clone()).into());
    }
    headers.push(rsip::headers::UserAgent::new(AGENT).into());
    headers.push(rsip::headers::ContentLength::new("0").into());
    let uri = rsip::Uri::try_from(d.target_uri.as_str()).unwrap_or_else(|_| rsip::Uri {
        scheme: Some(rsip::Scheme::Sip),
        host_with_port: rsip::HostWithPort::from(via_addr),
        ..Default::default()
    });
    rsip::Request {
        method: rsip::Method::Bye,
        uri,
        version: rsip::Version::V2,
        headers,
        body: vec![],
    }
    .into()
}

/// Branch parameter of the top Via, if any.
pub fn top_branch(req: &rsip::Request) -> Option<String> {
    let via = req.via_header().ok()?.typed().ok()?;
    via.branch().map(|b| b.to_string())
}

/// Where a UAS sends in-dialog requests: the Contact's host and port, if it is an IP address.
pub fn contact_addr(uri: &rsip::Uri) -> Option<SocketAddr> {
    let host = match &uri.host_with_port.host {
        rsip::Host::IpAddr(ip) => *ip,
        rsip::Host::Domain(d) => d.to_string().parse().ok()?,
    };
    let port = uri
        .host_with_port
        .port
        .as_ref()
        .map_or(5060, |p| *p.value());
    Some(SocketAddr::new(host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_found_only_in_header_params() {
        assert!(has_tag("<sip:a@b>;tag=1"));
        assert!(!has_tag("<sip:a@b;tag=1>"));
        assert!(!has_tag("sip:a@b"));
        assert!(has_tag("sip:a@b;TAG=x"));
    }

    #[test]
    fn a_response_copies_dialog_headers_and_adds_a_to_tag() {
        let raw = "INVITE sip:77010000001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK1\r\n\
                   From: <sip:a@127.0.0.1>;tag=c1\r\nTo: <sip:77010000001@127.0.0.1>\r\nCall-ID: x1\r\nCSeq: 1 INVITE\r\n\
                   Content-Length: 0\r\n\r\n";
        let req = rsip::Request::try_from(raw).unwrap();
        let out = response(
            &req,
            486,
            Extra {
                to_tag: Some("s9"),
                ..Default::default()
            },
        );
        let resp = rsip::Response::try_from(out.as_ref()).unwrap();
        assert_eq!(u16::from(resp.status_code.clone()), 486);
        assert_eq!(
            resp.to_header().unwrap().tag().unwrap().unwrap().value(),
            "s9"
        );
        assert_eq!(resp.call_id_header().unwrap().value(), "x1");
        assert_eq!(top_branch(&req).as_deref(), Some("z9hG4bK1"));
    }
}

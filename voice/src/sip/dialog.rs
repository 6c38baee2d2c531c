//! The UAC side of an INVITE dialog (RFC 3261 §12): Call-ID, local and remote tags, CSeq
//! numbering, remote target and route set; it builds every request of the call (the INVITE
//! and its auth retry, CANCEL, the ACK of a 2xx, BYE) and answers in-dialog requests.
//!
//! Routing assumes loose routers (`;lr`), which every trunk we know uses: the Request-URI is
//! the remote target and the route set goes into Route headers.
//!
//! ```
//! # use sendbox_voice::sip::dialog::Dialog;
//! let mut d = Dialog::new("sip:77170000000@sendbox.kz", "sip:77011234567@10.0.0.2:5060",
//!                         "10.0.0.1:5060".parse().unwrap()).unwrap();
//! let invite = d.invite(b"v=0\r\n".to_vec(), None);
//! assert_eq!(invite.method, rsip::Method::Invite);
//! ```

use crate::config::SipTransport;
use crate::sip::msg::{self, MsgError};
use rsip::headers as h;
use rsip::{Header, Headers, Method, Request, Response};
use std::net::SocketAddr;

/// An Authorization or Proxy-Authorization header to add to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// Answer to a 401 (WWW-Authenticate).
    Authorization(String),
    /// Answer to a 407 (Proxy-Authenticate).
    ProxyAuthorization(String),
}

/// One INVITE dialog, from the first INVITE (before a remote tag exists) to its end.
#[derive(Debug, Clone)]
pub struct Dialog {
    call_id: String,
    local: SocketAddr,
    transport: SipTransport,
    from: String,
    to_uri: String,
    remote_tag: Option<String>,
    remote_target: rsip::Uri,
    route_set: Vec<String>,
    local_cseq: u32,
    remote_cseq: Option<u32>,
    contact: String,
}

impl Dialog {
    /// A dialog from `from_uri` to `to_uri` with a fresh Call-ID and From tag; `local` is our
    /// SIP socket's address (Via, Contact).
    pub fn new(from_uri: &str, to_uri: &str, local: SocketAddr) -> Result<Self, MsgError> {
        let target = rsip::Uri::try_from(to_uri).map_err(|_| MsgError::Header { header: "To" })?;
        rsip::Uri::try_from(from_uri).map_err(|_| MsgError::Header { header: "From" })?;
        Ok(Dialog {
            call_id: msg::new_call_id(&local.ip().to_string()),
            local,
            transport: SipTransport::Udp,
            from: format!("<{from_uri}>;tag={}", msg::new_tag()),
            to_uri: format!("<{to_uri}>"),
            remote_tag: None,
            remote_target: target,
            route_set: Vec::new(),
            local_cseq: 0,
            remote_cseq: None,
            contact: format!("<sip:sendbox@{local}>"),
        })
    }

    /// The same dialog over `transport` (UDP unless told): the Via transport token and the
    /// Contact's `;transport=` parameter follow it.
    pub fn with_transport(mut self, transport: SipTransport) -> Self {
        self.transport = transport;
        self.contact = format!("<sip:sendbox@{}{}>", self.local, transport.uri_param());
        self
    }

    /// The Call-ID.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// The remote tag, once a response carried one.
    pub fn remote_tag(&self) -> Option<&str> {
        self.remote_tag.as_deref()
    }

    /// The CSeq number of the last request we sent.
    pub fn local_cseq(&self) -> u32 {
        self.local_cseq
    }

    /// A new INVITE (the first, or the retry with credentials): next CSeq, fresh branch.
    pub fn invite(&mut self, sdp: Vec<u8>, cred: Option<Credential>) -> Request {
        let mut req = self.request(Method::Invite);
        msg::push::<h::Allow>(&mut req.headers, "INVITE, ACK, CANCEL, BYE, OPTIONS");
        match cred {
            Some(Credential::Authorization(v)) => {
                msg::push::<h::Authorization>(&mut req.headers, v)
            }
            Some(Credential::ProxyAuthorization(v)) => {
                msg::push::<h::ProxyAuthorization>(&mut req.headers, v)
            }
            None => {}
        }
        msg::push::<h::ContentType>(&mut req.headers, "application/sdp");
        req.body = sdp;
        req
    }

    /// An in-dialog request (BYE, OPTIONS): next CSeq, fresh branch, To with the remote tag.
    pub fn request(&mut self, method: Method) -> Request {
        self.local_cseq += 1;
        self.build(method, self.local_cseq, &msg::new_branch())
    }

    /// The ACK for a 2xx to the INVITE with CSeq `invite_cseq` (its own transaction-less
    /// request, fresh branch).
    pub fn ack(&self, invite_cseq: u32) -> Request {
        self.build(Method::Ack, invite_cseq, &msg::new_branch())
    }

    /// CANCEL for `invite` (RFC 3261 §9.1): same Request-URI, Call-ID, From, To, Route and
    /// top Via branch, CSeq number of the INVITE.
    pub fn cancel(invite: &Request) -> Request {
        let mut headers = Headers::default();
        let mut via_done = false;
        let mut seq = 1;
        for hd in invite.headers.iter() {
            match hd {
                Header::Via(_) if !via_done => {
                    via_done = true;
                    headers.push(hd.clone());
                }
                Header::From(_)
                | Header::To(_)
                | Header::CallId(_)
                | Header::Route(_)
                | Header::MaxForwards(_) => headers.push(hd.clone()),
                Header::CSeq(c) => seq = c.seq().unwrap_or(1),
                _ => {}
            }
        }
        msg::push::<h::CSeq>(&mut headers, format!("{seq} CANCEL"));
        Request {
            method: Method::Cancel,
            uri: invite.uri.clone(),
            version: rsip::Version::V2,
            headers,
            body: Vec::new(),
        }
    }

    /// Note a response to the INVITE: the first To tag seen (1xx or 2xx) becomes the remote
    /// tag; a 2xx also sets the remote target (Contact) and the route set (Record-Route,
    /// reversed). A 2xx from a different tag (a forked answer) returns `false`.
    pub fn on_invite_response(&mut self, resp: &Response) -> bool {
        let code = resp.status_code.code();
        let tag = msg::to_tag(&resp.clone().into()).ok().flatten();
        if (200..300).contains(&code) {
            if let (Some(ours), Some(theirs)) = (&self.remote_tag, &tag)
                && ours != theirs
                && self.remote_cseq.is_some()
            {
                return false;
            }
            self.remote_tag = tag.or(self.remote_tag.take());
            if let Some(uri) = msg::contact_uri(&resp.headers) {
                self.remote_target = uri;
            }
            let mut routes = msg::record_route(resp);
            routes.reverse();
            self.route_set = routes;
            // Mark the dialog confirmed; in-dialog requests from the callee count from here.
            self.remote_cseq.get_or_insert(0);
        } else if code > 100 && code < 200 && self.remote_tag.is_none() {
            self.remote_tag = tag;
        }
        true
    }

    /// True once a 2xx confirmed the dialog.
    pub fn is_confirmed(&self) -> bool {
        self.remote_cseq.is_some()
    }

    /// Answer an in-dialog request from the callee with `status` (200 to BYE, OPTIONS and
    /// re-INVITE; the caller chooses). Records its CSeq. A CSeq lower than the last one seen
    /// gets a 500 (RFC 3261 §12.2.2).
    pub fn respond(&mut self, req: &Request, status: u16) -> Response {
        let seq = msg::cseq(&req.clone().into()).map(|c| c.0).unwrap_or(0);
        let status = match self.remote_cseq {
            Some(last) if seq < last && req.method != Method::Ack => 500,
            _ => status,
        };
        if status < 300 {
            self.remote_cseq = Some(seq.max(self.remote_cseq.unwrap_or(0)));
        }
        let mut resp = msg::response_to(req, status, None);
        msg::push::<h::Contact>(&mut resp.headers, self.contact.clone());
        resp
    }

    fn build(&self, method: Method, cseq: u32, branch: &str) -> Request {
        let mut headers = Headers::default();
        // rport (RFC 3581) only matters for datagrams; over TCP the answer follows the
        // connection.
        let rport = if self.transport.is_reliable() {
            ""
        } else {
            ";rport"
        };
        msg::push::<h::Via>(
            &mut headers,
            format!(
                "SIP/2.0/{} {};branch={branch}{rport}",
                self.transport.via_token(),
                self.local
            ),
        );
        msg::push::<h::MaxForwards>(&mut headers, "70");
        for r in &self.route_set {
            msg::push::<h::Route>(&mut headers, r.clone());
        }
        msg::push::<h::From>(&mut headers, self.from.clone());
        let to = match &self.remote_tag {
            Some(t) if method != Method::Invite || self.is_confirmed() => {
                format!("{};tag={t}", self.to_uri)
            }
            _ => self.to_uri.clone(),
        };
        msg::push::<h::To>(&mut headers, to);
        msg::push::<h::CallId>(&mut headers, self.call_id.clone());
        msg::push::<h::CSeq>(&mut headers, format!("{cseq} {method}"));
        msg::push::<h::Contact>(&mut headers, self.contact.clone());
        msg::push::<h::UserAgent>(&mut headers, "sendbox");
        Request {
            method,
            uri: self.remote_target.clone(),
            version: rsip::Version::V2,
            headers,
            body: Vec::new(),
        }
    }
}

#[cfg(test)]
#[path = "dialog_tests.rs"]
mod tests;

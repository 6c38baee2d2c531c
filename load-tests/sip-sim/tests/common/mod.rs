//! A minimal UDP UAC for the loopback tests: builds requests with rsip and reads replies.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use rsip::prelude::*;
use rsip::{Header, SipMessage};
use tokio::net::UdpSocket;

pub const WAIT: Duration = Duration::from_millis(1500);

/// One caller with a SIP socket and an RTP socket.
pub struct Uac {
    pub sip: UdpSocket,
    pub rtp: UdpSocket,
    pub sim: SocketAddr,
    pub call_id: String,
    pub number: String,
    pub from_tag: String,
}

/// What the INVITE carries.
pub struct InviteOpts<'a> {
    pub cseq: u32,
    pub branch: &'a str,
    pub auth: Option<(&'a str, String)>,
    pub sdp: Option<String>,
}

impl Uac {
    pub async fn new(sim: SocketAddr, number: &str) -> Self {
        let sip = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let call_id = format!("{}-{}@test", number, sip.local_addr().unwrap().port());
        Self {
            sip,
            rtp,
            sim,
            call_id,
            number: number.into(),
            from_tag: "uac1".into(),
        }
    }

    pub fn sip_addr(&self) -> SocketAddr {
        self.sip.local_addr().unwrap()
    }

    pub fn uri(&self) -> String {
        format!("sip:{}@{}", self.number, self.sim)
    }

    /// The offer: PCMA, PCMU, telephone-event 101 at our RTP socket.
    pub fn offer(&self) -> String {
        let rtp = self.rtp.local_addr().unwrap();
        format!(
            "v=0\r\no=uac 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 8 0 101\r\n\
             a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n",
            rtp.port()
        )
    }

    fn request(
        &self,
        method: rsip::Method,
        cseq: u32,
        branch: &str,
        to: &str,
        extra: Vec<Header>,
        body: Option<String>,
    ) -> rsip::Request {
        let mut h = rsip::Headers::default();
        h.push(
            rsip::headers::Via::new(format!("SIP/2.0/UDP {};branch={branch}", self.sip_addr()))
                .into(),
        );
        h.push(rsip::headers::MaxForwards::new("70").into());
        h.push(
            rsip::headers::From::new(format!(
                "<sip:caller@{}>;tag={}",
                self.sip_addr(),
                self.from_tag
            ))
            .into(),
        );
        h.push(rsip::headers::To::new(to.to_owned()).into());
        h.push(rsip::headers::CallId::new(self.call_id.clone()).into());
        h.push(rsip::headers::CSeq::new(format!("{cseq} {method}")).into());
        h.push(rsip::headers::Contact::new(format!("<sip:caller@{}>", self.sip_addr())).into());
        h.extend(extra);
        let body = body.map(String::into_bytes).unwrap_or_default();
        if !body.is_empty() {
            h.push(rsip::headers::ContentType::new("application/sdp").into());
        }
        h.push(rsip::headers::ContentLength::new(body.len().to_string()).into());
        rsip::Request {
            method,
            uri: rsip::Uri::try_from(self.uri().as_str()).unwrap(),
            version: rsip::Version::V2,
            headers: h,
            body,
        }
    }

    pub async fn send(&self, req: rsip::Request) {
        let bytes: Vec<u8> = req.into();
        self.sip.send_to(&bytes, self.sim).await.unwrap();
    }

    pub async fn invite(&self, o: InviteOpts<'_>) -> rsip::Request {
        let extra = o
            .auth
            .map(|(name, value)| match name {
                "Authorization" => Header::Authorization(rsip::headers::Authorization::new(value)),
                _ => Header::ProxyAuthorization(rsip::headers::ProxyAuthorization::new(value)),
            })
            .into_iter()
            .collect();
        let to = format!("<{}>", self.uri());
        let req = self.request(rsip::Method::Invite, o.cseq, o.branch, &to, extra, o.sdp);
        self.send(req.clone()).await;
        req
    }

    /// ACK for a response to INVITE `cseq`: same branch for failures, a new one for 2xx.
    pub async fn ack(&self, resp: &rsip::Response, cseq: u32, branch: &str, body: Option<String>) {
        let to = resp.to_header().unwrap().value().to_owned();
        let mut req = self.request(rsip::Method::Ack, cseq, branch, &to, vec![], body);
        req.headers.retain(|h| !matches!(h, Header::Contact(_)));
        self.send(req).await;
    }

    pub async fn cancel(&self, branch: &str) {
        let to = format!("<{}>", self.uri());
        self.send(self.request(rsip::Method::Cancel, 1, branch, &to, vec![], None))
            .await;
    }

    pub async fn bye(&self, resp: &rsip::Response, cseq: u32) {
        let to = resp.to_header().unwrap().value().to_owned();
        self.send(self.request(
            rsip::Method::Bye,
            cseq,
            &format!("z9hG4bKbye{cseq}"),
            &to,
            vec![],
            None,
        ))
        .await;
    }

    pub async fn recv(&self) -> SipMessage {
        let mut buf = vec![0u8; 65535];
        let (n, _) = tokio::time::timeout(WAIT, self.sip.recv_from(&mut buf))
            .await
            .expect("a SIP message in time")
            .unwrap();
        SipMessage::try_from(&buf[..n]).unwrap()
    }

    /// Nothing arrives within `d`.
    pub async fn silent_for(&self, d: Duration) -> bool {
        let mut buf = vec![0u8; 65535];
        tokio::time::timeout(d, self.sip.recv_from(&mut buf))
            .await
            .is_err()
    }

    pub async fn response(&self) -> rsip::Response {
        match self.recv().await {
            SipMessage::Response(r) => r,
            SipMessage::Request(r) => panic!("expected a response, got {}", r.method),
        }
    }

    /// Skip provisional responses; return the first final one.
    pub async fn final_response(&self) -> rsip::Response {
        loop {
            let r = self.response().await;
            if code(&r) >= 200 {
                return r;
            }
        }
    }
}

pub fn code(r: &rsip::Response) -> u16 {
    u16::from(r.status_code.clone())
}

/// The simulator's RTP address from the SDP in a 200 OK.
pub fn answer_rtp(r: &rsip::Response) -> SocketAddr {
    sendbox_sip_sim::sdp::read_offer(&r.body).unwrap().addr
}

/// Send `count` PCMA packets 20 ms apart, the first with the marker bit.
pub async fn stream_rtp(from: &UdpSocket, to: SocketAddr, count: u16) {
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for i in 0..count {
        tick.tick().await;
        let pkt = rtp_rs::RtpPacketBuilder::new()
            .payload_type(8)
            .ssrc(0x1234)
            .sequence(rtp_rs::Seq::from(1000 + i))
            .timestamp(u32::from(i) * 160)
            .marked(i == 0)
            .payload(&[0xd5; 160])
            .build()
            .unwrap();
        from.send_to(&pkt, to).await.unwrap();
    }
}

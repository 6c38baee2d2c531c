//! SDP offer and answer for a G.711 call (RFC 3264): we offer PCMA first, PCMU second and
//! telephone-event/8000, ptime 20; the answer gives the codec and the remote RTP address.
//! Parsing and writing are the `sdp-types` crate's.
//!
//! ```
//! # use sendbox_voice::sdp::{offer, parse_answer, Codec};
//! let ip = "10.0.0.1".parse().unwrap();
//! let o = offer(ip, 20000, 1);
//! assert!(String::from_utf8_lossy(&o).contains("m=audio 20000 RTP/AVP 8 0 101"));
//! let a = b"v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n\
//! m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
//! let m = parse_answer(a).unwrap();
//! assert_eq!((m.codec, m.remote.port(), m.dtmf_pt), (Codec::Pcmu, 30000, Some(101)));
//! ```

use sdp_types::{Attribute, Connection, Media, MediaType, Origin, Session, Time, TransportProto};
use std::net::{IpAddr, SocketAddr};

/// The payload type we offer for telephone-event.
pub const DTMF_PT: u8 = 101;

/// The G.711 law chosen by the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// A-law, payload type 8.
    Pcma,
    /// μ-law, payload type 0.
    Pcmu,
}

impl Codec {
    /// The static RTP payload type.
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcma => 8,
            Codec::Pcmu => 0,
        }
    }
}

/// What the answer negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaAnswer {
    /// Where to send RTP (RTCP goes to the port above).
    pub remote: SocketAddr,
    /// The codec to send.
    pub codec: Codec,
    /// The telephone-event payload type the callee uses, if it accepted it.
    pub dtmf_pt: Option<u8>,
}

/// Why an answer is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdpError {
    /// Returned by [`parse_answer`]: the body is not SDP.
    #[error("unparsable SDP: {0}")]
    Syntax(String),
    /// Returned by [`parse_answer`]: no audio stream with a non-zero port.
    #[error("SDP answer has no active audio stream")]
    NoAudio,
    /// Returned by [`parse_answer`]: the answer chose neither PCMA nor PCMU.
    #[error("SDP answer has no G.711 codec (formats {0})")]
    NoCommonCodec(String),
    /// Returned by [`parse_answer`]: the connection address is missing or not an IP address.
    #[error("SDP answer has no usable connection address")]
    NoAddress,
}

/// Our offer: one audio stream at `ip:port`, `version` for the o= line.
pub fn offer(ip: IpAddr, port: u16, version: u64) -> Vec<u8> {
    session(
        ip,
        port,
        version,
        &[Codec::Pcma, Codec::Pcmu],
        Some(DTMF_PT),
    )
}

/// Our answer to a callee's (re-)offer: only the codec we send and, if they offered it,
/// their telephone-event payload type (RFC 3264 §6: an answer is a subset of the offer).
pub fn answer(ip: IpAddr, port: u16, version: u64, chosen: &MediaAnswer) -> Vec<u8> {
    session(ip, port, version, &[chosen.codec], chosen.dtmf_pt)
}

/// True if the offer `body` lists `codec` for its audio stream.
pub fn offers(body: &[u8], codec: Codec) -> bool {
    let Ok(s) = Session::parse(body) else {
        return false;
    };
    let pt = codec.payload_type().to_string();
    s.medias
        .iter()
        .any(|m| m.media == "audio" && m.fmt.split_whitespace().any(|f| f == pt))
}

fn session(ip: IpAddr, port: u16, version: u64, codecs: &[Codec], dtmf_pt: Option<u8>) -> Vec<u8> {
    let mut s = Session::new(Origin::with_ip_addr(version, version, ip), "sendbox");
    s.origin.username = Some("sendbox".into());
    s.connection = Some(Connection::from_ip_addr(ip));
    s.times.push(Time::new(0, 0));
    let mut fmt: Vec<String> = codecs
        .iter()
        .map(|c| c.payload_type().to_string())
        .collect();
    let mut attrs: Vec<Attribute> = codecs
        .iter()
        .map(|c| match c {
            Codec::Pcma => Attribute::with_value("rtpmap", "8 PCMA/8000"),
            Codec::Pcmu => Attribute::with_value("rtpmap", "0 PCMU/8000"),
        })
        .collect();
    if let Some(pt) = dtmf_pt {
        fmt.push(pt.to_string());
        attrs.push(Attribute::with_value(
            "rtpmap",
            format!("{pt} telephone-event/8000"),
        ));
        attrs.push(Attribute::with_value("fmtp", format!("{pt} 0-16")));
    }
    attrs.push(Attribute::with_value("ptime", "20"));
    attrs.push(Attribute::new("sendrecv"));
    let mut m = Media::new(
        MediaType::Audio,
        port,
        TransportProto::RtpAvp,
        fmt.join(" "),
    );
    m.attributes = attrs;
    s.medias.push(m);
    let mut out = Vec::with_capacity(320);
    // Writing into a Vec cannot fail.
    s.write(&mut out).expect("write to Vec");
    out
}

/// Parse the callee's answer.
pub fn parse_answer(body: &[u8]) -> Result<MediaAnswer, SdpError> {
    let s = Session::parse(body).map_err(|e| SdpError::Syntax(e.to_string()))?;
    let m = s
        .medias
        .iter()
        .find(|m| m.media == "audio" && m.port != 0)
        .ok_or(SdpError::NoAudio)?;
    let conn = m
        .connections
        .first()
        .or(s.connection.as_ref())
        .ok_or(SdpError::NoAddress)?;
    let ip: IpAddr = conn
        .connection_address
        .split('/')
        .next()
        .and_then(|a| a.parse().ok())
        .ok_or(SdpError::NoAddress)?;
    let rtpmap = |pt: &str| -> Option<String> {
        m.get_attribute_values("rtpmap").flatten().find_map(|v| {
            v.strip_prefix(pt)?
                .strip_prefix(' ')
                .map(|e| e.to_ascii_lowercase())
        })
    };
    let mut codec = None;
    let mut dtmf_pt = None;
    for pt in m.fmt.split_whitespace() {
        let enc = rtpmap(pt);
        let c = match (pt, enc.as_deref()) {
            (_, Some(e)) if e.starts_with("pcma/8000") => Some(Codec::Pcma),
            (_, Some(e)) if e.starts_with("pcmu/8000") => Some(Codec::Pcmu),
            ("8", None) => Some(Codec::Pcma),
            ("0", None) => Some(Codec::Pcmu),
            (_, Some(e)) if e.starts_with("telephone-event/8000") => {
                dtmf_pt = pt.parse().ok();
                None
            }
            _ => None,
        };
        if codec.is_none() {
            codec = c;
        }
    }
    let codec = codec.ok_or_else(|| SdpError::NoCommonCodec(m.fmt.clone()))?;
    Ok(MediaAnswer {
        remote: SocketAddr::new(ip, m.port),
        codec,
        dtmf_pt,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer_lists_pcma_then_pcmu_then_telephone_event() {
        let o = String::from_utf8(offer("192.0.2.1".parse().unwrap(), 20002, 7)).unwrap();
        assert!(o.contains("c=IN IP4 192.0.2.1\r\n"), "{o}");
        assert!(o.contains("m=audio 20002 RTP/AVP 8 0 101\r\n"), "{o}");
        let a = o.find("a=rtpmap:8 PCMA/8000").unwrap();
        let u = o.find("a=rtpmap:0 PCMU/8000").unwrap();
        assert!(a < u);
        assert!(o.contains("a=rtpmap:101 telephone-event/8000"));
        assert!(o.contains("a=ptime:20"));
        // Our own offer parses as an answer too (a loopback peer echoing it).
        let m = parse_answer(o.as_bytes()).unwrap();
        assert_eq!(m.codec, Codec::Pcma);
        assert_eq!(m.dtmf_pt, Some(101));
    }

    #[test]
    fn answer_media_level_connection_wins_and_dynamic_dtmf_pt_is_read() {
        let a = b"v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n\
m=audio 40000 RTP/AVP 8 96\r\nc=IN IP4 10.9.9.9\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:96 telephone-event/8000\r\n";
        let m = parse_answer(a).unwrap();
        assert_eq!(m.remote, "10.9.9.9:40000".parse().unwrap());
        assert_eq!(m.codec, Codec::Pcma);
        assert_eq!(m.dtmf_pt, Some(96));
    }

    #[test]
    fn answer_to_a_reoffer_keeps_only_the_chosen_codec() {
        let chosen = MediaAnswer {
            remote: "10.0.0.9:4000".parse().unwrap(),
            codec: Codec::Pcmu,
            dtmf_pt: Some(96),
        };
        let a = String::from_utf8(answer("192.0.2.1".parse().unwrap(), 20002, 3, &chosen)).unwrap();
        assert!(a.contains("m=audio 20002 RTP/AVP 0 96\r\n"), "{a}");
        assert!(!a.contains("PCMA"), "{a}");
        assert!(offers(a.as_bytes(), Codec::Pcmu));
        assert!(!offers(a.as_bytes(), Codec::Pcma));
    }

    #[test]
    fn unusable_answers_are_named_errors() {
        let no_codec = b"v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\n";
        assert!(matches!(
            parse_answer(no_codec),
            Err(SdpError::NoCommonCodec(_))
        ));
        let rejected = b"v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 0 RTP/AVP 8\r\n";
        assert_eq!(parse_answer(rejected), Err(SdpError::NoAudio));
        let no_c = b"v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n";
        assert_eq!(parse_answer(no_c), Err(SdpError::NoAddress));
        assert!(matches!(
            parse_answer(b"\xff\xfegarbage"),
            Err(SdpError::Syntax(_))
        ));
    }
}

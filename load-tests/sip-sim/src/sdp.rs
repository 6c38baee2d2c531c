//! SDP offer reading and answer writing for G.711 audio plus RFC 4733 telephone-event.
//!
//! The answer picks PCMA (PT 8) if it is offered before PCMU (PT 0), else PCMU, and echoes
//! `telephone-event/8000` with the offered payload type when the offer has it.

use std::net::{IpAddr, SocketAddr};

/// G.711 A-law static payload type.
pub const PT_PCMA: u8 = 8;
/// G.711 μ-law static payload type.
pub const PT_PCMU: u8 = 0;

/// What the simulator needs from the caller's offer (or answer in a late-offer call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaOffer {
    /// Where the caller receives RTP (and, with symmetric RTP, sends it from).
    pub addr: SocketAddr,
    /// The chosen audio payload type (8 or 0).
    pub audio_pt: u8,
    /// Dynamic payload type of `telephone-event/8000`, if offered.
    pub dtmf_pt: Option<u8>,
    /// Packetisation time in milliseconds (`a=ptime`, default 20).
    pub ptime_ms: u32,
}

/// Why an offer is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfferError {
    /// The body is not parseable SDP.
    #[error("SDP does not parse: {0}")]
    Parse(String),
    /// No `m=audio` line with a non-zero port.
    #[error("SDP has no active audio stream")]
    NoAudio,
    /// Neither PCMA nor PCMU is offered.
    #[error("SDP offers neither PCMA nor PCMU")]
    NoCodec,
    /// No usable `c=` address at media or session level.
    #[error("SDP has no usable connection address")]
    NoAddress,
}

/// Read the first audio stream of an SDP body.
pub fn read_offer(body: &[u8]) -> Result<MediaOffer, OfferError> {
    let session = sdp_types::Session::parse(body).map_err(|e| OfferError::Parse(e.to_string()))?;
    let media = session
        .medias
        .iter()
        .find(|m| m.media == "audio" && m.port != 0)
        .ok_or(OfferError::NoAudio)?;
    let conn = media
        .connections
        .first()
        .or(session.connection.as_ref())
        .ok_or(OfferError::NoAddress)?;
    let ip: IpAddr = conn
        .connection_address
        .split('/')
        .next()
        .unwrap_or("")
        .parse()
        .map_err(|_| OfferError::NoAddress)?;
    let pts: Vec<u8> = media
        .fmt
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let audio_pt = pts
        .iter()
        .copied()
        .find(|pt| *pt == PT_PCMA || *pt == PT_PCMU)
        .ok_or(OfferError::NoCodec)?;
    let dtmf_pt = media.get_attribute_values("rtpmap").find_map(|v| {
        let (pt, enc) = v?.split_once(' ')?;
        let pt: u8 = pt.trim().parse().ok()?;
        (enc.trim().eq_ignore_ascii_case("telephone-event/8000") && pts.contains(&pt)).then_some(pt)
    });
    let ptime_ms = media
        .get_first_attribute_value("ptime")
        .flatten()
        .and_then(|v| v.trim().parse().ok())
        .filter(|p| (10..=120).contains(p))
        .unwrap_or(20);
    Ok(MediaOffer {
        addr: SocketAddr::new(ip, media.port),
        audio_pt,
        dtmf_pt,
        ptime_ms,
    })
}

/// Write the answer to `offer`, receiving on `local`.
pub fn write_answer(local: SocketAddr, session_id: u64, offer: &MediaOffer) -> String {
    let mut fmts = offer.audio_pt.to_string();
    let mut attrs = format!(
        "a=rtpmap:{pt} {}/8000\r\n",
        codec_name(offer.audio_pt),
        pt = offer.audio_pt
    );
    if let Some(pt) = offer.dtmf_pt {
        fmts.push_str(&format!(" {pt}"));
        attrs.push_str(&format!(
            "a=rtpmap:{pt} telephone-event/8000\r\na=fmtp:{pt} 0-16\r\n"
        ));
    }
    sdp(local, session_id, &fmts, &attrs, offer.ptime_ms)
}

/// Write an offer (for an INVITE without SDP): PCMA, PCMU and telephone-event 101.
pub fn write_offer(local: SocketAddr, session_id: u64) -> String {
    let attrs = "a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n";
    sdp(local, session_id, "8 0 101", attrs, 20)
}

fn sdp(local: SocketAddr, session_id: u64, fmts: &str, attrs: &str, ptime: u32) -> String {
    let family = if local.is_ipv6() { "IP6" } else { "IP4" };
    let ip = local.ip();
    format!(
        "v=0\r\no=sendbox-sim {session_id} {session_id} IN {family} {ip}\r\ns=sendbox-sim\r\nc=IN {family} {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP {fmts}\r\n{attrs}a=ptime:{ptime}\r\na=sendrecv\r\n",
        port = local.port()
    )
}

fn codec_name(pt: u8) -> &'static str {
    if pt == PT_PCMA { "PCMA" } else { "PCMU" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(fmts: &str, extra: &str) -> Vec<u8> {
        format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP {fmts}\r\n{extra}"
        )
        .into_bytes()
    }

    #[test]
    fn pcma_is_chosen_when_offered_first_and_dtmf_is_echoed() {
        let o = read_offer(&offer(
            "8 0 101",
            "a=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n",
        ))
        .unwrap();
        assert_eq!(o.audio_pt, PT_PCMA);
        assert_eq!(o.dtmf_pt, Some(101));
        assert_eq!(o.addr, "127.0.0.1:40000".parse().unwrap());
        let answer = write_answer("127.0.0.1:5000".parse().unwrap(), 7, &o);
        assert!(
            answer.contains("m=audio 5000 RTP/AVP 8 101\r\n"),
            "{answer}"
        );
        assert!(answer.contains("a=rtpmap:101 telephone-event/8000"));
        let back = read_offer(answer.as_bytes()).unwrap();
        assert_eq!((back.audio_pt, back.dtmf_pt), (PT_PCMA, Some(101)));
    }

    #[test]
    fn pcmu_is_chosen_when_offered_first_and_no_dtmf_without_rtpmap() {
        let o = read_offer(&offer("0 8 96", "a=rtpmap:96 opus/48000/2\r\n")).unwrap();
        assert_eq!((o.audio_pt, o.dtmf_pt), (PT_PCMU, None));
    }

    #[test]
    fn offers_without_g711_or_audio_are_refused() {
        assert_eq!(
            read_offer(&offer("96", "a=rtpmap:96 opus/48000/2\r\n")),
            Err(OfferError::NoCodec)
        );
        assert!(matches!(read_offer(b"garbage"), Err(OfferError::Parse(_))));
    }
}

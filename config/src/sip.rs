//! `[operators.<id>.sip]`: the operator's SIP trunk for robocalls.
//!
//! ```toml
//! [operators.kcell.sip]
//! host = "127.0.0.1"
//! port = 5070
//! from_uri = "sip:sendbox@127.0.0.1"
//! local_ip = "127.0.0.1"
//! rtp_port_min = 20000
//! rtp_port_max = 20999
//! ```

use crate::Secret;
use crate::operator::secs;
use serde::Deserialize;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// One operator's SIP trunk.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipConfig {
    /// Trunk host name or address.
    pub host: String,
    /// Trunk port (default 5060).
    #[serde(default = "default_sip_port")]
    pub port: u16,
    /// `"udp"` (default) or `"tcp"`: SIP over one persistent TCP connection to the trunk,
    /// reopened with backoff when it drops (no retransmissions; RTP stays UDP). With
    /// `local_port` set, TCP binds it as the connection's source port.
    #[serde(default)]
    pub transport: SipTransport,
    /// Digest user; give it together with `auth_password`, or neither.
    pub auth_user: Option<String>,
    /// Digest password. Never printed.
    pub auth_password: Option<Secret>,
    /// `From` URI of outgoing INVITEs (`sip:` or `sips:`).
    pub from_uri: String,
    /// Calls in progress at once (default 30).
    #[serde(default = "default_concurrent")]
    pub max_concurrent_calls: u32,
    /// New INVITEs per second (default 5).
    #[serde(default = "default_cps")]
    pub max_calls_per_second: u32,
    /// Give up (CANCEL) when not answered in this time (default `40s`).
    #[serde(default = "secs::<40>", with = "crate::duration")]
    pub ring_timeout: Duration,
    /// Let a call ring at least this long before any early cancel (default `20s`);
    /// validated `ring_timeout >= min_ring_time`.
    #[serde(default = "secs::<20>", with = "crate::duration")]
    pub min_ring_time: Duration,
    /// Codecs offered, most preferred first (default `["pcma", "pcmu"]`).
    #[serde(default = "default_codecs")]
    pub codecs: Vec<Codec>,
    /// Our address: the SIP and RTP sockets bind here, and it goes into Via, Contact and SDP
    /// (default `127.0.0.1`).
    #[serde(default = "localhost")]
    pub local_ip: IpAddr,
    /// Our SIP port (default 0: any free port).
    #[serde(default)]
    pub local_port: u16,
    /// Lowest local RTP port (default 20000); even ports carry RTP, the odd one above RTCP.
    #[serde(default = "rtp_min")]
    pub rtp_port_min: u16,
    /// Highest local RTP port (default 29999). Trunks sharing a `local_ip` need disjoint ranges.
    #[serde(default = "rtp_max")]
    pub rtp_port_max: u16,
    /// RTP pacer threads for this trunk, each driving its share of the calls with one timer
    /// (default 1).
    #[serde(default = "one")]
    pub rtp_pacer_threads: u8,
    /// Run the pacer threads at this `SCHED_FIFO` priority (1-99) so other work on the host
    /// cannot delay packets (needs CAP_SYS_NICE; refused: a warning, normal priority). Absent
    /// (the default): normal priority.
    #[serde(default)]
    pub rtp_realtime_priority: Option<u8>,
}

fn one() -> u8 {
    1
}

impl SipConfig {
    /// Calls the RTP range can carry at once: one even/odd port pair each.
    pub fn rtp_port_pairs(&self) -> u32 {
        let lo = u32::from(self.rtp_port_min).div_ceil(2) * 2;
        let hi = u32::from(self.rtp_port_max);
        if hi < lo + 1 {
            0
        } else {
            (hi - lo).div_ceil(2)
        }
    }
}

/// SIP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SipTransport {
    /// UDP (the usual trunk transport).
    #[default]
    Udp,
    /// TCP (RFC 3261 §18: one connection per trunk, messages framed by Content-Length).
    Tcp,
}

impl SipTransport {
    /// The lower-case config name.
    pub fn as_str(self) -> &'static str {
        match self {
            SipTransport::Udp => "udp",
            SipTransport::Tcp => "tcp",
        }
    }
}

/// An audio codec offered in SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Codec {
    /// G.711 A-law, RTP payload type 8.
    Pcma,
    /// G.711 μ-law, RTP payload type 0.
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

    /// The SDP encoding name.
    pub fn as_str(self) -> &'static str {
        match self {
            Codec::Pcma => "PCMA",
            Codec::Pcmu => "PCMU",
        }
    }
}

fn default_sip_port() -> u16 {
    5060
}
fn default_concurrent() -> u32 {
    30
}
fn default_cps() -> u32 {
    5
}
fn default_codecs() -> Vec<Codec> {
    vec![Codec::Pcma, Codec::Pcmu]
}
fn localhost() -> IpAddr {
    IpAddr::V4(Ipv4Addr::LOCALHOST)
}
fn rtp_min() -> u16 {
    20000
}
fn rtp_max() -> u16 {
    29999
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtp_pairs_count_even_ports_with_an_odd_neighbour() {
        let mut s: SipConfig = toml::from_str(
            "host = \"h\"\nfrom_uri = \"sip:a@h\"\nrtp_port_min = 20001\nrtp_port_max = 20010",
        )
        .unwrap();
        assert_eq!(s.rtp_port_pairs(), 4); // 20002, 20004, 20006, 20008
        s.rtp_port_max = 20002;
        assert_eq!(s.rtp_port_pairs(), 0);
    }
}

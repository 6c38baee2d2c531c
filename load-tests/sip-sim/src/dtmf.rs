//! RFC 4733 telephone-event packets: building them and sending one digit on a schedule.
//!
//! One digit is sent as a marked start packet, updates every 20 ms with a growing duration,
//! and three end packets (E bit set) that repeat the final duration, all sharing one timestamp.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use rtp_rs::{RtpPacketBuilder, Seq};

/// How long each digit lasts.
pub const DIGIT_DURATION: Duration = Duration::from_millis(100);
/// Number of repeated end packets (RFC 4733 section 2.5.1.4).
pub const END_PACKETS: usize = 3;
/// Packets one digit takes: an update every 20 ms for the duration, then the end packets.
pub const PACKETS_PER_DIGIT: u16 = (DIGIT_DURATION.as_millis() / 20) as u16 + END_PACKETS as u16;
const VOLUME: u8 = 10;
const STEP_SAMPLES: u16 = 160;

/// The RFC 4733 event code of a DTMF digit.
pub fn event_code(digit: char) -> Option<u8> {
    match digit {
        '0'..='9' => Some(digit as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(digit as u8 - b'A' + 12),
        'a'..='d' => Some(digit as u8 - b'a' + 12),
        _ => None,
    }
}

/// The 4-octet telephone-event payload.
pub fn payload(event: u8, end: bool, duration_samples: u16) -> [u8; 4] {
    let [d0, d1] = duration_samples.to_be_bytes();
    [event, (u8::from(end) << 7) | VOLUME, d0, d1]
}

/// Everything needed to send one digit from the simulator's RTP port.
#[derive(Debug, Clone)]
pub struct DigitJob {
    /// The simulator's RTP socket the answer advertised.
    pub socket: Arc<UdpSocket>,
    /// The caller's RTP address.
    pub to: SocketAddr,
    /// Negotiated telephone-event payload type.
    pub pt: u8,
    /// RFC 4733 event code.
    pub event: u8,
    /// Our SSRC for this call.
    pub ssrc: u32,
    /// First sequence number to use.
    pub seq: u16,
    /// RTP timestamp of the event start.
    pub timestamp: u32,
}

impl DigitJob {
    /// Every packet of this digit in send order; the start packet carries the marker bit.
    pub fn packets(&self) -> Vec<Vec<u8>> {
        let steps = (DIGIT_DURATION.as_millis() / 20) as u16;
        let mut out = Vec::with_capacity(usize::from(steps) + END_PACKETS);
        let mut seq = Seq::from(self.seq);
        let mut push = |marked: bool, body: [u8; 4]| {
            let built = RtpPacketBuilder::new()
                .payload_type(self.pt & 0x7f)
                .ssrc(self.ssrc)
                .sequence(seq)
                .timestamp(self.timestamp)
                .marked(marked)
                .payload(&body)
                .build();
            // A 4-byte payload with a 7-bit payload type and no CSRCs always builds.
            if let Ok(p) = built {
                out.push(p);
            }
            seq = seq.next();
        };
        for step in 1..=steps {
            push(step == 1, payload(self.event, false, step * STEP_SAMPLES));
        }
        for _ in 0..END_PACKETS {
            push(false, payload(self.event, true, steps * STEP_SAMPLES));
        }
        out
    }

    /// Send the packets 20 ms apart (end packets back to back).
    pub async fn run(self) {
        let packets = self.packets();
        let updates = packets.len() - END_PACKETS;
        for (i, p) in packets.iter().enumerate() {
            if i > 0 && i < updates {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            // A UDP send on a blocking socket does not wait for the peer; at worst it fails.
            if let Err(e) = self.socket.send_to(p, self.to) {
                tracing::debug!(error = %e, to = %self.to, "DTMF packet not sent.");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtp_rs::RtpReader;

    #[test]
    fn a_digit_is_start_updates_and_three_end_packets() {
        let job = DigitJob {
            socket: Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap()),
            to: "127.0.0.1:9".parse().unwrap(),
            pt: 101,
            event: event_code('#').unwrap(),
            ssrc: 42,
            seq: 65535,
            timestamp: 1000,
        };
        let packets = job.packets();
        assert_eq!(packets.len(), 5 + END_PACKETS);
        assert_eq!(packets.len(), usize::from(PACKETS_PER_DIGIT));
        let readers: Vec<_> = packets.iter().map(|p| RtpReader::new(p).unwrap()).collect();
        assert!(readers[0].mark() && readers[1..].iter().all(|r| !r.mark()));
        assert!(
            readers
                .iter()
                .all(|r| r.payload_type() == 101 && r.timestamp() == 1000)
        );
        assert_eq!(u16::from(readers[1].sequence_number()), 0);
        let ends: Vec<_> = readers
            .iter()
            .filter(|r| r.payload()[1] & 0x80 != 0)
            .collect();
        assert_eq!(ends.len(), END_PACKETS);
        assert!(
            ends.iter()
                .all(|r| r.payload() == [11, 0x80 | 10, 0x03, 0x20])
        );
    }

    #[test]
    fn digits_map_to_event_codes() {
        assert_eq!(event_code('0'), Some(0));
        assert_eq!(event_code('*'), Some(10));
        assert_eq!(event_code('D'), Some(15));
        assert_eq!(event_code('x'), None);
    }
}

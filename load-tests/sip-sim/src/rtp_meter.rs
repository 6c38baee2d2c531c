//! Per-call accounting of received RTP: counts, loss, duplicates, timing.
//!
//! Sans-IO: the caller passes the arrival time. Loss follows RFC 3550 A.3 (extended highest
//! sequence minus base, minus packets received); duplicates are caught with a 64-packet window;
//! jitter is the RFC 3550 A.8 estimator in timestamp units; the inter-arrival deviation is
//! `|arrival gap - ptime|` between consecutive sequence numbers of audio packets.

use std::time::{Duration, Instant};

use rtp_rs::RtpReader;

const CLOCK_HZ: f64 = 8000.0;

/// Running state for one call's received stream.
#[derive(Debug, Clone)]
pub struct RtpMeter {
    ptime: Duration,
    dtmf_pt: Option<u8>,
    /// Packets received (including duplicates and DTMF).
    pub packets: u64,
    /// Telephone-event packets received.
    pub dtmf_packets: u64,
    /// Packets whose sequence number was already seen.
    pub duplicates: u64,
    /// Packets older than the highest sequence seen.
    pub reordered: u64,
    /// Consecutive audio packets whose timestamp step did not match the packetisation.
    pub ts_errors: u64,
    /// Payload type of the first audio packet.
    pub payload_type: Option<u8>,
    /// Audio packets whose payload type differed from the first.
    pub pt_changes: u64,
    /// Whether the very first packet had the marker bit.
    pub first_marker_seen: bool,
    /// RFC 3550 interarrival jitter, in timestamp units.
    pub jitter: f64,
    base_seq: Option<u32>,
    max_seq: u32,
    window: u64,
    unique: u64,
    last: Option<Last>,
    first_arrival: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct Last {
    seq: u32,
    ts: u32,
    at: Instant,
    transit: f64,
}

/// What one packet contributed, for the shared histogram and counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// Not an RTP packet.
    Malformed,
    /// Counted; `deviation_us` is set for in-order consecutive audio packets.
    Packet {
        /// `|gap - ptime|` in microseconds.
        deviation_us: Option<u64>,
    },
}

impl RtpMeter {
    /// A meter expecting packets every `ptime`; `dtmf_pt` packets are counted apart.
    pub fn new(ptime: Duration, dtmf_pt: Option<u8>) -> Self {
        Self {
            ptime,
            dtmf_pt,
            packets: 0,
            dtmf_packets: 0,
            duplicates: 0,
            reordered: 0,
            ts_errors: 0,
            payload_type: None,
            pt_changes: 0,
            first_marker_seen: false,
            jitter: 0.0,
            base_seq: None,
            max_seq: 0,
            window: 0,
            unique: 0,
            last: None,
            first_arrival: None,
        }
    }

    /// Account one datagram received at `now`.
    pub fn on_packet(&mut self, now: Instant, datagram: &[u8]) -> Observed {
        let Ok(rtp) = RtpReader::new(datagram) else {
            return Observed::Malformed;
        };
        self.packets += 1;
        let seq16 = u16::from(rtp.sequence_number());
        let pt = rtp.payload_type();
        if self.packets == 1 {
            self.first_marker_seen = rtp.mark();
        }
        let first_arrival = *self.first_arrival.get_or_insert(now);
        // Extend the 16-bit sequence relative to the highest seen (RFC 3550 A.1 style).
        let seq = match self.base_seq {
            None => {
                self.base_seq = Some(u32::from(seq16));
                self.max_seq = u32::from(seq16);
                self.window = 1;
                self.unique = 1;
                u32::from(seq16)
            }
            Some(_) => {
                let delta = seq16.wrapping_sub(self.max_seq as u16) as i16;
                let seq = self.max_seq.wrapping_add_signed(i32::from(delta));
                if delta > 0 {
                    let shift = delta as u32;
                    self.window = if shift >= 64 { 0 } else { self.window << shift };
                    self.window |= 1;
                    self.max_seq = seq;
                    self.unique += 1;
                } else {
                    let back = (-i32::from(delta)) as u32;
                    if back < 64 && self.window & (1 << back) != 0 {
                        self.duplicates += 1;
                        return Observed::Packet { deviation_us: None };
                    }
                    if back < 64 {
                        self.window |= 1 << back;
                    }
                    self.reordered += 1;
                    self.unique += 1;
                }
                seq
            }
        };
        if Some(pt) == self.dtmf_pt {
            self.dtmf_packets += 1;
            return Observed::Packet { deviation_us: None };
        }
        match self.payload_type {
            None => self.payload_type = Some(pt),
            Some(p) if p != pt => self.pt_changes += 1,
            Some(_) => {}
        }
        let arrival_units = now.duration_since(first_arrival).as_secs_f64() * CLOCK_HZ;
        let transit = arrival_units - f64::from(rtp.timestamp());
        let mut deviation_us = None;
        if let Some(last) = self.last {
            let d = (transit - last.transit).abs();
            self.jitter += (d - self.jitter) / 16.0;
            if seq == last.seq.wrapping_add(1) {
                let gap = now.saturating_duration_since(last.at);
                let dev = gap.abs_diff(self.ptime);
                deviation_us = Some(u64::try_from(dev.as_micros()).unwrap_or(u64::MAX));
                let step = rtp.timestamp().wrapping_sub(last.ts);
                let expected = (self.ptime.as_secs_f64() * CLOCK_HZ) as u32;
                if step != expected {
                    self.ts_errors += 1;
                }
            }
        }
        if self.last.is_none_or(|l| seq.wrapping_sub(l.seq) as i32 > 0) {
            self.last = Some(Last {
                seq,
                ts: rtp.timestamp(),
                at: now,
                transit,
            });
        }
        Observed::Packet { deviation_us }
    }

    /// Packets missing from the sequence range seen so far.
    pub fn lost(&self) -> u64 {
        let Some(base) = self.base_seq else { return 0 };
        let expected = u64::from(self.max_seq.wrapping_sub(base)) + 1;
        expected.saturating_sub(self.unique)
    }

    /// No loss, no duplicates, no reordering.
    pub fn seq_ok(&self) -> bool {
        self.lost() == 0 && self.duplicates == 0 && self.reordered == 0
    }

    /// RFC 3550 jitter in milliseconds.
    pub fn jitter_ms(&self) -> f64 {
        self.jitter / CLOCK_HZ * 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtp_rs::{RtpPacketBuilder, Seq};

    fn pkt(seq: u16, ts: u32, pt: u8, mark: bool) -> Vec<u8> {
        RtpPacketBuilder::new()
            .payload_type(pt)
            .ssrc(1)
            .sequence(Seq::from(seq))
            .timestamp(ts)
            .marked(mark)
            .payload(&[0xd5; 160])
            .build()
            .unwrap()
    }

    #[test]
    fn a_clean_paced_stream_has_no_loss_jitter_or_deviation() {
        #[allow(clippy::disallowed_methods)] // a fixed origin; the test drives time by hand
        let t0 = Instant::now();
        let mut m = RtpMeter::new(Duration::from_millis(20), Some(101));
        let mut devs = vec![];
        for i in 0..100u16 {
            let seq = 65500u16.wrapping_add(i);
            let at = t0 + Duration::from_millis(20 * u64::from(i));
            if let Observed::Packet {
                deviation_us: Some(d),
            } = m.on_packet(at, &pkt(seq, u32::from(i) * 160, 8, i == 0))
            {
                devs.push(d);
            }
        }
        assert_eq!(
            (m.packets, m.lost(), m.duplicates, m.ts_errors),
            (100, 0, 0, 0)
        );
        assert!(m.seq_ok() && m.first_marker_seen);
        assert_eq!(m.payload_type, Some(8));
        assert_eq!(devs.len(), 99);
        assert!(devs.iter().all(|d| *d == 0));
        assert!(m.jitter_ms() < 0.001);
    }

    #[test]
    fn gaps_duplicates_and_late_packets_are_counted() {
        #[allow(clippy::disallowed_methods)] // a fixed origin; the test drives time by hand
        let t0 = Instant::now();
        let mut m = RtpMeter::new(Duration::from_millis(20), None);
        let ms = |n: u64| t0 + Duration::from_millis(n);
        m.on_packet(ms(0), &pkt(1, 0, 0, false));
        m.on_packet(ms(20), &pkt(2, 160, 0, false));
        m.on_packet(ms(20), &pkt(2, 160, 0, false)); // duplicate
        m.on_packet(ms(80), &pkt(5, 640, 0, false)); // 3 and 4 missing
        let late = m.on_packet(ms(105), &pkt(6, 800, 0, false));
        assert_eq!(
            late,
            Observed::Packet {
                deviation_us: Some(5000)
            }
        );
        assert_eq!((m.lost(), m.duplicates), (2, 1));
        m.on_packet(ms(110), &pkt(3, 320, 0, false)); // arrives late: no longer lost
        assert_eq!((m.lost(), m.reordered), (1, 1));
        assert!(!m.seq_ok());
        assert!(m.jitter_ms() > 0.0);
        assert_eq!(m.on_packet(ms(111), b"xx"), Observed::Malformed);
    }

    #[test]
    fn timestamp_steps_that_do_not_match_ptime_are_flagged() {
        #[allow(clippy::disallowed_methods)] // a fixed origin; the test drives time by hand
        let t0 = Instant::now();
        let mut m = RtpMeter::new(Duration::from_millis(20), None);
        m.on_packet(t0, &pkt(1, 0, 8, true));
        m.on_packet(t0 + Duration::from_millis(20), &pkt(2, 80, 8, false));
        assert_eq!(m.ts_errors, 1);
    }
}

//! The RTP pacer core, sans-IO: many prompt streams, one timer, a time wheel of twenty 1 ms
//! slots covering the 20 ms packet period.
//!
//! Each stream is placed in the least-loaded slot, so 5,000 streams become ~250 packets per
//! millisecond instead of 5,000 every 20 ms, and the driver wakes at most 1,000 times a second
//! however many calls run (not 50 per call). Each packet is 160 bytes of G.711 (20 ms at
//! 8 kHz); sequence numbers and timestamps start random and advance by 1 and 160, the first
//! packet carries the marker bit, and an RTCP sender report goes out every 250 packets (5 s).
//!
//! ```
//! # use sendbox_voice::rtp::pacer::{Pacer, StreamId, StreamSpec, PacketKind};
//! # use sendbox_voice::sdp::Codec;
//! let t0 = tokio::time::Instant::now();
//! let mut p = Pacer::new(t0);
//! p.add(t0, StreamId(1), StreamSpec::random(bytes::Bytes::from(vec![0xd5; 1600]), 1, Codec::Pcma));
//! let mut sent = 0;
//! while let Some(at) = p.poll_timeout() {
//!     p.handle_timeout(at, std::time::Duration::ZERO, |_, kind, _| sent += (kind == PacketKind::Rtp) as u32);
//! }
//! assert_eq!(sent, 10); // 1,600 bytes = ten 20 ms frames, then the stream is done
//! ```

use crate::rtp::g711::{ALAW_SILENCE, ALAW_TO_ULAW};
use crate::rtp::rtcp;
use crate::sdp::Codec;
use bytes::Bytes;
use rand::Rng;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::time::Instant;

/// Payload bytes per packet (20 ms of 8 kHz G.711).
pub const FRAME: usize = 160;
/// Slots in the wheel; one per millisecond of the 20 ms period.
pub const SLOTS: u64 = 20;
/// Packets between RTCP sender reports (5 s).
const RTCP_EVERY: u32 = 250;

/// Identifies a stream; chosen by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamId(pub u64);

/// What a stream plays and its RTP identity.
#[derive(Debug, Clone)]
pub struct StreamSpec {
    /// The prompt as A-law bytes (shared with the campaign).
    pub prompt: Bytes,
    /// How many times to play it back to back.
    pub repeat: u8,
    /// The codec the callee accepted.
    pub codec: Codec,
    /// Synchronisation source.
    pub ssrc: u32,
    /// First sequence number.
    pub first_seq: u16,
    /// First timestamp.
    pub first_ts: u32,
}

impl StreamSpec {
    /// A spec with random SSRC, first sequence number and first timestamp (RFC 3550 §5.1).
    pub fn random(prompt: Bytes, repeat: u8, codec: Codec) -> Self {
        let mut r = rand::rng();
        StreamSpec {
            prompt,
            repeat,
            codec,
            ssrc: r.random(),
            first_seq: r.random(),
            first_ts: r.random(),
        }
    }
}

/// Which socket a packet goes out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    /// The RTP port.
    Rtp,
    /// The RTCP port (RTP + 1).
    Rtcp,
}

/// What the pacer tells its driver besides packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacerEvent {
    /// Every repeat of the prompt was sent.
    PromptDone(StreamId),
}

/// Per-stream counters, returned on removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamStats {
    /// RTP packets sent.
    pub packets: u32,
    /// Payload octets sent.
    pub octets: u32,
}

#[derive(Debug)]
struct Stream {
    spec: StreamSpec,
    slot: usize,
    /// Bytes of the (repeated) prompt already sent.
    pos: usize,
    total: usize,
    seq: u16,
    ts: u32,
    stats: StreamStats,
}

/// The wheel.
#[derive(Debug)]
pub struct Pacer {
    start: Instant,
    /// The next absolute millisecond tick to run.
    tick: u64,
    slots: Vec<Vec<StreamId>>,
    streams: HashMap<StreamId, Stream>,
    events: VecDeque<PacerEvent>,
    pkt: Vec<u8>,
    rtcp: Vec<u8>,
}

impl Pacer {
    /// An empty pacer whose tick 0 is `start`.
    pub fn new(start: Instant) -> Self {
        Pacer {
            start,
            tick: 0,
            slots: vec![Vec::new(); SLOTS as usize],
            streams: HashMap::new(),
            events: VecDeque::new(),
            pkt: vec![0; 12 + FRAME],
            rtcp: Vec::with_capacity(64),
        }
    }

    /// Streams currently held.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// True when no stream is held.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    /// Add a stream; its first packet goes out at the next tick of the least-loaded slot.
    pub fn add(&mut self, now: Instant, id: StreamId, spec: StreamSpec) {
        if self.slots.iter().all(Vec::is_empty) {
            // Nothing ran while idle: restart the tick count at now.
            self.tick = self.tick.max(self.ms(now));
        }
        let slot = (0..SLOTS as usize)
            .min_by_key(|&s| self.slots[s].len())
            .unwrap_or(0);
        self.slots[slot].push(id);
        let total = spec.prompt.len() * usize::from(spec.repeat.max(1));
        let (seq, ts) = (spec.first_seq, spec.first_ts);
        self.streams.insert(
            id,
            Stream {
                spec,
                slot,
                pos: 0,
                total,
                seq,
                ts,
                stats: StreamStats::default(),
            },
        );
    }

    /// Switch a stream's codec (a re-INVITE changed it); the next packet uses it.
    pub fn set_codec(&mut self, id: StreamId, codec: Codec) {
        if let Some(s) = self.streams.get_mut(&id) {
            s.spec.codec = codec;
        }
    }

    /// Remove a stream (the call ended), returning its counters.
    pub fn remove(&mut self, id: StreamId) -> Option<StreamStats> {
        let s = self.streams.remove(&id)?;
        let slot = &mut self.slots[s.slot];
        if let Some(i) = slot.iter().position(|x| *x == id) {
            slot.swap_remove(i);
        }
        Some(s.stats)
    }

    /// When the next non-empty slot is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        (self.tick..self.tick + SLOTS)
            .find(|t| !self.slots[(t % SLOTS) as usize].is_empty())
            .map(|t| self.start + Duration::from_millis(t))
    }

    /// Run every tick due at `now`, calling `send(stream, kind, bytes)` for each packet.
    /// `unix_now` is the wall-clock time for RTCP's NTP timestamp.
    pub fn handle_timeout(
        &mut self,
        now: Instant,
        unix_now: Duration,
        mut send: impl FnMut(StreamId, PacketKind, &[u8]),
    ) {
        let due = self.ms(now);
        while self.tick <= due {
            let slot = (self.tick % SLOTS) as usize;
            let mut i = 0;
            while i < self.slots[slot].len() {
                let id = self.slots[slot][i];
                let Some(s) = self.streams.get_mut(&id) else {
                    self.slots[slot].swap_remove(i);
                    continue;
                };
                let n = build_packet(s, &mut self.pkt);
                send(id, PacketKind::Rtp, &self.pkt[..n]);
                let done = s.pos >= s.total;
                if s.stats.packets % RTCP_EVERY == 0 {
                    self.rtcp.clear();
                    let ntp = rtcp::ntp_from_unix(unix_now);
                    let last_ts = s.ts.wrapping_sub(FRAME as u32);
                    rtcp::sender_report(
                        &mut self.rtcp,
                        s.spec.ssrc,
                        ntp,
                        last_ts,
                        s.stats.packets,
                        s.stats.octets,
                        "sendbox",
                    );
                    send(id, PacketKind::Rtcp, &self.rtcp);
                }
                if done {
                    // Finished streams leave the wheel (their stats stay until removed), so
                    // an idle pacer stops waking.
                    self.events.push_back(PacerEvent::PromptDone(id));
                    self.slots[slot].swap_remove(i);
                } else {
                    i += 1;
                }
            }
            self.tick += 1;
        }
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<PacerEvent> {
        self.events.pop_front()
    }

    fn ms(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.start).as_millis() as u64
    }
}

/// Write the next packet of `s` into `buf`, returning its length.
fn build_packet(s: &mut Stream, buf: &mut [u8]) -> usize {
    let prompt = &s.spec.prompt;
    let mut payload = [ALAW_SILENCE; FRAME];
    let end = (s.pos + FRAME).min(s.total);
    if !prompt.is_empty() {
        // Copy whole runs (a frame may wrap from one repeat into the next); a `%` per byte
        // was a tenth of the pacer's CPU at 5,000 calls.
        let mut k = 0;
        let mut p = s.pos;
        while p < end {
            let at = p % prompt.len();
            let n = (end - p).min(prompt.len() - at);
            payload[k..k + n].copy_from_slice(&prompt[at..at + n]);
            k += n;
            p += n;
        }
    }
    if s.spec.codec == Codec::Pcmu {
        for b in &mut payload {
            *b = ALAW_TO_ULAW[*b as usize];
        }
    }
    let n = rtp_rs::RtpPacketBuilder::new()
        .payload_type(s.spec.codec.payload_type())
        .ssrc(s.spec.ssrc)
        .sequence(rtp_rs::Seq::from(s.seq))
        .timestamp(s.ts)
        .marked(s.stats.packets == 0)
        .payload(&payload)
        .build_into_unchecked(buf);
    s.pos += FRAME;
    s.seq = s.seq.wrapping_add(1);
    s.ts = s.ts.wrapping_add(FRAME as u32);
    s.stats.packets += 1;
    s.stats.octets += FRAME as u32;
    n
}

#[cfg(test)]
#[path = "pacer_tests.rs"]
mod tests;

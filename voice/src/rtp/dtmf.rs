//! RFC 4733 telephone-event: parse the 4-byte payload and turn a stream of event packets
//! into digits, once each.
//!
//! A sender repeats each event while the key is held (same RTP timestamp, growing duration)
//! and sends the final packet with the E bit three times. [`DtmfReceiver`] reports a digit on
//! its first end packet and ignores the redundant ones; if every end packet is lost it
//! reports the digit when the next event starts.
//!
//! ```
//! # use sendbox_voice::rtp::dtmf::{DtmfReceiver, encode};
//! let mut rx = DtmfReceiver::default();
//! rx.handle_packet(1000, &encode(5, false, 10, 160), 300);
//! for _ in 0..3 { rx.handle_packet(1000, &encode(5, true, 10, 800), 400); }
//! assert_eq!(rx.poll_digit(), Some(('5', 300)));
//! assert_eq!(rx.poll_digit(), None);
//! ```

use std::collections::VecDeque;

/// One decoded telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Event code (0-9, 10 = `*`, 11 = `#`, 12-15 = A-D, 16 = flash).
    pub code: u8,
    /// The E bit: this is (a copy of) the last packet of the event.
    pub end: bool,
    /// Volume in -dBm0 (0-63).
    pub volume: u8,
    /// Duration so far, in timestamp units (8 kHz: 8 per ms).
    pub duration: u16,
}

/// Decode a payload; `None` if it is shorter than 4 bytes.
pub fn parse(payload: &[u8]) -> Option<Event> {
    let p = payload.get(..4)?;
    Some(Event {
        code: p[0],
        end: p[1] & 0x80 != 0,
        volume: p[1] & 0x3f,
        duration: u16::from_be_bytes([p[2], p[3]]),
    })
}

/// Encode a payload (for test peers and tools).
pub fn encode(code: u8, end: bool, volume: u8, duration: u16) -> [u8; 4] {
    let d = duration.to_be_bytes();
    [code, (u8::from(end) << 7) | (volume & 0x3f), d[0], d[1]]
}

/// The character for an event code; `None` for flash and unknown codes.
pub fn digit(code: u8) -> Option<char> {
    match code {
        0..=9 => Some(char::from(b'0' + code)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + code - 12)),
        _ => None,
    }
}

/// Turns telephone-event packets of one stream into digits with their times.
#[derive(Debug, Default)]
pub struct DtmfReceiver {
    /// The event being received: (RTP timestamp, digit, ms when first seen).
    current: Option<(u32, char, u32)>,
    /// The timestamp of the last event already reported.
    reported: Option<u32>,
    out: VecDeque<(char, u32)>,
}

impl DtmfReceiver {
    /// Feed a telephone-event packet with RTP timestamp `ts`, seen at `at_ms` (the caller's
    /// time base: milliseconds since answer).
    pub fn handle_packet(&mut self, ts: u32, payload: &[u8], at_ms: u32) {
        let Some(ev) = parse(payload) else { return };
        let Some(ch) = digit(ev.code) else { return };
        if self.reported == Some(ts) {
            return; // a redundant end packet or a late repeat of a reported event
        }
        match self.current {
            Some((cur_ts, ..)) if cur_ts == ts => {}
            Some((cur_ts, cur_ch, cur_at)) => {
                // A new event began while the previous never ended: its end packets were lost.
                self.out.push_back((cur_ch, cur_at));
                self.reported = Some(cur_ts);
                self.current = Some((ts, ch, at_ms));
            }
            None => self.current = Some((ts, ch, at_ms)),
        }
        if ev.end
            && let Some((cur_ts, cur_ch, cur_at)) = self.current.take()
        {
            self.out.push_back((cur_ch, cur_at));
            self.reported = Some(cur_ts);
        }
    }

    /// The next digit received, with the time its event started.
    pub fn poll_digit(&mut self) -> Option<(char, u32)> {
        self.out.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_keypad_characters() {
        let s: String = (0..16).filter_map(digit).collect();
        assert_eq!(s, "0123456789*#ABCD");
        assert_eq!(digit(16), None);
    }

    #[test]
    fn three_end_packets_give_one_digit() {
        let mut rx = DtmfReceiver::default();
        for d in [160u16, 320, 480] {
            rx.handle_packet(8000, &encode(11, false, 10, d), 100);
        }
        for _ in 0..3 {
            rx.handle_packet(8000, &encode(11, true, 10, 640), 180);
        }
        assert_eq!(rx.poll_digit(), Some(('#', 100)));
        assert_eq!(rx.poll_digit(), None);
    }

    #[test]
    fn same_key_twice_is_two_digits_by_timestamp() {
        let mut rx = DtmfReceiver::default();
        for (ts, at) in [(1000u32, 10u32), (5000, 600)] {
            rx.handle_packet(ts, &encode(1, false, 10, 160), at);
            for _ in 0..3 {
                rx.handle_packet(ts, &encode(1, true, 10, 800), at + 100);
            }
        }
        let got: Vec<_> = std::iter::from_fn(|| rx.poll_digit()).collect();
        assert_eq!(got, vec![('1', 10), ('1', 600)]);
    }

    #[test]
    fn lost_end_packets_still_report_the_digit_when_the_next_starts() {
        let mut rx = DtmfReceiver::default();
        rx.handle_packet(1000, &encode(7, false, 10, 160), 50);
        rx.handle_packet(3000, &encode(9, false, 10, 160), 400);
        rx.handle_packet(3000, &encode(9, true, 10, 800), 500);
        let got: Vec<_> = std::iter::from_fn(|| rx.poll_digit()).collect();
        assert_eq!(got, vec![('7', 50), ('9', 400)]);
    }

    #[test]
    fn short_payloads_and_flash_are_ignored() {
        let mut rx = DtmfReceiver::default();
        rx.handle_packet(1, &[1, 2], 0);
        rx.handle_packet(2, &encode(16, true, 0, 100), 0);
        assert_eq!(rx.poll_digit(), None);
        assert_eq!(
            parse(&[1, 0x8a, 0, 160]),
            Some(Event {
                code: 1,
                end: true,
                volume: 10,
                duration: 160
            })
        );
    }
}

//! The 2xx we send to a re-INVITE from the trunk, kept until its ACK (RFC 3261 §13.3.1.4).
//!
//! Over UDP the UAS core, not a transaction, makes a 2xx to an INVITE reliable: it resends
//! the same response at T1, 2·T1, … capped at T2 until the ACK with that CSeq arrives, and
//! after 64·T1 without one it gives up and the session should end with a BYE. Over TCP
//! nothing is resent. Written here because rsip has no transaction or dialog layer.
//!
//! ```
//! # use sendbox_voice::sip::uas_2xx::{Pending2xx, Due};
//! # use std::time::Duration;
//! # use tokio::time::Instant;
//! let t0 = Instant::now();
//! let t1 = Duration::from_millis(500);
//! let mut p = Pending2xx::new(t0, bytes::Bytes::from_static(b"SIP/2.0 200 OK\r\n\r\n"), 2, t1);
//! assert_eq!(p.poll_timeout(), t0 + t1);
//! assert!(matches!(p.handle_timeout(t0 + t1), Due::Resend(_)));
//! assert!(p.acked_by(2) && !p.acked_by(1));
//! ```

use super::transaction::T2;
use bytes::Bytes;
use std::time::Duration;
use tokio::time::Instant;

/// A 2xx awaiting its ACK.
#[derive(Debug, Clone)]
pub struct Pending2xx {
    bytes: Bytes,
    cseq: u32,
    next: Instant,
    interval: Duration,
    give_up: Instant,
}

/// What a timeout asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Nothing yet.
    Nothing,
    /// Send the 2xx again.
    Resend(Bytes),
    /// 64·T1 without an ACK: stop resending; end the session with a BYE.
    GiveUp,
}

impl Pending2xx {
    /// The 2xx `bytes` answering the re-INVITE with `cseq`, sent at `now`.
    pub fn new(now: Instant, bytes: Bytes, cseq: u32, t1: Duration) -> Self {
        Pending2xx {
            bytes,
            cseq,
            next: now + t1,
            interval: t1,
            give_up: now + t1 * 64,
        }
    }

    /// The re-INVITE's CSeq number (its ACK carries the same).
    pub fn cseq(&self) -> u32 {
        self.cseq
    }

    /// The response, to answer a retransmitted re-INVITE with the same bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Whether an ACK with CSeq number `cseq` acknowledges this 2xx.
    pub fn acked_by(&self, cseq: u32) -> bool {
        cseq == self.cseq
    }

    /// When [`Self::handle_timeout`] has something to do.
    pub fn poll_timeout(&self) -> Instant {
        self.next.min(self.give_up)
    }

    /// Fire the timer at `now`.
    pub fn handle_timeout(&mut self, now: Instant) -> Due {
        if now >= self.give_up {
            return Due::GiveUp;
        }
        if now < self.next {
            return Due::Nothing;
        }
        self.interval = (self.interval * 2).min(T2);
        self.next = now + self.interval;
        Due::Resend(self.bytes.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resends_at_t1_doubling_to_t2_then_gives_up_at_64_t1() {
        let t0 = Instant::now();
        let t1 = Duration::from_millis(500);
        let mut p = Pending2xx::new(t0, Bytes::from_static(b"200"), 7, t1);
        let mut sent = Vec::new();
        let mut now;
        loop {
            now = p.poll_timeout();
            match p.handle_timeout(now) {
                Due::Resend(b) => {
                    assert_eq!(&b[..], b"200");
                    sent.push(now.duration_since(t0).as_millis());
                }
                Due::GiveUp => break,
                Due::Nothing => panic!("woken for nothing at {:?}", now - t0),
            }
        }
        // 0.5, 1.5, 3.5, 7.5, then every 4 s (T2) until 32 s.
        assert_eq!(&sent[..5], &[500, 1500, 3500, 7500, 11500]);
        assert!(sent.windows(2).all(|w| w[1] - w[0] <= 4000));
        assert_eq!(*sent.last().unwrap(), 31500);
        assert_eq!(now - t0, t1 * 64);
    }

    #[test]
    fn nothing_is_due_before_the_timer() {
        let t0 = Instant::now();
        let mut p = Pending2xx::new(t0, Bytes::new(), 1, Duration::from_millis(500));
        assert_eq!(
            p.handle_timeout(t0 + Duration::from_millis(499)),
            Due::Nothing
        );
    }

    #[test]
    fn only_the_ack_with_the_same_cseq_acknowledges() {
        let p = Pending2xx::new(Instant::now(), Bytes::new(), 3, Duration::from_millis(500));
        assert!(p.acked_by(3));
        assert!(!p.acked_by(2));
        assert_eq!(p.cseq(), 3);
    }
}

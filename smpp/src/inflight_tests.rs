//! What submit responses do to dispatches, without sockets.

use super::*;
use crate::config::{BindConfig, SmppLinkConfig};
use crate::text::TextCache;
use parking_lot::Mutex;
use sendbox_codecs::sms::Concat;
use sendbox_dispatch::clock::ManualClock;
use sendbox_dispatch::limiter::Gcra;
use sendbox_dispatch::{Content, LinkEvents, OperatorQueue, ids::*, model::*};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Default)]
struct Rec {
    handed: Mutex<Vec<(u64, Handoff)>>,
    finished: Mutex<Vec<(u64, Outcome)>>,
    retries: Mutex<Vec<(u64, RetryReason)>>,
}

impl LinkEvents for Rec {
    fn gate(&self, d: Ready) -> Option<Ready> {
        Some(d)
    }
    fn handed_off(&self, d: &Ready, h: Handoff) {
        self.handed.lock().push((d.id.0, h));
    }
    fn finished(&self, d: Ready, o: Outcome) {
        self.finished.lock().push((d.id.0, o));
    }
    fn retry(&self, d: Ready, _after: Duration, reason: RetryReason) {
        self.retries.lock().push((d.id.0, reason));
    }
    fn inbound_sms(&self, _: OperatorId, _: u64, _: &str, _: &str) {}
}

struct Fx {
    sh: Shared,
    rec: Arc<Rec>,
    fl: Flights,
    text: TextCache,
    now: Instant,
}

fn fx() -> Fx {
    let rec = Arc::new(Rec::default());
    let mut cfg = SmppLinkConfig::new(OperatorId(0), "t", vec![BindConfig::new("h", 1, "s", "p")]);
    cfg.max_temp_retries = 2;
    let sh = Shared::new(
        cfg,
        Arc::new(OperatorQueue::new(1, 10)),
        Arc::new(Gcra::new(100.0, 1)),
        rec.clone(),
        Arc::new(ManualClock::new(jiff::Timestamp::UNIX_EPOCH)),
        Vec::new(),
        CancellationToken::new(),
    );
    Fx {
        sh,
        rec,
        fl: Flights::default(),
        text: TextCache::new(Concat::Udh8, 10),
        now: Instant::now(),
    }
}

impl Fx {
    /// Admits a dispatch and marks all its parts sent; returns their tokens.
    fn send(&mut self, id: u64, text: &str) -> Vec<u64> {
        let content = Arc::new(Content::Sms(SmsContent {
            sender: "SHOP".into(),
            text: text.into(),
            segments: 1,
        }));
        let ready = Ready {
            id: DispatchId(id),
            account: AccountId(0),
            campaign: None,
            operator: OperatorId(0),
            msisdn: 77011234567,
            class: TrafficClass::Service,
            content: content.clone(),
            attempt: 1,
            retries: 0,
            reserved: 0,
            accepted_at: jiff::Timestamp::UNIX_EPOCH,
        };
        let prep = self.text.prepare(&content).unwrap();
        self.fl.admit(ready, prep);
        self.send_due()
    }

    fn send_due(&mut self) -> Vec<u64> {
        let mut tokens = Vec::new();
        while let Some(p) = self.fl.next_part(self.now) {
            self.fl.mark_sent(p);
            tokens.push(p.token);
        }
        tokens
    }

    fn resp(&mut self, token: u64, status: u32, id: &'static str) {
        self.fl.on_response(
            &self.sh,
            self.now,
            token,
            status,
            Bytes::from_static(id.as_bytes()),
        );
    }
}

#[test]
fn accepted_long_message_is_handed_off_once_with_all_ids() {
    let mut f = fx();
    let t = f.send(1, &"x".repeat(300));
    assert_eq!(t.len(), 2);
    f.resp(t[1], 0, "B");
    assert!(
        f.rec.handed.lock().is_empty(),
        "handoff waits for every part"
    );
    f.resp(t[0], 0, "A");
    let handed = f.rec.handed.lock();
    assert_eq!(handed.len(), 1);
    assert_eq!(
        (handed[0].1.units, handed[0].1.operator_ref.as_str()),
        (2, "A,B")
    );
    assert_eq!(f.sh.correlator.lock().len(), 1);
}

#[test]
fn permanent_error_rejects_with_the_code_and_no_handoff() {
    let mut f = fx();
    let t = f.send(2, &"y".repeat(300));
    f.resp(t[0], 0, "A");
    f.resp(t[1], 0x0B, "");
    assert!(f.rec.handed.lock().is_empty());
    let fin = f.rec.finished.lock();
    assert_eq!(fin[0].1.state, FinalState::Rejected);
    assert_eq!(fin[0].1.error.as_deref(), Some("smpp:0x0000000B"));
}

#[test]
fn temporary_errors_are_retried_up_to_the_limit_then_fail() {
    let mut f = fx();
    let t = f.send(3, "hi");
    f.resp(t[0], 0x08, "");
    assert!(f.send_due().is_empty(), "the retry waits for its backoff");
    f.now += Duration::from_secs(60);
    let t = f.send_due();
    assert_eq!(t.len(), 1, "resent after the backoff");
    f.resp(t[0], 0x64, "");
    f.now += Duration::from_secs(60);
    let t = f.send_due();
    f.resp(t[0], 0x08, "");
    let fin = f.rec.finished.lock();
    assert_eq!(fin.len(), 1);
    assert_eq!(
        (fin[0].1.state, fin[0].1.error.as_deref()),
        (FinalState::Failed, Some("smpp:0x00000008"))
    );
}

#[test]
fn throttled_part_is_resent_without_counting_a_retry_and_slows_the_operator() {
    let mut f = fx();
    let t = f.send(4, "hi");
    f.resp(t[0], 0x58, "");
    assert!(
        (f.sh.op_limiter.rate() - 50.0).abs() < 0.1,
        "halved: {}",
        f.sh.op_limiter.rate()
    );
    f.now += f.sh.cfg.throttle_pause;
    let t = f.send_due();
    assert_eq!(t.len(), 1);
    f.resp(t[0], 0, "OK1");
    let handed = f.rec.handed.lock();
    assert_eq!(handed.len(), 1);
    assert!(f.rec.retries.lock().is_empty());
}

#[test]
fn response_timeout_is_a_temporary_error() {
    let mut f = fx();
    let t = f.send(5, "hi");
    f.fl.on_timeout(&f.sh, f.now, t[0]);
    f.now += Duration::from_secs(60);
    assert_eq!(f.send_due().len(), 1);
}

#[test]
fn lost_dispatch_with_nothing_accepted_goes_back_to_the_queue() {
    let mut f = fx();
    let t = f.send(6, "hi");
    f.fl.on_lost(t[0]);
    assert_eq!(f.fl.give_back_idle(&f.sh), 1);
    assert_eq!(f.rec.retries.lock()[0], (6, RetryReason::LinkDown));
    assert!(
        f.fl.next_part(f.now).is_none(),
        "the stale token is not sent"
    );
}

#[test]
fn lost_part_of_a_partly_accepted_message_stays_to_be_resent() {
    let mut f = fx();
    let t = f.send(7, &"z".repeat(300));
    f.resp(t[0], 0, "A");
    f.fl.on_lost(t[1]);
    assert_eq!(f.fl.give_back_idle(&f.sh), 0);
    let again = f.send_due();
    assert_eq!(again, vec![t[1]]);
    f.resp(again[0], 0, "B");
    assert_eq!(f.rec.handed.lock()[0].1.operator_ref, "A,B");
}

#[test]
fn stale_response_after_the_dispatch_ended_is_ignored() {
    let mut f = fx();
    let t = f.send(8, "hi");
    f.resp(t[0], 0x0B, "");
    f.resp(t[0], 0, "late");
    assert!(f.rec.handed.lock().is_empty());
    assert_eq!(f.rec.finished.lock().len(), 1);
}

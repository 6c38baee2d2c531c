use super::*;
use crate::config::IdBase;
use sendbox_dispatch::{ids::*, model::*};
use std::sync::Arc;

const S: Duration = Duration::from_secs(1);

fn ready(id: u64) -> Ready {
    Ready {
        id: DispatchId(id),
        account: AccountId(0),
        campaign: None,
        operator: OperatorId(0),
        msisdn: 77011234567,
        class: TrafficClass::Service,
        content: Arc::new(Content::Sms(SmsContent {
            sender: "SHOP".into(),
            text: "hi".into(),
            segments: 1,
        })),
        attempt: 1,
        retries: 0,
        reserved: 0,
        accepted_at: jiff::Timestamp::UNIX_EPOCH,
    }
}

fn key(s: &str) -> MsgKey {
    MsgKey::new(s.as_bytes(), IdBase::Text)
}

fn setup() -> (Correlator, Instant) {
    (Correlator::new(3600 * S, 60 * S), Instant::now())
}

#[test]
fn single_part_delivered() {
    let (mut c, t) = setup();
    assert!(c.register(t, ready(1), vec![key("a")]).is_none());
    match c.on_receipt(t, key("A"), Stat::Delivered, b"000") {
        Match::Finished(r, FinalState::Delivered, None) => assert_eq!(r.id.0, 1),
        other => panic!("{other:?}"),
    }
    assert!(c.is_empty());
    // A duplicate receipt matches nothing.
    assert!(matches!(
        c.on_receipt(t, key("a"), Stat::Delivered, b""),
        Match::Orphaned
    ));
}

#[test]
fn long_message_is_final_when_every_part_is() {
    let (mut c, t) = setup();
    c.register(t, ready(2), vec![key("p1"), key("p2"), key("p3")]);
    assert!(matches!(
        c.on_receipt(t, key("p2"), Stat::Delivered, b""),
        Match::PartDone
    ));
    assert!(matches!(
        c.on_receipt(t, key("p1"), Stat::Enroute, b""),
        Match::Intermediate
    ));
    assert!(matches!(
        c.on_receipt(t, key("p1"), Stat::Undeliverable, b"001"),
        Match::PartDone
    ));
    match c.on_receipt(t, key("p3"), Stat::Delivered, b"") {
        Match::Finished(_, FinalState::Undeliverable, Some(e)) => {
            assert_eq!(e, "dlr:UNDELIV/err=001")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn receipt_before_registration_is_matched_from_the_orphan_buffer() {
    let (mut c, t) = setup();
    assert!(matches!(
        c.on_receipt(t, key("early"), Stat::Rejected, b"0x0B"),
        Match::Orphaned
    ));
    assert_eq!(c.orphans(), 1);
    let (r, s, e) = c
        .register(t + S, ready(3), vec![key("early")])
        .expect("finished at once");
    assert_eq!((r.id.0, s), (3, FinalState::Rejected));
    assert_eq!(e.as_deref(), Some("dlr:REJECTD/err=0x0B"));
    assert_eq!(c.orphans(), 0);
}

#[test]
fn orphans_are_forgotten_after_their_ttl() {
    let (mut c, t) = setup();
    c.on_receipt(t, key("x"), Stat::Delivered, b"");
    c.on_receipt(t + 61 * S, key("y"), Stat::Delivered, b"");
    assert_eq!(c.orphans(), 1);
    assert!(c.register(t + 62 * S, ready(4), vec![key("x")]).is_none());
}

#[test]
fn no_receipt_in_time_expires_the_dispatch() {
    let (mut c, t) = setup();
    c.register(t, ready(5), vec![key("m5")]);
    c.register(t + 10 * S, ready(6), vec![key("m6")]);
    assert!(c.expire(t + 3599 * S).is_empty());
    let out = c.expire(t + 3600 * S);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].0.id.0, out[0].1), (5, FinalState::Expired));
    assert!(matches!(
        c.on_receipt(t, key("m5"), Stat::Delivered, b""),
        Match::Orphaned
    ));
    assert_eq!(c.len(), 1);
}

#[test]
fn drain_returns_everything_awaiting() {
    let (mut c, t) = setup();
    c.register(t, ready(7), vec![key("a")]);
    c.register(t, ready(8), vec![key("b")]);
    let mut ids: Vec<u64> = c.drain().into_iter().map(|r| r.id.0).collect();
    ids.sort_unstable();
    assert_eq!(ids, vec![7, 8]);
    assert!(c.is_empty());
}

#[test]
fn deadlines_of_finished_dispatches_do_not_pile_up() {
    let (mut c, t) = setup();
    // A day's traffic whose receipts all came in: nothing awaits, so the deadline queue must
    // stay near its slack instead of holding every dispatch for the whole dlr_timeout.
    for id in 0..50_000u64 {
        let k = key(&format!("{id:x}"));
        c.register(t, ready(id), vec![k.clone()]);
        assert!(matches!(
            c.on_receipt(t, k, Stat::Delivered, b""),
            Match::Finished(..)
        ));
    }
    assert!(c.is_empty());
    assert!(c.expiry.len() <= EXPIRY_SLACK + 1, "{}", c.expiry.len());
    // Dispatches still awaiting keep their deadlines through compactions, and expire.
    for id in 100_000..110_000u64 {
        c.register(t, ready(id), vec![key(&format!("w{id}"))]);
    }
    for id in 200_000..220_000u64 {
        let k = key(&format!("{id:x}"));
        c.register(t, ready(id), vec![k.clone()]);
        c.on_receipt(t, k, Stat::Delivered, b"");
    }
    let expired = c.expire(t + 3601 * S);
    assert_eq!(expired.len(), 10_000);
    assert!(
        expired
            .iter()
            .all(|(r, s, _)| (100_000..110_000).contains(&r.id.0) && *s == FinalState::Expired)
    );
    assert!(c.is_empty());
}

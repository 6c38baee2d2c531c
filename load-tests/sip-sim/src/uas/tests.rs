//! Sans-IO tests of the UAS core on a virtual clock: no sockets, time passed in by hand.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::Instant;

use super::{Uas, UasConfig};
use crate::behaviour::{Behaviour, BehaviourTable};
use crate::call::{Count, Output};
use crate::stats::{CallResult, Hangup};

const CALLER: &str = "127.0.0.1:5999";

fn uas(default: Behaviour) -> Uas {
    let cfg = UasConfig {
        table: BehaviourTable {
            first_calls: vec![],
            rules: vec![],
            mix: vec![],
            default,
        },
        local: "127.0.0.1:5070".parse().unwrap(),
        rtp_addrs: vec!["127.0.0.1:6000".parse().unwrap()],
        linger: Duration::from_secs(5),
    };
    Uas::new(cfg, ("u", "p"), 1)
}

fn invite() -> Vec<u8> {
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 8\r\n";
    format!(
        "INVITE sip:77010000001@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP {CALLER};branch=z9hG4bKv1\r\n\
         From: <sip:c@{CALLER}>;tag=c1\r\nTo: <sip:77010000001@127.0.0.1>\r\nCall-ID: v1\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:c@{CALLER}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
    .into_bytes()
}

/// Status codes transmitted, and every other output.
fn drain(u: &mut Uas) -> (Vec<u16>, Vec<Output>) {
    let (mut codes, mut other) = (vec![], vec![]);
    while let Some(o) = u.poll_output() {
        match o {
            Output::Transmit(_, data) => {
                let text = String::from_utf8_lossy(&data).to_string();
                codes.push(text.get(8..11).and_then(|c| c.parse().ok()).unwrap_or(0));
            }
            o => other.push(o),
        }
    }
    (codes, other)
}

fn caller() -> SocketAddr {
    CALLER.parse().unwrap()
}

#[test]
fn unacknowledged_200_is_retransmitted_with_doubling_then_abandoned() {
    let t0 = Instant::now();
    let mut u = uas(Behaviour::answer());
    u.handle_datagram(t0, caller(), &invite());
    let (codes, other) = drain(&mut u);
    assert_eq!(codes, vec![100, 200]);
    assert!(other.iter().any(|o| matches!(o, Output::MediaStart { .. })));
    let mut resent_at = vec![];
    let mut now = t0;
    while let Some(next) = u.poll_timeout() {
        if next > t0 + Duration::from_secs(40) {
            break;
        }
        now = next;
        u.handle_timeout(now);
        let (codes, other) = drain(&mut u);
        if codes.contains(&200) {
            resent_at.push((now - t0).as_millis());
        }
        if other
            .iter()
            .any(|o| matches!(o, Output::Count(Count::AckTimeout)))
        {
            let ended = other.iter().find_map(|o| match o {
                Output::CallEnded { result, hangup, .. } => Some((*result, *hangup)),
                _ => None,
            });
            assert_eq!(
                ended,
                Some((CallResult::Answered, Some(Hangup::AckTimeout)))
            );
            break;
        }
    }
    assert_eq!(&resent_at[..5], &[500, 1500, 3500, 7500, 11500]);
    assert_eq!(now - t0, Duration::from_secs(32));
}

#[test]
fn ring_delay_holds_the_200_until_the_timer() {
    let t0 = Instant::now();
    let mut u = uas(Behaviour::answer_after(Duration::from_secs(3)));
    u.handle_datagram(t0, caller(), &invite());
    assert_eq!(drain(&mut u).0, vec![100, 180]);
    assert_eq!(u.poll_timeout(), Some(t0 + Duration::from_secs(3)));
    u.handle_timeout(t0 + Duration::from_millis(2999));
    assert!(drain(&mut u).0.is_empty());
    u.handle_timeout(t0 + Duration::from_secs(3));
    assert_eq!(drain(&mut u).0, vec![200]);
}

#[test]
fn finished_calls_are_forgotten_after_the_linger_time() {
    let t0 = Instant::now();
    let mut u = uas(Behaviour::Busy(486));
    u.handle_datagram(t0, caller(), &invite());
    assert_eq!(drain(&mut u).0, vec![100, 486]);
    let ack = String::from_utf8(invite())
        .unwrap()
        .replace("INVITE sip", "ACK sip")
        .replace("1 INVITE", "1 ACK");
    u.handle_datagram(t0 + Duration::from_millis(10), caller(), ack.as_bytes());
    u.handle_timeout(t0 + Duration::from_secs(6));
    assert!(u.calls.is_empty() && u.by_call_id.is_empty());
    // A late retransmission of the INVITE is now a new call.
    u.handle_datagram(t0 + Duration::from_secs(7), caller(), &invite());
    assert_eq!(drain(&mut u).0, vec![100, 486]);
}

#[test]
fn mutated_and_truncated_datagrams_never_panic() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let t0 = Instant::now();
    let mut u = uas(Behaviour::answer());
    let base = invite();
    for i in 0..3000u32 {
        let mut d = base.clone();
        match i % 3 {
            0 => d.truncate(rng.random_range(0..base.len())),
            1 => {
                for _ in 0..rng.random_range(1..8) {
                    let at = rng.random_range(0..d.len());
                    d[at] = rng.random();
                }
            }
            _ => {
                let at = rng.random_range(0..d.len());
                let junk: Vec<u8> = (0..rng.random_range(1..40)).map(|_| rng.random()).collect();
                d.splice(at..at, junk);
            }
        }
        u.handle_datagram(t0, caller(), &d);
        drain(&mut u);
    }
}

#[test]
fn the_random_mix_is_reproducible_from_the_seed() {
    let outcomes = |seed: u64| -> Vec<u16> {
        let cfg = UasConfig {
            table: BehaviourTable {
                first_calls: vec![],
                rules: vec![],
                mix: vec!["1:busy".parse().unwrap(), "1:reject=404".parse().unwrap()],
                default: Behaviour::answer(),
            },
            local: "127.0.0.1:5070".parse().unwrap(),
            rtp_addrs: vec!["127.0.0.1:6000".parse().unwrap()],
            linger: Duration::from_secs(5),
        };
        let mut u = Uas::new(cfg, ("u", "p"), seed);
        let t0 = Instant::now();
        (0..24)
            .map(|i| {
                let inv = String::from_utf8(invite())
                    .unwrap()
                    .replace("Call-ID: v1", &format!("Call-ID: mix{i}"));
                u.handle_datagram(t0, caller(), inv.as_bytes());
                drain(&mut u).0[1]
            })
            .collect()
    };
    let a = outcomes(7);
    assert_eq!(a, outcomes(7));
    assert_ne!(a, outcomes(8));
    assert!(a.contains(&486) && a.contains(&404));
}

#[test]
fn a_first_calls_rule_makes_the_first_invite_to_a_number_busy_and_the_next_answered() {
    let t0 = Instant::now();
    let mut cfg = uas(Behaviour::answer()).cfg;
    cfg.table.first_calls = vec![crate::behaviour::FirstCalls {
        calls: 1,
        rule: "*0001=busy".parse().unwrap(),
    }];
    let mut u = Uas::new(cfg, ("u", "p"), 1);
    u.handle_datagram(t0, caller(), &invite());
    assert_eq!(drain(&mut u).0, vec![100, 486]);
    // The caller's retry: a new call (its own Call-ID and branch) to the same number.
    let retry = String::from_utf8(invite())
        .unwrap()
        .replace("Call-ID: v1", "Call-ID: v2")
        .replace("branch=z9hG4bKv1", "branch=z9hG4bKv2")
        .replace("tag=c1", "tag=c2");
    u.handle_datagram(t0, caller(), retry.as_bytes());
    assert_eq!(drain(&mut u).0, vec![100, 200]);
}

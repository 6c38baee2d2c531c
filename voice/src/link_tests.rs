//! The link end to end over 127.0.0.1 against a minimal in-test UAS.

use super::*;
use crate::sip::msg;
use parking_lot::Mutex;
use rsip::headers as h;
use rsip::{Method, SipMessage};
use sendbox_dispatch::clock::SystemClock;
use sendbox_dispatch::{AccountId, DispatchId, OperatorId, TrafficClass};
use std::sync::atomic::AtomicU32;

#[derive(Debug, Default)]
struct Recorder {
    handed: Mutex<Vec<(u64, Handoff)>>,
    finished: Mutex<Vec<(u64, Outcome)>>,
    retried: Mutex<Vec<(u64, u16, Duration, RetryReason)>>,
    done: Notify,
    /// What `hold_new` answers.
    hold: std::sync::atomic::AtomicBool,
}

impl LinkEvents for Recorder {
    fn hold_new(&self) -> bool {
        self.hold.load(Ordering::Relaxed)
    }
    fn gate(&self, d: Ready) -> Option<Ready> {
        Some(d)
    }
    fn handed_off(&self, d: &Ready, h: Handoff) {
        self.handed.lock().push((d.id.0, h));
    }
    fn finished(&self, d: Ready, outcome: Outcome) {
        self.finished.lock().push((d.id.0, outcome));
        self.done.notify_waiters();
    }
    fn retry(&self, d: Ready, after: Duration, reason: RetryReason) {
        self.retried.lock().push((d.id.0, d.attempt, after, reason));
        self.done.notify_waiters();
    }
    fn inbound_sms(&self, _: OperatorId, _: u64, _: &str, _: &str) {}
}

impl Recorder {
    fn reported(&self) -> usize {
        self.finished.lock().len() + self.retried.lock().len()
    }
}

fn ready(id: u64, msisdn: u64, content: &Arc<Content>) -> Ready {
    Ready {
        id: DispatchId(id),
        account: AccountId(0),
        campaign: None,
        operator: OperatorId(0),
        msisdn,
        class: TrafficClass::Service,
        content: content.clone(),
        attempt: 1,
        retries: 0,
        reserved: 0,
        accepted_at: jiff::Timestamp::UNIX_EPOCH,
    }
}

/// A UAS: numbers ending in 486 are busy; others ring and answer, then count RTP until BYE.
async fn uas(sip: tokio::net::UdpSocket, rtp: std::net::UdpSocket, packets: Arc<AtomicU32>) {
    let rtp_port = rtp.local_addr().unwrap().port();
    rtp.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2000];
        let start = std::time::SystemTime::now();
        while start.elapsed().unwrap_or_default() < Duration::from_secs(10) {
            if let Ok((n, _)) = rtp.recv_from(&mut buf)
                && n == 172
            {
                packets.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let mut buf = vec![0u8; 65535];
    loop {
        let Ok((n, from)) = sip.recv_from(&mut buf).await else {
            return;
        };
        let Ok(SipMessage::Request(req)) = msg::parse(&buf[..n]) else {
            continue;
        };
        let send = |status: u16| {
            let mut r = msg::response_to(&req, status, Some("uas"));
            if status == 200 && req.method == Method::Invite {
                msg::push::<h::Contact>(
                    &mut r.headers,
                    format!("<sip:uas@{}>", sip.local_addr().unwrap()),
                );
                msg::push::<h::ContentType>(&mut r.headers, "application/sdp");
                r.body = format!("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp_port} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n").into_bytes();
            }
            msg::encode(r)
        };
        let replies: Vec<u16> = match req.method {
            Method::Invite if req.uri.to_string().contains("486@") => vec![486],
            Method::Invite => vec![100, 180, 200],
            Method::Bye => vec![200],
            _ => vec![],
        };
        for s in replies {
            sip.send_to(&send(s), from).await.unwrap();
        }
    }
}

#[tokio::test]
async fn answered_call_streams_the_prompt_and_busy_goes_back_for_a_new_attempt() {
    let sip = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let uas_addr = sip.local_addr().unwrap();
    let packets = Arc::new(AtomicU32::new(0));
    tokio::spawn(uas(
        sip,
        std::net::UdpSocket::bind("127.0.0.1:0").unwrap(),
        packets.clone(),
    ));

    let mut cfg = SipTrunkConfig::new(OperatorId(0), "127.0.0.1", uas_addr.port());
    cfg.rtp_port_range = 32000..=32099;
    cfg.max_calls_per_second = 100.0;
    let queue = Arc::new(OperatorQueue::new(1, 100));
    let content = Arc::new(Content::Voice(VoiceContent {
        audio_id: "a1".into(),
        alaw: bytes::Bytes::from(vec![0xd5; 1600]),
        repeat: 2,
    }));
    queue.push(ready(1, 77010000001, &content)).unwrap();
    queue.push(ready(2, 77010000486, &content)).unwrap();
    let events = Arc::new(Recorder::default());
    let shutdown = CancellationToken::new();
    let link = CallLink::spawn(
        cfg,
        queue,
        Arc::new(Gcra::new(100.0, 10)),
        events.clone(),
        Arc::new(SystemClock),
        shutdown.clone(),
    );

    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let n = events.done.notified();
            tokio::pin!(n);
            n.as_mut().enable();
            if events.reported() == 2 {
                break;
            }
            n.await;
        }
    })
    .await
    .expect("both calls reported within 5 s");
    assert!(link.up());
    let handed = events.handed.lock().clone();
    assert_eq!(handed.len(), 2, "both INVITEs handed off");
    assert!(
        handed
            .iter()
            .all(|(_, h)| h.units == 1 && h.operator_ref.contains('@'))
    );

    let (id, outcome) = events.finished.lock()[0].clone();
    assert_eq!(id, 1);
    assert_eq!(outcome.state, FinalState::Answered);
    let detail = outcome.call.unwrap();
    assert_eq!(detail.sip_status, 200);
    assert_eq!(detail.prompt_ms, 200);
    assert_eq!(detail.heard_ms, 400, "two plays of 200 ms");
    assert!(
        detail.invite_at <= detail.ring_at
            && detail.ring_at <= detail.answer_at
            && detail.answer_at <= detail.end_at
    );
    assert_eq!(outcome.billable_seconds, 1);
    // 400 ms of prompt = 20 packets; allow the last to be in flight.
    for _ in 0..100 {
        if packets.load(Ordering::Relaxed) >= 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(packets.load(Ordering::Relaxed), 20);

    let retried = events.retried.lock().clone();
    assert_eq!(
        retried,
        vec![(2, 2, Duration::from_secs(600), RetryReason::NewAttempt)]
    );

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), link.join())
        .await
        .expect("link stops");
}

#[tokio::test]
async fn a_held_core_gets_no_new_calls_until_released() {
    let sip = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let uas_addr = sip.local_addr().unwrap();
    tokio::spawn(uas(
        sip,
        std::net::UdpSocket::bind("127.0.0.1:0").unwrap(),
        Arc::new(AtomicU32::new(0)),
    ));
    let mut cfg = SipTrunkConfig::new(OperatorId(0), "127.0.0.1", uas_addr.port());
    cfg.rtp_port_range = 32100..=32199;
    let queue = Arc::new(OperatorQueue::new(1, 100));
    let content = Arc::new(Content::Voice(VoiceContent {
        audio_id: "a1".into(),
        alaw: bytes::Bytes::from(vec![0xd5; 800]),
        repeat: 1,
    }));
    let events = Arc::new(Recorder::default());
    events.hold.store(true, Ordering::Relaxed);
    queue.push(ready(1, 77010000001, &content)).unwrap();
    let shutdown = CancellationToken::new();
    let link = CallLink::spawn(
        cfg,
        queue.clone(),
        Arc::new(Gcra::new(100.0, 10)),
        events.clone(),
        Arc::new(SystemClock),
        shutdown.clone(),
    );
    // Bounded wait for something that must not happen: 300 ms is 60 hold checks.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(queue.len(), 1, "the held dispatch stays queued");
    assert!(events.handed.lock().is_empty());
    events.hold.store(false, Ordering::Relaxed);
    tokio::time::timeout(Duration::from_secs(5), async {
        while events.reported() < 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the call is placed once released");
    assert_eq!(events.handed.lock().len(), 1);
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), link.join())
        .await
        .expect("link stops");
}

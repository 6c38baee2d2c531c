//! Shared pieces of the simulator scenarios: a recording `LinkEvents`, dispatch builders and
//! a link against a running `SipSim`.
#![allow(dead_code)]

pub mod sipp;

use parking_lot::Mutex;
use sendbox_dispatch::clock::SystemClock;
use sendbox_dispatch::limiter::Gcra;
use sendbox_dispatch::*;
use sendbox_sip_sim::{SimHandle, SipSimBuilder};
use sendbox_voice::{CallLink, CallLinkHandle, SipTrunkConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Everything the link reported.
#[derive(Debug, Default)]
pub struct Recorder {
    pub handed: Mutex<Vec<(u64, Handoff)>>,
    pub finished: Mutex<Vec<(u64, Outcome)>>,
    pub retried: Mutex<Vec<(u64, u16, RetryReason)>>,
    pub changed: Notify,
}

impl LinkEvents for Recorder {
    fn gate(&self, d: Ready) -> Option<Ready> {
        Some(d)
    }
    fn handed_off(&self, d: &Ready, h: Handoff) {
        self.handed.lock().push((d.id.0, h));
        self.changed.notify_waiters();
    }
    fn finished(&self, d: Ready, outcome: Outcome) {
        self.finished.lock().push((d.id.0, outcome));
        self.changed.notify_waiters();
    }
    fn retry(&self, d: Ready, _after: Duration, reason: RetryReason) {
        self.retried.lock().push((d.id.0, d.attempt, reason));
        self.changed.notify_waiters();
    }
    fn inbound_sms(&self, _: OperatorId, _: u64, _: &str, _: &str) {}
}

impl Recorder {
    /// Wait (at most `limit`) until `check` holds.
    pub async fn until(&self, limit: Duration, check: impl Fn(&Recorder) -> bool) {
        tokio::time::timeout(limit, async {
            loop {
                let n = self.changed.notified();
                tokio::pin!(n);
                n.as_mut().enable();
                if check(self) {
                    return;
                }
                n.await;
            }
        })
        .await
        .expect("condition not reached in time");
    }

    /// The outcome of dispatch `id`.
    pub fn outcome(&self, id: u64) -> Outcome {
        self.finished
            .lock()
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, o)| o.clone())
            .expect("finished")
    }
}

/// A voice dispatch of `prompt_ms` of A-law silence-ish audio, played `repeat` times.
pub fn dispatch(id: u64, msisdn: u64, prompt_ms: usize, repeat: u8) -> Ready {
    Ready {
        id: DispatchId(id),
        account: AccountId(0),
        campaign: None,
        operator: OperatorId(0),
        msisdn,
        class: TrafficClass::Service,
        content: Arc::new(Content::Voice(VoiceContent {
            audio_id: "prompt".into(),
            alaw: bytes::Bytes::from(vec![0xd5; prompt_ms * 8]),
            repeat,
        })),
        attempt: 1,
        retries: 0,
        reserved: 0,
        accepted_at: jiff::Timestamp::UNIX_EPOCH,
    }
}

/// Distinct RTP port ranges per test in this binary (they run in parallel).
static NEXT_RANGE: AtomicU16 = AtomicU16::new(0);

/// A trunk config pointing at the simulator.
pub fn trunk(sim: &SimHandle) -> SipTrunkConfig {
    let mut cfg = SipTrunkConfig::new(OperatorId(0), "127.0.0.1", sim.addr().port());
    let base = 40000 + NEXT_RANGE.fetch_add(1, Ordering::Relaxed) * 200;
    cfg.rtp_port_range = base..=base + 199;
    cfg.max_calls_per_second = 200.0;
    cfg
}

/// A running simulator; it stops when the returned sender is dropped.
pub async fn sim(b: SipSimBuilder) -> (SimHandle, tokio::sync::oneshot::Sender<()>) {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let h = b
        .build()
        .spawn(socket, async move { drop(rx.await) })
        .unwrap();
    (h, tx)
}

/// A link on `cfg` with `dispatches` queued.
pub fn link(
    cfg: SipTrunkConfig,
    dispatches: Vec<Ready>,
) -> (
    CallLinkHandle,
    Arc<Recorder>,
    Arc<OperatorQueue>,
    CancellationToken,
) {
    let queue = Arc::new(OperatorQueue::new(1, 100_000));
    for d in dispatches {
        queue.push(d).unwrap();
    }
    let events = Arc::new(Recorder::default());
    let shutdown = CancellationToken::new();
    let h = CallLink::spawn(
        cfg,
        queue.clone(),
        Arc::new(Gcra::new(10_000.0, 100)),
        events.clone(),
        Arc::new(SystemClock),
        shutdown.clone(),
    );
    (h, events, queue, shutdown)
}

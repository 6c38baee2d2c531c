//! Shared test harness: a recording `LinkEvents`, dispatch builders, and a link on the simulator.

#![allow(dead_code)]

use parking_lot::Mutex;
use sendbox_dispatch::clock::SystemClock;
use sendbox_dispatch::limiter::Gcra;
use sendbox_dispatch::{
    Handoff, LinkEvents, OperatorQueue, Outcome, Ready, RetryReason, ids::*, model::*,
};
use sendbox_smpp::{BindConfig, SmppLinkConfig, SmsLink, SmsLinkHandle};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Records every call; puts retried dispatches back in the queue like the engine does.
#[derive(Default)]
pub struct Recorder {
    pub queue: Mutex<Option<Arc<OperatorQueue>>>,
    pub handed: Mutex<Vec<(u64, Handoff)>>,
    pub finished: Mutex<Vec<(u64, Outcome)>>,
    pub retries: Mutex<Vec<(u64, RetryReason)>>,
    pub inbound: Mutex<Vec<(u64, String, String)>>,
    /// What `hold_new` answers.
    pub hold: AtomicBool,
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
    }
    fn retry(&self, d: Ready, after: Duration, reason: RetryReason) {
        self.retries.lock().push((d.id.0, reason));
        let q = self.queue.lock().clone().expect("queue set");
        if after.is_zero() {
            q.push_front(d);
        } else {
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                q.push_front(d);
            });
        }
    }
    fn inbound_sms(&self, _operator: OperatorId, from: u64, to: &str, text: &str) {
        self.inbound
            .lock()
            .push((from, to.to_string(), text.to_string()));
    }
}

impl Recorder {
    pub fn finished_count(&self) -> usize {
        self.finished.lock().len()
    }

    /// Asserts every id in `ids` was handed off exactly once (when `handed`) and finished exactly once.
    pub fn assert_exactly_once(&self, n: u64, handed: bool) {
        let mut fin: HashMap<u64, usize> = HashMap::new();
        for (id, _) in self.finished.lock().iter() {
            *fin.entry(*id).or_default() += 1;
        }
        assert_eq!(fin.len() as u64, n, "finished dispatches");
        assert!(fin.values().all(|&c| c == 1), "a dispatch finished twice");
        if handed {
            let mut h: HashMap<u64, usize> = HashMap::new();
            for (id, _) in self.handed.lock().iter() {
                *h.entry(*id).or_default() += 1;
            }
            assert_eq!(h.len() as u64, n, "handed-off dispatches");
            assert!(
                h.values().all(|&c| c == 1),
                "a dispatch was handed off twice"
            );
        }
    }
}

pub fn sms(text: &str) -> Arc<Content> {
    Arc::new(Content::Sms(SmsContent {
        sender: "SHOP".into(),
        text: text.into(),
        segments: 1,
    }))
}

pub fn ready(id: u64, content: &Arc<Content>) -> Ready {
    Ready {
        id: DispatchId(id),
        account: AccountId(0),
        campaign: None,
        operator: OperatorId(0),
        msisdn: 77_010_000_000 + id,
        class: TrafficClass::Service,
        content: content.clone(),
        attempt: 1,
        retries: 0,
        reserved: 0,
        accepted_at: jiff::Timestamp::UNIX_EPOCH,
    }
}

/// A link config for `binds` transceivers on `addr` with fast timers.
pub fn config(addr: SocketAddr, binds: usize, window: usize, tps: f64) -> SmppLinkConfig {
    let mut b = BindConfig::new("127.0.0.1", addr.port(), "sys", "pw");
    b.window = window;
    b.max_tps = tps;
    let mut cfg = SmppLinkConfig::new(OperatorId(0), "sim", vec![b; binds]);
    cfg.reconnect_min = Duration::from_millis(20);
    cfg.reconnect_max = Duration::from_millis(200);
    cfg.response_timeout = Duration::from_secs(2);
    cfg.temp_retry_base = Duration::from_millis(20);
    cfg.throttle_pause = Duration::from_millis(20);
    cfg.shutdown_timeout = Duration::from_millis(500);
    cfg
}

pub struct Running {
    pub link: SmsLinkHandle,
    pub queue: Arc<OperatorQueue>,
    pub events: Arc<Recorder>,
    pub limiter: Arc<Gcra>,
    pub shutdown: CancellationToken,
}

pub fn start(cfg: SmppLinkConfig, op_tps: f64) -> Running {
    let queue = Arc::new(OperatorQueue::new(1, 10_000_000));
    let events = Arc::new(Recorder::default());
    *events.queue.lock() = Some(queue.clone());
    let limiter = Arc::new(Gcra::new(op_tps, (op_tps / 20.0).max(1.0) as u32));
    let shutdown = CancellationToken::new();
    let link = SmsLink::spawn(
        cfg,
        queue.clone(),
        limiter.clone(),
        events.clone(),
        Arc::new(SystemClock),
        shutdown.clone(),
    );
    Running {
        link,
        queue,
        events,
        limiter,
        shutdown,
    }
}

/// Waits (real time, bounded) until `cond` holds.
pub async fn until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let t0 = tokio::time::Instant::now();
    while !cond() {
        assert!(t0.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

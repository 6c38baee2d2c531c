//! The SMS operator link: an operator's binds (one driver task each), the shared receipt
//! matcher, and the reports to the dispatch core through [`LinkEvents`].
//!
//! ```no_run
//! # use sendbox_smpp::{config::*, link::SmsLink};
//! # use sendbox_dispatch::{OperatorId, OperatorQueue, limiter::Gcra, clock::SystemClock, LinkEvents};
//! # use std::sync::Arc;
//! # async fn demo(events: Arc<dyn LinkEvents>) {
//! let cfg = SmppLinkConfig::new(OperatorId(0), "kcell", vec![BindConfig::new("127.0.0.1", 2775, "esme", "pw")]);
//! let queue = Arc::new(OperatorQueue::new(1, 100_000));
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! let link = SmsLink::spawn(cfg, queue, Arc::new(Gcra::new(100.0, 10)), events, Arc::new(SystemClock), shutdown.clone());
//! // ... later
//! shutdown.cancel();
//! let awaiting_receipts = link.join().await;
//! # }
//! ```

use crate::config::{BindMode, SmppLinkConfig};
use crate::correlate::{Correlator, Match};
use crate::dlr::{MsgKey, Stat, parse_text};
use crate::driver::Driver;
use crate::latency::SubmitLatency;
use crate::metrics::{self as m};
use crate::pdu::Deliver;
use crate::session::BindKind;
use crate::status::StatusClass;
use bytes::Bytes;
use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};
use parking_lot::Mutex;
use sendbox_dispatch::clock::WallClock;
use sendbox_dispatch::limiter::Gcra;
use sendbox_dispatch::{FinalState, LinkEvents, OperatorQueue, Outcome, Ready};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Nanoseconds since the first call in this process (the monotonic scale of the limiters).
pub fn mono_ns() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Where a bind is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Opening the TCP connection.
    Connecting,
    /// Connected; the bind is out.
    Binding,
    /// Bound.
    Bound,
    /// Down; waiting to reconnect.
    Down,
    /// Stopped (shutdown).
    Stopped,
}

/// The state of one bind connection, for the engine's status page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindStatus {
    /// Index of the bind in the configuration.
    pub bind: usize,
    /// Transceiver, transmitter or receiver.
    pub role: BindKind,
    /// Where it is.
    pub state: LinkState,
    /// Why it last went down (a clear text, e.g. "bind refused: ESME_RINVPASWD (bad password)").
    pub last_error: Option<String>,
}

/// Counter handles, resolved once.
#[derive(Debug)]
pub(crate) struct Counters {
    submits: [Counter; 5],
    receipts: [Counter; 7],
    pub inbound: Counter,
    pub malformed: Counter,
    pub bind_connect: Counter,
    pub bind_rejected: Counter,
    pub bind_timeout: Counter,
    pub up: Gauge,
    pub submit_response: Histogram,
    pub sessions_closed: Counter,
    op: String,
}

impl Counters {
    fn new(op: &str) -> Self {
        let op = op.to_string();
        let sub =
            |r: &'static str| counter!(m::SUBMITS_TOTAL, "operator" => op.clone(), "result" => r);
        let rec =
            |r: &'static str| counter!(m::RECEIPTS_TOTAL, "operator" => op.clone(), "state" => r);
        let bf = |r: &'static str| counter!(m::BIND_FAILURES_TOTAL, "operator" => op.clone(), "reason" => r);
        Counters {
            submits: [
                sub("ok"),
                sub("throttled"),
                sub("temporary"),
                sub("permanent"),
                sub("timeout"),
            ],
            receipts: [
                rec("delivered"),
                rec("undeliverable"),
                rec("expired"),
                rec("rejected"),
                rec("intermediate"),
                rec("orphan"),
                rec("unparsable"),
            ],
            inbound: counter!(m::INBOUND_TOTAL, "operator" => op.clone()),
            malformed: counter!(m::MALFORMED_TOTAL, "operator" => op.clone()),
            bind_connect: bf("connect"),
            bind_rejected: bf("rejected"),
            bind_timeout: bf("timeout"),
            up: gauge!(m::BINDS_UP, "operator" => op.clone()),
            submit_response: histogram!(m::SUBMIT_RESPONSE_SECONDS, "operator" => op.clone()),
            sessions_closed: counter!(m::SESSIONS_CLOSED_TOTAL, "operator" => op.clone()),
            op,
        }
    }

    /// The in-flight gauge of one bind connection.
    pub fn window_gauge(&self, bind: usize) -> Gauge {
        gauge!(m::WINDOW_IN_FLIGHT, "operator" => self.op.clone(), "bind" => bind.to_string())
    }

    pub fn submit(&self, c: StatusClass) {
        let i = match c {
            StatusClass::Ok => 0,
            StatusClass::Throttled => 1,
            StatusClass::Temporary | StatusClass::RetryOnce => 2,
            StatusClass::Permanent => 3,
        };
        self.submits[i].increment(1);
    }

    pub fn timeout(&self) {
        self.submits[4].increment(1);
    }

    fn receipt(&self, i: usize) {
        self.receipts[i].increment(1);
    }

    fn final_receipt(&self, s: FinalState) {
        self.receipt(match s {
            FinalState::Delivered => 0,
            FinalState::Undeliverable => 1,
            FinalState::Expired => 2,
            _ => 3,
        });
    }
}

/// What the drivers of one operator share.
pub(crate) struct Shared {
    pub cfg: SmppLinkConfig,
    pub queue: Arc<OperatorQueue>,
    pub op_limiter: Arc<Gcra>,
    pub events: Arc<dyn LinkEvents>,
    pub clock: Arc<dyn WallClock>,
    pub correlator: Mutex<Correlator>,
    pub counters: Counters,
    /// Exact submit-to-response latencies, one histogram per bind connection.
    pub latency: SubmitLatency,
    pub status: Vec<Mutex<BindStatus>>,
    pub up: AtomicUsize,
    pub shutdown: CancellationToken,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("operator", &self.cfg.operator_name)
            .field("up", &self.up)
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub fn new(
        cfg: SmppLinkConfig,
        queue: Arc<OperatorQueue>,
        op_limiter: Arc<Gcra>,
        events: Arc<dyn LinkEvents>,
        clock: Arc<dyn WallClock>,
        status: Vec<Mutex<BindStatus>>,
        shutdown: CancellationToken,
    ) -> Self {
        Shared {
            correlator: Mutex::new(Correlator::new(cfg.dlr_timeout, cfg.orphan_ttl)),
            counters: Counters::new(&cfg.operator_name),
            latency: SubmitLatency::new(status.len()),
            cfg,
            queue,
            op_limiter,
            events,
            clock,
            status,
            up: AtomicUsize::new(0),
            shutdown,
        }
    }

    /// A dispatch was handed off: wait for its receipts (one per part id).
    pub fn register(&self, now: Instant, ready: Ready, ids: &[Bytes]) {
        let keys = ids
            .iter()
            .map(|id| MsgKey::new(id, self.cfg.submit_id_base))
            .collect();
        let done = self.correlator.lock().register(now, ready, keys);
        if let Some((r, s, e)) = done {
            self.counters.final_receipt(s);
            self.events
                .finished(r, Outcome::simple(s, e, self.clock.now()));
        }
    }

    /// A deliver_sm: a receipt, or an incoming message.
    pub fn on_deliver(&self, now: Instant, d: &Deliver) {
        if d.is_receipt() {
            return self.on_receipt(now, d);
        }
        let mut body = d.text();
        if d.esm_class & 0x40 != 0 {
            let udh = body.first().map_or(0, |&l| usize::from(l) + 1);
            body = body.get(udh..).unwrap_or(&[]);
        }
        let text = sendbox_codecs::sms::decode(d.data_coding, body);
        let src = d.source_addr.strip_prefix(b"+").unwrap_or(&d.source_addr);
        let from = std::str::from_utf8(src)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        let to = String::from_utf8_lossy(&d.dest_addr);
        self.counters.inbound.increment(1);
        self.events.inbound_sms(self.cfg.operator, from, &to, &text);
    }

    fn on_receipt(&self, now: Instant, d: &Deliver) {
        // The TLVs are enough for a delivered message; the text is read only when they are
        // missing, or for the err: code of a failure.
        let tlv_state = d.message_state.map(Stat::from_state);
        let need_text =
            d.receipted_message_id.is_none() || tlv_state.is_none_or(|s| s != Stat::Delivered);
        let text = if need_text {
            parse_text(d.text()).ok()
        } else {
            None
        };
        let id = d
            .receipted_message_id
            .as_deref()
            .or(text.as_ref().map(|t| t.id));
        let stat = tlv_state.or(text.as_ref().map(|t| t.stat));
        let (Some(id), Some(stat)) = (id, stat) else {
            tracing::warn!(operator = %self.cfg.operator_name, "Receipt without a message id or state; ignored.");
            return self.counters.receipt(6);
        };
        let net_err;
        let err: &[u8] = match (text.as_ref().map(|t| t.err), d.network_error) {
            (Some(e), _) if !e.is_empty() => e,
            (_, Some((t, code))) => {
                net_err = format!("{t}:{code}");
                net_err.as_bytes()
            }
            _ => b"",
        };
        let key = MsgKey::new(id, self.cfg.receipt_id_base);
        let m = self.correlator.lock().on_receipt(now, key, stat, err);
        match m {
            Match::Finished(r, s, e) => {
                self.counters.final_receipt(s);
                self.events
                    .finished(r, Outcome::simple(s, e, self.clock.now()));
            }
            Match::PartDone | Match::Intermediate => self.counters.receipt(4),
            Match::Orphaned => self.counters.receipt(5),
        }
    }

    /// Records a bind's state.
    pub fn set_state(&self, idx: usize, state: LinkState, error: Option<String>) {
        let mut s = self.status[idx].lock();
        let was_up = s.state == LinkState::Bound;
        s.state = state;
        if error.is_some() {
            s.last_error = error;
        }
        drop(s);
        let up = state == LinkState::Bound;
        if up && !was_up {
            self.up.fetch_add(1, Ordering::AcqRel);
            self.counters.up.increment(1.0);
        } else if was_up && !up {
            self.up.fetch_sub(1, Ordering::AcqRel);
            self.counters.up.decrement(1.0);
            self.counters.sessions_closed.increment(1);
        }
    }
}

/// The SMS link of one operator.
#[derive(Debug)]
pub struct SmsLink;

impl SmsLink {
    /// Starts the operator's binds (one task per connection; a transmitter/receiver pair is two)
    /// and the receipt-expiry sweeper. They run until `shutdown` is cancelled.
    pub fn spawn(
        cfg: SmppLinkConfig,
        queue: Arc<OperatorQueue>,
        operator_limiter: Arc<Gcra>,
        events: Arc<dyn LinkEvents>,
        clock: Arc<dyn WallClock>,
        shutdown: CancellationToken,
    ) -> SmsLinkHandle {
        mono_ns();
        let mut roles = Vec::new();
        for (i, b) in cfg.binds.iter().enumerate() {
            match b.mode {
                BindMode::Transceiver => roles.push((i, BindKind::Transceiver)),
                BindMode::TransmitterReceiver => {
                    roles.push((i, BindKind::Transmitter));
                    roles.push((i, BindKind::Receiver));
                }
            }
        }
        let status = roles
            .iter()
            .map(|&(bind, role)| {
                Mutex::new(BindStatus {
                    bind,
                    role,
                    state: LinkState::Connecting,
                    last_error: None,
                })
            })
            .collect();
        let shared = Arc::new(Shared::new(
            cfg,
            queue,
            operator_limiter,
            events,
            clock,
            status,
            shutdown,
        ));
        let tasks = roles
            .iter()
            .enumerate()
            .map(|(idx, &(bind, role))| {
                tokio::spawn(Driver::new(shared.clone(), idx, bind, role).run())
            })
            .collect();
        let sweeper = tokio::spawn(sweep(shared.clone()));
        SmsLinkHandle {
            shared,
            tasks,
            sweeper,
        }
    }
}

async fn sweep(sh: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = sh.shutdown.cancelled() => return,
        }
        let expired = sh.correlator.lock().expire(Instant::now());
        for (r, s, e) in expired {
            sh.counters.final_receipt(s);
            sh.events.finished(r, Outcome::simple(s, e, sh.clock.now()));
        }
    }
}

/// The running link.
#[derive(Debug)]
pub struct SmsLinkHandle {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    sweeper: JoinHandle<()>,
}

impl SmsLinkHandle {
    /// Bind connections bound now.
    pub fn binds_up(&self) -> usize {
        self.shared.up.load(Ordering::Acquire)
    }

    /// Each bind connection's state.
    pub fn status(&self) -> Vec<BindStatus> {
        self.shared
            .status
            .iter()
            .map(|s| s.lock().clone())
            .collect()
    }

    /// After a restart: a dispatch the engine handed off before it stopped, with the message
    /// ids the SMSC gave it (`operator_ref`, comma-separated). Its receipts are matched as if
    /// it had been submitted on this run.
    pub fn adopt(&self, ready: Ready, operator_ref: &str) {
        let ids: Vec<Bytes> = operator_ref
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect();
        self.shared.register(Instant::now(), ready, &ids);
    }

    /// submit_sm → submit_sm_resp latencies of this run, every bind merged (microseconds).
    pub fn submit_latency(&self) -> hdrhistogram::Histogram<u64> {
        self.shared.latency.merged()
    }

    /// Start the submit_sm → submit_sm_resp latencies afresh.
    pub fn reset_submit_latency(&self) {
        self.shared.latency.reset();
    }

    /// Dispatches handed off and awaiting their receipts.
    pub fn awaiting_receipts(&self) -> usize {
        self.shared.correlator.lock().len()
    }

    /// Waits for the binds to stop after `shutdown` was cancelled. Each bind stops taking
    /// dispatches, gives back those it had not sent (`retry(.., LinkDown)`), waits for
    /// outstanding responses (at most `shutdown_timeout`), gives back the unanswered ones and
    /// unbinds. Returns the dispatches still awaiting receipts, for the engine to persist.
    pub async fn join(self) -> Vec<Ready> {
        for t in self.tasks {
            if let Err(e) = t.await {
                tracing::error!(error = %e, "SMPP bind task failed.");
            }
        }
        let _ = self.sweeper.await;
        self.shared.correlator.lock().drain()
    }
}

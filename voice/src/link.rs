//! The voice operator link: one per SIP trunk. It pops dispatches from the operator's queue,
//! waits for the trunk's own limits (concurrent calls, calls per second) and the operator's
//! shared [`Gcra`], asks [`LinkEvents::gate`] at the moment the INVITE would leave, and runs
//! each call as a task driving the sans-IO [`Call`]; the prompt is streamed by the trunk's
//! pacer thread(s).
//!
//! Reporting: `handed_off` when the INVITE is sent (1 unit: the attempt fee, operator_ref =
//! the Call-ID); busy, no answer and temporary failures go back with
//! `retry(d, retry_interval, NewAttempt)` with `d.attempt` already incremented, while
//! `d.attempt < max_attempts`; everything else is `finished` with a [`CallDetail`] and
//! `billable_seconds` = answered seconds.
//!
//! Shutdown: the link stops taking dispatches, answered calls get BYE, ringing calls get
//! CANCEL (not before the minimum ring time), and [`CallLinkHandle::join`] returns once every
//! call has ended and been reported.

use crate::call::{Call, CallEnd, CallOutput, CallParams};
use crate::config::SipTrunkConfig;
use crate::metrics as m;
use crate::rtp::pacer::{StreamId, StreamSpec};
use crate::rtp::pacer_thread::{MediaEvent, MediaStream, PacerThread};
use crate::sip::digest::Credentials;
use crate::transport::{Inbound, PortLease, RtpPair, RtpPorts, SipTransport};
use sendbox_dispatch::clock::WallClock;
use sendbox_dispatch::limiter::Gcra;
use sendbox_dispatch::{
    CallDetail, Content, FinalState, Handoff, LinkEvents, OperatorQueue, Outcome, Ready,
    RetryReason, VoiceContent,
};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How soon the trunk asks again whether the core still holds new dispatches back.
const HOLD_RECHECK: Duration = Duration::from_millis(5);

/// Spawns trunk links.
#[derive(Debug)]
pub struct CallLink;

#[derive(Debug, Default)]
struct Shared {
    active: AtomicUsize,
    up: AtomicBool,
    /// The trunk's SIP transport once it is open (TCP: its connection may drop).
    transport: std::sync::OnceLock<Arc<SipTransport>>,
    ended: Notify,
}

/// A running trunk link.
#[derive(Debug)]
pub struct CallLinkHandle {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl CallLinkHandle {
    /// Calls in progress (INVITE sent, not yet reported).
    pub fn active_calls(&self) -> usize {
        self.shared.active.load(Ordering::Acquire)
    }

    /// True while the SIP socket is bound (TCP: the connection to the trunk is up) and the
    /// link takes dispatches.
    pub fn up(&self) -> bool {
        self.shared.up.load(Ordering::Acquire)
            && self.shared.transport.get().is_none_or(|t| t.is_up())
    }

    /// Wait until the link has stopped (after shutdown) and every call was reported.
    pub async fn join(self) {
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "Voice link task failed.");
        }
    }
}

struct Ctx {
    cfg: SipTrunkConfig,
    transport: Arc<SipTransport>,
    ports: Arc<RtpPorts>,
    pacers: Vec<PacerThread>,
    next_pacer: AtomicUsize,
    events: Arc<dyn LinkEvents>,
    clock: Arc<dyn WallClock>,
    shared: Arc<Shared>,
    credentials: Option<Credentials>,
    operator: String,
}

impl CallLink {
    /// Start the link for one trunk. Must be called inside a tokio runtime.
    pub fn spawn(
        cfg: SipTrunkConfig,
        queue: Arc<OperatorQueue>,
        operator_limiter: Arc<Gcra>,
        events: Arc<dyn LinkEvents>,
        clock: Arc<dyn WallClock>,
        shutdown: CancellationToken,
    ) -> CallLinkHandle {
        let shared = Arc::new(Shared::default());
        let task = tokio::spawn(run(
            cfg,
            queue,
            operator_limiter,
            events,
            clock,
            shutdown,
            shared.clone(),
        ));
        CallLinkHandle { shared, task }
    }
}

/// Monotonic nanoseconds for the GCRA limiters (a process-wide origin).
fn mono_ns() -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    let origin = *ORIGIN.get_or_init(Instant::now);
    Instant::now().saturating_duration_since(origin).as_nanos() as u64
}

/// Take one cell, sleeping as told; false if shutdown came first.
async fn acquire(limiter: &Gcra, shutdown: &CancellationToken) -> bool {
    loop {
        match limiter.try_acquire(mono_ns()) {
            Ok(()) => return true,
            Err(wait) => tokio::select! {
                () = tokio::time::sleep(Duration::from_nanos(wait)) => {}
                () = shutdown.cancelled() => return false,
            },
        }
    }
}

async fn setup(cfg: &SipTrunkConfig) -> std::io::Result<Arc<SipTransport>> {
    let trunk: SocketAddr = tokio::net::lookup_host((cfg.host.as_str(), cfg.port))
        .await?
        .next()
        .ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "trunk host has no address")
        })?;
    let local = SocketAddr::new(cfg.local_ip, cfg.local_sip_port);
    SipTransport::open(cfg.transport, local, trunk, cfg.operator.0.to_string()).await
}

async fn run(
    cfg: SipTrunkConfig,
    queue: Arc<OperatorQueue>,
    operator_limiter: Arc<Gcra>,
    events: Arc<dyn LinkEvents>,
    clock: Arc<dyn WallClock>,
    shutdown: CancellationToken,
    shared: Arc<Shared>,
) {
    let operator = cfg.operator.0.to_string();
    let transport = loop {
        match setup(&cfg).await {
            Ok(t) => break t,
            Err(e) => {
                tracing::warn!(operator = %operator, host = %cfg.host, error = %e, "Voice trunk setup failed; retrying in 5 s.");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(5)) => {}
                    () = shutdown.cancelled() => return,
                }
            }
        }
    };
    let mut pacers = Vec::new();
    for i in 0..cfg.pacer_threads.max(1) {
        match PacerThread::spawn_with_priority(
            &format!("rtp-{operator}-{i}"),
            cfg.rtp_realtime_priority,
        ) {
            Ok(p) => pacers.push(p),
            Err(e) => tracing::error!(error = %e, "Could not start an RTP pacer thread."),
        }
    }
    if pacers.is_empty() {
        return;
    }
    let transport_stop = CancellationToken::new();
    let receiver = tokio::spawn(transport.clone().run(transport_stop.clone()));
    let credentials = match (&cfg.auth_user, &cfg.auth_password) {
        (Some(u), Some(p)) => Some(Credentials {
            user: u.clone(),
            password: p.clone(),
        }),
        _ => None,
    };
    // A burst of 20 ms worth of calls: tokio sleeps in whole milliseconds, so with a burst of
    // one a 1,000 calls/s trunk would only reach ~500/s. The long-run rate is unchanged.
    let burst = (cfg.max_calls_per_second / 50.0).ceil().clamp(1.0, 1000.0) as u32;
    let trunk_limiter = Gcra::new(cfg.max_calls_per_second, burst);
    let ctx = Arc::new(Ctx {
        ports: RtpPorts::new(cfg.local_ip, cfg.rtp_port_range.clone()),
        cfg,
        transport,
        pacers,
        next_pacer: AtomicUsize::new(0),
        events,
        clock,
        shared: shared.clone(),
        credentials,
        operator: operator.clone(),
    });
    let _ = shared.transport.set(ctx.transport.clone());
    shared.up.store(true, Ordering::Release);
    tracing::info!(operator = %operator, local = %ctx.transport.local_addr(), transport = ctx.cfg.transport.via_token(), "Voice trunk up.");

    'dispatch: loop {
        // Wait for a free call slot.
        loop {
            let notified = shared.ended.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if shared.active.load(Ordering::Acquire) < ctx.cfg.max_concurrent_calls {
                break;
            }
            tokio::select! {
                () = notified => {}
                () = shutdown.cancelled() => break 'dispatch,
            }
        }
        // TCP: no new call while the connection is being reopened.
        if !ctx.transport.wait_ready(&shutdown).await {
            break;
        }
        // No new call while the core's records wait for the store (`LinkEvents::hold_new`).
        while ctx.events.hold_new() {
            tokio::select! {
                () = tokio::time::sleep(HOLD_RECHECK) => {}
                () = shutdown.cancelled() => break 'dispatch,
            }
        }
        let d = tokio::select! {
            d = queue.pop_wait() => d,
            () = shutdown.cancelled() => break,
        };
        if !acquire(&trunk_limiter, &shutdown).await || !acquire(&operator_limiter, &shutdown).await
        {
            queue.push_front(d);
            break;
        }
        let Some(d) = ctx.events.gate(d) else {
            continue;
        };
        let voice = match &*d.content {
            Content::Voice(v) => v.clone(),
            Content::Sms(_) => {
                let o = Outcome::simple(
                    FinalState::Failed,
                    Some("voice link: not a voice dispatch".into()),
                    ctx.clock.now(),
                );
                ctx.events.finished(d, o);
                continue;
            }
        };
        let (pair, lease) = match ctx.ports.allocate() {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(operator = %operator, error = %e, "No RTP port; dispatch goes back.");
                ctx.events
                    .retry(d, Duration::from_secs(1), RetryReason::Throttled);
                continue;
            }
        };
        let n = shared.active.fetch_add(1, Ordering::AcqRel) + 1;
        metrics::gauge!(m::CALLS_ACTIVE, "operator" => operator.clone()).set(n as f64);
        // One span per call; the dispatch id, never the number (phone numbers stay out of logs).
        let span = tracing::info_span!("call", operator = %operator, dispatch = d.id.0, attempt = d.attempt);
        tokio::spawn(tracing::Instrument::instrument(
            call_task(ctx.clone(), d, voice, pair, lease, shutdown.clone()),
            span,
        ));
    }

    shared.up.store(false, Ordering::Release);
    loop {
        let notified = shared.ended.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if shared.active.load(Ordering::Acquire) == 0 {
            break;
        }
        notified.await;
    }
    transport_stop.cancel();
    let _ = receiver.await;
    tracing::info!(operator = %operator, "Voice trunk stopped.");
}

#[path = "link_call.rs"]
mod call_task_impl;
use call_task_impl::call_task;

#[cfg(test)]
#[path = "link_tests.rs"]
mod tests;

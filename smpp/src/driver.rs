//! One tokio task per bind connection: connect, bind, then one `select!` over socket reads,
//! socket writes, the queue (only when the window has room and the limiters allow), the
//! session's timers, and shutdown. Reconnects with exponential backoff and jitter.
//!
//! Writes are batched per pass: every submit of a pass goes into one buffer, written with one
//! `try_write` at the end of that pass (never held for a later pass while the socket takes it).

use crate::backoff::{Backoff, random_unit};
use crate::config::BindConfig;
use crate::inflight::{Flights, PartRef};
use crate::link::{LinkState, Shared, mono_ns};
use crate::pdu::{SubmitSm, digits, relative_validity};
use crate::session::{BindKind, CloseReason, Event, Input, Session, SessionConfig, State};
use crate::status::bind_error_name;
use crate::text::{TextCache, patched, patched_sar};
use bytes::{Buf, BytesMut};
use sendbox_dispatch::limiter::Gcra;
use sendbox_dispatch::{Content, FinalState, Outcome, Ready};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::time::Instant;

/// How soon a bind asks again whether the core still holds new dispatches back.
const HOLD_RECHECK: Duration = Duration::from_millis(1);

/// How a connection ended.
enum Ended {
    Shutdown,
    Session(CloseReason),
    Connect(String),
}

pub(crate) struct Driver {
    sh: Arc<Shared>,
    idx: usize,
    bind: BindConfig,
    session: Session,
    flights: Flights,
    text: TextCache,
    limiter: Gcra,
    validity: Option<[u8; 16]>,
    backoff: Backoff,
    wake: Option<Instant>,
    window_gauge: metrics::Gauge,
}

impl Driver {
    pub fn new(sh: Arc<Shared>, idx: usize, bind_index: usize, kind: BindKind) -> Self {
        let cfg = &sh.cfg;
        let bind = cfg.binds[bind_index].clone();
        let scfg = SessionConfig {
            kind,
            system_id: bind.system_id.clone(),
            password: bind.password.clone(),
            system_type: bind.system_type.clone(),
            interface_version: cfg.interface_version.octet(),
            addr_ton: bind.addr_ton,
            addr_npi: bind.addr_npi,
            address_range: bind.address_range.clone(),
            window: bind.window,
            enquire_link: cfg.enquire_link,
            response_timeout: cfg.response_timeout,
            max_pdu_len: cfg.max_pdu_len,
        };
        let burst = ((bind.max_tps / 20.0) as u32).max(1);
        Driver {
            limiter: Gcra::new(bind.max_tps, burst),
            session: Session::new(scfg),
            flights: Flights::default(),
            text: TextCache::new(cfg.concat, cfg.max_parts),
            validity: cfg.validity.map(|v| relative_validity(v.as_secs())),
            backoff: Backoff::new(cfg.reconnect_min, cfg.reconnect_max),
            wake: None,
            window_gauge: sh.counters.window_gauge(idx),
            bind,
            idx,
            sh,
        }
    }

    pub async fn run(mut self) {
        let sh = self.sh.clone();
        let span = tracing::info_span!("smpp", operator = %sh.cfg.operator_name, bind = self.idx);
        let _enter = span.enter();
        loop {
            if sh.shutdown.is_cancelled() {
                break;
            }
            sh.set_state(self.idx, LinkState::Connecting, None);
            let addr = (self.bind.host.as_str(), self.bind.port);
            let conn = tokio::select! {
                r = tokio::time::timeout(sh.cfg.response_timeout, TcpStream::connect(addr)) => r,
                _ = sh.shutdown.cancelled() => break,
            };
            let ended = match conn {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    self.serve(stream).await
                }
                Ok(Err(e)) => Ended::Connect(format!(
                    "connect to {}:{}: {e}",
                    self.bind.host, self.bind.port
                )),
                Err(_) => Ended::Connect(format!(
                    "connect to {}:{} timed out",
                    self.bind.host, self.bind.port
                )),
            };
            // Dispatches this bind had not started go to another bind now.
            self.flights.give_back_idle(&sh);
            let why = match ended {
                Ended::Shutdown => break,
                Ended::Connect(e) => {
                    sh.counters.bind_connect.increment(1);
                    tracing::warn!(error = %e, "SMPP connect failed.");
                    e
                }
                Ended::Session(CloseReason::BindRejected(st)) => {
                    sh.counters.bind_rejected.increment(1);
                    // Bad credentials will not fix themselves: wait the longest delay.
                    self.backoff.saturate();
                    let e = format!(
                        "bind refused: {} (0x{st:08X}) for system_id {:?}",
                        bind_error_name(st),
                        self.bind.system_id
                    );
                    tracing::error!(error = %e, "SMPP bind refused.");
                    e
                }
                Ended::Session(r) => {
                    if r == CloseReason::BindTimeout {
                        sh.counters.bind_timeout.increment(1);
                    }
                    let e = format!("session closed: {r:?}");
                    tracing::warn!(reason = ?r, "SMPP session closed.");
                    e
                }
            };
            sh.set_state(self.idx, LinkState::Down, Some(why));
            let delay = self.backoff.next_delay(random_unit());
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = sh.shutdown.cancelled() => break,
            }
        }
        self.flights.fail_remaining(&sh);
        sh.set_state(self.idx, LinkState::Stopped, None);
    }

    async fn serve(&mut self, stream: TcpStream) -> Ended {
        let sh = self.sh.clone();
        let (mut rd, mut wr) = stream.into_split();
        let mut rbuf = BytesMut::with_capacity(64 * 1024);
        let mut wbuf = BytesMut::with_capacity(64 * 1024);
        let start = Instant::now();
        self.session.handle_input(start, Input::Connected);
        sh.set_state(self.idx, LinkState::Binding, None);
        let far = start + Duration::from_secs(365 * 86_400);
        let sleep = tokio::time::sleep_until(far);
        tokio::pin!(sleep);
        let mut draining: Option<Instant> = None;
        loop {
            let now = Instant::now();
            // Timers are checked on every pass: under steady traffic the select below always
            // has a ready socket and would never reach its sleep branch.
            self.session.handle_timeout(now);
            if self.wake.is_some_and(|w| w <= now) {
                self.wake = None;
            }
            if let Some(reason) = self.drain_events(now) {
                self.session.poll_transmit(&mut wbuf);
                if !wbuf.is_empty() {
                    let _ = tokio::time::timeout(
                        Duration::from_millis(200),
                        wr.write_all_buf(&mut wbuf),
                    )
                    .await;
                }
                return if draining.is_some() {
                    Ended::Shutdown
                } else {
                    Ended::Session(reason)
                };
            }
            // Stamp this pass's submits after the previous read's events were handled: a
            // submit exists from when it is taken from the queue, and it is written below in
            // this same pass (the submit-to-response histogram starts here).
            let now = Instant::now();
            match draining {
                None => self.fill(now),
                Some(deadline) if self.session.outstanding() == 0 || now >= deadline => {
                    self.session.unbind(now)
                }
                Some(_) => {}
            }
            if self.session.state() == State::Closed {
                continue; // unbind during binding closes at once: report it
            }
            self.session.poll_transmit(&mut wbuf);
            // Write what we can now, without waiting: the batch of this pass goes out in one
            // syscall, and a busy read side cannot starve the writes.
            if !wbuf.is_empty() {
                match wr.try_write(&wbuf) {
                    Ok(n) => wbuf.advance(n),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => {
                        self.read_rest(&mut rd, &mut rbuf).await;
                        continue;
                    }
                }
            }
            let next = [
                self.session.poll_timeout(),
                self.wake,
                self.flights.next_due(),
                draining,
            ]
            .into_iter()
            .flatten()
            .min();
            sleep.as_mut().reset(next.unwrap_or(far));
            let want_pop = draining.is_none()
                && self.session.room() > 0
                && !self.flights.has_sendable()
                && self.wake.is_none();
            tokio::select! {
                biased;
                _ = sh.shutdown.cancelled(), if draining.is_none() => {
                    draining = Some(now + sh.cfg.shutdown_timeout);
                    self.flights.give_back_idle(&sh);
                }
                r = rd.read_buf(&mut rbuf) => match r {
                    Ok(0) | Err(_) => self.session.handle_input(Instant::now(), Input::Disconnected),
                    Ok(_) => self.session.handle_input(Instant::now(), Input::Received(&mut rbuf)),
                },
                r = wr.write_buf(&mut wbuf), if !wbuf.is_empty() => {
                    if r.is_err() {
                        self.read_rest(&mut rd, &mut rbuf).await;
                    }
                }
                d = sh.queue.pop_wait(), if want_pop => {
                    if sh.events.hold_new() {
                        // Held while this bind waited: the dispatch goes back, first in line.
                        sh.queue.push_front(d);
                        self.wake = Some(Instant::now() + HOLD_RECHECK);
                    } else {
                        self.admit(d);
                    }
                }
                _ = &mut sleep => {
                    self.wake = None;
                    self.session.handle_timeout(Instant::now());
                    if self.session.state() == State::Unbinding && draining.is_some_and(|d| Instant::now() >= d + sh.cfg.response_timeout) {
                        self.session.handle_input(Instant::now(), Input::Disconnected);
                    }
                }
            }
        }
    }

    /// The socket refused a write (the SMSC closed or reset the connection): read what it had
    /// already sent before calling the session lost. Responses that arrived before the reset
    /// are still in the socket; closing without reading them would resend submits the SMSC
    /// accepted (duplicates) instead of handing them off. Bounded by 200 ms.
    async fn read_rest(&mut self, rd: &mut OwnedReadHalf, rbuf: &mut BytesMut) {
        let rest = async {
            while let Ok(n) = rd.read_buf(rbuf).await {
                if n == 0 {
                    break;
                }
                self.session
                    .handle_input(Instant::now(), Input::Received(&mut *rbuf));
                if rbuf.capacity() - rbuf.len() < 4096 {
                    rbuf.reserve(64 * 1024);
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_millis(200), rest).await;
        self.session
            .handle_input(Instant::now(), Input::Disconnected);
    }

    /// Handles the session's events; returns the close reason when the session ended.
    fn drain_events(&mut self, now: Instant) -> Option<CloseReason> {
        let sh = &*self.sh;
        let mut closed = None;
        self.window_gauge.set(self.session.outstanding() as f64);
        while let Some(ev) = self.session.poll_event() {
            match ev {
                Event::Bound => {
                    self.backoff.reset();
                    sh.set_state(self.idx, LinkState::Bound, None);
                    tracing::info!(system_id = %self.bind.system_id, "SMPP bound.");
                }
                Event::Response {
                    token,
                    status,
                    message_id,
                    waited,
                } => {
                    sh.counters.submit_response.record(waited.as_secs_f64());
                    sh.latency.record(self.idx, waited);
                    self.flights.on_response(sh, now, token, status, message_id);
                }
                Event::Timeout { token } => self.flights.on_timeout(sh, now, token),
                Event::Lost { token } => self.flights.on_lost(token),
                Event::Deliver(d) => sh.on_deliver(now, &d),
                Event::Malformed(h) => {
                    sh.counters.malformed.increment(1);
                    tracing::warn!(
                        command_id = h.id,
                        seq = h.seq,
                        len = h.len,
                        "Unreadable PDU from the SMSC; answered and skipped."
                    );
                }
                Event::Closed(r) => closed = Some(r),
            }
        }
        if closed.is_some() {
            sh.set_state(self.idx, LinkState::Down, None);
        }
        closed
    }

    /// Sends as many parts as the window and the limiters allow, taking new dispatches from
    /// the queue without waiting.
    fn fill(&mut self, now: Instant) {
        // One clock read per pass: a pass takes microseconds.
        let ns = mono_ns();
        while self.session.room() > 0 {
            let Some(p) = self.flights.next_part(now) else {
                if self.sh.events.hold_new() {
                    // The core's records are behind: ask again shortly.
                    self.wake = Some(now + HOLD_RECHECK);
                    break;
                }
                match self.sh.queue.pop() {
                    Some(d) => {
                        self.admit(d);
                        continue;
                    }
                    None => break,
                }
            };
            let wait = self
                .limiter
                .try_acquire(ns)
                .and_then(|()| self.sh.op_limiter.try_acquire(ns));
            if let Err(w) = wait {
                self.flights.unpop(p);
                self.wake = Some(now + Duration::from_nanos(w.max(100_000)));
                break;
            }
            self.send(now, p);
        }
    }

    fn admit(&mut self, d: Ready) {
        let Some(d) = self.sh.events.gate(d) else {
            return;
        };
        match self.text.prepare(&d.content) {
            Ok(prep) => self.flights.admit(d, prep),
            Err(e) => {
                let at = self.sh.clock.now();
                self.sh.events.finished(
                    d,
                    Outcome::simple(FinalState::Rejected, Some(e.code().into()), at),
                );
            }
        }
    }

    fn send(&mut self, now: Instant, p: PartRef) {
        let Some(f) = self.flights.flight(p.slot) else {
            return;
        };
        let Content::Sms(sms) = &*f.ready.content else {
            return;
        };
        let part = &f.prep.parts[p.part];
        let concat = self.sh.cfg.concat;
        let mut sm_buf = [0u8; 256];
        let mut dest_buf = [0u8; 20];
        let m = SubmitSm {
            source_ton: f.prep.sender.ton,
            source_npi: f.prep.sender.npi,
            source_addr: sms
                .sender
                .strip_prefix('+')
                .unwrap_or(&sms.sender)
                .as_bytes(),
            dest_addr: digits(f.ready.msisdn, &mut dest_buf),
            esm_class: if part.esm_class_udhi { 0x40 } else { 0 },
            registered_delivery: 1,
            data_coding: part.data_coding,
            validity_period: self.validity.as_ref().map_or(&[][..], |v| &v[..]),
            short_message: patched(part, concat, f.reference, &mut sm_buf),
            payload: part.payload,
            sar: patched_sar(part, f.reference),
        };
        match self.session.submit(now, p.token, &m) {
            Ok(_) => self.flights.mark_sent(p),
            Err(_) => self.flights.unpop(p),
        }
    }
}

//! One connection: a single task reading PDUs, answering into one write buffer, firing timers.
//!
//! Reads are decoded in batches (every complete PDU in the buffer), answers are appended to one
//! `BytesMut` and written with `try_write` when the socket is writable, so a burst of submits costs
//! one syscall each way. Reading pauses while the client is not draining our answers.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io::ErrorKind;
use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use rand::{SeedableRng, rngs::StdRng};
use rusmpp::{Command, CommandId, CommandStatus, Pdu};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tracing::debug;

use crate::server::{Outbound, SessionCmd, Shared};
use crate::stats::bump;
use crate::wire::{self, Frame};

/// Stop reading while this much output is waiting for the client.
const MAX_PENDING_OUTPUT: usize = 4 * 1024 * 1024;

/// What kind of bind the connection holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BindKind {
    Transmitter,
    Receiver,
    Transceiver,
}

/// Something to write later.
#[derive(Debug)]
pub(crate) enum Delayed {
    /// A submit_sm_resp (OK) for `id`, then optionally a garbage PDU.
    SubmitResp {
        seq: u32,
        id: u64,
        nul: bool,
        garbage_after: bool,
    },
    /// A receipt PDU.
    Receipt(Bytes),
}

#[derive(Debug)]
pub(crate) struct Timed {
    pub due: Instant,
    pub order: u64,
    pub what: Delayed,
}

impl PartialEq for Timed {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.order) == (other.due, other.order)
    }
}
impl Eq for Timed {}
impl PartialOrd for Timed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timed {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.order).cmp(&(other.due, other.order))
    }
}

/// Per-connection state.
#[derive(Debug)]
pub(crate) struct Session {
    pub shared: Arc<Shared>,
    pub id: u64,
    pub bind: Option<BindKind>,
    pub system_id: Option<Arc<str>>,
    pub out: BytesMut,
    pub scratch: BytesMut,
    pub timers: BinaryHeap<Reverse<Timed>>,
    pub timer_order: u64,
    pub next_seq: u32,
    pub outstanding: HashMap<u32, Outbound>,
    /// deliver_sm waiting for room in the window (`deliver_window`).
    pub held: VecDeque<Outbound>,
    pub conn_submits: u64,
    pub bucket: Option<(f64, Instant)>,
    pub rng: StdRng,
    pub keys: Vec<u64>,
    pub closing: bool,
}

/// Serves one accepted connection until it closes or the simulator shuts down.
pub(crate) async fn run(shared: Arc<Shared>, stream: TcpStream) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let id = shared.register(tx);
    let rng = StdRng::seed_from_u64(shared.cfg.seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut s = Session {
        shared: shared.clone(),
        id,
        bind: None,
        system_id: None,
        out: BytesMut::with_capacity(64 * 1024),
        scratch: BytesMut::with_capacity(512),
        timers: BinaryHeap::new(),
        timer_order: 0,
        next_seq: 1,
        outstanding: HashMap::new(),
        held: VecDeque::new(),
        conn_submits: 0,
        bucket: None,
        rng,
        keys: Vec::with_capacity(256),
        closing: false,
    };
    let mut rbuf = BytesMut::with_capacity(64 * 1024);
    s.drive(&stream, &mut rbuf, &mut rx).await;
    shared.unregister(id);
    // deliver_sm routed to this connection after its loop ended (it was closing but still
    // registered) go to another bind, or wait for one: dropping them with the channel lost
    // receipts whenever a client unbound while another of its binds was closing.
    rx.close();
    while let Ok(cmd) = rx.try_recv() {
        if let SessionCmd::Deliver(o) = cmd {
            shared.route(o);
        }
    }
    s.requeue_unacked();
    debug!(session = id, "Connection closed.");
}

impl Session {
    async fn drive(
        &mut self,
        stream: &TcpStream,
        rbuf: &mut BytesMut,
        rx: &mut mpsc::UnboundedReceiver<SessionCmd>,
    ) {
        let shutdown = self.shared.shutdown.clone();
        let mut keepalive = self
            .shared
            .cfg
            .enquire_link_interval
            .map(|d| tokio::time::interval_at(Instant::now() + d, d));
        loop {
            if self.closing && self.out.is_empty() {
                return;
            }
            let due = self.timers.peek().map(|t| t.0.due);
            let want_read = !self.closing && self.out.len() < MAX_PENDING_OUTPUT;
            tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                r = stream.writable(), if !self.out.is_empty() => {
                    if r.is_err() {
                        return;
                    }
                    match stream.try_write(&self.out) {
                        Ok(n) => self.out.advance(n),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                        Err(_) => return,
                    }
                }
                () = sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                    self.handle_timers(Instant::now());
                }
                Some(cmd) = rx.recv() => self.handle_cmd(cmd),
                _ = async { keepalive.as_mut()?.tick().await; Some(()) }, if keepalive.is_some() => {
                    bump(&self.shared.counters.enquire_links_sent);
                    let seq = self.take_seq();
                    wire::put_header_only(&mut self.out, wire::ENQUIRE_LINK, 0, seq);
                }
                r = stream.readable(), if want_read => {
                    if r.is_err() {
                        return;
                    }
                    if rbuf.capacity() - rbuf.len() < 16 * 1024 {
                        rbuf.reserve(64 * 1024);
                    }
                    match stream.try_read_buf(rbuf) {
                        Ok(0) => return,
                        Ok(_) => {
                            if self.handle_input(rbuf).is_err() {
                                return;
                            }
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                        Err(_) => return,
                    }
                }
            }
        }
    }

    /// Decodes and handles every complete PDU in `rbuf`.
    fn handle_input(&mut self, rbuf: &mut BytesMut) -> Result<(), wire::FrameError> {
        let max = self.shared.cfg.max_command_length;
        while !self.closing {
            match wire::next_frame(rbuf, max)? {
                None => break,
                Some(Frame::Command(cmd)) => self.handle_command(cmd),
                Some(Frame::Undecodable { command_id, seq }) => {
                    self.handle_undecodable(command_id, seq)
                }
            }
        }
        if !self.keys.is_empty() {
            let (fresh, dup) = self.shared.dedup.record(&mut self.keys);
            let c = &self.shared.counters;
            c.unique_messages
                .fetch_add(fresh, std::sync::atomic::Ordering::Relaxed);
            c.duplicates
                .fetch_add(dup, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }

    fn handle_command(&mut self, cmd: Command) {
        let seq = cmd.sequence_number();
        let c = &self.shared.counters;
        match (cmd.id(), cmd.pdu()) {
            (CommandId::SubmitSm, Some(Pdu::SubmitSm(sm))) => self.on_submit(seq, sm),
            (CommandId::BindTransmitter, Some(Pdu::BindTransmitter(b))) => self.on_bind(
                BindKind::Transmitter,
                seq,
                b.system_id.as_str(),
                b.password.as_str(),
            ),
            (CommandId::BindReceiver, Some(Pdu::BindReceiver(b))) => self.on_bind(
                BindKind::Receiver,
                seq,
                b.system_id.as_str(),
                b.password.as_str(),
            ),
            (CommandId::BindTransceiver, Some(Pdu::BindTransceiver(b))) => self.on_bind(
                BindKind::Transceiver,
                seq,
                b.system_id.as_str(),
                b.password.as_str(),
            ),
            (CommandId::DeliverSmResp, _) => self.on_deliver_resp(seq, cmd.status()),
            (CommandId::EnquireLink, _) => {
                bump(&c.enquire_links);
                wire::put_header_only(&mut self.out, wire::ENQUIRE_LINK_RESP, 0, seq);
            }
            (CommandId::Unbind, _) => {
                bump(&c.unbinds);
                wire::put_header_only(&mut self.out, wire::UNBIND_RESP, 0, seq);
                self.closing = true;
            }
            (CommandId::GenericNack, _) => bump(&c.generic_nacks_received),
            (CommandId::EnquireLinkResp, _) => bump(&c.enquire_link_resps),
            (CommandId::UnbindResp, _) => {
                bump(&c.unbind_resps);
                self.closing = true;
            }
            (id, _) if u32::from(id) & 0x8000_0000 != 0 => {} // other responses: nothing to do
            _ => {
                // Unknown or unsupported request: ESME_RINVCMDID.
                bump(&c.generic_nacks_sent);
                wire::put_header_only(&mut self.out, wire::GENERIC_NACK, 0x03, seq);
            }
        }
    }

    fn handle_undecodable(&mut self, command_id: u32, seq: u32) {
        debug!(session = self.id, command_id, seq, "Undecodable PDU.");
        if command_id == wire::DELIVER_SM | 0x8000_0000 {
            // A deliver_sm_resp with a broken body still acknowledges the deliver_sm.
            self.on_deliver_resp(seq, CommandStatus::EsmeRok);
        } else if command_id & 0x8000_0000 == 0 {
            bump(&self.shared.counters.generic_nacks_sent);
            // ESME_RINVCMDLEN: the body does not match the command.
            wire::put_header_only(&mut self.out, wire::GENERIC_NACK, 0x02, seq);
        }
    }

    fn on_bind(&mut self, kind: BindKind, seq: u32, system_id: &str, password: &str) {
        let cfg = &self.shared.cfg;
        let c = &self.shared.counters;
        let bind_id = match kind {
            BindKind::Transmitter => wire::BIND_TRANSMITTER,
            BindKind::Receiver => wire::BIND_RECEIVER,
            BindKind::Transceiver => wire::BIND_TRANSCEIVER,
        };
        let status = if self.bind.is_some() {
            0x05 // ESME_RALYBND
        } else if let Some(s) = cfg.reject_binds {
            s
        } else {
            match &cfg.credentials {
                Some((sid, _)) if sid != system_id => 0x0F, // ESME_RINVSYSID
                Some((_, pw)) if pw != password => 0x0E,    // ESME_RINVPASWD
                _ => 0,
            }
        };
        let version = cfg.version.octet();
        wire::put_bind_resp(
            &mut self.out,
            bind_id,
            status,
            seq,
            cfg.smsc_system_id.as_bytes(),
            version,
        );
        if status != 0 {
            bump(&c.bind_rejects);
            return;
        }
        bump(&c.binds);
        let sid: Arc<str> = Arc::from(system_id);
        self.bind = Some(kind);
        self.system_id = Some(sid.clone());
        let can_receive = kind != BindKind::Transmitter;
        for o in self.shared.bound(self.id, sid, can_receive) {
            self.write_deliver(o);
        }
    }

    fn handle_cmd(&mut self, cmd: SessionCmd) {
        match cmd {
            SessionCmd::Deliver(o) => self.write_deliver(o),
            SessionCmd::Raw(bytes) => {
                bump(&self.shared.counters.malformed_sent);
                self.out.extend_from_slice(&bytes);
            }
            SessionCmd::Unbind => {
                bump(&self.shared.counters.unbinds_sent);
                let seq = self.take_seq();
                wire::put_header_only(&mut self.out, wire::UNBIND, 0, seq);
            }
        }
    }

    pub(crate) fn take_seq(&mut self) -> u32 {
        let seq = self.next_seq;
        self.next_seq = if seq >= 0x7FFF_FFFF { 1 } else { seq + 1 };
        seq
    }

    fn handle_timers(&mut self, now: Instant) {
        while self.timers.peek().is_some_and(|t| t.0.due <= now) {
            // peek() just returned Some.
            let Some(Reverse(t)) = self.timers.pop() else {
                break;
            };
            match t.what {
                Delayed::SubmitResp {
                    seq,
                    id,
                    nul,
                    garbage_after,
                } => self.write_submit_resp(seq, id, nul, garbage_after),
                Delayed::Receipt(pdu) => self.deliver_receipt(pdu),
            }
        }
    }
}

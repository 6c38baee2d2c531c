//! The accept loop, the state shared by all connections, and the [`SimHandle`] tests hold.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use sendbox_smsc_sim::SmscSim;
//! let sim = SmscSim::builder().credentials("sys", "pw").spawn().await?;
//! println!("SMSC on {}", sim.addr());
//! // … run an ESME against sim.addr() …
//! assert_eq!(sim.stats().duplicates, 0);
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::config::{SimBuilder, SimConfig};
use crate::stats::{Capture, Counters, Dedup, Received, SimStats, bump};
use crate::wire::{self, DeliverSm};

/// Whether an outstanding deliver_sm is a receipt or an MO message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeliverKind {
    Receipt,
    Mo,
}

/// A deliver_sm waiting for a receiver bind (sequence number patched when written).
#[derive(Debug, Clone)]
pub(crate) struct Outbound {
    pub kind: DeliverKind,
    pub pdu: Bytes,
    /// Only a bind with this system_id may take it (receipts); `None`: any receiver (MO).
    pub system_id: Option<Arc<str>>,
}

/// Messages from the handle or other connections to one connection task.
#[derive(Debug)]
pub(crate) enum SessionCmd {
    Deliver(Outbound),
    Raw(Bytes),
    Unbind,
}

#[derive(Debug)]
struct Entry {
    id: u64,
    system_id: Option<Arc<str>>,
    can_receive: bool,
    tx: mpsc::UnboundedSender<SessionCmd>,
}

/// Live connections and deliver_sm that no receiver could take yet.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    next_id: u64,
    entries: Vec<Entry>,
    pending: VecDeque<Outbound>,
    rr: usize,
}

/// State shared by the accept loop, every connection and the handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub cfg: SimConfig,
    pub counters: Counters,
    pub dedup: Dedup,
    pub capture: Capture,
    pub next_message_id: AtomicU64,
    pub submit_count: AtomicU64,
    pub accepted_count: AtomicU64,
    pub registry: Mutex<Registry>,
    pub shutdown: CancellationToken,
}

impl Shared {
    /// Adds a connection; returns its id.
    pub fn register(&self, tx: mpsc::UnboundedSender<SessionCmd>) -> u64 {
        let mut reg = self.registry.lock();
        reg.next_id += 1;
        let id = reg.next_id;
        reg.entries.push(Entry {
            id,
            system_id: None,
            can_receive: false,
            tx,
        });
        id
    }

    /// Marks a connection bound; returns the pending deliver_sm it should write now.
    pub fn bound(&self, id: u64, system_id: Arc<str>, can_receive: bool) -> Vec<Outbound> {
        let mut reg = self.registry.lock();
        if let Some(e) = reg.entries.iter_mut().find(|e| e.id == id) {
            e.system_id = Some(system_id.clone());
            e.can_receive = can_receive;
        }
        if !can_receive {
            return Vec::new();
        }
        let (mine, rest): (Vec<_>, Vec<_>) = reg
            .pending
            .drain(..)
            .partition(|o| o.system_id.as_ref().is_none_or(|s| *s == system_id));
        reg.pending = rest.into();
        mine
    }

    /// Removes a connection.
    pub fn unregister(&self, id: u64) {
        self.registry.lock().entries.retain(|e| e.id != id);
    }

    /// Hands a deliver_sm to a receiver bind (round robin), or parks it until one binds.
    pub fn route(&self, out: Outbound) {
        let mut reg = self.registry.lock();
        let n = reg.entries.len();
        let mut out = out;
        for i in 0..n {
            let idx = (reg.rr + i) % n;
            let e = &reg.entries[idx];
            let fits = e.can_receive
                && e.system_id.is_some()
                && out
                    .system_id
                    .as_ref()
                    .is_none_or(|s| e.system_id.as_ref() == Some(s));
            if !fits {
                continue;
            }
            match e.tx.send(SessionCmd::Deliver(out)) {
                Ok(()) => {
                    reg.rr = idx + 1;
                    return;
                }
                Err(mpsc::error::SendError(SessionCmd::Deliver(back))) => out = back,
                Err(_) => return,
            }
        }
        reg.pending.push_back(out);
    }

    /// Asks every connection to send unbind; returns how many.
    pub fn unbind_all(&self) -> usize {
        let reg = self.registry.lock();
        reg.entries
            .iter()
            .filter(|e| e.tx.send(SessionCmd::Unbind).is_ok())
            .count()
    }

    /// Sends raw bytes to every connection; returns how many took them.
    pub fn broadcast_raw(&self, bytes: &Bytes) -> usize {
        let reg = self.registry.lock();
        reg.entries
            .iter()
            .filter(|e| e.tx.send(SessionCmd::Raw(bytes.clone())).is_ok())
            .count()
    }
}

/// A configured simulator, ready to serve.
#[derive(Debug, Clone)]
pub struct SmscSim {
    config: SimConfig,
}

impl SmscSim {
    /// Starts a builder with defaults: any credentials, no latency, all DELIVRD, SMPP 3.4.
    pub fn builder() -> SimBuilder {
        SimBuilder::default()
    }

    /// A simulator with this configuration.
    pub fn new(config: SimConfig) -> Self {
        Self { config }
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Serves on `listener` until `shutdown` completes or the handle is dropped. Needs a tokio runtime.
    pub fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> SimHandle {
        let addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let token = CancellationToken::new();
        let shared = Arc::new(Shared {
            next_message_id: AtomicU64::new(self.config.first_message_id),
            capture: Capture {
                limit: self.config.capture,
                items: Mutex::new(Vec::new()),
            },
            cfg: self.config,
            counters: Counters::default(),
            dedup: Dedup::default(),
            submit_count: AtomicU64::new(0),
            accepted_count: AtomicU64::new(0),
            registry: Mutex::new(Registry::default()),
            shutdown: token.clone(),
        });
        let stop = token.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = shutdown => stop.cancel(),
                () = stop.cancelled() => {}
            }
        });
        tokio::spawn(accept_loop(listener, shared.clone()));
        SimHandle { addr, shared }
    }

    /// Binds `127.0.0.1:0` and serves until the handle is dropped or shut down.
    pub async fn spawn(self) -> std::io::Result<SimHandle> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        Ok(self.run(listener, std::future::pending()))
    }
}

impl SimBuilder {
    /// Builds and serves on `listener`; see [`SmscSim::run`].
    pub fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> SimHandle {
        self.build().run(listener, shutdown)
    }

    /// Builds and serves on `127.0.0.1:0`; see [`SmscSim::spawn`].
    pub async fn spawn(self) -> std::io::Result<SimHandle> {
        self.build().spawn().await
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        tokio::select! {
            () = shared.shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    debug!(%peer, "Connection accepted.");
                    bump(&shared.counters.connections);
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(crate::session::run(shared.clone(), stream));
                }
                Err(error) => {
                    warn!(%error, "Accept failed.");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            }
        }
    }
}

/// A running simulator. Dropping it stops the simulator and closes every connection.
#[derive(Debug)]
#[must_use = "dropping the handle stops the simulator"]
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl SimHandle {
    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> SimStats {
        self.shared.counters.snapshot()
    }

    /// The captured submits (empty unless the builder set `capture(n)`).
    pub fn received(&self) -> Vec<Received> {
        self.shared.capture.items.lock().clone()
    }

    /// Injects an MO message (a non-receipt deliver_sm) from `from` to `to`: GSM 7-bit unpacked when
    /// every character maps to itself in GSM 03.38, else UCS-2. Delivered to a receiver or
    /// transceiver bind (round robin), or queued until one binds.
    pub fn mo(&self, from: &str, to: &str, text: &str) {
        let (dc, bytes) = mo_encoding(text);
        self.mo_raw(from, to, dc, &bytes);
    }

    /// Injects an MO deliver_sm with explicit `data_coding` and `short_message` octets.
    pub fn mo_raw(&self, from: &str, to: &str, data_coding: u8, short_message: &[u8]) {
        let mut buf = BytesMut::new();
        let d = DeliverSm {
            source: from.as_bytes(),
            dest: to.as_bytes(),
            esm_class: 0x00,
            data_coding,
            short_message,
        };
        let at = wire::start_deliver_sm(&mut buf, 0, &d);
        wire::finish(&mut buf, at);
        self.shared.route(Outbound {
            kind: DeliverKind::Mo,
            pdu: buf.freeze(),
            system_id: None,
        });
    }

    /// Writes raw bytes on every open connection (for malformed-input tests); returns how many.
    pub fn send_raw(&self, bytes: &[u8]) -> usize {
        self.shared.broadcast_raw(&Bytes::copy_from_slice(bytes))
    }

    /// Sends an SMSC-initiated unbind on every open connection (each closes once the client answers
    /// unbind_resp); returns how many.
    pub fn unbind_all(&self) -> usize {
        self.shared.unbind_all()
    }

    /// Stops accepting and closes every connection.
    pub fn shutdown(&self) {
        self.shared.shutdown.cancel();
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}

/// GSM-unpacked when every character is ASCII that GSM 03.38 maps to the same code, else UCS-2.
fn mo_encoding(text: &str) -> (u8, Vec<u8>) {
    let same = |c: char| {
        c == '\n'
            || c == '\r'
            || (c.is_ascii() && (' '..='~').contains(&c) && !"$@[\\]^_`{|}~".contains(c))
    };
    if text.chars().all(same) {
        (0x00, text.as_bytes().to_vec())
    } else {
        (
            0x08,
            text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::mo_encoding;

    #[test]
    fn mo_text_picks_gsm_only_when_bytes_match() {
        assert_eq!(mo_encoding("STOP 1"), (0x00, b"STOP 1".to_vec()));
        assert_eq!(mo_encoding("a@b").0, 0x08);
        assert_eq!(mo_encoding("Иә"), (0x08, vec![0x04, 0x18, 0x04, 0xD9]));
    }
}

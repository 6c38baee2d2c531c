//! Shared RTP receivers: a few UDP sockets, each drained by its own OS thread.
//!
//! Every call is assigned one socket (round robin) whose port goes into the SDP answer. Calls
//! are told apart by the caller's RTP source address, which must be the address in its SDP
//! (symmetric RTP, as every trunk and sipp do). A blocking thread per socket timestamps
//! packets as they arrive, without tokio scheduling noise, and holds the table lock for
//! a few hundred nanoseconds per packet.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use parking_lot::Mutex;

use crate::error::SimError;
use crate::rtp_meter::{Observed, RtpMeter};
use crate::stats::{DeviationSummary, SimStats};

/// Requested receive buffer; the kernel caps it at net.core.rmem_max (raise that for 5,000+ calls).
const RECV_BUFFER: usize = 16 << 20;

/// Counters and live meters of one receiver.
#[derive(Debug)]
struct Table {
    calls: HashMap<SocketAddr, RtpMeter>,
    hist: Histogram<u64>,
    packets: u64,
    unmatched: u64,
    over_2ms: u64,
    over_10ms: u64,
    finished_lost: u64,
    finished_duplicates: u64,
}

impl Table {
    fn new() -> Self {
        Self {
            calls: HashMap::new(),
            // Bounds are constants that hdrhistogram accepts (1 µs .. 60 s, 3 digits).
            hist: Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds"),
            packets: 0,
            unmatched: 0,
            over_2ms: 0,
            over_10ms: 0,
            finished_lost: 0,
            finished_duplicates: 0,
        }
    }

    fn on_datagram(&mut self, now: std::time::Instant, from: SocketAddr, data: &[u8]) {
        let Some(meter) = self.calls.get_mut(&from) else {
            self.unmatched += 1;
            return;
        };
        if let Observed::Packet { deviation_us } = meter.on_packet(now, data) {
            self.packets += 1;
            if let Some(d) = deviation_us {
                self.hist.saturating_record(d);
                self.over_2ms += u64::from(d > 2_000);
                self.over_10ms += u64::from(d > 10_000);
            }
        } else {
            self.unmatched += 1;
        }
    }
}

/// The pool of RTP receive sockets and their threads; stops the threads when dropped.
#[derive(Debug)]
pub(crate) struct RtpPool {
    sockets: Vec<Arc<UdpSocket>>,
    addrs: Vec<SocketAddr>,
    tables: Vec<Arc<Mutex<Table>>>,
    stop: Arc<AtomicBool>,
}

impl RtpPool {
    /// Bind `count` sockets on `ip` and start one receive thread per socket.
    pub(crate) fn start(ip: IpAddr, count: usize) -> Result<Self, SimError> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut pool = Self {
            sockets: vec![],
            addrs: vec![],
            tables: vec![],
            stop: stop.clone(),
        };
        for _ in 0..count.max(1) {
            let want = SocketAddr::new(ip, 0);
            let err = |source| SimError::RtpBind { addr: want, source };
            let socket = UdpSocket::bind(want).map_err(err)?;
            // Short timeout so the thread notices `stop` promptly.
            socket
                .set_read_timeout(Some(Duration::from_millis(50)))
                .map_err(err)?;
            if let Err(e) = socket2::SockRef::from(&socket).set_recv_buffer_size(RECV_BUFFER) {
                tracing::debug!(error = %e, "RTP receive buffer left at the default.");
            }
            let addr = socket.local_addr().map_err(err)?;
            let socket = Arc::new(socket);
            let table = Arc::new(Mutex::new(Table::new()));
            let (s, t, stop) = (socket.clone(), table.clone(), stop.clone());
            std::thread::Builder::new()
                .name(format!("sip-sim-rtp-{}", addr.port()))
                .spawn(move || receive_loop(&s, &t, &stop))
                .map_err(err)?;
            pool.sockets.push(socket);
            pool.addrs.push(addr);
            pool.tables.push(table);
        }
        Ok(pool)
    }

    /// Number of receive sockets.
    pub(crate) fn len(&self) -> usize {
        self.sockets.len()
    }

    /// Local address of socket `idx`.
    pub(crate) fn addr(&self, idx: usize) -> SocketAddr {
        self.addrs[idx % self.addrs.len()]
    }

    /// Socket `idx`, to send DTMF from the advertised port.
    pub(crate) fn socket(&self, idx: usize) -> Arc<UdpSocket> {
        self.sockets[idx % self.sockets.len()].clone()
    }

    /// Start metering packets from `remote` on socket `idx`.
    pub(crate) fn register(&self, idx: usize, remote: SocketAddr, meter: RtpMeter) {
        self.tables[idx % self.tables.len()]
            .lock()
            .calls
            .insert(remote, meter);
    }

    /// Stop metering `remote` and return its meter.
    pub(crate) fn unregister(&self, idx: usize, remote: SocketAddr) -> Option<RtpMeter> {
        let mut table = self.tables[idx % self.tables.len()].lock();
        let meter = table.calls.remove(&remote)?;
        table.finished_lost += meter.lost();
        table.finished_duplicates += meter.duplicates;
        Some(meter)
    }

    /// Add the RTP totals to `stats`.
    pub(crate) fn fill(&self, stats: &mut SimStats) {
        let mut hist: Option<Histogram<u64>> = None;
        for table in &self.tables {
            let t = table.lock();
            stats.rtp_packets += t.packets;
            stats.rtp_unmatched += t.unmatched;
            stats.rtp_late_over_2ms += t.over_2ms;
            stats.rtp_late_over_10ms += t.over_10ms;
            stats.rtp_lost += t.finished_lost + t.calls.values().map(RtpMeter::lost).sum::<u64>();
            stats.rtp_duplicates +=
                t.finished_duplicates + t.calls.values().map(|m| m.duplicates).sum::<u64>();
            match &mut hist {
                None => hist = Some(t.hist.clone()),
                // Same bounds everywhere, so adding cannot fail; ignore it if it somehow does.
                Some(h) => drop(h.add(&t.hist)),
            }
        }
        if let Some(h) = hist.filter(|h| !h.is_empty()) {
            stats.interarrival = DeviationSummary {
                count: h.len(),
                p50_us: h.value_at_quantile(0.50),
                p99_us: h.value_at_quantile(0.99),
                p999_us: h.value_at_quantile(0.999),
                max_us: h.max(),
            };
        }
    }
}

impl Drop for RtpPool {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn receive_loop(socket: &UdpSocket, table: &Mutex<Table>, stop: &AtomicBool) {
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                // Arrival time for jitter must be the real clock: this is a measurement thread
                // outside tokio, and pausing tokio's clock must not freeze it.
                #[allow(clippy::disallowed_methods)]
                let now = std::time::Instant::now();
                table.lock().on_datagram(now, from, &buf[..n]);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => {
                tracing::debug!(error = %e, "RTP receive error.");
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

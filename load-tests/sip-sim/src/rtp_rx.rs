//! Shared RTP receivers: a few UDP sockets, drained together by one thread per simulator.
//!
//! Every call is assigned one socket (round robin) whose port goes into the SDP answer. Calls
//! are told apart by the caller's RTP source address, which must be the address in its SDP
//! (symmetric RTP, as every trunk and sipp do). The thread sleeps a millisecond, then empties
//! every socket in batches (`rtp_drain`); arrival times are the kernel's receive stamps, so the
//! figures are free of this thread's scheduling, and senders never wake it per packet.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use parking_lot::Mutex;

use crate::error::SimError;
use crate::rtp_drain::{BATCH, ClockPair, Drainer};
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
    /// Held open on RTP port + 1 so callers' RTCP is absorbed instead of drawing ICMP errors.
    rtcp_sinks: Vec<UdpSocket>,
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
            rtcp_sinks: vec![],
            stop: stop.clone(),
        };
        for _ in 0..count.max(1) {
            let want = SocketAddr::new(ip, 0);
            let err = |source| SimError::RtpBind { addr: want, source };
            let (socket, rtcp) = bind_pair(ip).map_err(err)?;
            pool.rtcp_sinks.extend(rtcp);
            crate::rtp_drain::prepare(&socket).map_err(err)?;
            if let Err(e) = socket2::SockRef::from(&socket).set_recv_buffer_size(RECV_BUFFER) {
                tracing::debug!(error = %e, "RTP receive buffer left at the default.");
            }
            let addr = socket.local_addr().map_err(err)?;
            pool.sockets.push(Arc::new(socket));
            pool.addrs.push(addr);
            pool.tables.push(Arc::new(Mutex::new(Table::new())));
        }
        let (sockets, tables) = (pool.sockets.clone(), pool.tables.clone());
        std::thread::Builder::new()
            .name(format!("sip-sim-rtp-{}", pool.addrs[0].port()))
            .spawn(move || receive_loop(&sockets, &tables, &stop))
            .map_err(|source| SimError::RtpBind {
                addr: SocketAddr::new(ip, 0),
                source,
            })?;
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

    /// Stop metering `remote` and return its meter. What the socket already holds is read
    /// first: the caller's last packets were sent before its BYE, but may still wait there
    /// for the receive thread's next drain.
    pub(crate) fn unregister(&self, idx: usize, remote: SocketAddr) -> Option<RtpMeter> {
        let table = &self.tables[idx % self.tables.len()];
        let socket = &self.sockets[idx % self.sockets.len()];
        thread_local! {
            static DRAINER: std::cell::RefCell<Drainer> = std::cell::RefCell::new(Drainer::new());
        }
        DRAINER.with_borrow_mut(|d| drain_into(socket, table, d));
        let mut table = table.lock();
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

/// An even RTP port with RTP+1 free for RTCP when possible (RFC 3550 section 11); after a few
/// tries, any port without an RTCP socket.
fn bind_pair(ip: IpAddr) -> std::io::Result<(UdpSocket, Option<UdpSocket>)> {
    for _ in 0..32 {
        let rtp = UdpSocket::bind(SocketAddr::new(ip, 0))?;
        let port = rtp.local_addr()?.port();
        if port % 2 == 0
            && port < u16::MAX
            && let Ok(rtcp) = UdpSocket::bind(SocketAddr::new(ip, port + 1))
        {
            return Ok((rtp, Some(rtcp)));
        }
    }
    Ok((UdpSocket::bind(SocketAddr::new(ip, 0))?, None))
}

/// How long the receive thread sleeps between drains; packets wait in the socket buffers.
const DRAIN_EVERY: Duration = Duration::from_millis(1);

fn receive_loop(sockets: &[Arc<UdpSocket>], tables: &[Arc<Mutex<Table>>], stop: &AtomicBool) {
    let mut drainer = Drainer::new();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(DRAIN_EVERY);
        for (socket, table) in sockets.iter().zip(tables) {
            drain_into(socket, table, &mut drainer);
        }
    }
}

/// Read everything `socket` holds into its table. The table stays locked across each receive,
/// so two threads draining one socket cannot process its datagrams out of order.
fn drain_into(socket: &UdpSocket, table: &Mutex<Table>, drainer: &mut Drainer) {
    loop {
        let clock = ClockPair::now();
        let mut t = table.lock();
        let n = match drainer.recv(socket) {
            Ok(n) => n,
            Err(e) => {
                tracing::debug!(error = %e, "RTP receive error.");
                return;
            }
        };
        for (from, data, at) in drainer.datagrams(&clock) {
            match from {
                Some(from) => t.on_datagram(at, from, data),
                None => t.unmatched += 1,
            }
        }
        if n < BATCH {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtp_ports_are_even_with_rtcp_held_open() {
        let pool = RtpPool::start([127, 0, 0, 1].into(), 2).unwrap();
        for i in 0..pool.len() {
            let port = pool.addr(i).port();
            assert_eq!(port % 2, 0);
            assert!(
                UdpSocket::bind(("127.0.0.1", port + 1)).is_err(),
                "RTCP port is held"
            );
        }
    }

    #[test]
    fn packets_from_unknown_sources_are_counted_apart() {
        let pool = RtpPool::start([127, 0, 0, 1].into(), 1).unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
        pool.register(
            0,
            sender.local_addr().unwrap(),
            RtpMeter::new(Duration::from_millis(20), None),
        );
        let pkt = rtp_rs::RtpPacketBuilder::new()
            .payload_type(8)
            .payload(&[0; 160])
            .build()
            .unwrap();
        sender.send_to(&pkt, pool.addr(0)).unwrap();
        stranger.send_to(&pkt, pool.addr(0)).unwrap();
        let mut stats = SimStats::default();
        for _ in 0..100 {
            stats = SimStats::default();
            pool.fill(&mut stats);
            if stats.rtp_packets + stats.rtp_unmatched == 2 {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!((stats.rtp_packets, stats.rtp_unmatched), (1, 1));
        let meter = pool.unregister(0, sender.local_addr().unwrap()).unwrap();
        assert_eq!(meter.packets, 1);
    }

    #[test]
    fn packets_queued_before_unregistering_are_counted() {
        let pool = RtpPool::start([127, 0, 0, 1].into(), 1).unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let from = sender.local_addr().unwrap();
        pool.register(0, from, RtpMeter::new(Duration::from_millis(20), None));
        for seq in 0..20u16 {
            let pkt = rtp_rs::RtpPacketBuilder::new()
                .payload_type(8)
                .sequence(seq.into())
                .payload(&[0; 160])
                .build()
                .unwrap();
            sender.send_to(&pkt, pool.addr(0)).unwrap();
        }
        // Straight away, before the receive thread's next drain may have run.
        let meter = pool.unregister(0, from).unwrap();
        assert_eq!((meter.packets, meter.lost(), meter.reordered), (20, 0, 0));
    }
}

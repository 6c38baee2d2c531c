//! The pacer's driver: one OS thread owning a [`Pacer`] and the RTP/RTCP sockets of its
//! streams. Its only sleep is one `epoll_wait` (see [`super::reactor`]) that ends when the
//! next slot is due (a timerfd: one timer for every stream), when commands were queued, or
//! when a stream's RTP socket has something from the callee (RFC 4733 digits). Each slot's
//! packets go out with non-blocking `send_to`, and every packet's timing is recorded
//! ([`super::send_timing`]).
//!
//! Why a thread and not tokio: the work is a tight periodic loop of short syscalls; on a
//! dedicated thread it is not delayed behind SIP tasks, and it wakes once per slot however
//! many calls run.
//!
//! Why one `send_to` per packet and not a batch: every call has its own socket (symmetric RTP
//! from the port we advertised, which trunks expect), and `sendmmsg` batches datagrams of one
//! socket only. Sharing one socket per pacer would batch, but would advertise one port for
//! hundreds of calls and demultiplex what callees send by address, which breaks when many
//! calls go to one media address (a trunk's media gateway, or our simulator). io_uring could
//! submit a slot's sends on many sockets in one syscall, but needs `unsafe` (buffers shared
//! with the kernel) and saves only the syscall entry and fd lookup: profiled at 5,000 calls on
//! loopback, a send's cost is the kernel's UDP/IP path and the receiver's delivery (~3.5 µs),
//! not the entry. What decides the p99 is whether the thread gets a CPU on time (see
//! `rtp_realtime_priority` and load-tests/RESULTS.md).
//!
//! ```no_run
//! # use sendbox_voice::rtp::pacer_thread::{PacerThread, MediaStream};
//! # use sendbox_voice::rtp::pacer::StreamSpec;
//! # use sendbox_voice::sdp::Codec;
//! let pacer = PacerThread::spawn("rtp-0").unwrap();
//! let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
//! let rtp = std::net::UdpSocket::bind("127.0.0.1:20000").unwrap();
//! let rtcp = std::net::UdpSocket::bind("127.0.0.1:20001").unwrap();
//! let id = pacer.start(StreamSpec::random(bytes::Bytes::from_static(&[0xd5; 8000]), 1, Codec::Pcma),
//!     MediaStream { rtp, rtcp, remote: "127.0.0.1:40000".parse().unwrap(), dtmf_pt: Some(101), events: tx });
//! pacer.stop(id);
//! ```

pub use super::lag::LagStats;
use super::reactor::{Reactor, Ready, Waker};
use super::send_timing::{Measure, SEND_TIMING, TimingBatch};
use crate::metrics as m;
use crate::rtp::dtmf::DtmfReceiver;
use crate::rtp::pacer::{Pacer, PacerEvent, PacketKind, StreamId, StreamSpec};
use crate::sdp::MediaAnswer;
use crossbeam_channel::{Receiver, Sender, TryRecvError};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

/// What a stream reports back to its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEvent {
    /// Every repeat of the prompt was sent.
    PromptDone,
    /// A DTMF digit, with ms since the stream started (the answer).
    Digit(char, u32),
}

/// The IO side of one stream, handed to the pacer thread.
#[derive(Debug)]
pub struct MediaStream {
    /// Our RTP socket (the port in our SDP); packets go out from it (symmetric RTP).
    pub rtp: UdpSocket,
    /// Our RTCP socket (RTP port + 1).
    pub rtcp: UdpSocket,
    /// The callee's RTP address from the answer; RTCP goes to the port above.
    pub remote: SocketAddr,
    /// The telephone-event payload type, if negotiated.
    pub dtmf_pt: Option<u8>,
    /// Where to report [`MediaEvent`]s.
    pub events: UnboundedSender<MediaEvent>,
}

enum Cmd {
    Add(StreamId, Box<StreamSpec>, MediaStream),
    Retarget(StreamId, MediaAnswer),
    Remove(StreamId),
}

/// A running pacer thread.
#[derive(Debug)]
pub struct PacerThread {
    tx: Sender<Cmd>,
    waker: Waker,
    next_id: AtomicU64,
    active: Arc<AtomicU64>,
    lag: Arc<LagStats>,
    join: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cmd::Add(id, ..) => write!(f, "Add({id:?})"),
            Cmd::Retarget(id, a) => write!(f, "Retarget({id:?}, {a:?})"),
            Cmd::Remove(id) => write!(f, "Remove({id:?})"),
        }
    }
}

impl PacerThread {
    /// Start a pacer thread named `name` at normal priority.
    pub fn spawn(name: &str) -> std::io::Result<Self> {
        Self::spawn_with_priority(name, None)
    }

    /// Start a pacer thread; with `realtime = Some(p)` it asks for `SCHED_FIFO` priority `p`
    /// (1-99), so a busy machine does not delay its slots. If the OS refuses (no
    /// `CAP_SYS_NICE`), it logs a warning and runs at normal priority.
    pub fn spawn_with_priority(name: &str, realtime: Option<u8>) -> std::io::Result<Self> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let reactor = Reactor::new()?;
        let waker = reactor.waker();
        let active = Arc::new(AtomicU64::new(0));
        let lag = Arc::new(LagStats::default());
        let (a, l) = (active.clone(), lag.clone());
        // Pacers started together would all wake at the same instant each millisecond and
        // queue behind one another on a small machine; shift each one's slot grid by a
        // quarter of a millisecond from the previous one's.
        let phase = PHASE_STEP * (NEXT_PHASE.fetch_add(1, Ordering::Relaxed) % PHASES);
        let join = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                if let Some(p) = realtime {
                    raise_priority(p);
                }
                run(rx, reactor, a, l, phase)
            })?;
        Ok(PacerThread {
            tx,
            waker,
            next_id: AtomicU64::new(1),
            active,
            lag,
            join: Mutex::new(Some(join)),
        })
    }

    /// Start streaming; the first packet leaves within 20 ms.
    pub fn start(&self, spec: StreamSpec, media: MediaStream) -> StreamId {
        let id = StreamId(self.next_id.fetch_add(1, Ordering::Relaxed));
        // The thread only stops when this handle is dropped, so the channel is open.
        self.send(Cmd::Add(id, Box::new(spec), media));
        id
    }

    /// Follow a re-INVITE: send to a new address, codec or DTMF payload type.
    pub fn retarget(&self, id: StreamId, media: MediaAnswer) {
        self.send(Cmd::Retarget(id, media));
    }

    /// Stop a stream and close its sockets.
    pub fn stop(&self, id: StreamId) {
        self.send(Cmd::Remove(id));
    }

    fn send(&self, c: Cmd) {
        let _ = self.tx.send(c);
        self.waker.wake();
    }

    /// Streams running now.
    pub fn active(&self) -> u64 {
        self.active.load(Ordering::Relaxed)
    }

    /// Send-lateness statistics since start.
    pub fn lag(&self) -> &LagStats {
        &self.lag
    }
}

impl Drop for PacerThread {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop.
        let (dead, _) = crossbeam_channel::bounded(0);
        drop(std::mem::replace(&mut self.tx, dead));
        self.waker.wake();
        if let Some(j) = self.join.lock().take() {
            let _ = j.join();
        }
    }
}

/// Datagrams read from one stream's socket per readiness event (a flood cannot stall slots;
/// the next arrival reports the socket again).
const RECEIVE_MAX: usize = 64;
/// How often the thread publishes the process's send-timing gauges.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);
/// Slot-grid offsets handed to successive pacer threads.
const PHASES: u32 = 4;
const PHASE_STEP: Duration = Duration::from_micros(250);
static NEXT_PHASE: AtomicU32 = AtomicU32::new(0);
/// The packet period, for the send-interval deviation.
const PERIOD: Duration = Duration::from_millis(20);

struct Io {
    media: MediaStream,
    rtcp_remote: SocketAddr,
    dtmf: DtmfReceiver,
    started: Instant,
    last_sent: Option<Instant>,
}

fn run(
    rx: Receiver<Cmd>,
    mut reactor: Reactor,
    active: Arc<AtomicU64>,
    lag: Arc<LagStats>,
    phase: Duration,
) {
    let mut pacer = Pacer::new(Instant::now() + phase);
    let mut ios: HashMap<StreamId, Io> = HashMap::new();
    let mut buf = [0u8; 1500];
    let mut timing = TimingBatch::default();
    let mut published = Instant::now();
    let mut ready = Vec::new();
    loop {
        let deadline = pacer.poll_timeout();
        if deadline.is_none() && timing.pending() > 0 {
            // Going idle: publish what the last slots sent.
            timing.flush(&SEND_TIMING);
            SEND_TIMING.publish();
        }
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        ready.clear();
        if let Err(e) = reactor.wait(timeout, |r| ready.push(r)) {
            tracing::warn!(error = %e, "RTP pacer wait failed.");
            std::thread::sleep(Duration::from_millis(1));
        }
        for r in &ready {
            if let Ready::Socket(n) = *r
                && let Some(io) = ios.get_mut(&StreamId(n))
            {
                receive(io, &mut buf);
            }
        }
        // Commands are looked at on every wake-up: a wake may have been consumed early.
        loop {
            match rx.try_recv() {
                Ok(c) => apply(c, &mut pacer, &mut ios, &reactor),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
        active.store(ios.len() as u64, Ordering::Relaxed);
        let now = Instant::now();
        if let Some(due) = deadline.filter(|d| *d <= now) {
            send_slot(&mut pacer, &mut ios, now, due, &mut timing, &lag);
        }
        if now.saturating_duration_since(published) >= PUBLISH_EVERY {
            published = now;
            timing.flush(&SEND_TIMING);
            SEND_TIMING.publish();
        }
    }
}

/// Send every packet due at `now` (the earliest due slot was `due`).
fn send_slot(
    pacer: &mut Pacer,
    ios: &mut HashMap<StreamId, Io>,
    now: Instant,
    due: Instant,
    timing: &mut TimingBatch,
    lag: &LagStats,
) {
    let unix = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let (mut sent, mut errors) = (0u64, 0u64);
    pacer.handle_timeout(now, unix, |id, kind, bytes| {
        let Some(io) = ios.get_mut(&id) else { return };
        let res = match kind {
            PacketKind::Rtp => io.media.rtp.send_to(bytes, io.media.remote),
            PacketKind::Rtcp => io.media.rtcp.send_to(bytes, io.rtcp_remote),
        };
        match res {
            Ok(_) if kind == PacketKind::Rtp => {
                sent += 1;
                let at = Instant::now();
                timing.record(Measure::Lag, at.saturating_duration_since(due));
                if let Some(last) = io.last_sent.replace(at) {
                    let gap = at.saturating_duration_since(last);
                    timing.record(Measure::IntervalDeviation, gap.abs_diff(PERIOD));
                }
            }
            Ok(_) => {}
            Err(_) => errors += 1,
        }
    });
    let late = now.saturating_duration_since(due);
    lag.record(late, sent);
    while let Some(PacerEvent::PromptDone(id)) = pacer.poll_event() {
        if let Some(io) = ios.get(&id) {
            let _ = io.media.events.send(MediaEvent::PromptDone);
        }
    }
    metrics::histogram!(m::RTP_SEND_LAG_SECONDS).record(late.as_secs_f64());
    metrics::counter!(m::RTP_PACKETS_SENT_TOTAL).increment(sent);
    // A batch sent more than 2 ms after its slot: its packets count as late (the
    // issue's bound on send-interval deviation).
    if late > Duration::from_millis(2) {
        metrics::counter!(m::RTP_PACKETS_LATE_TOTAL).increment(sent);
    }
    if errors > 0 {
        metrics::counter!(m::RTP_SEND_ERRORS_TOTAL).increment(errors);
    }
}

fn raise_priority(p: u8) {
    use thread_priority::{
        RealtimeThreadSchedulePolicy, ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy,
        set_thread_priority_and_policy, thread_native_id,
    };
    let value = ThreadPriorityValue::try_from(p.clamp(1, 99)).unwrap_or_default();
    let policy = ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo);
    if let Err(e) = set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Crossplatform(value),
        policy,
    ) {
        tracing::warn!(error = ?e, "RTP pacer could not get realtime priority; running at normal priority.");
    }
}

fn apply(c: Cmd, pacer: &mut Pacer, ios: &mut HashMap<StreamId, Io>, reactor: &Reactor) {
    match c {
        Cmd::Add(id, spec, media) => {
            let _ = media.rtp.set_nonblocking(true);
            let _ = media.rtcp.set_nonblocking(true);
            if let Err(e) = reactor.add_socket(&media.rtp, id.0) {
                tracing::warn!(error = %e, "RTP socket not watched; DTMF from this call is lost.");
            }
            let now = Instant::now();
            let mut rtcp_remote = media.remote;
            rtcp_remote.set_port(media.remote.port().wrapping_add(1));
            pacer.add(now, id, *spec);
            ios.insert(
                id,
                Io {
                    media,
                    rtcp_remote,
                    dtmf: DtmfReceiver::default(),
                    started: now,
                    last_sent: None,
                },
            );
        }
        Cmd::Retarget(id, a) => {
            if let Some(io) = ios.get_mut(&id) {
                io.media.remote = a.remote;
                io.media.dtmf_pt = a.dtmf_pt;
                io.rtcp_remote = SocketAddr::new(a.remote.ip(), a.remote.port().wrapping_add(1));
                pacer.set_codec(id, a.codec);
            }
        }
        Cmd::Remove(id) => {
            pacer.remove(id);
            if let Some(io) = ios.remove(&id) {
                reactor.remove_socket(&io.media.rtp);
            }
        }
    }
}

/// Drain what the callee sent to our RTP port (bounded per wake-up) and pick out DTMF.
fn receive(io: &mut Io, buf: &mut [u8]) {
    for _ in 0..RECEIVE_MAX {
        let Ok((n, _from)) = io.media.rtp.recv_from(buf) else {
            return;
        };
        let Some(pt) = io.media.dtmf_pt else { continue };
        let Ok(r) = rtp_rs::RtpReader::new(&buf[..n]) else {
            continue;
        };
        if r.payload_type() != pt {
            continue;
        }
        let at = io.started.elapsed().as_millis() as u32;
        io.dtmf.handle_packet(r.timestamp(), r.payload(), at);
        while let Some((d, at)) = io.dtmf.poll_digit() {
            metrics::counter!(m::DTMF_DIGITS_TOTAL).increment(1);
            let _ = io.media.events.send(MediaEvent::Digit(d, at));
        }
    }
}

#[cfg(test)]
#[path = "pacer_thread_tests.rs"]
mod tests;

//! Batched, non-blocking receive of RTP with the kernel's arrival timestamps.
//!
//! The simulator does not keep a thread blocked on each RTP socket: on loopback the sender's
//! `sendto` delivers the datagram inline and, when a thread is waiting on the socket, wakes it,
//! a cross-CPU wake-up (an IPI in a VM) that the engine's pacer pays for on every packet. Instead
//! one thread wakes every millisecond and empties each socket with `recvmmsg(MSG_DONTWAIT)`,
//! up to [`BATCH`] datagrams per call, so a sender finds no waiter and pays for delivery only.
//!
//! Arrival times come from `SO_TIMESTAMPNS`: the kernel stamps a datagram when it is queued,
//! which on loopback is inside the sender's `sendto`. The inter-arrival figures therefore
//! describe when the engine sent, not when this thread got scheduled; batching adds nothing.
//! nix wraps `recvmmsg` and the control messages safely, so no `unsafe` here.

use std::io::IoSliceMut;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime};

use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, setsockopt, sockopt,
};
use nix::sys::time::TimeSpec;

/// Datagrams received per `recvmmsg` call.
pub(crate) const BATCH: usize = 64;
/// Largest datagram kept (RTP with G.711 is 172 bytes).
const MAX_DATAGRAM: usize = 2048;

/// Ask the kernel to stamp each datagram's arrival (`SO_TIMESTAMPNS`) and not to block.
pub(crate) fn prepare(socket: &UdpSocket) -> std::io::Result<()> {
    setsockopt(socket, sockopt::ReceiveTimestampns, &true).map_err(std::io::Error::from)?;
    socket.set_nonblocking(true)
}

/// A monotonic instant and the wall clock read together, to turn the kernel's
/// `CLOCK_REALTIME` stamps into [`Instant`]s that the meters compare.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClockPair {
    mono: Instant,
    wall: Duration,
}

impl ClockPair {
    /// Read both clocks now.
    pub(crate) fn now() -> Self {
        // Arrival times must be the real clock: this is a measurement thread outside tokio.
        #[allow(clippy::disallowed_methods)]
        let mono = Instant::now();
        let wall = wall_now();
        ClockPair { mono, wall }
    }

    /// The instant matching a kernel stamp `wall` (time since the Unix epoch).
    pub(crate) fn instant_of(&self, wall: Duration) -> Instant {
        if wall >= self.wall {
            self.mono + (wall - self.wall)
        } else {
            self.mono.checked_sub(self.wall - wall).unwrap_or(self.mono)
        }
    }
}

fn wall_now() -> Duration {
    #[allow(clippy::disallowed_methods)] // the kernel's stamps are wall-clock time
    let now = SystemTime::now();
    now.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
}

/// Reusable buffers for draining sockets in batches.
pub(crate) struct Drainer {
    headers: MultiHeaders<SockaddrStorage>,
    bufs: Vec<[u8; MAX_DATAGRAM]>,
    got: Vec<Got>,
}

impl std::fmt::Debug for Drainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drainer")
            .field("got", &self.got.len())
            .finish()
    }
}

#[derive(Debug, Clone, Copy)]
struct Got {
    from: Option<SocketAddr>,
    len: usize,
    stamp: Option<Duration>,
}

impl Drainer {
    pub(crate) fn new() -> Self {
        Drainer {
            headers: MultiHeaders::preallocate(BATCH, Some(nix::cmsg_space!(TimeSpec))),
            bufs: vec![[0; MAX_DATAGRAM]; BATCH],
            got: Vec::with_capacity(BATCH),
        }
    }

    /// Receive what `socket` holds, up to [`BATCH`] datagrams, without blocking. Returns how
    /// many arrived (0 when the socket was empty); read them with [`Drainer::datagrams`].
    pub(crate) fn recv(&mut self, socket: &UdpSocket) -> std::io::Result<usize> {
        self.got.clear();
        let Drainer { headers, bufs, got } = self;
        let mut iovs: Vec<[IoSliceMut<'_>; 1]> = bufs
            .iter_mut()
            .map(|b| [IoSliceMut::new(&mut b[..])])
            .collect();
        let res = recvmmsg(
            socket.as_raw_fd(),
            headers,
            iovs.iter_mut(),
            MsgFlags::MSG_DONTWAIT,
            None,
        );
        match res {
            Ok(msgs) => {
                for m in msgs {
                    let stamp = m.cmsgs().ok().and_then(|mut c| {
                        c.find_map(|c| match c {
                            ControlMessageOwned::ScmTimestampns(t) => Some(Duration::from(t)),
                            _ => None,
                        })
                    });
                    got.push(Got {
                        from: m.address.and_then(to_std),
                        len: m.bytes,
                        stamp,
                    });
                }
                Ok(got.len())
            }
            Err(nix::errno::Errno::EAGAIN) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// The datagrams of the last [`Drainer::recv`]: source, bytes and arrival time (the
    /// kernel's stamp, or `clock`'s instant when a datagram came without one).
    pub(crate) fn datagrams(
        &self,
        clock: &ClockPair,
    ) -> impl Iterator<Item = (Option<SocketAddr>, &[u8], Instant)> + '_ {
        let clock = *clock;
        self.got.iter().zip(&self.bufs).map(move |(g, b)| {
            let at = g.stamp.map_or(clock.mono, |s| clock.instant_of(s));
            (g.from, &b[..g.len.min(MAX_DATAGRAM)], at)
        })
    }
}

fn to_std(a: SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    a.as_sockaddr_in6().map(|v6| SocketAddr::V6((*v6).into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_drained_in_batches_with_kernel_stamps_in_send_order() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        prepare(&rx).unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let before = ClockPair::now();
        for i in 0..(BATCH + 6) as u32 {
            tx.send_to(&i.to_be_bytes(), rx.local_addr().unwrap())
                .unwrap();
        }
        let mut d = Drainer::new();
        let clock = ClockPair::now();
        assert_eq!(d.recv(&rx).unwrap(), BATCH);
        // Each datagram carries the kernel's own stamp, not the fallback read of `clock`.
        assert!(d.got.iter().all(|g| g.stamp.is_some()));
        let first: Vec<_> = d
            .datagrams(&clock)
            .map(|(f, b, at)| (f, b.to_vec(), at))
            .collect();
        assert_eq!(d.recv(&rx).unwrap(), 6);
        let rest = d.datagrams(&clock).count();
        assert_eq!(d.recv(&rx).unwrap(), 0);
        assert_eq!(rest, 6);
        assert!(
            first
                .iter()
                .all(|(f, ..)| *f == Some(tx.local_addr().unwrap()))
        );
        assert_eq!(first[3].1, 3u32.to_be_bytes());
        // Stamped between the two clock reads, in send order. The stamps are CLOCK_REALTIME
        // read on whichever CPU queued the datagram (the TSC clocksource here): when the sender
        // migrates mid-burst, two vCPUs' reads can disagree by microseconds, so order holds only
        // to within that skew (CI once saw a pair out of order). `SLACK` covers it without hiding
        // a wrong stamp, which would be off by far more than a millisecond.
        const SLACK: Duration = Duration::from_millis(1);
        assert!(first.windows(2).all(|w| w[0].2 <= w[1].2 + SLACK));
        let earliest = before.mono.checked_sub(SLACK).unwrap();
        assert!(
            first
                .iter()
                .all(|(_, _, at)| *at >= earliest && *at <= clock.mono + SLACK)
        );
    }

    #[test]
    fn wall_stamps_map_to_instants_either_side_of_the_pair() {
        let c = ClockPair::now();
        let later = c.instant_of(c.wall + Duration::from_millis(3));
        assert_eq!(later - c.mono, Duration::from_millis(3));
        let earlier = c.instant_of(c.wall - Duration::from_millis(2));
        assert_eq!(c.mono - earlier, Duration::from_millis(2));
    }
}

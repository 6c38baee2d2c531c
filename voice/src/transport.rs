//! Sockets: the SIP transport of one trunk — UDP (one socket) or TCP (one persistent
//! connection) — demultiplexed by Call-ID to the calls (each call matches branches to its
//! own transactions), and the pool of RTP/RTCP port pairs (RTP is UDP either way).
//!
//! Requests from the trunk outside any call are answered by the [`router`]: OPTIONS
//! (keepalive) with 200, anything else with 481. Responses for no call (late retransmissions
//! of a finished call) and unparsable messages are dropped and counted.

use crate::config;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket as StdUdpSocket};
use std::ops::RangeInclusive;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[path = "transport_framing.rs"]
pub mod framing;
#[path = "transport_router.rs"]
mod router;
#[path = "transport_tcp.rs"]
pub mod tcp;
#[path = "transport_udp.rs"]
pub mod udp;

pub use router::Inbound;
pub use tcp::TcpTransport;
pub use udp::UdpTransport;

/// The SIP transport of one trunk.
#[derive(Debug)]
pub enum SipTransport {
    /// One UDP socket.
    Udp(UdpTransport),
    /// One persistent TCP connection.
    Tcp(TcpTransport),
}

impl SipTransport {
    /// A UDP transport bound on `local`, talking to `trunk`. `operator` labels the metrics.
    pub async fn bind(
        local: SocketAddr,
        trunk: SocketAddr,
        operator: String,
    ) -> io::Result<Arc<Self>> {
        Ok(Arc::new(SipTransport::Udp(
            UdpTransport::bind(local, trunk, operator).await?,
        )))
    }

    /// A transport of `kind`: UDP bound on `local`, or TCP connected from `local` to `trunk`.
    pub async fn open(
        kind: config::SipTransport,
        local: SocketAddr,
        trunk: SocketAddr,
        operator: String,
    ) -> io::Result<Arc<Self>> {
        match kind {
            config::SipTransport::Udp => Self::bind(local, trunk, operator).await,
            config::SipTransport::Tcp => Ok(Arc::new(SipTransport::Tcp(
                TcpTransport::connect(local, trunk, operator).await?,
            ))),
        }
    }

    /// Which transport this is.
    pub fn kind(&self) -> config::SipTransport {
        match self {
            SipTransport::Udp(_) => config::SipTransport::Udp,
            SipTransport::Tcp(_) => config::SipTransport::Tcp,
        }
    }

    /// Whether messages can go to the trunk now (UDP: always; TCP: a connection is up).
    pub fn is_up(&self) -> bool {
        match self {
            SipTransport::Udp(_) => true,
            SipTransport::Tcp(t) => t.is_up(),
        }
    }

    /// Our address for Via and Contact (TCP: the current connection's local address).
    pub fn local_addr(&self) -> SocketAddr {
        match self {
            SipTransport::Udp(u) => u.local_addr(),
            SipTransport::Tcp(t) => t.local_addr(),
        }
    }

    /// Wait until messages can be sent (TCP: a connection is up); false on `shutdown`.
    pub async fn wait_ready(&self, shutdown: &CancellationToken) -> bool {
        match self {
            SipTransport::Udp(_) => !shutdown.is_cancelled(),
            SipTransport::Tcp(t) => t.wait_up(shutdown).await,
        }
    }

    /// Route messages with `call_id` to the returned receiver until [`Self::unregister`].
    pub fn register(&self, call_id: &str) -> mpsc::UnboundedReceiver<Inbound> {
        self.router().register(call_id)
    }

    /// Stop routing `call_id`.
    pub fn unregister(&self, call_id: &str) {
        self.router().unregister(call_id)
    }

    /// Send one message to the trunk.
    pub async fn send(&self, bytes: &[u8]) -> io::Result<()> {
        match self {
            SipTransport::Udp(u) => u.send(bytes).await,
            SipTransport::Tcp(t) => t.send(bytes).await,
        }
    }

    /// Receive and route (TCP: and keep the connection up) until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        match &*self {
            SipTransport::Udp(u) => u.run(shutdown).await,
            SipTransport::Tcp(t) => t.run(shutdown).await,
        }
    }

    fn router(&self) -> &router::CallRouter {
        match self {
            SipTransport::Udp(u) => &u.router,
            SipTransport::Tcp(t) => &t.router,
        }
    }
}

/// RTP/RTCP port pairs (even RTP port, RTCP above it) bound on one address.
#[derive(Debug)]
pub struct RtpPorts {
    ip: IpAddr,
    free: Mutex<VecDeque<u16>>,
}

/// A bound pair; the port goes back to the pool when the lease is dropped.
#[derive(Debug)]
pub struct RtpPair {
    /// The RTP socket.
    pub rtp: StdUdpSocket,
    /// The RTCP socket.
    pub rtcp: StdUdpSocket,
    /// The RTP address advertised in the SDP.
    pub addr: SocketAddr,
}

/// Returns a port to its pool on drop.
#[derive(Debug)]
pub struct PortLease {
    port: u16,
    pool: Arc<RtpPorts>,
}

impl Drop for PortLease {
    fn drop(&mut self) {
        self.pool.free.lock().push_back(self.port);
    }
}

impl RtpPorts {
    /// A pool of the even ports in `range` on `ip`.
    pub fn new(ip: IpAddr, range: RangeInclusive<u16>) -> Arc<Self> {
        let lo = range.start().div_ceil(2) * 2;
        let free = (lo..*range.end()).step_by(2).collect();
        Arc::new(RtpPorts {
            ip,
            free: Mutex::new(free),
        })
    }

    /// Bind the next free pair. Ports someone else holds are skipped (and put back at the end).
    pub fn allocate(self: &Arc<Self>) -> io::Result<(RtpPair, PortLease)> {
        let tries = self.free.lock().len();
        for _ in 0..tries {
            let Some(port) = self.free.lock().pop_front() else {
                break;
            };
            let rtp = StdUdpSocket::bind((self.ip, port));
            let rtcp = StdUdpSocket::bind((self.ip, port + 1));
            match (rtp, rtcp) {
                (Ok(rtp), Ok(rtcp)) => {
                    let addr = SocketAddr::new(self.ip, port);
                    return Ok((
                        RtpPair { rtp, rtcp, addr },
                        PortLease {
                            port,
                            pool: self.clone(),
                        },
                    ));
                }
                _ => self.free.lock().push_back(port),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "no free RTP port pair in the configured range",
        ))
    }

    /// Pairs in the pool now.
    pub fn available(&self) -> usize {
        self.free.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::msg;
    use rsip::Method;
    use tokio::net::UdpSocket;

    #[test]
    fn pairs_are_even_and_come_back_when_the_lease_drops() {
        let pool = RtpPorts::new("127.0.0.1".parse().unwrap(), 31001..=31010);
        assert_eq!(pool.available(), 4);
        let (pair, lease) = pool.allocate().unwrap();
        assert_eq!(pair.addr.port() % 2, 0);
        assert_eq!(pair.rtcp.local_addr().unwrap().port(), pair.addr.port() + 1);
        assert_eq!(pool.available(), 3);
        drop(pair);
        drop(lease);
        assert_eq!(pool.available(), 4);
    }

    #[test]
    fn a_port_held_elsewhere_is_skipped() {
        let _squatter = StdUdpSocket::bind("127.0.0.1:31102").unwrap();
        let pool = RtpPorts::new("127.0.0.1".parse().unwrap(), 31102..=31105);
        let (pair, _lease) = pool.allocate().unwrap();
        assert_eq!(pair.addr.port(), 31104);
    }

    #[tokio::test]
    async fn routes_by_call_id_and_answers_stray_options() {
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let t = SipTransport::bind(
            "127.0.0.1:0".parse().unwrap(),
            peer.local_addr().unwrap(),
            "0".into(),
        )
        .await
        .unwrap();
        let shutdown = CancellationToken::new();
        tokio::spawn(t.clone().run(shutdown.clone()));
        let mut rx = t.register("c1@127.0.0.1");
        let req = crate::sip::transaction::tests_support::request(Method::Bye, "z9hG4bKx");
        peer.send_to(&msg::encode(req), t.local_addr())
            .await
            .unwrap();
        let Some(Inbound::Sip(got)) = rx.recv().await else {
            panic!("routed")
        };
        assert_eq!(msg::call_id(&got).unwrap(), "c1@127.0.0.1");
        t.unregister("c1@127.0.0.1");
        let opt = crate::sip::transaction::tests_support::request(Method::Options, "z9hG4bKy");
        peer.send_to(&msg::encode(opt), t.local_addr())
            .await
            .unwrap();
        let mut buf = [0u8; 2000];
        let (n, _) = peer.recv_from(&mut buf).await.unwrap();
        assert_eq!(msg::status(&msg::parse(&buf[..n]).unwrap()), Some(200));
        peer.send_to(b"garbage", t.local_addr()).await.unwrap();
        shutdown.cancel();
    }
}

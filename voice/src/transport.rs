//! Sockets: one UDP socket per trunk for SIP, demultiplexed by Call-ID to the calls (each
//! call matches branches to its own transactions), and the pool of RTP/RTCP port pairs.
//!
//! Requests from the trunk outside any call are answered here: OPTIONS (keepalive) with
//! 200, anything else with 481. Responses for no call (late retransmissions of a finished
//! call) and unparsable datagrams are dropped and counted.

use crate::metrics as m;
use crate::sip::msg;
use parking_lot::{Mutex, RwLock};
use rsip::{Method, SipMessage};
use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket as StdUdpSocket};
use std::ops::RangeInclusive;
use std::sync::Arc;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The SIP socket of one trunk and the routing table of its calls.
#[derive(Debug)]
pub struct SipTransport {
    socket: UdpSocket,
    trunk: SocketAddr,
    local: SocketAddr,
    calls: RwLock<HashMap<String, mpsc::UnboundedSender<SipMessage>>>,
    operator: String,
}

impl SipTransport {
    /// Bind `local` and talk to `trunk`. `operator` labels the metrics.
    pub async fn bind(
        local: SocketAddr,
        trunk: SocketAddr,
        operator: String,
    ) -> io::Result<Arc<Self>> {
        let socket = UdpSocket::bind(local).await?;
        let local = socket.local_addr()?;
        Ok(Arc::new(SipTransport {
            socket,
            trunk,
            local,
            calls: RwLock::new(HashMap::new()),
            operator,
        }))
    }

    /// Our bound address (Via and Contact use it).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Route messages with `call_id` to the returned receiver until [`Self::unregister`].
    pub fn register(&self, call_id: &str) -> mpsc::UnboundedReceiver<SipMessage> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.calls.write().insert(call_id.to_string(), tx);
        rx
    }

    /// Stop routing `call_id`.
    pub fn unregister(&self, call_id: &str) {
        self.calls.write().remove(call_id);
    }

    /// Send a datagram to the trunk.
    pub async fn send(&self, bytes: &[u8]) -> io::Result<()> {
        self.socket.send_to(bytes, self.trunk).await.map(|_| ())
    }

    /// Receive and route until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut buf = vec![0u8; 65_535];
        loop {
            let (n, from) = tokio::select! {
                r = self.socket.recv_from(&mut buf) => match r {
                    Ok(x) => x,
                    Err(e) => {
                        // ICMP port unreachable surfaces here on some systems; keep going.
                        tracing::debug!(error = %e, "SIP receive error.");
                        continue;
                    }
                },
                () = shutdown.cancelled() => return,
            };
            self.route(&buf[..n], from).await;
        }
    }

    async fn route(&self, data: &[u8], from: SocketAddr) {
        let dropped = || {
            metrics::counter!(m::SIP_DROPPED_TOTAL, "operator" => self.operator.clone())
                .increment(1)
        };
        let Ok(message) = msg::parse(data) else {
            dropped();
            return;
        };
        let Ok(call_id) = msg::call_id(&message) else {
            dropped();
            return;
        };
        let sender = self.calls.read().get(&call_id).cloned();
        match (sender, message) {
            (Some(tx), m) => {
                if let Err(mpsc::error::SendError(SipMessage::Request(r))) = tx.send(m) {
                    self.reply(&r, 481, from).await;
                }
            }
            (None, SipMessage::Request(r)) if r.method == Method::Options => {
                self.reply(&r, 200, from).await
            }
            (None, SipMessage::Request(r)) if r.method == Method::Ack => {}
            (None, SipMessage::Request(r)) => self.reply(&r, 481, from).await,
            (None, SipMessage::Response(_)) => dropped(),
        }
    }

    async fn reply(&self, req: &rsip::Request, status: u16, to: SocketAddr) {
        let resp = msg::response_to(req, status, Some(&msg::new_tag()));
        let _ = self.socket.send_to(&msg::encode(resp), to).await;
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
        let got = rx.recv().await.unwrap();
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

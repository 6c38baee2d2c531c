//! SIP over UDP: one socket per trunk; datagrams go to the [`CallRouter`].

use super::router::CallRouter;
use std::io;
use std::net::SocketAddr;
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

/// The UDP SIP socket of one trunk.
#[derive(Debug)]
pub struct UdpTransport {
    socket: UdpSocket,
    trunk: SocketAddr,
    local: SocketAddr,
    pub(super) router: CallRouter,
}

impl UdpTransport {
    /// Bind `local` and talk to `trunk`. `operator` labels the metrics.
    pub async fn bind(local: SocketAddr, trunk: SocketAddr, operator: String) -> io::Result<Self> {
        let socket = UdpSocket::bind(local).await?;
        let local = socket.local_addr()?;
        Ok(UdpTransport {
            socket,
            trunk,
            local,
            router: CallRouter::new(operator),
        })
    }

    /// Our bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Send a datagram to the trunk.
    pub async fn send(&self, bytes: &[u8]) -> io::Result<()> {
        self.socket.send_to(bytes, self.trunk).await.map(|_| ())
    }

    /// Receive and route until `shutdown`.
    pub async fn run(&self, shutdown: CancellationToken) {
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
            if let Some(reply) = self.router.route(&buf[..n]) {
                let _ = self.socket.send_to(&reply, from).await;
            }
        }
    }
}

//! SIP over TCP: one persistent connection per trunk (RFC 3261 §18), opened at link start,
//! reopened with exponential backoff when it drops. We only connect (no listener): the
//! trunk answers on our connection, and in-dialog requests from the trunk arrive on it too.
//!
//! - Reading: [`SipStreamCodec`] frames messages; they go to the [`CallRouter`]. A framing
//!   error (no Content-Length, too large) leaves the stream unreadable: the connection is
//!   closed and reopened. A framed but unparsable message is dropped and counted.
//! - Writing: one writer at a time under a lock, with a timeout, so a trunk that stops
//!   reading cannot hold a call task forever; a failed or timed-out write closes the
//!   connection.
//! - When a connection ends, every call is told ([`super::Inbound::TransportLost`]): transactions
//!   waiting on it cannot complete (their responses would come back on it), so they end at
//!   once with a transport error instead of after Timer B/F. Sending while no connection is
//!   up fails with `NotConnected`.
//! - Sent-by (Via) and Contact use the connection's local address; `local_sip_port`, when
//!   set, is the source port we bind (with SO_REUSEADDR, so a reconnect can reuse it).
//! - RFC 5626 keep-alive pings from the trunk (`\r\n\r\n`) are answered with `\r\n`.
//! - A trunk that vanishes without a FIN or RST (rebooted, or a firewall that forgot the
//!   flow) is found by the kernel's TCP keep-alive ([`KEEPALIVE`]): after about a minute of
//!   silence and unanswered probes the read fails and the connection is reopened, instead of
//!   calls being written into a dead socket until a write times out. We do not send SIP-level
//!   CRLF pings ourselves: RFC 5626 obliges only servers that support outbound to answer
//!   them, so a trunk that ignores them would look dead while it is fine.

use super::framing::{Frame, SipStreamCodec};
use super::router::CallRouter;
use bytes::BytesMut;
use parking_lot::Mutex;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;
use tokio_util::codec::Decoder;
use tokio_util::sync::CancellationToken;

/// Largest SIP message accepted from the stream (as a UDP datagram could carry).
pub const MAX_MESSAGE: usize = 65_535;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// A connection that lived this long resets the backoff.
const STABLE: Duration = Duration::from_secs(5);
/// Kernel keep-alive on the trunk connection: first probe after 30 s idle, then every 10 s;
/// 3 unanswered probes close it (about 60 s from the last byte to a reconnect).
const KEEPALIVE: KeepAlive = KeepAlive {
    idle: Duration::from_secs(30),
    interval: Duration::from_secs(10),
    probes: 3,
};

#[derive(Debug, Clone, Copy)]
struct KeepAlive {
    idle: Duration,
    interval: Duration,
    probes: u32,
}

/// Turn on the kernel's keep-alive probes on `stream`.
fn keep_alive(stream: &tokio::net::TcpStream, k: KeepAlive) -> io::Result<()> {
    let params = socket2::TcpKeepalive::new()
        .with_time(k.idle)
        .with_interval(k.interval)
        .with_retries(k.probes);
    socket2::SockRef::from(stream).set_tcp_keepalive(&params)
}

#[derive(Debug)]
struct Conn {
    writer: OwnedWriteHalf,
    /// Cancelled when the writer gives up on the connection, to stop its reader.
    closed: CancellationToken,
}

/// The TCP SIP connection of one trunk.
#[derive(Debug)]
pub struct TcpTransport {
    trunk: SocketAddr,
    bind: SocketAddr,
    conn: tokio::sync::Mutex<Option<Conn>>,
    /// The reader of a fresh connection, waiting for [`Self::run`].
    reader: Mutex<Option<(OwnedReadHalf, CancellationToken)>>,
    local: Mutex<SocketAddr>,
    up: watch::Sender<bool>,
    pub(super) router: CallRouter,
}

impl TcpTransport {
    /// Connect to `trunk` from `bind` (port 0: any). Fails if the first connection fails;
    /// later drops are repaired by [`Self::run`].
    pub async fn connect(
        bind: SocketAddr,
        trunk: SocketAddr,
        operator: String,
    ) -> io::Result<Self> {
        let t = TcpTransport {
            trunk,
            bind,
            conn: tokio::sync::Mutex::new(None),
            reader: Mutex::new(None),
            local: Mutex::new(bind),
            up: watch::channel(false).0,
            router: CallRouter::new(operator),
        };
        t.open().await?;
        Ok(t)
    }

    /// The local address of the current (or last) connection: Via sent-by and Contact.
    pub fn local_addr(&self) -> SocketAddr {
        *self.local.lock()
    }

    /// True while a connection is up.
    pub fn is_up(&self) -> bool {
        *self.up.borrow()
    }

    /// Wait until a connection is up; false if `shutdown` came first.
    pub async fn wait_up(&self, shutdown: &CancellationToken) -> bool {
        let mut rx = self.up.subscribe();
        tokio::select! {
            r = rx.wait_for(|up| *up) => r.is_ok(),
            () = shutdown.cancelled() => false,
        }
    }

    /// Write one message on the connection.
    pub async fn send(&self, bytes: &[u8]) -> io::Result<()> {
        let mut guard = self.conn.lock().await;
        let Some(conn) = guard.as_mut() else {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "no TCP connection to the trunk",
            ));
        };
        let result = match tokio::time::timeout(WRITE_TIMEOUT, conn.writer.write_all(bytes)).await {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "SIP write timed out",
            )),
        };
        if result.is_err()
            && let Some(c) = guard.take()
        {
            c.closed.cancel();
        }
        result
    }

    /// Read and route, reconnecting as needed, until `shutdown`.
    pub async fn run(&self, shutdown: CancellationToken) {
        let mut backoff = BACKOFF_MIN;
        loop {
            let taken = self.reader.lock().take();
            if let Some((reader, closed)) = taken {
                let since = tokio::time::Instant::now();
                let why = self.read(reader, &closed, &shutdown).await;
                self.close(&closed).await;
                if shutdown.is_cancelled() {
                    return;
                }
                tracing::warn!(peer = %self.trunk, reason = %why, "SIP TCP connection closed; reconnecting.");
                self.router.transport_lost();
                // A trunk that keeps dropping fresh connections is not hammered.
                backoff = if since.elapsed() >= STABLE {
                    BACKOFF_MIN
                } else {
                    (backoff * 2).min(BACKOFF_MAX)
                };
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = shutdown.cancelled() => return,
            }
            match self.open().await {
                Ok(()) => {
                    tracing::info!(peer = %self.trunk, local = %self.local_addr(), "SIP TCP connection up.")
                }
                Err(e) => {
                    tracing::warn!(peer = %self.trunk, error = %e, retry_in = ?backoff, "SIP TCP connect failed.");
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
    }

    /// Open a connection and install it.
    async fn open(&self) -> io::Result<()> {
        let socket = if self.trunk.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(self.bind)?;
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, socket.connect(self.trunk))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TCP connect timed out"))??;
        stream.set_nodelay(true)?;
        keep_alive(&stream, KEEPALIVE)?;
        *self.local.lock() = stream.local_addr()?;
        let (reader, writer) = stream.into_split();
        let closed = CancellationToken::new();
        *self.conn.lock().await = Some(Conn {
            writer,
            closed: closed.clone(),
        });
        *self.reader.lock() = Some((reader, closed));
        self.up.send_replace(true);
        Ok(())
    }

    /// Drop the connection (if still the one `closed` belongs to).
    async fn close(&self, closed: &CancellationToken) {
        self.up.send_replace(false);
        let mut guard = self.conn.lock().await;
        // A failed write may already have taken it; a newer connection is never ours here
        // (only `run` opens connections, after this returns).
        if let Some(mut c) = guard.take() {
            let _ = c.writer.shutdown().await;
        }
        closed.cancel();
    }

    /// Route messages until the connection ends; returns why it ended.
    async fn read(
        &self,
        reader: OwnedReadHalf,
        closed: &CancellationToken,
        shutdown: &CancellationToken,
    ) -> String {
        let mut reader = reader;
        let mut codec = SipStreamCodec::new(MAX_MESSAGE);
        let mut buf = BytesMut::with_capacity(8192);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(Frame::Message(m))) => {
                    if let Some(reply) = self.router.route(&m) {
                        let _ = self.send(&reply).await;
                    }
                    continue;
                }
                Ok(Some(Frame::Ping)) => {
                    let _ = self.send(b"\r\n").await;
                    continue;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(peer = %self.trunk, error = %e, "Unreadable SIP stream.");
                    self.router.dropped();
                    return e.to_string();
                }
            }
            let read = tokio::select! {
                r = reader.read_buf(&mut buf) => r,
                () = closed.cancelled() => return "write failed".into(),
                () = shutdown.cancelled() => return "shutdown".into(),
            };
            match read {
                Ok(0) => return "closed by the trunk".into(),
                Ok(_) => {}
                Err(e) => return e.to_string(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_trunk_connection_has_kernel_keep_alive() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let trunk = listener.local_addr().unwrap();
        let accept = tokio::spawn(async move { listener.accept().await.unwrap() });
        let t = TcpTransport::connect("127.0.0.1:0".parse().unwrap(), trunk, "kcell".into())
            .await
            .unwrap();
        let _peer = accept.await.unwrap();
        let guard = t.conn.lock().await;
        let sock = socket2::SockRef::from(guard.as_ref().unwrap().writer.as_ref());
        assert!(sock.keepalive().unwrap());
        assert_eq!(sock.tcp_keepalive_time().unwrap(), KEEPALIVE.idle);
        assert_eq!(sock.tcp_keepalive_interval().unwrap(), KEEPALIVE.interval);
        assert_eq!(sock.tcp_keepalive_retries().unwrap(), KEEPALIVE.probes);
    }
}

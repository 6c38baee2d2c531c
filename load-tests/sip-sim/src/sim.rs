//! The tokio driver: builder, one task on the SIP socket, shared stats, the handle.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sendbox_sip_sim::SimError> {
//! use sendbox_sip_sim::{Behaviour, SipSim};
//! let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
//! let sim = SipSim::builder()
//!     .default(Behaviour::answer())
//!     .rule("*0486", Behaviour::Busy(486))
//!     .credentials("trunk", "secret")
//!     .seed(7)
//!     .build()
//!     .spawn(socket, std::future::pending())?;
//! println!("SIP on {}, {} calls so far", sim.addr(), sim.stats().calls_received);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::behaviour::{Behaviour, BehaviourTable, FirstCalls, MixEntry, Pattern, Rule};
use crate::call::Output;
use crate::error::SimError;
use crate::rtp_rx::RtpPool;
use crate::stats::SimStats;
use crate::tally::{MEDIA_GRACE, Shared};
use crate::uas::{Uas, UasConfig};

/// A configured simulator, ready to [`spawn`](SipSim::spawn).
#[derive(Debug, Clone)]
pub struct SipSim {
    table: BehaviourTable,
    credentials: (String, String),
    seed: u64,
    rtp_sockets: usize,
    media_ip: Option<IpAddr>,
    max_records: usize,
    linger: Duration,
}

/// Builder for [`SipSim`]; see [`SipSim::builder`].
#[derive(Debug, Clone)]
pub struct SipSimBuilder(SipSim);

impl SipSim {
    /// Defaults: answer at once, no rules or mix, credentials `sendbox`/`sendbox`, seed 0,
    /// 4 RTP sockets, 10,000 call records.
    pub fn builder() -> SipSimBuilder {
        SipSimBuilder(SipSim {
            table: BehaviourTable {
                first_calls: vec![],
                rules: vec![],
                mix: vec![],
                default: Behaviour::answer(),
            },
            credentials: ("sendbox".into(), "sendbox".into()),
            seed: 0,
            rtp_sockets: 4,
            media_ip: None,
            max_records: 10_000,
            linger: Duration::from_secs(5),
        })
    }

    /// Start serving on `sip_socket` until `shutdown` completes.
    ///
    /// RTP sockets are bound on the SIP socket's IP (or `media_ip`). Calls still up at shutdown
    /// are recorded with [`crate::Hangup::Shutdown`].
    pub fn spawn<F>(self, sip_socket: UdpSocket, shutdown: F) -> Result<SimHandle, SimError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let addr = sip_socket.local_addr().map_err(SimError::LocalAddr)?;
        let media_ip = self.media_ip.unwrap_or(if addr.ip().is_unspecified() {
            [127, 0, 0, 1].into()
        } else {
            addr.ip()
        });
        let bind_ip = if addr.ip().is_unspecified() {
            addr.ip()
        } else {
            media_ip
        };
        let rtp = RtpPool::start(bind_ip, self.rtp_sockets)?;
        let rtp_addrs = (0..rtp.len())
            .map(|i| SocketAddr::new(media_ip, rtp.addr(i).port()))
            .collect();
        if let Err(e) = socket2::SockRef::from(&sip_socket).set_recv_buffer_size(4 << 20) {
            tracing::debug!(error = %e, "SIP receive buffer left at the default.");
        }
        let cfg = UasConfig {
            table: self.table,
            local: SocketAddr::new(media_ip, addr.port()),
            rtp_addrs,
            linger: self.linger,
        };
        let uas = Uas::new(cfg, (&self.credentials.0, &self.credentials.1), self.seed);
        let shared = Arc::new(Shared::new(self.max_records, rtp));
        let task = tokio::spawn(drive(uas, sip_socket, shared.clone(), shutdown));
        Ok(SimHandle { addr, shared, task })
    }
}

impl SipSimBuilder {
    /// Behaviour for numbers no rule matches (and when no mix is set).
    pub fn default(mut self, behaviour: Behaviour) -> Self {
        self.0.table.default = behaviour;
        self
    }

    /// Add a rule: `*SUFFIX`, `PREFIX*`, `*` or an exact number; the first match wins.
    pub fn rule(mut self, pattern: &str, behaviour: Behaviour) -> Self {
        self.0.table.rules.push(Rule {
            pattern: Pattern::parse(pattern),
            behaviour,
        });
        self
    }

    /// Like [`rule`](Self::rule), but only for the first `calls` INVITEs to each matching
    /// number (checked before the other rules); later INVITEs go by the other rules, e.g.
    /// busy on a caller's first attempt and answered on its retry.
    pub fn rule_first_calls(mut self, pattern: &str, calls: u32, behaviour: Behaviour) -> Self {
        self.0.table.first_calls.push(FirstCalls {
            calls,
            rule: Rule {
                pattern: Pattern::parse(pattern),
                behaviour,
            },
        });
        self
    }

    /// Add an already-parsed rule (see [`Rule`]'s text form).
    pub fn add_rule(mut self, rule: Rule) -> Self {
        self.0.table.rules.push(rule);
        self
    }

    /// Add a weighted entry to the random mix used when no rule matches.
    pub fn mix(mut self, weight: u32, behaviour: Behaviour) -> Self {
        if weight > 0 {
            self.0.table.mix.push(MixEntry { weight, behaviour });
        }
        self
    }

    /// Username and password that challenged callers must present.
    pub fn credentials(mut self, user: &str, password: &str) -> Self {
        self.0.credentials = (user.to_owned(), password.to_owned());
        self
    }

    /// Seed of the random mix, tags and nonces.
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }

    /// Number of shared RTP receive sockets (one thread each).
    pub fn rtp_sockets(mut self, count: usize) -> Self {
        self.0.rtp_sockets = count.max(1);
        self
    }

    /// IP written into SDP and Contact (default: the SIP socket's IP, or 127.0.0.1).
    pub fn media_ip(mut self, ip: IpAddr) -> Self {
        self.0.media_ip = Some(ip);
        self
    }

    /// How many finished-call records `stats().per_call` keeps.
    pub fn max_call_records(mut self, max: usize) -> Self {
        self.0.max_records = max;
        self
    }

    /// Finish building.
    pub fn build(self) -> SipSim {
        self.0
    }
}

/// A running simulator.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl SimHandle {
    /// The SIP socket's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of all counters and the finished-call records.
    pub fn stats(&self) -> SimStats {
        self.shared.snapshot()
    }

    /// Wait until the driver has stopped (after `shutdown` completed) and return the final stats.
    pub async fn join(self) -> SimStats {
        if let Err(e) = (&mut { self.task }).await {
            tracing::warn!(error = %e, "SIP simulator task failed.");
        }
        // Let calls ended at shutdown finish their media grace period.
        tokio::time::sleep(MEDIA_GRACE * 2).await;
        self.shared.snapshot()
    }
}

async fn drive<F>(mut uas: Uas, socket: UdpSocket, shared: Arc<Shared>, shutdown: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    tokio::pin!(shutdown);
    let mut buf = vec![0u8; 65_535];
    let idle = Duration::from_secs(3600);
    let sleep = tokio::time::sleep(idle);
    tokio::pin!(sleep);
    loop {
        sleep
            .as_mut()
            .reset(uas.poll_timeout().unwrap_or_else(|| Instant::now() + idle));
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            r = socket.recv_from(&mut buf) => match r {
                Ok((n, from)) => {
                    let now = Instant::now();
                    uas.handle_datagram(now, from, &buf[..n]);
                    // Drain what else is queued before sending, to batch under load.
                    for _ in 0..64 {
                        let Ok((n, from)) = socket.try_recv_from(&mut buf) else { break };
                        uas.handle_datagram(now, from, &buf[..n]);
                    }
                }
                // ICMP port-unreachable from an earlier send can surface here; it is not fatal.
                Err(e) => tracing::debug!(error = %e, "SIP receive error."),
            },
            () = &mut sleep => uas.handle_timeout(Instant::now()),
        }
        flush(&mut uas, &socket, &shared).await;
    }
    uas.shutdown(Instant::now());
    flush(&mut uas, &socket, &shared).await;
}

async fn flush(uas: &mut Uas, socket: &UdpSocket, shared: &Arc<Shared>) {
    while let Some(out) = uas.poll_output() {
        match out {
            Output::Transmit(to, data) => {
                if let Err(e) = socket.send_to(&data, to).await {
                    tracing::debug!(error = %e, %to, "SIP send failed.");
                }
            }
            other => shared.on_output(other),
        }
    }
}

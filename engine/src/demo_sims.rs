//! The operators of the demo: an SMSC simulator and a SIP trunk simulator per operator.

use sendbox_sip_sim::{Behaviour, SipSim};
use sendbox_smsc_sim::{SmscSim, Stat};
use std::time::Duration;

/// Three SMSCs and three SIP trunks on loopback.
#[derive(Debug)]
pub struct Sims {
    /// kcell, beeline, tele2.
    pub smsc: Vec<sendbox_smsc_sim::SimHandle>,
    /// kcell, beeline, tele2.
    pub sip: Vec<sendbox_sip_sim::SimHandle>,
    stop: tokio_util::sync::CancellationToken,
}

impl Sims {
    /// Start them on 127.0.0.1, each on a free port.
    pub async fn start() -> anyhow::Result<Sims> {
        let stop = tokio_util::sync::CancellationToken::new();
        let mut smsc = Vec::new();
        for i in 0..3u64 {
            let mut b = SmscSim::builder()
                .credentials("sendbox", "demo")
                .receipt_delay(Duration::from_millis(30))
                .status_mix(&[
                    (Stat::Delivrd, 94),
                    (Stat::Undeliv, 3),
                    (Stat::Expired, 2),
                    (Stat::Rejectd, 1),
                ])
                .seed(i + 1);
            if i == 1 {
                // Beeline's SMSC throttles now and then: the engine slows down and resends.
                b = b.throttle_every(5_000);
            }
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let token = stop.clone();
            smsc.push(b.run(listener, async move { token.cancelled().await }));
        }
        let mut sip = Vec::new();
        for i in 0..3u64 {
            let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
            let token = stop.clone();
            let answer_dtmf = Behaviour::Answer {
                ring: Duration::from_millis(800),
                hangup_after: None,
                dtmf: vec![('1', Duration::from_millis(1500))],
            };
            let answer_refuse = Behaviour::Answer {
                ring: Duration::from_millis(1200),
                hangup_after: None,
                dtmf: vec![('2', Duration::from_millis(2000))],
            };
            let hangs_up = Behaviour::Answer {
                ring: Duration::from_millis(500),
                hangup_after: Some(Duration::from_millis(1500)),
                dtmf: vec![],
            };
            let handle = SipSim::builder()
                .mix(45, answer_dtmf)
                .mix(15, answer_refuse)
                .mix(10, Behaviour::answer_after(Duration::from_millis(600)))
                .mix(10, hangs_up)
                .mix(10, Behaviour::Busy(486))
                .mix(6, Behaviour::Reject(480))
                .mix(4, Behaviour::Reject(404))
                .seed(100 + i)
                .build()
                .spawn(socket, async move { token.cancelled().await })?;
            sip.push(handle);
        }
        Ok(Sims { smsc, sip, stop })
    }

    /// SMSC addresses, for the banner.
    pub fn smsc_addrs(&self) -> String {
        self.smsc
            .iter()
            .map(|s| s.addr().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// SIP addresses, for the banner.
    pub fn sip_addrs(&self) -> String {
        self.sip
            .iter()
            .map(|s| s.addr().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// What the SIP trunk simulators measured of the RTP they received.
    pub fn rtp_summary(&self) -> String {
        let (mut packets, mut lost, mut p99, mut calls) = (0, 0, 0, 0);
        for s in &self.sip {
            let st = s.stats();
            packets += st.rtp_packets;
            lost += st.rtp_lost;
            p99 = p99.max(st.interarrival.p99_us);
            calls += st.calls_received;
        }
        format!(
            "RTP as the trunks heard it: {calls} INVITEs, {packets} RTP packets, {lost} lost, \
             p99 inter-arrival deviation {:.1} ms",
            p99 as f64 / 1000.0
        )
    }

    /// Stop every simulator.
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

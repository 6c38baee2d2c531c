//! Operator links: for each configured operator, its SMS link (SMPP binds) and its voice link
//! (SIP trunk), wired to the core's queues, the operator's shared rate limiter and the core as
//! [`LinkEvents`](sendbox_dispatch::LinkEvents).

use crate::core::Core;
use crate::link_runtime::LinkRuntime;
use sendbox_codecs::sms::Concat;
use sendbox_config::{Concatenation, Config, InterfaceVersion, OperatorConfig};
use sendbox_dispatch::limiter::Gcra;
use sendbox_dispatch::{Channel, LinkEvents, OperatorId, Ready};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The config's concatenation option as the SMS codec's.
pub fn concat_of(c: Concatenation) -> Concat {
    match c {
        Concatenation::Udh16 => Concat::Udh16,
        Concatenation::Sar => Concat::Sar,
        Concatenation::Payload => Concat::Payload,
        _ => Concat::Udh8,
    }
}

/// One operator's links.
#[derive(Debug)]
pub struct OperatorLinks {
    /// The operator.
    pub operator: OperatorId,
    /// Its id.
    pub name: String,
    /// SMS over SMPP, if configured.
    pub sms: Option<sendbox_smpp::link::SmsLinkHandle>,
    /// Voice over SIP, if configured.
    pub voice: Option<sendbox_voice::link::CallLinkHandle>,
    /// Shared SMS rate limiter.
    pub sms_limiter: Arc<Gcra>,
    /// Shared call rate limiter.
    pub call_limiter: Arc<Gcra>,
}

/// Every operator's links.
#[derive(Debug, Default)]
pub struct Links {
    /// By operator index; emptied by [`Links::join`].
    pub operators: parking_lot::Mutex<Vec<OperatorLinks>>,
    /// Each SMPP link's own thread; held for as long as the links.
    _smpp_runtimes: Vec<LinkRuntime>,
}

impl Links {
    /// Start the links of every operator in `config`.
    pub fn start(
        config: &Config,
        core: &Arc<Core>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Links> {
        let events: Arc<dyn LinkEvents> = core.clone();
        let mut operators = Vec::new();
        let mut smpp_runtimes = Vec::new();
        for (i, op) in config.operators.values().enumerate() {
            let id = OperatorId(i as u16);
            let sms_rate = f64::from(op.sms_rate().max(1));
            let sms_limiter = Arc::new(Gcra::new(sms_rate, (sms_rate / 10.0).ceil() as u32));
            let call_rate = op
                .sip
                .as_ref()
                .map_or(1.0, |s| f64::from(s.max_calls_per_second.max(1)));
            let call_limiter = Arc::new(Gcra::new(call_rate, (call_rate / 10.0).ceil() as u32));
            let sms = match smpp_config(id, op) {
                Some(cfg) => {
                    cfg.validate()
                        .map_err(|e| anyhow::anyhow!("operators.{}.smpp.{e}", op.id))?;
                    // The operator's binds run on their own thread (see `link_runtime`).
                    smpp_runtimes.push(LinkRuntime::start(&format!("smpp-{}", op.id))?);
                    let _on_smpp_thread = smpp_runtimes.last().map(LinkRuntime::enter);
                    Some(sendbox_smpp::link::SmsLink::spawn(
                        cfg,
                        core.queue(id, Channel::Sms).clone(),
                        sms_limiter.clone(),
                        events.clone(),
                        core.clock.clone(),
                        shutdown.clone(),
                    ))
                }
                None => None,
            };
            let voice = match sip_config(id, op, config) {
                Some(cfg) => {
                    cfg.validate().map_err(|es| {
                        anyhow::anyhow!(
                            "operators.{}.sip: {}",
                            op.id,
                            es.iter()
                                .map(|e| e.to_string())
                                .collect::<Vec<_>>()
                                .join("; ")
                        )
                    })?;
                    Some(sendbox_voice::link::CallLink::spawn(
                        cfg,
                        core.queue(id, Channel::Voice).clone(),
                        call_limiter.clone(),
                        events.clone(),
                        core.clock.clone(),
                        shutdown.clone(),
                    ))
                }
                None => None,
            };
            operators.push(OperatorLinks {
                operator: id,
                name: op.id.clone(),
                sms,
                voice,
                sms_limiter,
                call_limiter,
            });
        }
        Ok(Links {
            operators: parking_lot::Mutex::new(operators),
            _smpp_runtimes: smpp_runtimes,
        })
    }

    /// A dispatch handed off before the last stop: give it to its link to await the receipt.
    pub fn adopt_handed_off(
        &self,
        core: &Arc<Core>,
        mut ready: Ready,
        handoff: Option<&sendbox_store::Handoff>,
    ) {
        if let Some(h) = handoff {
            core.restore_handed_off(&mut ready, h.at_utc, h.cost_tiyn);
        }
        let operators = self.operators.lock();
        let link = operators
            .get(usize::from(ready.operator.0))
            .and_then(|o| o.sms.as_ref());
        match (link, handoff, ready.channel()) {
            (Some(link), Some(h), Channel::Sms) => {
                link.adopt(ready, &h.operator_ref);
            }
            _ => {
                // A call in progress when the engine stopped has ended with it; say so.
                let now = core.clock.now();
                core.finished(
                    ready,
                    sendbox_dispatch::Outcome::simple(
                        sendbox_dispatch::FinalState::Failed,
                        Some("engine_restart".into()),
                        now,
                    ),
                );
            }
        }
    }

    /// SMPP binds up, per operator.
    pub fn binds_up(&self) -> Vec<(String, usize, usize)> {
        self.operators
            .lock()
            .iter()
            .map(|o| {
                (
                    o.name.clone(),
                    o.sms.as_ref().map_or(0, |s| s.binds_up()),
                    o.sms.as_ref().map_or(0, |s| s.status().len()),
                )
            })
            .collect()
    }

    /// Whether every configured operator has at least one bind or trunk up.
    pub fn ready(&self) -> bool {
        let operators = self.operators.lock();
        !operators.is_empty()
            && operators.iter().all(|o| {
                o.sms.as_ref().is_some_and(|s| s.binds_up() > 0)
                    || o.voice.as_ref().is_some_and(|v| v.up())
            })
    }

    /// SIP trunks up and active calls, per operator.
    pub fn trunks(&self) -> Vec<(String, bool, usize)> {
        self.operators
            .lock()
            .iter()
            .filter_map(|o| {
                o.voice
                    .as_ref()
                    .map(|v| (o.name.clone(), v.up(), v.active_calls()))
            })
            .collect()
    }

    /// Wait for every link to stop (after the shutdown token is cancelled), at most `grace`.
    pub async fn join(&self, grace: Duration) {
        let operators = std::mem::take(&mut *self.operators.lock());
        let all = async {
            for o in operators {
                if let Some(s) = o.sms {
                    let awaiting = s.join().await;
                    if !awaiting.is_empty() {
                        tracing::info!(
                            operator = %o.name,
                            awaiting = awaiting.len(),
                            "Handed-off SMS still awaiting receipts; they are resumed at the next start."
                        );
                    }
                }
                if let Some(v) = o.voice {
                    v.join().await;
                }
            }
        };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(?grace, "Links did not stop within the grace period.");
        }
    }
}

fn smpp_config(
    id: OperatorId,
    op: &OperatorConfig,
) -> Option<sendbox_smpp::config::SmppLinkConfig> {
    use sendbox_smpp::config::{BindConfig, BindMode, SmppLinkConfig, SmppVersion};
    let s = op.smpp.as_ref()?;
    let mut binds = Vec::new();
    for b in &s.binds {
        if !b.mode.transmits() {
            // A receiver-only bind: receipts only. The link pairs transmitter/receiver binds.
            continue;
        }
        for _ in 0..b.count.max(1) {
            let mut bc = BindConfig::new(&b.host, b.port, &b.system_id, b.password.expose());
            bc.system_type.clone_from(&b.system_type);
            bc.mode = if b.mode.receives() {
                BindMode::Transceiver
            } else {
                BindMode::TransmitterReceiver
            };
            bc.window = b.window as usize;
            bc.address_range.clone_from(&b.address_range);
            bc.max_tps = f64::from(b.max_tps.max(1));
            binds.push(bc);
        }
    }
    let mut cfg = SmppLinkConfig::new(id, &op.id, binds);
    cfg.interface_version = match s.interface_version {
        InterfaceVersion::V50 => SmppVersion::V50,
        _ => SmppVersion::V34,
    };
    cfg.enquire_link = s.enquire_link;
    cfg.response_timeout = s.response_timeout;
    cfg.reconnect_min = s.reconnect_min;
    cfg.reconnect_max = s.reconnect_max;
    cfg.dlr_timeout = s.dlr_timeout;
    cfg.validity = s.validity;
    cfg.concat = concat_of(s.concatenation);
    cfg.max_parts = s.max_segments;
    cfg.max_temp_retries = s.max_temp_retries;
    cfg.temp_retry_base = s.temp_retry_base;
    cfg.throttle_pause = s.throttle_pause;
    cfg.submit_id_base = id_base(s.submit_id_base);
    cfg.receipt_id_base = id_base(s.receipt_id_base);
    Some(cfg)
}

fn id_base(b: sendbox_config::IdBase) -> sendbox_smpp::config::IdBase {
    match b {
        sendbox_config::IdBase::Decimal => sendbox_smpp::config::IdBase::Decimal,
        sendbox_config::IdBase::Hex => sendbox_smpp::config::IdBase::Hex,
        _ => sendbox_smpp::config::IdBase::Text,
    }
}

fn sip_config(
    id: OperatorId,
    op: &OperatorConfig,
    config: &Config,
) -> Option<sendbox_voice::config::SipTrunkConfig> {
    let s = op.sip.as_ref()?;
    let mut cfg = sendbox_voice::config::SipTrunkConfig::new(id, s.host.clone(), s.port);
    cfg.transport = match s.transport {
        sendbox_config::SipTransport::Udp => sendbox_voice::config::SipTransport::Udp,
        sendbox_config::SipTransport::Tcp => sendbox_voice::config::SipTransport::Tcp,
    };
    cfg.local_ip = s.local_ip;
    cfg.local_sip_port = s.local_port;
    cfg.rtp_port_range = s.rtp_port_min..=s.rtp_port_max;
    cfg.pacer_threads = usize::from(s.rtp_pacer_threads.max(1));
    cfg.rtp_realtime_priority = s.rtp_realtime_priority.map(|p| p.clamp(1, 99));
    cfg.auth_user.clone_from(&s.auth_user);
    cfg.auth_password = s.auth_password.as_ref().map(|p| p.expose().to_owned());
    cfg.from_uri.clone_from(&s.from_uri);
    cfg.max_concurrent_calls = s.max_concurrent_calls as usize;
    cfg.max_calls_per_second = f64::from(s.max_calls_per_second.max(1));
    cfg.ring_timeout = s.ring_timeout;
    cfg.min_ring_time = s.min_ring_time;
    cfg.max_attempts = u16::try_from(config.voice.max_attempts).unwrap_or(u16::MAX);
    cfg.retry_interval = config.voice.retry_interval;
    Some(cfg)
}

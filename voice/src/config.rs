//! The trunk configuration this crate needs, as plain values. The engine maps its validated
//! config file into it; nothing here parses files.
//!
//! ```
//! # use sendbox_voice::config::SipTrunkConfig;
//! # use sendbox_dispatch::OperatorId;
//! let cfg = SipTrunkConfig::new(OperatorId(0), "127.0.0.1", 5060);
//! assert!(cfg.validate().is_ok());
//! ```

use sendbox_dispatch::OperatorId;
use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::time::Duration;

/// SIP transport toward the trunk. RTP is UDP either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SipTransport {
    /// SIP over UDP (RFC 3261 unreliable transport: retransmission timers apply).
    #[default]
    Udp,
    /// SIP over one persistent TCP connection per trunk (reliable: no retransmissions,
    /// Timers D and K are zero; messages framed by Content-Length, RFC 3261 §18.3).
    Tcp,
}

impl SipTransport {
    /// True for a reliable (stream) transport: the transaction layer does not retransmit.
    pub fn is_reliable(self) -> bool {
        self == SipTransport::Tcp
    }

    /// The Via transport token (`SIP/2.0/<token>`).
    pub fn via_token(self) -> &'static str {
        match self {
            SipTransport::Udp => "UDP",
            SipTransport::Tcp => "TCP",
        }
    }

    /// The SIP URI parameter naming the transport (`;transport=tcp`); empty for UDP, the
    /// default a URI without the parameter means.
    pub fn uri_param(self) -> &'static str {
        match self {
            SipTransport::Udp => "",
            SipTransport::Tcp => ";transport=tcp",
        }
    }
}

/// One SIP trunk of one operator.
#[derive(Debug, Clone, PartialEq)]
pub struct SipTrunkConfig {
    /// The operator this trunk serves (its queue and shared limiter).
    pub operator: OperatorId,
    /// Trunk host (an IP address or a name resolved once at start).
    pub host: String,
    /// Trunk SIP port.
    pub port: u16,
    /// SIP transport.
    pub transport: SipTransport,
    /// Our address: the SIP socket and the RTP sockets bind here, and it goes into Via,
    /// Contact and the SDP.
    pub local_ip: IpAddr,
    /// Port of our SIP socket (0 = any free port).
    pub local_sip_port: u16,
    /// Digest user name, if the trunk challenges.
    pub auth_user: Option<String>,
    /// Digest password.
    pub auth_password: Option<String>,
    /// Our From URI, e.g. `sip:77170000000@sendbox.kz`.
    pub from_uri: String,
    /// Calls in progress (ringing or answered) at most.
    pub max_concurrent_calls: usize,
    /// New INVITEs per second at most on this trunk (on top of the operator's limiter).
    pub max_calls_per_second: f64,
    /// Give up ringing after this long from the INVITE (then CANCEL).
    pub ring_timeout: Duration,
    /// A ringing call is never cancelled earlier than this after the first 180/183.
    pub min_ring_time: Duration,
    /// Attempts per dispatch (busy, no answer and temporary failures start a new attempt).
    pub max_attempts: u16,
    /// Wait between attempts.
    pub retry_interval: Duration,
    /// Even ports from this range carry RTP; the odd port above each carries RTCP.
    pub rtp_port_range: RangeInclusive<u16>,
    /// RFC 3261 T1 (round-trip estimate), 500 ms by default.
    pub t1: Duration,
    /// RTP pacer threads for this trunk (each drives its share of the calls with one timer).
    pub pacer_threads: usize,
    /// Run the pacer threads at this `SCHED_FIFO` priority (1-99) so other work on the host
    /// cannot delay packets; `None` (the default) keeps normal priority. Needs CAP_SYS_NICE.
    pub rtp_realtime_priority: Option<u8>,
}

/// A configuration value that cannot work, naming the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Returned by [`SipTrunkConfig::validate`]: `key` has an unusable value.
    #[error("voice trunk config: `{key}` {problem}")]
    Invalid {
        /// The offending key.
        key: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
}

impl SipTrunkConfig {
    /// A trunk at `host:port` with the defaults: 100 concurrent calls, 10 calls/s, 45 s ring
    /// timeout, 20 s minimum ring, 3 attempts 10 minutes apart, RTP ports 20000-29999.
    pub fn new(operator: OperatorId, host: impl Into<String>, port: u16) -> Self {
        SipTrunkConfig {
            operator,
            host: host.into(),
            port,
            transport: SipTransport::Udp,
            local_ip: IpAddr::from([127, 0, 0, 1]),
            local_sip_port: 0,
            auth_user: None,
            auth_password: None,
            from_uri: "sip:sendbox@127.0.0.1".into(),
            max_concurrent_calls: 100,
            max_calls_per_second: 10.0,
            ring_timeout: Duration::from_secs(45),
            min_ring_time: Duration::from_secs(20),
            max_attempts: 3,
            retry_interval: Duration::from_secs(600),
            rtp_port_range: 20000..=29999,
            t1: Duration::from_millis(500),
            pacer_threads: 1,
            rtp_realtime_priority: None,
        }
    }

    /// Check the values that would make the link misbehave; each error names its key.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errs = Vec::new();
        let mut bad = |key, problem| errs.push(ConfigError::Invalid { key, problem });
        if self.host.is_empty() {
            bad("host", "is empty");
        }
        if self.port == 0 {
            bad("port", "must not be 0");
        }
        if self.max_concurrent_calls == 0 {
            bad("max_concurrent_calls", "must be at least 1");
        }
        if !(self.max_calls_per_second.is_finite() && self.max_calls_per_second > 0.0) {
            bad("max_calls_per_second", "must be a positive number");
        }
        if self.max_attempts == 0 {
            bad("max_attempts", "must be at least 1");
        }
        if self.ring_timeout.is_zero() {
            bad("ring_timeout", "must be positive");
        }
        if self.pacer_threads == 0 {
            bad("pacer_threads", "must be at least 1");
        }
        if self.t1.is_zero() {
            bad("t1", "must be positive");
        }
        if !self.from_uri.starts_with("sip:") {
            bad("from_uri", "must be a sip: URI");
        }
        if self.auth_user.is_some() != self.auth_password.is_some() {
            bad("auth_password", "must be given together with auth_user");
        }
        let (lo, hi) = (*self.rtp_port_range.start(), *self.rtp_port_range.end());
        if lo < 1024 || hi < lo.saturating_add(1) {
            bad(
                "rtp_port_range",
                "must be above 1023 and hold at least one even/odd pair",
            );
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// The number of RTP/RTCP port pairs in the range: an upper bound on concurrent calls.
    pub fn rtp_port_pairs(&self) -> usize {
        let lo = (*self.rtp_port_range.start()).div_ceil(2) * 2;
        let hi = *self.rtp_port_range.end();
        if hi <= lo {
            0
        } else {
            usize::from((hi - lo).div_ceil(2))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_name_their_key() {
        let mut cfg = SipTrunkConfig::new(OperatorId(1), "10.0.0.1", 5060);
        assert!(cfg.validate().is_ok());
        cfg.max_concurrent_calls = 0;
        cfg.from_uri = "tel:123".into();
        let errs = cfg.validate().unwrap_err();
        let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert!(
            text.iter().any(|e| e.contains("max_concurrent_calls")),
            "{text:?}"
        );
        assert!(text.iter().any(|e| e.contains("from_uri")), "{text:?}");
    }

    #[test]
    fn port_pairs_count_even_starts() {
        let mut cfg = SipTrunkConfig::new(OperatorId(1), "h", 5060);
        cfg.rtp_port_range = 20001..=20010;
        assert_eq!(cfg.rtp_port_pairs(), 4); // 20002, 20004, 20006, 20008
    }
}

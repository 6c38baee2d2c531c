//! The link's own plain configuration: one operator, its binds, timers and message options.
//!
//! The engine maps the config crate's types into [`SmppLinkConfig`]; this crate never reads files.
//!
//! ```
//! use sendbox_smpp::config::{BindConfig, SmppLinkConfig};
//! use sendbox_dispatch::OperatorId;
//! let cfg = SmppLinkConfig::new(OperatorId(0), "kcell", vec![BindConfig::new("127.0.0.1", 2775, "esme", "secret")]);
//! assert!(cfg.validate().is_ok());
//! ```

use sendbox_codecs::sms::Concat;
use sendbox_dispatch::OperatorId;
use std::time::Duration;

/// How a bind connects to the SMSC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BindMode {
    /// One bind_transceiver connection: submits out, receipts and replies in (the default).
    #[default]
    Transceiver,
    /// Two connections: a bind_transmitter for submits and a bind_receiver for receipts.
    TransmitterReceiver,
}

/// The SMPP version announced in the bind (`interface_version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmppVersion {
    /// SMPP 3.4 (0x34), what KZ operators speak (the default).
    #[default]
    V34,
    /// SMPP 5.0 (0x50).
    V50,
}

impl SmppVersion {
    /// The `interface_version` octet.
    pub fn octet(self) -> u8 {
        match self {
            SmppVersion::V34 => 0x34,
            SmppVersion::V50 => 0x50,
        }
    }
}

/// How an SMSC writes message ids; decides how ids from submit_sm_resp and from receipts match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdBase {
    /// Compare as text (ASCII case-insensitive, surrounding blanks ignored): the default.
    #[default]
    Text,
    /// A decimal number (leading zeros ignored).
    Decimal,
    /// A hexadecimal number (case and leading zeros ignored).
    Hex,
}

/// One bind (or one transmitter/receiver pair) to the SMSC.
#[derive(Debug, Clone, PartialEq)]
pub struct BindConfig {
    /// SMSC host name or address.
    pub host: String,
    /// SMSC TCP port (2775 is usual).
    pub port: u16,
    /// `system_id` (at most 15 characters).
    pub system_id: String,
    /// `password` (at most 8 characters).
    pub password: String,
    /// `system_type` (at most 12 characters; often empty).
    pub system_type: String,
    /// Transceiver, or a transmitter/receiver pair.
    pub mode: BindMode,
    /// At most this many requests outstanding (sent, not answered) on the bind.
    pub window: usize,
    /// This bind's own rate limit in submit_sm per second (the contract's per-bind TPS).
    pub max_tps: f64,
    /// `addr_ton` in the bind.
    pub addr_ton: u8,
    /// `addr_npi` in the bind.
    pub addr_npi: u8,
    /// `address_range` in the bind (often empty).
    pub address_range: String,
}

impl BindConfig {
    /// A transceiver bind with window 64, 100 msg/s, TON/NPI 0 and empty system_type.
    pub fn new(host: &str, port: u16, system_id: &str, password: &str) -> Self {
        BindConfig {
            host: host.to_string(),
            port,
            system_id: system_id.to_string(),
            password: password.to_string(),
            system_type: String::new(),
            mode: BindMode::Transceiver,
            window: 64,
            max_tps: 100.0,
            addr_ton: 0,
            addr_npi: 0,
            address_range: String::new(),
        }
    }
}

/// Everything one operator's SMS link needs.
#[derive(Debug, Clone, PartialEq)]
pub struct SmppLinkConfig {
    /// The operator this link serves.
    pub operator: OperatorId,
    /// Its name, for logs and metric labels.
    pub operator_name: String,
    /// The binds; each runs its own task.
    pub binds: Vec<BindConfig>,
    /// SMPP version announced in binds.
    pub interface_version: SmppVersion,
    /// Send enquire_link after this long without traffic.
    pub enquire_link: Duration,
    /// A request without a response after this long has timed out.
    pub response_timeout: Duration,
    /// First reconnect delay.
    pub reconnect_min: Duration,
    /// Longest reconnect delay (also used after a bind is refused for bad credentials).
    pub reconnect_max: Duration,
    /// A dispatch with no final receipt after this long becomes `expired`.
    pub dlr_timeout: Duration,
    /// How long a receipt that came before its submit_sm_resp is kept for matching.
    pub orphan_ttl: Duration,
    /// Relative validity period of submitted messages; `None` leaves the SMSC's default.
    pub validity: Option<Duration>,
    /// How long messages are concatenated.
    pub concat: Concat,
    /// Retries on temporary errors before a dispatch fails.
    pub max_temp_retries: u16,
    /// First delay before a temporary-error retry (doubles per retry, capped at `reconnect_max`).
    pub temp_retry_base: Duration,
    /// Pause after ESME_RTHROTTLED / ESME_RMSGQFUL.
    pub throttle_pause: Duration,
    /// At shutdown, wait this long for outstanding responses before unbinding.
    pub shutdown_timeout: Duration,
    /// How message ids are written in submit_sm_resp.
    pub submit_id_base: IdBase,
    /// How message ids are written in receipts.
    pub receipt_id_base: IdBase,
    /// Largest PDU accepted from the SMSC, in octets.
    pub max_pdu_len: usize,
    /// Most parts one message may be split into (the operator's cap).
    pub max_parts: u8,
}

impl SmppLinkConfig {
    /// A configuration with the usual defaults: SMPP 3.4, enquire_link 30 s, response timeout
    /// 10 s, reconnect 1–60 s, receipts awaited 48 h, 8-bit UDH concatenation, 3 temporary retries.
    pub fn new(operator: OperatorId, operator_name: &str, binds: Vec<BindConfig>) -> Self {
        SmppLinkConfig {
            operator,
            operator_name: operator_name.to_string(),
            binds,
            interface_version: SmppVersion::V34,
            enquire_link: Duration::from_secs(30),
            response_timeout: Duration::from_secs(10),
            reconnect_min: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(60),
            dlr_timeout: Duration::from_secs(48 * 3600),
            orphan_ttl: Duration::from_secs(60),
            validity: None,
            concat: Concat::Udh8,
            max_temp_retries: 3,
            temp_retry_base: Duration::from_secs(5),
            throttle_pause: Duration::from_secs(1),
            shutdown_timeout: Duration::from_secs(5),
            submit_id_base: IdBase::Text,
            receipt_id_base: IdBase::Text,
            max_pdu_len: 64 * 1024,
            max_parts: 10,
        }
    }

    /// Checks the limits SMPP puts on the fields, naming the offending key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.binds.is_empty() {
            return Err(ConfigError::NoBinds);
        }
        for (i, b) in self.binds.iter().enumerate() {
            let check = |key: &'static str, value: &str, max: usize| {
                if value.len() > max || !value.is_ascii() {
                    Err(ConfigError::TooLong { bind: i, key, max })
                } else {
                    Ok(())
                }
            };
            check("system_id", &b.system_id, 15)?;
            check("password", &b.password, 8)?;
            check("system_type", &b.system_type, 12)?;
            check("address_range", &b.address_range, 40)?;
            if b.window == 0 || b.window > 65_536 {
                return Err(ConfigError::Invalid {
                    bind: i,
                    key: "window",
                    why: "must be 1..=65536",
                });
            }
            if !(b.max_tps.is_finite() && b.max_tps > 0.0) {
                return Err(ConfigError::Invalid {
                    bind: i,
                    key: "max_tps",
                    why: "must be positive",
                });
            }
        }
        if self.response_timeout.is_zero() || self.enquire_link.is_zero() {
            return Err(ConfigError::ZeroTimer);
        }
        if self.max_parts == 0 {
            return Err(ConfigError::Field {
                key: "max_parts",
                why: "must be at least 1",
            });
        }
        Ok(())
    }
}

/// A configuration value SMPP cannot carry. Returned by [`SmppLinkConfig::validate`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The operator has no binds.
    #[error("binds: the operator has no binds")]
    NoBinds,
    /// A C-string field is longer than SMPP allows, or not ASCII.
    #[error("binds[{bind}].{key}: at most {max} ASCII characters")]
    TooLong {
        /// Index of the bind.
        bind: usize,
        /// The key.
        key: &'static str,
        /// The limit.
        max: usize,
    },
    /// A numeric field is out of range.
    #[error("binds[{bind}].{key}: {why}")]
    Invalid {
        /// Index of the bind.
        bind: usize,
        /// The key.
        key: &'static str,
        /// What is wrong.
        why: &'static str,
    },
    /// `enquire_link` or `response_timeout` is zero.
    #[error("enquire_link, response_timeout: must be non-zero")]
    ZeroTimer,
    /// An operator-level field is out of range.
    #[error("{key}: {why}")]
    Field {
        /// The key.
        key: &'static str,
        /// What is wrong.
        why: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_password_is_refused_naming_the_key() {
        let mut b = BindConfig::new("h", 1, "id", "123456789");
        b.window = 8;
        let cfg = SmppLinkConfig::new(OperatorId(1), "x", vec![b]);
        let err = cfg.validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "binds[0].password: at most 8 ASCII characters"
        );
    }
}

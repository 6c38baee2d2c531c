//! `[operators.<id>]`: a mobile operator, its DEF prefixes, its SMPP binds and its SIP trunk.
//!
//! ```toml
//! [operators.kcell]
//! name = "Kcell"
//! prefixes = ["701", "702", "775", "778"]
//! [operators.kcell.smpp]
//! binds = [{ host = "127.0.0.1", port = 2775, system_id = "sendbox", password = "secret", window = 10, max_tps = 50 }]
//! [operators.kcell.sip]
//! host = "127.0.0.1"
//! from_uri = "sip:sendbox@127.0.0.1"
//! ```

use crate::{Secret, SipConfig, WindowRule};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// One operator. The engine indexes operators by their order in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    /// The table key (`kcell` in `[operators.kcell]`), filled at load; used as the metric label.
    #[serde(skip)]
    pub id: String,
    /// Display name.
    pub name: String,
    /// The 3-digit DEF codes this operator serves by default (`"701"`): `6xx` or `7xx`, none
    /// claimed by two operators.
    pub prefixes: Vec<String>,
    /// Optional number-portability CSV (resolved against the config directory; must exist).
    pub portability_csv: Option<PathBuf>,
    /// Operator-wide SMS submit rate shared by all binds; default: the sum of the transmitting
    /// binds' `max_tps × count` (see [`OperatorConfig::sms_rate`]).
    pub max_sms_per_second: Option<u32>,
    /// SMS over SMPP; an operator has `smpp`, `sip`, or both.
    pub smpp: Option<SmppConfig>,
    /// Voice over a SIP trunk.
    pub sip: Option<SipConfig>,
    /// A narrower calling window for this operator.
    pub window: Option<WindowRule>,
}

impl OperatorConfig {
    /// The operator-wide SMS rate (msg/s): `max_sms_per_second`, else the sum over binds that
    /// can transmit of `max_tps × count`; 0 without SMPP.
    pub fn sms_rate(&self) -> u32 {
        if let Some(r) = self.max_sms_per_second {
            return r;
        }
        self.smpp.as_ref().map_or(0, |s| {
            s.binds
                .iter()
                .filter(|b| b.mode.transmits())
                .map(|b| b.max_tps.saturating_mul(b.count))
                .fold(0u32, u32::saturating_add)
        })
    }
}

/// `[operators.<id>.smpp]`: session settings shared by all of this operator's binds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmppConfig {
    /// `"3.4"` (default) or `"5.0"`.
    #[serde(default)]
    pub interface_version: InterfaceVersion,
    /// Keepalive interval (default `30s`).
    #[serde(default = "secs::<30>", with = "crate::duration")]
    pub enquire_link: Duration,
    /// How long to wait for any response PDU (default `10s`).
    #[serde(default = "secs::<10>", with = "crate::duration")]
    pub response_timeout: Duration,
    /// First reconnect delay (default `1s`), doubled up to `reconnect_max`.
    #[serde(default = "secs::<1>", with = "crate::duration")]
    pub reconnect_min: Duration,
    /// Longest reconnect delay (default `60s`).
    #[serde(default = "secs::<60>", with = "crate::duration")]
    pub reconnect_max: Duration,
    /// How long to wait for a delivery receipt before the outcome is "unknown" (default `48h`).
    #[serde(default = "secs::<172800>", with = "crate::duration")]
    pub dlr_timeout: Duration,
    /// `validity_period` sent with submit_sm; none by default (the SMSC's default applies).
    #[serde(default, with = "crate::duration::option")]
    pub validity: Option<Duration>,
    /// How long texts are split: `"udh8"` (default), `"udh16"`, `"sar"`, `"payload"`.
    #[serde(default)]
    pub concatenation: Concatenation,
    /// Source TON override (default: 5 for alphanumeric senders, 1 for numeric).
    pub source_ton: Option<u8>,
    /// Source NPI override (default: 0 for alphanumeric senders, 1 for numeric).
    pub source_npi: Option<u8>,
    /// The most segments one message may take (default 10, 1..=255).
    #[serde(default = "default_max_segments")]
    pub max_segments: u8,
    /// How the SMSC writes message ids in submit_sm_resp: `"text"` (default), `"decimal"`, `"hex"`.
    #[serde(default)]
    pub submit_id_base: IdBase,
    /// How the SMSC writes message ids in receipts (may differ from submit_sm_resp).
    #[serde(default)]
    pub receipt_id_base: IdBase,
    /// Pause a bind this long after ESME_RTHROTTLED (default `1s`).
    #[serde(default = "secs::<1>", with = "crate::duration")]
    pub throttle_pause: Duration,
    /// Retries of a temporary submit error before it is final (default 3, 0..=20).
    #[serde(default = "three")]
    pub max_temp_retries: u16,
    /// First delay before retrying a temporary error, doubled each time (default `5s`).
    #[serde(default = "secs::<5>", with = "crate::duration")]
    pub temp_retry_base: Duration,
    /// The binds (at least one; at least one transmitting and one receiving).
    pub binds: Vec<BindConfig>,
}

/// How an SMSC writes message ids, so ids from submit_sm_resp and receipts can be matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdBase {
    /// Compare as text (the default).
    #[default]
    Text,
    /// A decimal number.
    Decimal,
    /// A hexadecimal number.
    Hex,
}

/// SMPP interface version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum InterfaceVersion {
    /// SMPP 3.4 (`interface_version` 0x34): what Kazakh operators run.
    #[default]
    #[serde(rename = "3.4")]
    V34,
    /// SMPP 5.0 (0x50).
    #[serde(rename = "5.0")]
    V50,
}

impl InterfaceVersion {
    /// The `interface_version` octet.
    pub fn octet(self) -> u8 {
        match self {
            InterfaceVersion::V34 => 0x34,
            InterfaceVersion::V50 => 0x50,
        }
    }
}

/// How a long text is split across submit_sm PDUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Concatenation {
    /// UDH with an 8-bit reference (`05 00 03`), 153 GSM-7 / 67 UCS-2 per part.
    #[default]
    Udh8,
    /// UDH with a 16-bit reference (`06 08 04`), 152 / 66 per part.
    Udh16,
    /// SAR TLVs (`sar_msg_ref_num` …), the text parts carry no UDH.
    Sar,
    /// One submit_sm with the whole text in `message_payload`; the SMSC splits it.
    Payload,
}

impl Concatenation {
    /// The lower-case config name.
    pub fn as_str(self) -> &'static str {
        match self {
            Concatenation::Udh8 => "udh8",
            Concatenation::Udh16 => "udh16",
            Concatenation::Sar => "sar",
            Concatenation::Payload => "payload",
        }
    }
}

/// One `binds` entry: `count` identical sessions to one SMSC address.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindConfig {
    /// SMSC host name or address.
    pub host: String,
    /// SMSC port (default 2775).
    #[serde(default = "default_smpp_port")]
    pub port: u16,
    /// `system_id` (1..=15 characters).
    pub system_id: String,
    /// Bind password (at most 8 characters, the SMPP limit). Never printed.
    pub password: Secret,
    /// `system_type` (default empty, at most 12 characters).
    #[serde(default)]
    pub system_type: String,
    /// `"transceiver"` (default), `"transmitter"` or `"receiver"`.
    #[serde(default)]
    pub mode: BindMode,
    /// How many sessions to open (default 1, 1..=64).
    #[serde(default = "one")]
    pub count: u32,
    /// Unacknowledged requests allowed per session (default 10, 1..=1024).
    #[serde(default = "default_window")]
    pub window: u32,
    /// Submit rate per session, msg/s (default 10, 1..=10000).
    #[serde(default = "default_max_tps")]
    pub max_tps: u32,
    /// `address_range` sent in the bind (default empty, at most 40 characters).
    #[serde(default)]
    pub address_range: String,
}

/// Which bind PDU a session sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindMode {
    /// `bind_transceiver`: submits and receives receipts on one session.
    #[default]
    Transceiver,
    /// `bind_transmitter`: submits only.
    Transmitter,
    /// `bind_receiver`: receives receipts only.
    Receiver,
}

impl BindMode {
    /// Whether the session can submit.
    pub fn transmits(self) -> bool {
        self != BindMode::Receiver
    }

    /// Whether the session receives deliver_sm (receipts).
    pub fn receives(self) -> bool {
        self != BindMode::Transmitter
    }

    /// The lower-case config name.
    pub fn as_str(self) -> &'static str {
        match self {
            BindMode::Transceiver => "transceiver",
            BindMode::Transmitter => "transmitter",
            BindMode::Receiver => "receiver",
        }
    }
}

pub(crate) const fn secs<const N: u64>() -> Duration {
    Duration::from_secs(N)
}
fn one() -> u32 {
    1
}
fn three() -> u16 {
    3
}
fn default_max_segments() -> u8 {
    10
}
fn default_smpp_port() -> u16 {
    2775
}
fn default_window() -> u32 {
    10
}
fn default_max_tps() -> u32 {
    10
}

//! The simulator's behaviour knobs, set through a builder.
//!
//! ```
//! use std::time::Duration;
//! use sendbox_smsc_sim::{SmscSim, Stat};
//! let sim = SmscSim::builder()
//!     .credentials("sys", "pw")
//!     .latency(Duration::from_millis(5))
//!     .receipt_delay(Duration::from_millis(50))
//!     .status_mix(&[(Stat::Delivrd, 90), (Stat::Undeliv, 10)])
//!     .throttle_every(1000)
//!     .hex_ids(true)
//!     .seed(42)
//!     .build();
//! assert_eq!(sim.config().throttle_every, Some(1000));
//! ```

use std::time::Duration;

/// A final delivery state the simulator can report in a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stat {
    /// `DELIVRD`, message_state 2.
    Delivrd,
    /// `EXPIRED`, message_state 3.
    Expired,
    /// `UNDELIV`, message_state 5.
    Undeliv,
    /// `REJECTD`, message_state 8.
    Rejectd,
}

impl Stat {
    /// The 7-character `stat:` word.
    pub const fn word(self) -> &'static str {
        match self {
            Stat::Delivrd => "DELIVRD",
            Stat::Expired => "EXPIRED",
            Stat::Undeliv => "UNDELIV",
            Stat::Rejectd => "REJECTD",
        }
    }

    /// The `message_state` TLV value.
    pub const fn message_state(self) -> u8 {
        match self {
            Stat::Delivrd => 2,
            Stat::Expired => 3,
            Stat::Undeliv => 5,
            Stat::Rejectd => 8,
        }
    }

    /// The `err:` code the simulator reports (also the GSM code in `network_error_code`).
    pub const fn err(self) -> u8 {
        match self {
            Stat::Delivrd => 0,
            Stat::Expired => 1,
            Stat::Undeliv => 34,
            Stat::Rejectd => 11,
        }
    }
}

/// Which parts of a receipt carry the id and state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReceiptFormat {
    /// Only the `id:… stat:…` text in short_message.
    TextOnly,
    /// Only the `receipted_message_id` and `message_state` TLVs (short_message empty).
    TlvOnly,
    /// Both (the default).
    #[default]
    Both,
}

/// The SMPP version the simulator announces in `sc_interface_version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmppVersion {
    /// 3.4 (0x34), what KZ operators run.
    #[default]
    V34,
    /// 5.0 (0x50).
    V50,
}

impl SmppVersion {
    /// The interface_version octet.
    pub const fn octet(self) -> u8 {
        match self {
            SmppVersion::V34 => 0x34,
            SmppVersion::V50 => 0x50,
        }
    }
}

/// Deliberately broken output, to exercise the engine's tolerant decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Every `every`-th OK submit_sm_resp carries its message_id without the NUL terminator.
    SubmitRespWithoutNul {
        /// Period in accepted submits (1 = all).
        every: u64,
    },
    /// After every `every`-th submit_sm_resp, send a deliver_sm whose body cannot be decoded.
    GarbagePdu {
        /// Period in accepted submits (1 = after each).
        every: u64,
    },
}

/// Everything the simulator can be told; build with [`crate::SmscSim::builder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SimConfig {
    /// Required (system_id, password); `None` accepts any bind.
    pub credentials: Option<(String, String)>,
    /// Reject every bind with this command_status (e.g. 0x0D ESME_RBINDFAIL).
    pub reject_binds: Option<u32>,
    /// The system_id returned in bind responses.
    pub smsc_system_id: String,
    /// Delay before each submit_sm_resp.
    pub latency: Duration,
    /// Delay between the submit_sm_resp and the receipt.
    pub receipt_delay: Duration,
    /// Weighted receipt states; an empty mix means all DELIVRD.
    pub status_mix: Vec<(Stat, u32)>,
    /// Send the receipt before the submit_sm_resp (both at once, ignoring delays).
    pub receipt_before_response: bool,
    /// Answer every n-th submit_sm with ESME_RTHROTTLED (0x58).
    pub throttle_every: Option<u64>,
    /// Answer 0x58 when a bind submits faster than this many per second.
    pub throttle_above_tps: Option<f64>,
    /// Close the connection on every n-th submit_sm of a connection, without answering it.
    pub drop_every: Option<u64>,
    /// message_id base in submit_sm_resp and the receipt TLV: hex when true, decimal otherwise.
    pub hex_ids: bool,
    /// Write the id in the receipt *text* in the other base than submit_sm_resp (as Kannel/Jasmin
    /// setups do).
    pub receipt_text_id_mismatch: bool,
    /// Receipt layout.
    pub receipt_format: ReceiptFormat,
    /// Version announced in bind responses.
    pub version: SmppVersion,
    /// UTC offset (hours) of the receipt dates; KZ SMSCs write local time (+5) with no zone.
    pub receipt_utc_offset_hours: i8,
    /// Seed of the status-mix random generator.
    pub seed: u64,
    /// Broken output to produce.
    pub malformed: Vec<Malformed>,
    /// Keep up to this many received submits for [`crate::SimHandle::received`] (0: off).
    pub capture: usize,
    /// Track unique messages and duplicates (memory grows with distinct messages).
    pub dedup: bool,
    /// The largest PDU accepted.
    pub max_command_length: usize,
    /// First message id handed out.
    pub first_message_id: u64,
    /// Send enquire_link to each client at this interval (as real SMSCs do).
    pub enquire_link_interval: Option<Duration>,
    /// At most this many unacknowledged deliver_sm per bind; more wait (unlimited when `None`).
    pub deliver_window: Option<usize>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            credentials: None,
            reject_binds: None,
            smsc_system_id: "sendbox-sim".into(),
            latency: Duration::ZERO,
            receipt_delay: Duration::ZERO,
            status_mix: Vec::new(),
            receipt_before_response: false,
            throttle_every: None,
            throttle_above_tps: None,
            drop_every: None,
            hex_ids: false,
            receipt_text_id_mismatch: false,
            receipt_format: ReceiptFormat::Both,
            version: SmppVersion::V34,
            receipt_utc_offset_hours: 5,
            seed: 0x5EED,
            malformed: Vec::new(),
            capture: 0,
            dedup: true,
            max_command_length: 8192,
            first_message_id: 1,
            enquire_link_interval: None,
            deliver_window: None,
        }
    }
}

/// Chainable construction of a [`SimConfig`].
#[derive(Debug, Clone, Default)]
pub struct SimBuilder {
    pub(crate) config: SimConfig,
}

impl SimBuilder {
    /// Require this system_id and password (wrong system_id: 0x0F, wrong password: 0x0E).
    pub fn credentials(mut self, system_id: &str, password: &str) -> Self {
        self.config.credentials = Some((system_id.into(), password.into()));
        self
    }
    /// Reject every bind with `status`.
    pub fn reject_binds(mut self, status: u32) -> Self {
        self.config.reject_binds = Some(status);
        self
    }
    /// Delay every submit_sm_resp by `d`.
    pub fn latency(mut self, d: Duration) -> Self {
        self.config.latency = d;
        self
    }
    /// Send receipts `d` after the submit_sm_resp.
    pub fn receipt_delay(mut self, d: Duration) -> Self {
        self.config.receipt_delay = d;
        self
    }
    /// Weighted receipt states, e.g. `&[(Stat::Delivrd, 95), (Stat::Undeliv, 5)]`.
    pub fn status_mix(mut self, mix: &[(Stat, u32)]) -> Self {
        self.config.status_mix = mix.to_vec();
        self
    }
    /// Send each receipt before its submit_sm_resp.
    pub fn receipt_before_response(mut self, on: bool) -> Self {
        self.config.receipt_before_response = on;
        self
    }
    /// Answer every n-th submit_sm (counted over the whole simulator) with 0x58.
    pub fn throttle_every(mut self, n: u64) -> Self {
        self.config.throttle_every = Some(n.max(1));
        self
    }
    /// Answer 0x58 to submits beyond `tps` per second on one bind (token bucket, burst = 1 s).
    pub fn throttle_above_tps(mut self, tps: f64) -> Self {
        self.config.throttle_above_tps = Some(tps);
        self
    }
    /// Close each connection at its n-th submit_sm, leaving that submit unanswered.
    pub fn drop_every(mut self, n: u64) -> Self {
        self.config.drop_every = Some(n.max(1));
        self
    }
    /// Hex (true) or decimal (false) message ids.
    pub fn hex_ids(mut self, hex: bool) -> Self {
        self.config.hex_ids = hex;
        self
    }
    /// Write the receipt text's id in the other base.
    pub fn receipt_text_id_mismatch(mut self, on: bool) -> Self {
        self.config.receipt_text_id_mismatch = on;
        self
    }
    /// Receipt layout: text, TLVs, or both.
    pub fn receipt_format(mut self, f: ReceiptFormat) -> Self {
        self.config.receipt_format = f;
        self
    }
    /// Announced SMPP version.
    pub fn version(mut self, v: SmppVersion) -> Self {
        self.config.version = v;
        self
    }
    /// UTC offset in hours of receipt dates (default +5, Kazakhstan).
    pub fn receipt_utc_offset_hours(mut self, h: i8) -> Self {
        self.config.receipt_utc_offset_hours = h;
        self
    }
    /// Random seed for the status mix.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }
    /// Add a malformed-output behaviour.
    pub fn malformed(mut self, m: Malformed) -> Self {
        self.config.malformed.push(m);
        self
    }
    /// Keep the first `limit` received submits for inspection.
    pub fn capture(mut self, limit: usize) -> Self {
        self.config.capture = limit;
        self
    }
    /// Turn duplicate tracking on or off (on by default).
    pub fn dedup(mut self, on: bool) -> Self {
        self.config.dedup = on;
        self
    }
    /// First message id handed out (default 1).
    pub fn first_message_id(mut self, id: u64) -> Self {
        self.config.first_message_id = id;
        self
    }
    /// Send enquire_link to every connection each `d`.
    pub fn enquire_link_interval(mut self, d: Duration) -> Self {
        self.config.enquire_link_interval = Some(d);
        self
    }
    /// Keep at most `n` deliver_sm unacknowledged per bind, as real SMSCs window them.
    pub fn deliver_window(mut self, n: usize) -> Self {
        self.config.deliver_window = Some(n.max(1));
        self
    }
    /// The system_id in bind responses.
    pub fn smsc_system_id(mut self, id: &str) -> Self {
        self.config.smsc_system_id = id.into();
        self
    }
    /// Finish building.
    pub fn build(self) -> crate::SmscSim {
        crate::SmscSim::new(self.config)
    }
}

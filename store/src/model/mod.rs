//! The rows the engine writes and reads back.
//!
//! Every time is a UTC [`Timestamp`] stored with microsecond precision (finer digits are
//! dropped). Local Asia/Almaty times are the strings the engine recorded when the event
//! happened: they are the compliance proof of what the engine believed the wall time was.
//!
//! ```
//! use sendbox_store::model::DispatchState;
//! assert_eq!(DispatchState::parse("handed_off"), Some(DispatchState::HandedOff));
//! ```

use jiff::Timestamp;
pub use sendbox_dispatch::LocalTime;
use sendbox_dispatch::{CallDetail, Channel, FinalState, TrafficClass};
use std::sync::Arc;

mod views;
pub use views::*;

/// Where a dispatch is in its life. `Final` is set by the store when its receipt is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DispatchState {
    /// Stored by the API before it answered 202.
    Accepted,
    /// Waiting in its operator's queue.
    Queued,
    /// Held until `not_before` (outside the calling window).
    Deferred,
    /// Held because the account could not cover it.
    InsufficientFunds,
    /// The operator took it; waiting for the final outcome.
    HandedOff,
    /// A receipt exists. Only the store sets this (through [`WriteOp::Final`]).
    Final,
}

impl DispatchState {
    /// The lower-case name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DispatchState::Accepted => "accepted",
            DispatchState::Queued => "queued",
            DispatchState::Deferred => "deferred",
            DispatchState::InsufficientFunds => "insufficient_funds",
            DispatchState::HandedOff => "handed_off",
            DispatchState::Final => "final",
        }
    }

    /// The state named `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "accepted" => DispatchState::Accepted,
            "queued" => DispatchState::Queued,
            "deferred" => DispatchState::Deferred,
            "insufficient_funds" => DispatchState::InsufficientFunds,
            "handed_off" => DispatchState::HandedOff,
            "final" => DispatchState::Final,
            _ => return None,
        })
    }
}

/// An accepted dispatch: the durable outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchRow {
    /// The dispatch id (at most `i64::MAX`).
    pub id: u64,
    /// The account's name from config.
    pub account: Arc<str>,
    /// The campaign, if any.
    pub campaign: Option<u64>,
    /// SMS or voice.
    pub channel: Channel,
    /// Traffic class (window rules).
    pub class: TrafficClass,
    /// Recipient, E.164 digits.
    pub msisdn: u64,
    /// The operator's name from config.
    pub operator: Arc<str>,
    /// The SMS text, or the audio id of a voice prompt.
    pub content_ref: String,
    /// Sender id (SMS) or caller id (voice).
    pub sender: String,
    /// SMS segments (1 for voice).
    pub segments: u16,
    /// Tiyn reserved at acceptance.
    pub reserved_tiyn: i64,
    /// When the API accepted it.
    pub accepted_at: Timestamp,
    /// Not before this time (deferred by the calling window).
    pub not_before: Option<Timestamp>,
    /// Current state. On write, the initial state; on read, the latest.
    pub state: DispatchState,
}

/// The handoff of a dispatch to its operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    /// When, UTC.
    pub at_utc: Timestamp,
    /// When, Asia/Almaty wall time as the engine recorded it.
    pub at_local: LocalTime,
    /// SMPP message id(s) or SIP Call-ID.
    pub operator_ref: String,
    /// Billable units at handoff.
    pub units: u32,
    /// Tiyn debited at handoff.
    pub cost_tiyn: i64,
}

/// A receipt: one per dispatch, written when its outcome is final. The billing record.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiptRow {
    /// The dispatch (primary key: a second receipt for it is ignored).
    pub dispatch_id: u64,
    /// Who pays.
    pub account: Arc<str>,
    /// The campaign, if any.
    pub campaign: Option<u64>,
    /// The operator's name.
    pub operator: Arc<str>,
    /// SMS or voice.
    pub channel: Channel,
    /// Recipient.
    pub msisdn: u64,
    /// The final state.
    pub state: FinalState,
    /// Protocol error code, e.g. `dlr:UNDELIV/err=001`.
    pub error: Option<String>,
    /// SMS segments billed.
    pub segments: u32,
    /// Voice seconds billed.
    pub billable_seconds: u32,
    /// Total tiyn charged.
    pub cost_tiyn: i64,
    /// When the API accepted it.
    pub accepted_at: Timestamp,
    /// When the operator took it, UTC.
    pub handed_off_at_utc: Option<Timestamp>,
    /// When the operator took it, Almaty wall time.
    pub handed_off_local: Option<LocalTime>,
    /// When the outcome became known, UTC.
    pub final_at_utc: Timestamp,
    /// When the outcome became known, Almaty wall time.
    pub final_local: LocalTime,
    /// Whether it left inside the calling window (compliance proof).
    pub inside_window: bool,
    /// Voice call details.
    pub call: Option<CallDetail>,
    /// The attempt that produced this outcome.
    pub attempt: u16,
}

/// What a ledger entry records. Amounts are signed: the change to the spendable balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LedgerKind {
    /// Balance held at acceptance (amount ≤ 0).
    Reserve,
    /// Money charged (amount ≤ 0).
    Debit,
    /// A hold given back (amount ≥ 0).
    Release,
    /// Money added by an operator of the service (any sign: corrections are negative).
    Topup,
    /// An opening balance (any sign).
    Opening,
}

impl LedgerKind {
    /// The lower-case name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerKind::Reserve => "reserve",
            LedgerKind::Debit => "debit",
            LedgerKind::Release => "release",
            LedgerKind::Topup => "topup",
            LedgerKind::Opening => "opening",
        }
    }

    /// The kind named `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "reserve" => LedgerKind::Reserve,
            "debit" => LedgerKind::Debit,
            "release" => LedgerKind::Release,
            "topup" => LedgerKind::Topup,
            "opening" => LedgerKind::Opening,
            _ => return None,
        })
    }
}

/// A ledger entry. Entries with a dispatch id are unique per `(dispatch_id, kind, attempt)`:
/// writing the same debit twice charges once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    /// The dispatch it belongs to (none for top-ups and opening balances).
    pub dispatch_id: Option<u64>,
    /// The account.
    pub account: Arc<str>,
    /// What it records.
    pub kind: LedgerKind,
    /// The attempt (voice retries are new attempts); 0 when not per attempt.
    pub attempt: u16,
    /// Signed change to the balance, in tiyn.
    pub amount_tiyn: i64,
    /// When.
    pub at: Timestamp,
}

/// The idempotency key of a ledger entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LedgerKey {
    /// The dispatch.
    pub dispatch_id: u64,
    /// The kind.
    pub kind: LedgerKind,
    /// The attempt.
    pub attempt: u16,
}

/// What a piece of feedback is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedbackKind {
    /// An inbound SMS reply.
    Reply,
    /// DTMF digits pressed during a call.
    Dtmf,
}

impl FeedbackKind {
    /// The lower-case name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackKind::Reply => "reply",
            FeedbackKind::Dtmf => "dtmf",
        }
    }

    /// The kind named `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reply" => Some(FeedbackKind::Reply),
            "dtmf" => Some(FeedbackKind::Dtmf),
            _ => None,
        }
    }
}

/// A reply or DTMF input, linked to the dispatch it answers when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackRow {
    /// The account whose dispatch it answers.
    pub account: String,
    /// The subscriber.
    pub msisdn: u64,
    /// The dispatch it answers (see [`crate::Store::last_dispatch_to`]).
    pub dispatch_id: Option<u64>,
    /// Reply or DTMF.
    pub kind: FeedbackKind,
    /// The reply text, or the digits.
    pub body: String,
    /// When it arrived.
    pub at: Timestamp,
}

/// Which feedback to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackKey {
    /// Everything linked to one dispatch.
    Dispatch(u64),
    /// Everything from one number.
    Msisdn(u64),
    /// Everything linked to the dispatches of one campaign.
    Campaign(u64),
    /// Everything with `seq > after`, in `seq` order, at most `limit` (paging the whole feed).
    After {
        /// The last `seq` already read (0 to start).
        after: i64,
        /// Page size.
        limit: u32,
    },
}

/// A campaign: a batch of dispatches submitted together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignRow {
    /// The campaign id.
    pub id: u64,
    /// Who submitted it.
    pub account: String,
    /// SMS or voice.
    pub channel: Channel,
    /// When it was created.
    pub created_at: Timestamp,
    /// How many recipients it has.
    pub total: u64,
}

/// An audio prompt: id is its content hash, so writing it twice stores it once.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioRow {
    /// Content hash.
    pub id: String,
    /// Metadata (original name, duration, format...).
    pub metadata: serde_json::Value,
    /// 8 kHz G.711 A-law samples.
    pub alaw: Vec<u8>,
    /// When it was uploaded.
    pub created_at: Timestamp,
}

/// One write. A `Vec<WriteOp>` given to one [`crate::Store::write`] call is atomic.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// Store an accepted dispatch (again: ignored).
    AcceptDispatch(DispatchRow),
    /// Move a dispatch to a non-final state. Ignored if its state was set by a later event
    /// (`at` older than the current state's time); invisible once the dispatch is final.
    UpdateState {
        /// The dispatch.
        id: u64,
        /// The new state (not `Final`: write a receipt for that).
        state: DispatchState,
        /// When the change happened.
        at: Timestamp,
        /// Held until then (e.g. a call's next attempt after its retry interval); `None`
        /// keeps what was stored. A restart re-admits the dispatch at this time.
        not_before: Option<Timestamp>,
    },
    /// Record the handoff (state `handed_off` unless a later event set another state).
    HandedOff {
        /// The dispatch.
        id: u64,
        /// The handoff.
        handoff: Handoff,
    },
    /// The final receipt; the dispatch is `final` from then on (it leaves
    /// [`crate::Store::unfinished`]). A second receipt for the same dispatch is
    /// ignored and reported in [`WriteResult::duplicate_receipts`].
    Final(Box<ReceiptRow>),
    /// A ledger entry (idempotent per [`LedgerKey`]).
    Ledger(LedgerRow),
    /// A reply or DTMF input.
    Feedback(FeedbackRow),
    /// A campaign (again: ignored).
    Campaign(CampaignRow),
    /// An audio prompt (again: ignored).
    Audio(Box<AudioRow>),
}

/// What one `write` changed, for the engine's in-memory balances.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteResult {
    /// Receipts that were new: bill these.
    pub new_receipts: Vec<u64>,
    /// Receipts that already existed: do not bill again.
    pub duplicate_receipts: Vec<u64>,
    /// Ledger entries that already existed and were not written again.
    pub duplicate_ledger: Vec<LedgerKey>,
}

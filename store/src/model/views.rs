//! What the read methods return.

use super::{DispatchRow, DispatchState, FeedbackRow, Handoff, ReceiptRow};
use jiff::Timestamp;
use sendbox_dispatch::{Channel, TrafficClass};

/// A receipt as read back, with its position in the billing feed.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReceipt {
    /// Monotonic sequence in commit order; page with [`crate::Store::receipts_after`].
    pub seq: i64,
    /// The receipt.
    pub receipt: ReceiptRow,
}

/// One page of the billing feed.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiptPage {
    /// Receipts with `seq > cursor`, in `seq` order.
    pub receipts: Vec<StoredReceipt>,
    /// The cursor for the next page (the last `seq`, or the given cursor if the page is empty).
    pub next_cursor: i64,
}

impl ReceiptPage {
    /// The page of `receipts` read after `cursor`.
    pub(crate) fn after(cursor: i64, receipts: Vec<StoredReceipt>) -> Self {
        let next_cursor = receipts.last().map_or(cursor, |r| r.seq);
        ReceiptPage {
            receipts,
            next_cursor,
        }
    }
}

/// Feedback as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFeedback {
    /// Insertion order.
    pub seq: i64,
    /// The feedback.
    pub feedback: FeedbackRow,
}

/// A dispatch as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct DispatchView {
    /// The dispatch with its current state.
    pub row: DispatchRow,
    /// When its current state was set.
    pub state_at: Timestamp,
    /// Its handoff, if it happened.
    pub handoff: Option<Handoff>,
    /// Its receipt, if final.
    pub receipt: Option<StoredReceipt>,
}

/// An accepted dispatch that is not final, for the engine to continue after a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished {
    /// The dispatch with its current state.
    pub row: DispatchRow,
    /// Its handoff, if it happened (then wait for the outcome rather than resend).
    pub handoff: Option<Handoff>,
    /// What its attempts so far were billed, from the ledger: the highest attempt number with
    /// a debit at handoff, and the sum of every debit of the dispatch (positive). A voice call
    /// retried after a restart continues from here: its next attempt number, and a receipt
    /// whose cost still includes the fees of the attempts before the stop.
    pub billed: BilledSoFar,
}

impl Unfinished {
    /// A dispatch as read, with the handoff columns of its last attempt. The handoff is
    /// reported only while the dispatch is still handed off: a call attempt that ended keeps
    /// its handoff columns, but the call is back in the queue, not with the operator.
    pub fn new(row: DispatchRow, handoff: Option<Handoff>, billed: BilledSoFar) -> Self {
        let handoff = handoff.filter(|_| row.state == DispatchState::HandedOff);
        Unfinished {
            row,
            handoff,
            billed,
        }
    }
}

/// The ledger's view of one dispatch's attempts; see [`Unfinished::billed`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BilledSoFar {
    /// Highest attempt with a handoff debit (0: never handed off).
    pub attempts: u16,
    /// Every debit of the dispatch so far, in tiyn (positive).
    pub debited_tiyn: i64,
}

/// Ledger `attempt` numbers from this offset up are the per-second charges of answered calls
/// (`attempt + SECONDS_DEBIT_ATTEMPT_OFFSET`), so one attempt's two debits keep distinct keys.
pub const SECONDS_DEBIT_ATTEMPT_OFFSET: u16 = 1000;

/// One line of the compliance history: who sent what to a number, when, with what result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// The dispatch.
    pub dispatch_id: u64,
    /// Who sent it.
    pub account: String,
    /// The campaign, if any.
    pub campaign: Option<u64>,
    /// SMS or voice.
    pub channel: Channel,
    /// Traffic class.
    pub class: TrafficClass,
    /// The operator.
    pub operator: String,
    /// Sender id.
    pub sender: String,
    /// The SMS text or audio id.
    pub content_ref: String,
    /// Accepted, UTC.
    pub accepted_at: Timestamp,
    /// Accepted, Asia/Almaty wall time (computed from UTC).
    pub accepted_local: String,
    /// Handed off, UTC.
    pub handed_off_at: Option<Timestamp>,
    /// Handed off, Almaty wall time as recorded.
    pub handed_off_local: Option<String>,
    /// Final, UTC.
    pub final_at: Option<Timestamp>,
    /// Final, Almaty wall time as recorded.
    pub final_local: Option<String>,
    /// The result: a final state's name, or the current dispatch state if not final.
    pub result: String,
    /// The protocol error, if any.
    pub error: Option<String>,
    /// Whether it left inside the calling window (known once final).
    pub inside_window: Option<bool>,
}

/// How many dispatches of a campaign are in one state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateCount {
    /// A final state's name for final dispatches, else the dispatch state's name.
    pub state: String,
    /// How many.
    pub count: u64,
}

/// An account's ledger sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// The account.
    pub account: String,
    /// Sum of all its ledger entries, in tiyn.
    pub ledger_sum_tiyn: i64,
}

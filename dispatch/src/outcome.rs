//! What a link reports about a dispatch: the handoff and the final outcome.

use serde::{Deserialize, Serialize};

/// The operator took the dispatch: submit_sm_resp with status 0, or the INVITE was sent.
/// This is the moment the balance is debited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    /// When, as wall-clock time (the engine also records it in Asia/Almaty local time).
    pub at: jiff::Timestamp,
    /// Billable units at handoff: SMS segments, or 1 call attempt.
    pub units: u32,
    /// Operator's reference: SMPP message id(s) joined by ',', or the SIP Call-ID.
    pub operator_ref: String,
}

/// The final state of a dispatch. Every dispatch ends in exactly one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinalState {
    /// SMS: the receipt said DELIVRD for every part.
    Delivered,
    /// SMS: the receipt said UNDELIV, DELETED or UNKNOWN.
    Undeliverable,
    /// SMS: the receipt said EXPIRED, or none came in time.
    Expired,
    /// SMS: the SMSC or the receipt rejected it (REJECTD, or a permanent submit error).
    Rejected,
    /// Voice: the callee answered.
    Answered,
    /// Voice: 486/600/603.
    Busy,
    /// Voice: 480/408, or the ring timeout.
    NoAnswer,
    /// Voice: 404/484. Also a policy rejection of the number.
    InvalidNumber,
    /// Voice: cancelled before answer (shutdown, window closing).
    Cancelled,
    /// Any channel: a temporary failure whose retries ran out, a 5xx, a transport error.
    Failed,
    /// Refused before leaving: policy (blacklist, invalid number, window rules) or funds.
    Refused,
}

impl FinalState {
    /// The lower-case name used in the API, the store and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            FinalState::Delivered => "delivered",
            FinalState::Undeliverable => "undeliverable",
            FinalState::Expired => "expired",
            FinalState::Rejected => "rejected",
            FinalState::Answered => "answered",
            FinalState::Busy => "busy",
            FinalState::NoAnswer => "no_answer",
            FinalState::InvalidNumber => "invalid_number",
            FinalState::Cancelled => "cancelled",
            FinalState::Failed => "failed",
            FinalState::Refused => "refused",
        }
    }
}

/// Call details that go into a voice receipt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallDetail {
    /// INVITE sent.
    pub invite_at: Option<jiff::Timestamp>,
    /// First 180/183.
    pub ring_at: Option<jiff::Timestamp>,
    /// 200 OK to the INVITE.
    pub answer_at: Option<jiff::Timestamp>,
    /// BYE sent or received, or the final non-2xx.
    pub end_at: Option<jiff::Timestamp>,
    /// Final SIP status of the INVITE (200, 486, 487 ...).
    pub sip_status: u16,
    /// DTMF digits the callee pressed, with milliseconds since answer.
    pub digits: Vec<(char, u32)>,
    /// Milliseconds of the prompt that were played before the call ended.
    pub heard_ms: u64,
    /// Milliseconds of the prompt in total (one play).
    pub prompt_ms: u64,
}

/// The final outcome a link reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Final state.
    pub state: FinalState,
    /// Protocol error code, e.g. `smpp:0x0000000B`, `dlr:UNDELIV/err=001`, `sip:486`.
    pub error: Option<String>,
    /// Voice: answered seconds to bill (before the tariff's increment is applied).
    pub billable_seconds: u32,
    /// When the outcome became known.
    pub at: jiff::Timestamp,
    /// Voice call details, boxed: every SMS outcome carries `None`, and an outcome is moved
    /// through the links' record channel, so its size is copied per message (the detail is
    /// 144 octets, the outcome without it 56; a record of the engine went from 416 to 280).
    pub call: Option<Box<CallDetail>>,
}

impl Outcome {
    /// An outcome with no call details and no billable seconds.
    pub fn simple(state: FinalState, error: Option<String>, at: jiff::Timestamp) -> Self {
        Outcome {
            state,
            error,
            billable_seconds: 0,
            at,
            call: None,
        }
    }
}

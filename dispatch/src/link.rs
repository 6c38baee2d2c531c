//! The interface between the dispatch core and the operator links.
//!
//! An operator link (the SMPP binds of one operator, the SIP trunk of one operator) loops:
//!
//! 1. pop a [`Ready`] from its [`crate::OperatorQueue`] (waiting on it when empty);
//! 2. wait for the operator's shared [`crate::limiter::Gcra`] and its own;
//! 3. call [`LinkEvents::gate`]: the core re-checks the calling window and the account at the
//!    moment of handoff, and either gives the dispatch back (it may leave now) or keeps it
//!    (deferred to the next window opening);
//! 4. send it; on acceptance call [`LinkEvents::handed_off`] (the balance is debited then);
//! 5. later call [`LinkEvents::finished`] exactly once with the final outcome, or
//!    [`LinkEvents::retry`] to put it back for another try.
//!
//! The core never blocks a link: every method returns at once.

use crate::model::Ready;
use crate::outcome::{Handoff, Outcome};
use std::time::Duration;

/// Why a dispatch goes back to its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryReason {
    /// The operator throttled us (ESME_RTHROTTLED, ESME_RMSGQFUL): not counted as a retry.
    Throttled,
    /// The link went down with this dispatch in flight and no answer: not counted as a retry.
    LinkDown,
    /// A temporary error (ESME_RSYSERR, timeout, SIP 503): counted against the retry limit.
    Temporary,
    /// Voice: busy or no answer; a new attempt after the campaign's retry interval.
    NewAttempt,
}

/// What a link reports to the dispatch core. Implemented by the engine.
pub trait LinkEvents: Send + Sync + 'static {
    /// Asked immediately before a dispatch leaves. Returns the dispatch if it may leave now;
    /// returns `None` if the core took it back (the window is closed now, so it waits for the
    /// next opening; or the account was suspended).
    fn gate(&self, d: Ready) -> Option<Ready>;

    /// The operator accepted the dispatch. The core debits the balance and records the time.
    fn handed_off(&self, d: &Ready, h: Handoff);

    /// The dispatch is final. Called once per dispatch.
    fn finished(&self, d: Ready, outcome: Outcome);

    /// Put the dispatch back in its queue after `after`.
    fn retry(&self, d: Ready, after: Duration, reason: RetryReason);

    /// An incoming SMS (a reply) from `from` to our address `to`, on `operator`'s link.
    fn inbound_sms(&self, operator: crate::OperatorId, from: u64, to: &str, text: &str);

    /// True while the core asks links to take no new dispatches from their queues: what it
    /// reports (handoffs, debits, receipts) is not yet durable and has piled up past a bound.
    /// Links go on with what they already took (in-flight parts, responses, receipts) and ask
    /// again shortly; the dispatches wait, durable, in the outbox and their queues. A crash
    /// then resends at most that bound of dispatches whose handoff was not recorded.
    fn hold_new(&self) -> bool {
        false
    }
}

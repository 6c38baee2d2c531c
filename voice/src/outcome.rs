//! How a call's end maps to a [`FinalState`] and whether it is worth another attempt.
//!
//! | SIP final / event              | state            | new attempt |
//! |--------------------------------|------------------|-------------|
//! | 2xx                            | `Answered`       | no          |
//! | 486 Busy Here, 600 Busy Everywhere | `Busy`       | yes         |
//! | 603 Decline                    | `Rejected`       | no: the callee refused; calling again is harassment |
//! | 404, 484, 410, 485, 604        | `InvalidNumber`  | no          |
//! | 480, 408, ring timeout (487 after our CANCEL) | `NoAnswer` | yes |
//! | 500, 502, 503, 504, 580, Timer B, transport error | `Failed` | yes (temporary) |
//! | other 4xx/5xx/6xx, auth failed twice, unusable SDP | `Failed` | no   |
//! | 487 after a shutdown CANCEL    | `Cancelled`      | no (the engine persists the queue) |

use sendbox_dispatch::FinalState;

/// Why we cancelled a ringing call, which decides how its 487 is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// The ring timeout passed.
    RingTimeout,
    /// The link is shutting down.
    Shutdown,
}

/// The result class of a final status: the state and whether to try again later.
pub fn classify(status: u16, cancel: Option<CancelReason>) -> (FinalState, bool) {
    match status {
        200..=299 => (FinalState::Answered, false),
        486 | 600 => (FinalState::Busy, true),
        603 => (FinalState::Rejected, false),
        404 | 410 | 484 | 485 | 604 => (FinalState::InvalidNumber, false),
        480 | 408 => (FinalState::NoAnswer, true),
        487 => match cancel {
            Some(CancelReason::Shutdown) => (FinalState::Cancelled, false),
            _ => (FinalState::NoAnswer, true),
        },
        500 | 502 | 503 | 504 | 580 => (FinalState::Failed, true),
        _ => (FinalState::Failed, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_and_no_answer_are_retried_refusals_and_bad_numbers_are_not() {
        assert_eq!(classify(486, None), (FinalState::Busy, true));
        assert_eq!(classify(600, None), (FinalState::Busy, true));
        assert_eq!(classify(603, None), (FinalState::Rejected, false));
        assert_eq!(classify(404, None), (FinalState::InvalidNumber, false));
        assert_eq!(classify(484, None), (FinalState::InvalidNumber, false));
        assert_eq!(classify(480, None), (FinalState::NoAnswer, true));
        assert_eq!(classify(408, None), (FinalState::NoAnswer, true));
        assert_eq!(classify(503, None), (FinalState::Failed, true));
        assert_eq!(classify(501, None), (FinalState::Failed, false));
        assert_eq!(classify(403, None), (FinalState::Failed, false));
        assert_eq!(classify(200, None), (FinalState::Answered, false));
    }

    #[test]
    fn request_terminated_depends_on_why_we_cancelled() {
        assert_eq!(
            classify(487, Some(CancelReason::RingTimeout)),
            (FinalState::NoAnswer, true)
        );
        assert_eq!(
            classify(487, Some(CancelReason::Shutdown)),
            (FinalState::Cancelled, false)
        );
    }
}

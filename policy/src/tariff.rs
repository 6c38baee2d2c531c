//! What a dispatch costs, in tiyn: per SMS segment, and per call attempt plus answered
//! seconds rounded up to the billing increment.
//!
//! ```
//! use sendbox_policy::tariff::Tariff;
//! let t = Tariff::try_new(500, 200, 30, 10).unwrap();
//! assert_eq!(t.sms_cost(3), 1_500);
//! assert_eq!(t.billed_seconds(21), 30);
//! assert_eq!(t.call_cost(21), 200 + 30 * 30);
//! assert_eq!(t.call_cost(0), 200); // unanswered: the attempt only
//! ```

/// Extra seconds a voice reservation covers beyond the prompt plays: answer-to-first-packet
/// and BYE latency.
pub const VOICE_SLACK_S: u64 = 5;

/// A tariff field given to [`Tariff::try_new`] is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TariffError {
    /// [`Tariff::try_new`]: a price is negative.
    #[error("negative price {0} tiyn")]
    NegativePrice(i64),
    /// [`Tariff::try_new`]: the billing increment is 0 seconds.
    #[error("billing increment must be at least 1 second")]
    ZeroIncrement,
}

/// Prices of one account (or operator) in tiyn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tariff {
    sms_segment: i64,
    call_attempt: i64,
    call_second: i64,
    billing_increment_s: u32,
}

impl Tariff {
    /// Validates: prices ≥ 0, increment ≥ 1 s.
    pub fn try_new(
        sms_segment: i64,
        call_attempt: i64,
        call_second: i64,
        billing_increment_s: u32,
    ) -> Result<Tariff, TariffError> {
        for p in [sms_segment, call_attempt, call_second] {
            if p < 0 {
                return Err(TariffError::NegativePrice(p));
            }
        }
        if billing_increment_s == 0 {
            return Err(TariffError::ZeroIncrement);
        }
        Ok(Tariff {
            sms_segment,
            call_attempt,
            call_second,
            billing_increment_s,
        })
    }

    /// Price of one SMS segment.
    pub fn sms_segment(&self) -> i64 {
        self.sms_segment
    }

    /// Price of a call attempt (charged answered or not, once the INVITE is sent).
    pub fn call_attempt(&self) -> i64 {
        self.call_attempt
    }

    /// Price of one billed second.
    pub fn call_second(&self) -> i64 {
        self.call_second
    }

    /// Answered time is billed in whole multiples of this many seconds.
    pub fn billing_increment_s(&self) -> u32 {
        self.billing_increment_s
    }

    /// Cost of an SMS of `segments` parts (saturating).
    pub fn sms_cost(&self, segments: u32) -> i64 {
        self.sms_segment.saturating_mul(i64::from(segments))
    }

    /// Answered seconds rounded up to the increment: increment 10 s, 21 s → 30 s.
    pub fn billed_seconds(&self, answered_seconds: u64) -> u64 {
        let inc = u64::from(self.billing_increment_s);
        answered_seconds.div_ceil(inc).saturating_mul(inc)
    }

    /// Cost of a call: the attempt plus the billed seconds (saturating).
    pub fn call_cost(&self, answered_seconds: u64) -> i64 {
        let billed = i64::try_from(self.billed_seconds(answered_seconds)).unwrap_or(i64::MAX);
        self.call_attempt
            .saturating_add(self.call_second.saturating_mul(billed))
    }

    /// What to reserve for a call playing a `prompt_ms` prompt `repeat` times: the cost of
    /// answering and listening to every play, plus [`VOICE_SLACK_S`].
    pub fn voice_reservation(&self, prompt_ms: u64, repeat: u8) -> i64 {
        let ms = prompt_ms.saturating_mul(u64::from(repeat.max(1)));
        self.call_cost(ms.div_ceil(1000).saturating_add(VOICE_SLACK_S))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answered_seconds_round_up_to_the_increment() {
        let t = Tariff::try_new(0, 0, 1, 10).unwrap();
        assert_eq!(t.billed_seconds(0), 0);
        assert_eq!(t.billed_seconds(1), 10);
        assert_eq!(t.billed_seconds(10), 10);
        assert_eq!(t.billed_seconds(21), 30);
        let per_second = Tariff::try_new(0, 0, 1, 1).unwrap();
        assert_eq!(per_second.billed_seconds(21), 21);
    }

    #[test]
    fn costs_follow_the_tariff() {
        let t = Tariff::try_new(450, 100, 25, 6).unwrap();
        assert_eq!(t.sms_cost(1), 450);
        assert_eq!(t.sms_cost(0), 0);
        assert_eq!(t.call_cost(0), 100);
        assert_eq!(t.call_cost(7), 100 + 12 * 25);
        // 12.5 s prompt, twice → 25 s + 5 s slack = 30 s.
        assert_eq!(t.voice_reservation(12_500, 2), 100 + 30 * 25);
        assert_eq!(
            t.voice_reservation(12_500, 0),
            t.voice_reservation(12_500, 1)
        );
        assert!(t.voice_reservation(12_500, 2) >= t.call_cost(25));
    }

    #[test]
    fn huge_inputs_saturate_instead_of_overflowing() {
        let t = Tariff::try_new(i64::MAX, i64::MAX, i64::MAX, 7).unwrap();
        assert_eq!(t.sms_cost(u32::MAX), i64::MAX);
        assert_eq!(t.call_cost(u64::MAX), i64::MAX);
        assert_eq!(t.voice_reservation(u64::MAX, 255), i64::MAX);
    }

    #[test]
    fn invalid_tariffs_are_refused() {
        assert_eq!(
            Tariff::try_new(-1, 0, 0, 1),
            Err(TariffError::NegativePrice(-1))
        );
        assert_eq!(Tariff::try_new(0, 0, 0, 0), Err(TariffError::ZeroIncrement));
        let t = Tariff::try_new(1, 2, 3, 4).unwrap();
        assert_eq!(
            (
                t.sms_segment(),
                t.call_attempt(),
                t.call_second(),
                t.billing_increment_s()
            ),
            (1, 2, 3, 4)
        );
    }
}

//! How a call ends: the ring deadline and when a CANCEL may go (never before the minimum
//! ring time of a ringing call), BYE, stopping the media with how much of the prompt was
//! heard, and the [`CallEnd`] report.

use super::*;

impl Call {
    pub(super) fn ring_deadline(&self) -> Option<Instant> {
        self.times.invite.map(|t| t + self.p.ring_timeout)
    }

    /// A ringing call may be cancelled from `min_ring_time` after its first ring; one not
    /// ringing yet at once.
    pub(super) fn cancel_earliest(&self) -> Option<Instant> {
        self.times
            .ring
            .map(|r| r + self.p.min_ring_time)
            .or(self.times.invite)
    }

    pub(super) fn cancel_guard(&self) -> Option<Instant> {
        self.cancel_sent.map(|t| t + self.p.t1 * 64)
    }

    pub(super) fn maybe_cancel(&mut self, now: Instant) {
        if self.phase != Phase::Inviting
            || self.cancel.is_none()
            || self.cancel_sent.is_some()
            || !self.provisional
        {
            return;
        }
        if self.cancel_earliest().is_some_and(|t| now < t) {
            return;
        }
        let Some(inv) = &self.invite_tx else { return };
        let cancel = Dialog::cancel(inv.request());
        self.cancel_tx = Some(self.transaction(now, cancel));
        self.cancel_sent = Some(now);
        self.pump(now);
    }

    pub(super) fn send_bye(&mut self, now: Instant, result: (FinalState, bool, Option<String>)) {
        if self.phase == Phase::Answered {
            self.stop_media(now);
        }
        let bye = self.dialog.request(Method::Bye);
        self.bye_tx = Some(self.transaction(now, bye));
        self.result = Some(result);
        self.times.end = Some(now);
        self.phase = Phase::Ending;
        self.pump(now);
    }

    pub(super) fn stop_media(&mut self, now: Instant) {
        let total = self.p.prompt_ms * u64::from(self.p.repeat.max(1));
        let played = self
            .times
            .answer
            .map_or(0, |a| now.saturating_duration_since(a).as_millis() as u64);
        // The pacer's report is exact; otherwise estimate from the time since the answer.
        self.heard_ms = if self.media_complete {
            total
        } else {
            played.min(total)
        };
        self.out.push_back(CallOutput::StopMedia);
    }

    pub(super) fn finish(&mut self, now: Instant) {
        let end = *self.times.end.get_or_insert(now);
        let (state, retry, error) = self
            .result
            .take()
            .unwrap_or((FinalState::Failed, false, None));
        let billable = self.times.answer.map_or(0, |a| {
            end.saturating_duration_since(a).as_millis().div_ceil(1000) as u32
        });
        self.phase = Phase::Done;
        self.out.push_back(CallOutput::Ended(Box::new(CallEnd {
            state,
            retry,
            sip_status: self.status,
            error,
            times: self.times,
            digits: std::mem::take(&mut self.digits),
            heard_ms: self.heard_ms,
            billable_seconds: billable,
        })));
    }
}

//! Prometheus handles for the core's per-dispatch events (handoff, final outcome), registered
//! once per operator and channel. Looking a metric up through the `metrics` macros costs a
//! registry hash lookup plus an allocated label set per call; at 100,000 SMS/s that was two
//! to three lookups per message on the bind threads.
//!
//! Handles are taken from the recorder installed when the core is built (the daemon installs
//! Prometheus first), as the SMPP and voice links do with theirs.

use crate::metrics as m;
use crate::stats::channel_index;
use dashmap::DashMap;
use metrics::{Counter, Histogram};
use sendbox_dispatch::{Channel, FinalState, OperatorId};
use std::sync::Arc;

/// The handles of every operator and channel.
#[derive(Debug)]
pub(crate) struct CoreMetrics {
    links: Vec<[LinkHandles; 2]>,
    accept_to_handoff: [Histogram; 2],
    handoff_to_final: [Histogram; 2],
}

struct LinkHandles {
    operator: Arc<str>,
    channel: Channel,
    handed_off: Counter,
    debited: Counter,
    /// By result and error class: registered on first use, so only outcomes that happened
    /// become series.
    finals: DashMap<(FinalState, &'static str), Counter, foldhash::fast::RandomState>,
}

impl std::fmt::Debug for LinkHandles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkHandles")
            .field("operator", &self.operator)
            .field("channel", &self.channel)
            .field("finals", &self.finals.len())
            .finish()
    }
}

impl LinkHandles {
    fn new(operator: Arc<str>, channel: Channel) -> Self {
        let (op, ch) = (operator.to_string(), channel.as_str());
        LinkHandles {
            handed_off: metrics::counter!(m::HANDED_OFF, "operator" => op.clone(), "channel" => ch),
            debited: metrics::counter!(m::DEBITED, "operator" => op, "channel" => ch),
            finals: DashMap::default(),
            operator,
            channel,
        }
    }

    fn finished(&self, state: FinalState, error: &'static str) {
        if let Some(c) = self.finals.get(&(state, error)) {
            c.increment(1);
            return;
        }
        self.finals
            .entry((state, error))
            .or_insert_with(|| {
                metrics::counter!(m::FINAL,
                    "operator" => self.operator.to_string(),
                    "channel" => self.channel.as_str(),
                    "result" => state.as_str(),
                    "error" => error)
            })
            .increment(1);
    }
}

impl CoreMetrics {
    /// Handles for the operators named `operators`, in operator-id order.
    pub(crate) fn new(operators: &[Arc<str>]) -> Self {
        let both = |f: fn(Channel) -> Histogram| [f(Channel::Sms), f(Channel::Voice)];
        CoreMetrics {
            links: operators
                .iter()
                .map(|op| {
                    [
                        LinkHandles::new(op.clone(), Channel::Sms),
                        LinkHandles::new(op.clone(), Channel::Voice),
                    ]
                })
                .collect(),
            accept_to_handoff: both(
                |c| metrics::histogram!(m::ACCEPT_TO_HANDOFF, "channel" => c.as_str()),
            ),
            handoff_to_final: both(
                |c| metrics::histogram!(m::HANDOFF_TO_FINAL, "channel" => c.as_str()),
            ),
        }
    }

    fn link(&self, op: OperatorId, ch: Channel) -> Option<&LinkHandles> {
        self.links
            .get(usize::from(op.0))
            .map(|l| &l[channel_index(ch)])
    }

    /// A dispatch handed off and `cost` tiyn debited.
    pub(crate) fn handed_off(&self, op: OperatorId, ch: Channel, cost: i64) {
        if let Some(l) = self.link(op, ch) {
            l.handed_off.increment(1);
            l.debited.increment(u64::try_from(cost).unwrap_or(0));
        }
    }

    /// A dispatch reached `state`; `error` is its protocol error, if any.
    pub(crate) fn finished(
        &self,
        op: OperatorId,
        ch: Channel,
        state: FinalState,
        error: Option<&str>,
    ) {
        if let Some(l) = self.link(op, ch) {
            l.finished(state, m::error_class(error));
        }
    }

    /// Acceptance to handoff.
    pub(crate) fn accept_to_handoff(&self, ch: Channel, seconds: f64) {
        self.accept_to_handoff[channel_index(ch)].record(seconds);
    }

    /// Handoff to the final outcome.
    pub(crate) fn handoff_to_final(&self, ch: Channel, seconds: f64) {
        self.handoff_to_final[channel_index(ch)].record(seconds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    fn counters(
        snapshot: Vec<(
            metrics_util::CompositeKey,
            Option<metrics::Unit>,
            Option<metrics::SharedString>,
            DebugValue,
        )>,
    ) -> Vec<(String, Vec<String>, u64)> {
        let mut v: Vec<_> = snapshot
            .into_iter()
            .filter_map(|(k, _, _, val)| match val {
                DebugValue::Counter(n) => {
                    let key = k.key();
                    let labels = key
                        .labels()
                        .map(|l| format!("{}={}", l.key(), l.value()))
                        .collect();
                    Some((key.name().to_string(), labels, n))
                }
                _ => None,
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn events_reach_the_labelled_series_and_finals_appear_only_when_they_happen() {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        metrics::with_local_recorder(&recorder, || {
            let cm = CoreMetrics::new(&[Arc::from("kcell"), Arc::from("beeline")]);
            let beeline = OperatorId(1);
            cm.handed_off(beeline, Channel::Sms, 1200);
            cm.handed_off(beeline, Channel::Sms, 1300);
            cm.finished(beeline, Channel::Sms, FinalState::Delivered, None);
            cm.finished(beeline, Channel::Sms, FinalState::Delivered, None);
            cm.finished(
                beeline,
                Channel::Sms,
                FinalState::Undeliverable,
                Some("dlr:UNDELIV/err=034"),
            );
            cm.finished(
                OperatorId(0),
                Channel::Voice,
                FinalState::Busy,
                Some("sip:486"),
            );
            // An unknown operator id is ignored, not a panic.
            cm.handed_off(OperatorId(9), Channel::Sms, 1);
            cm.finished(OperatorId(9), Channel::Sms, FinalState::Delivered, None);
        });
        let got = counters(snapshotter.snapshot().into_vec());
        let find = |name: &str, labels: &[&str]| {
            got.iter()
                .find(|(n, l, _)| {
                    n == name && l.iter().map(String::as_str).eq(labels.iter().copied())
                })
                .map(|(_, _, v)| *v)
        };
        assert_eq!(
            find(m::HANDED_OFF, &["operator=beeline", "channel=sms"]),
            Some(2)
        );
        assert_eq!(
            find(m::DEBITED, &["operator=beeline", "channel=sms"]),
            Some(2500)
        );
        assert_eq!(
            find(
                m::FINAL,
                &[
                    "operator=beeline",
                    "channel=sms",
                    "result=delivered",
                    "error=none"
                ]
            ),
            Some(2)
        );
        assert_eq!(
            find(
                m::FINAL,
                &[
                    "operator=beeline",
                    "channel=sms",
                    "result=undeliverable",
                    "error=dlr_undeliverable"
                ]
            ),
            Some(1)
        );
        assert_eq!(
            find(
                m::FINAL,
                &[
                    "operator=kcell",
                    "channel=voice",
                    "result=busy",
                    "error=sip_4xx"
                ]
            ),
            Some(1)
        );
        // Finals are registered on first use: three series, not every state and class.
        assert_eq!(got.iter().filter(|(n, ..)| n == m::FINAL).count(), 3);
    }
}

//! A seeded synthetic history with a known signal, for tests, benches and demos.
//!
//! Each recipient gets a hidden propensity `p` (uniform in 0.05..0.95 when
//! [`GeneratorConfig::signal`] is on, 0.5 for all otherwise); every attempt is reached with
//! probability `p` (a call answered, an SMS delivered), so past behaviour predicts the
//! future exactly as much as the signal says. A share of numbers is dead: they fail
//! permanently (unknown subscriber).
//!
//! ```
//! use sendbox_analytics::generate::{Generator, GeneratorConfig};
//! let h = Generator::new(GeneratorConfig { recipients: 10, ..Default::default() }).generate();
//! assert!(!h.receipts.is_empty());
//! ```

use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sendbox_dispatch::{CallDetail, Channel, FinalState};
use sendbox_store::{FeedbackKind, FeedbackRow, ReceiptRow};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GeneratorConfig {
    /// RNG seed: the same seed gives the same history.
    pub seed: u64,
    /// How many distinct recipients.
    pub recipients: usize,
    /// Attempts per recipient (each gets 1..=this many, uniformly).
    pub max_attempts: u32,
    /// Whether past behaviour predicts the future (per-recipient propensity).
    pub signal: bool,
    /// Share of dead numbers (permanent failures).
    pub dead_share: f64,
    /// The account name on every row.
    pub account: String,
    /// The campaign id on every row.
    pub campaign: Option<u64>,
    /// Days of history, ending at `end`.
    pub days: i64,
    /// The end of the history.
    pub end: Timestamp,
    /// Index of the first recipient (generate big histories in batches with distinct numbers).
    pub first_recipient: usize,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            seed: 7,
            recipients: 1000,
            max_attempts: 8,
            signal: true,
            dead_share: 0.03,
            account: "acme".into(),
            campaign: Some(1),
            days: 180,
            end: Timestamp::from_second(1_764_000_000).unwrap_or(Timestamp::UNIX_EPOCH),
            first_recipient: 0,
        }
    }
}

/// A generated history.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// Receipts, in time order per recipient.
    pub receipts: Vec<ReceiptRow>,
    /// Replies and DTMF feedback.
    pub feedback: Vec<FeedbackRow>,
    /// The hidden propensity of each recipient, by msisdn.
    pub propensity: Vec<(u64, f64)>,
}

/// The generator.
#[derive(Debug)]
pub struct Generator {
    config: GeneratorConfig,
    rng: StdRng,
}

const OPERATORS: [(&str, u64); 3] = [("kcell", 701), ("beeline", 705), ("tele2", 707)];

impl Generator {
    /// A generator for `config`.
    pub fn new(config: GeneratorConfig) -> Self {
        let rng = StdRng::seed_from_u64(config.seed);
        Generator { config, rng }
    }

    /// The msisdn of recipient `i` (distinct for `i` below 10 million).
    pub fn msisdn(i: usize) -> u64 {
        let (_, def) = OPERATORS[i % 3];
        70_000_000_000 + def * 10_000_000 + (i as u64 * 7919) % 10_000_000
    }

    /// Generates the history.
    pub fn generate(mut self) -> Generated {
        let c = self.config.clone();
        let mut out = Generated::default();
        let span = c.days * 86_400;
        let mut id = 1u64;
        for i in c.first_recipient..c.first_recipient + c.recipients {
            let msisdn = Self::msisdn(i);
            let (operator, _) = OPERATORS[i % 3];
            let p = if c.signal {
                self.rng.random_range(0.05..0.95)
            } else {
                0.5
            };
            let dead = self.rng.random_bool(c.dead_share.clamp(0.0, 1.0));
            out.propensity.push((msisdn, p));
            let n = self.rng.random_range(1..=c.max_attempts.max(1));
            let mut times: Vec<i64> = (0..n).map(|_| self.rng.random_range(0..span)).collect();
            times.sort_unstable();
            for t in times {
                let at = c.end - SignedDuration::from_secs(span - t);
                let voice = self.rng.random_bool(0.5);
                let reached = !dead && self.rng.random_bool(p);
                let mut r = base_row(id, &c, operator, msisdn, at);
                id += 1;
                if dead {
                    r.state = FinalState::Undeliverable;
                    r.error = Some("dlr:UNDELIV/err=001".into());
                } else if voice {
                    r.channel = Channel::Voice;
                    r.state = if reached {
                        FinalState::Answered
                    } else {
                        FinalState::NoAnswer
                    };
                    let mut call = CallDetail {
                        invite_at: Some(at - SignedDuration::from_secs(40)),
                        ring_at: Some(at - SignedDuration::from_secs(38)),
                        sip_status: if reached { 200 } else { 480 },
                        prompt_ms: 20_000,
                        end_at: Some(at),
                        ..CallDetail::default()
                    };
                    if reached {
                        let wait = self.rng.random_range(2..15);
                        call.answer_at = Some(at - SignedDuration::from_secs(30 - wait));
                        let frac = if self.rng.random_bool(p) {
                            1.0
                        } else {
                            self.rng.random_range(0.0..0.9)
                        };
                        call.heard_ms = (20_000.0 * frac) as u64;
                        r.billable_seconds = (call.heard_ms / 1000) as u32;
                        if self.rng.random_bool(p * 0.8) {
                            let d = char::from(b'0' + self.rng.random_range(1..4u8));
                            call.digits.push((d, 12_000));
                        }
                    } else {
                        r.error = Some("sip:480".into());
                    }
                    r.call = Some(call);
                } else {
                    r.state = if reached {
                        FinalState::Delivered
                    } else {
                        FinalState::Expired
                    };
                    if !reached {
                        r.error = Some("dlr:EXPIRED/err=000".into());
                    }
                    if reached && self.rng.random_bool(p * 0.3) {
                        out.feedback.push(FeedbackRow {
                            account: c.account.clone(),
                            msisdn,
                            dispatch_id: Some(r.dispatch_id),
                            kind: FeedbackKind::Reply,
                            body: "YES".into(),
                            at: at + SignedDuration::from_secs(120),
                        });
                    }
                }
                r.cost_tiyn = if r.channel == Channel::Voice {
                    1500
                } else {
                    500
                };
                out.receipts.push(r);
            }
        }
        out
    }
}

fn base_row(
    id: u64,
    c: &GeneratorConfig,
    operator: &str,
    msisdn: u64,
    at: Timestamp,
) -> ReceiptRow {
    let handed = at - SignedDuration::from_secs(45);
    ReceiptRow {
        dispatch_id: id,
        account: c.account.as_str().into(),
        campaign: c.campaign,
        operator: operator.into(),
        channel: Channel::Sms,
        msisdn,
        state: FinalState::Delivered,
        error: None,
        segments: 1,
        billable_seconds: 0,
        cost_tiyn: 0,
        accepted_at: handed - SignedDuration::from_secs(5),
        handed_off_at_utc: Some(handed),
        handed_off_local: None,
        final_at_utc: at,
        final_local: Default::default(),
        inside_window: true,
        call: None,
        attempt: 1,
    }
}

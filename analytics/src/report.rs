//! The campaign report: counts by state, operator and result; cost; delivery and answer
//! latency percentiles; DTMF answers by digit; replies; the hour-by-hour profile (Almaty
//! time); validation and score distributions. As JSON ([`CampaignReport::to_json`]), as a
//! per-recipient CSV ([`recipients_csv`]) and as HTML ([`crate::html::render`]).
//!
//! ```
//! use sendbox_analytics::{generate::*, report::*};
//! let g = Generator::new(GeneratorConfig { recipients: 20, ..Default::default() }).generate();
//! let data = CampaignData::from_rows(1, g.receipts, g.feedback);
//! let r = CampaignReport::build(&data, None, None);
//! assert_eq!(r.recipients, 20);
//! assert!(r.to_json().contains("\"delivery_latency_ms\""));
//! ```

use jiff::{SignedDuration, Timestamp};
use sendbox_dispatch::{Channel, FinalState};
use sendbox_store::{
    CampaignRow, FeedbackKey, FeedbackKind, FeedbackRow, ReceiptRow, StateCount, Store, StoreError,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What a report is built from.
#[derive(Debug, Clone, Default)]
pub struct CampaignData {
    /// The campaign id.
    pub id: u64,
    /// Its row, if the store has one.
    pub campaign: Option<CampaignRow>,
    /// Dispatch counts by state from the store (non-final ones included).
    pub counts: Vec<StateCount>,
    /// Its receipts.
    pub receipts: Vec<ReceiptRow>,
    /// Replies and DTMF feedback to its dispatches.
    pub feedback: Vec<FeedbackRow>,
}

impl CampaignData {
    /// From rows already at hand (tests, the demo); keeps only the campaign's receipts.
    pub fn from_rows(id: u64, receipts: Vec<ReceiptRow>, feedback: Vec<FeedbackRow>) -> Self {
        let receipts: Vec<ReceiptRow> = receipts
            .into_iter()
            .filter(|r| r.campaign == Some(id))
            .collect();
        let ids: HashSet<u64> = receipts.iter().map(|r| r.dispatch_id).collect();
        let feedback = feedback
            .into_iter()
            .filter(|f| f.dispatch_id.is_some_and(|d| ids.contains(&d)))
            .collect();
        CampaignData {
            id,
            campaign: None,
            counts: Vec::new(),
            receipts,
            feedback,
        }
    }
}

impl CampaignData {
    /// Its distinct recipients, sorted: what to score for the report's score distribution.
    pub fn recipients(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.receipts.iter().map(|r| r.msisdn).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// Page size when reading a campaign's receipts.
const RECEIPT_PAGE: u32 = 10_000;

/// Loads a campaign's row, counts, receipts (paged by campaign) and the feedback to its
/// dispatches (one query). `None` if the campaign does not exist.
pub async fn load_campaign(store: &dyn Store, id: u64) -> Result<Option<CampaignData>, StoreError> {
    let Some(campaign) = store.campaign(id).await? else {
        return Ok(None);
    };
    let counts = store.campaign_counts(id).await?;
    let mut receipts = Vec::new();
    let mut cursor = 0;
    loop {
        let page = store.campaign_receipts(id, cursor, RECEIPT_PAGE).await?;
        if page.receipts.is_empty() {
            break;
        }
        receipts.extend(page.receipts.into_iter().map(|r| r.receipt));
        cursor = page.next_cursor;
    }
    let feedback = store
        .feedback_for(FeedbackKey::Campaign(id))
        .await?
        .into_iter()
        .map(|f| f.feedback)
        .collect();
    Ok(Some(CampaignData {
        id,
        campaign: Some(campaign),
        counts,
        receipts,
        feedback,
    }))
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50: Option<i64>,
    /// 90th percentile.
    pub p90: Option<i64>,
    /// 99th percentile.
    pub p99: Option<i64>,
    /// Largest.
    pub max: Option<i64>,
}

impl Percentiles {
    /// Nearest-rank percentiles of `v`.
    pub fn of(mut v: Vec<i64>) -> Self {
        v.sort_unstable();
        let at = |q: f64| {
            (!v.is_empty()).then(|| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1])
        };
        Percentiles {
            count: v.len(),
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            max: v.last().copied(),
        }
    }
}

/// One hour of the local day.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HourBucket {
    /// Asia/Almaty hour, 0-23.
    pub hour: u8,
    /// Handed off in that hour.
    pub sent: u64,
    /// Of which delivered or answered.
    pub reached: u64,
}

/// The report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CampaignReport {
    /// The campaign id.
    pub campaign: u64,
    /// Its account, if known.
    pub account: Option<String>,
    /// SMS or voice, if known.
    pub channel: Option<String>,
    /// When it was created.
    pub created_at: Option<Timestamp>,
    /// Recipients it had (campaign row), else receipts.
    pub recipients: u64,
    /// Dispatches by state (final state names, or the pending state).
    pub states: BTreeMap<String, u64>,
    /// Receipts by operator, then final state.
    pub by_operator: BTreeMap<String, BTreeMap<String, u64>>,
    /// Receipts by protocol result (`ok` when no error).
    pub by_result: BTreeMap<String, u64>,
    /// Total charged, tiyn.
    pub cost_tiyn: i64,
    /// SMS: handoff to delivery receipt.
    pub delivery_latency_ms: Percentiles,
    /// Voice: INVITE to answer.
    pub answer_latency_ms: Percentiles,
    /// Answered calls.
    pub answered: u64,
    /// Answered calls heard to the end (90% of the prompt or more).
    pub heard_to_end: u64,
    /// DTMF keys pressed, by digit.
    pub dtmf_by_digit: BTreeMap<String, u64>,
    /// SMS replies.
    pub replies: u64,
    /// 24 buckets by Almaty hour of handoff.
    pub hourly: Vec<HourBucket>,
    /// Validation summary of the uploaded base, if kept.
    pub validation: Option<crate::validate::Summary>,
    /// Recipients by score decile (0-9, 10-19, ... 90-100), if scored.
    pub score_distribution: Option<Vec<u64>>,
}

fn reached(s: FinalState) -> bool {
    matches!(s, FinalState::Delivered | FinalState::Answered)
}

fn ms(d: SignedDuration) -> i64 {
    d.as_millis() as i64
}

impl CampaignReport {
    /// Builds the report. `scores` are the recipients' scores (0-100) if scored.
    pub fn build(
        d: &CampaignData,
        validation: Option<crate::validate::Summary>,
        scores: Option<&[u8]>,
    ) -> Self {
        let mut r = CampaignReport {
            campaign: d.id,
            validation,
            ..Default::default()
        };
        if let Some(c) = &d.campaign {
            r.account = Some(c.account.clone());
            r.channel = Some(
                match c.channel {
                    Channel::Sms => "sms",
                    Channel::Voice => "voice",
                }
                .into(),
            );
            r.created_at = Some(c.created_at);
            r.recipients = c.total;
        }
        r.hourly = (0..24)
            .map(|hour| HourBucket {
                hour,
                ..Default::default()
            })
            .collect();
        let (mut delivery, mut answer) = (Vec::new(), Vec::new());
        let mut recipients = HashSet::new();
        for x in &d.receipts {
            recipients.insert(x.msisdn);
            let state = x.state.as_str();
            *r.states.entry(state.into()).or_default() += 1;
            *r.by_operator
                .entry(x.operator.to_string())
                .or_default()
                .entry(state.into())
                .or_default() += 1;
            *r.by_result
                .entry(x.error.clone().unwrap_or_else(|| "ok".into()))
                .or_default() += 1;
            r.cost_tiyn += x.cost_tiyn;
            if let Some(h) = x.handed_off_at_utc {
                if x.channel == Channel::Sms && x.state == FinalState::Delivered {
                    delivery.push(ms(x.final_at_utc.duration_since(h)));
                }
                let hour = ((h.as_second() + 5 * 3600).rem_euclid(86_400) / 3600) as usize;
                r.hourly[hour].sent += 1;
                r.hourly[hour].reached += u64::from(reached(x.state));
            }
            if let Some(c) = &x.call {
                if let (Some(i), Some(a)) = (c.invite_at, c.answer_at) {
                    answer.push(ms(a.duration_since(i)));
                }
                if x.state == FinalState::Answered {
                    r.answered += 1;
                    r.heard_to_end +=
                        u64::from(c.prompt_ms > 0 && c.heard_ms * 10 >= c.prompt_ms * 9);
                }
                for (digit, _) in &c.digits {
                    *r.dtmf_by_digit.entry(digit.to_string()).or_default() += 1;
                }
            }
        }
        if !d.counts.is_empty() {
            // The store's counts include dispatches that are not final yet.
            r.states = d
                .counts
                .iter()
                .map(|c| (c.state.clone(), c.count))
                .collect();
        }
        if r.recipients == 0 {
            r.recipients = recipients.len() as u64;
        }
        for f in &d.feedback {
            match f.kind {
                FeedbackKind::Reply => r.replies += 1,
                FeedbackKind::Dtmf => {}
            }
        }
        r.delivery_latency_ms = Percentiles::of(delivery);
        r.answer_latency_ms = Percentiles::of(answer);
        r.score_distribution = scores.map(|s| {
            let mut bins = vec![0u64; 10];
            s.iter()
                .for_each(|v| bins[usize::from(*v / 10).min(9)] += 1);
            bins
        });
        r
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        // Maps with string keys, numbers and strings: cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Header of [`recipients_csv`].
pub const RECIPIENT_HEADER: [&str; 16] = [
    "dispatch_id",
    "msisdn",
    "operator",
    "channel",
    "state",
    "error",
    "cost_tiyn",
    "handed_off_at",
    "final_at",
    "latency_ms",
    "answered_at",
    "heard_ms",
    "prompt_ms",
    "digits",
    "replies",
    "score",
];

/// Writes one CSV row per receipt; `scores` maps msisdn to score where known.
pub fn recipients_csv<W: std::io::Write>(
    d: &CampaignData,
    scores: &HashMap<u64, u8>,
    out: W,
) -> Result<W, csv::Error> {
    let mut replies: HashMap<u64, u32> = HashMap::new();
    for f in d.feedback.iter().filter(|f| f.kind == FeedbackKind::Reply) {
        if let Some(id) = f.dispatch_id {
            *replies.entry(id).or_default() += 1;
        }
    }
    let mut w = csv::Writer::from_writer(out);
    w.write_record(RECIPIENT_HEADER)?;
    let t = |t: Option<Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
    for x in &d.receipts {
        let call = x.call.as_ref();
        w.write_record([
            x.dispatch_id.to_string(),
            x.msisdn.to_string(),
            x.operator.to_string(),
            match x.channel {
                Channel::Sms => "sms",
                Channel::Voice => "voice",
            }
            .to_string(),
            x.state.as_str().to_string(),
            x.error.clone().unwrap_or_default(),
            x.cost_tiyn.to_string(),
            t(x.handed_off_at_utc),
            x.final_at_utc.to_string(),
            x.handed_off_at_utc
                .map(|h| ms(x.final_at_utc.duration_since(h)).to_string())
                .unwrap_or_default(),
            t(call.and_then(|c| c.answer_at)),
            call.map(|c| c.heard_ms.to_string()).unwrap_or_default(),
            call.map(|c| c.prompt_ms.to_string()).unwrap_or_default(),
            call.map(|c| c.digits.iter().map(|(d, _)| *d).collect::<String>())
                .unwrap_or_default(),
            replies
                .get(&x.dispatch_id)
                .copied()
                .unwrap_or(0)
                .to_string(),
            scores
                .get(&x.msisdn)
                .map(|s| s.to_string())
                .unwrap_or_default(),
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

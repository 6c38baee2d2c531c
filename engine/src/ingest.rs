//! The front of the policy pipeline: one request row becomes a dispatch.
//!
//! Stages, each with its own output: the number is parsed ([`Msisdn`]), routed to its operator
//! (portability first, then the DEF table), checked against the blacklists; the text is measured
//! in segments (what is billed). A row that fails a check still becomes a dispatch, refused with
//! a reason code and a final receipt: nothing silently disappears. A row that is malformed (no
//! text, a sender the account may not use) is reported back to the caller and stored nowhere.
//!
//! Accepted dispatches are written to the store (the durable outbox) before the API answers;
//! only then are they admitted to the window and balance stages in [`crate::core::Core`].

use crate::app::App;
use crate::core::Admission;
use sendbox_dispatch::{
    AccountId, CampaignId, Channel, Content, DispatchId, OperatorId, Ready, TrafficClass,
};
use sendbox_store::{DispatchRow, DispatchState, WriteOp};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// One recipient of a request.
#[derive(Debug, Clone)]
pub struct Row {
    /// The number as the customer wrote it.
    pub to: String,
    /// Its position in the request (for error reports).
    pub index: usize,
}

/// A batch with one shared content (a campaign), or one content per row (`POST /v1/sms`).
#[derive(Debug)]
pub struct Batch {
    /// Who pays.
    pub account: AccountId,
    /// Traffic class.
    pub class: TrafficClass,
    /// The campaign, if any.
    pub campaign: Option<CampaignId>,
    /// Not before this time (a campaign's start).
    pub not_before: Option<jiff::Timestamp>,
    /// Recipients with their content.
    pub rows: Vec<(Row, Arc<Content>)>,
    /// Refuse numbers whose history shows repeated permanent failures (a campaign option),
    /// judged on this history.
    pub skip_unreachable: Option<Arc<crate::insights::Insights>>,
}

/// What happened to one row. Serialised without allocating per row (a batch answers up to
/// `max_batch` of them): the id and time are written straight into the body.
#[derive(Debug, Clone, Serialize)]
pub struct RowResult {
    /// Position in the request.
    pub index: usize,
    /// The dispatch id, as a JSON string (absent only when the row was malformed).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "display_opt"
    )]
    pub id: Option<DispatchId>,
    /// `queued`, `deferred`, `insufficient_funds` or `refused`.
    pub status: &'static str,
    /// Why it was refused (a stable code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// When a deferred dispatch will be released, UTC (RFC 3339).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "display_opt"
    )]
    pub not_before: Option<jiff::Timestamp>,
}

/// `v` as a JSON string of its `Display` form, written without an intermediate `String`.
fn display_opt<T: std::fmt::Display, S: serde::Serializer>(
    v: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

/// The API cannot take this batch now (an operator queue is full): 429 with Retry-After.
#[derive(Debug, Clone, Copy)]
pub struct Backpressure {
    /// Seconds to wait.
    pub retry_after_s: u32,
}

/// Totals of a batch.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Totals {
    /// Queued for sending now.
    pub queued: usize,
    /// Waiting for the window or the start time.
    pub deferred: usize,
    /// Parked for insufficient funds.
    pub insufficient_funds: usize,
    /// Refused by policy (final receipts written).
    pub refused: usize,
}

enum Checked {
    Ok(Ready),
    Refused(Ready, &'static str),
}

/// Run the stateless stages over a batch, store the outbox rows, then admit. Refuses the whole
/// batch with [`AcceptError::Backpressure`] if an operator queue has no room for it.
pub async fn accept(app: &App, batch: Batch) -> Result<(Vec<RowResult>, Totals), AcceptError> {
    accept_inner(app, batch, true).await
}

/// [`accept`] for a chunk of a campaign: stored first, then admitted as queue room allows
/// (a dispatch that meets a full queue waits in the deferral heap and tries again).
pub async fn accept_campaign_chunk(
    app: &App,
    batch: Batch,
) -> Result<(Vec<RowResult>, Totals), AcceptError> {
    accept_inner(app, batch, false).await
}

async fn accept_inner(
    app: &App,
    batch: Batch,
    check_room: bool,
) -> Result<(Vec<RowResult>, Totals), AcceptError> {
    let now = app.core.clock.now();
    let tables = app.core.tables.load_full();
    let blacklists = app.blacklists.snapshot();
    let first_id = app.ids.next_block(batch.rows.len() as u64);
    let mut checked = Vec::with_capacity(batch.rows.len());
    let mut per_queue: HashMap<(OperatorId, Channel), usize> = HashMap::new();
    for (i, (row, content)) in batch.rows.into_iter().enumerate() {
        let channel = content.channel();
        let mut ready = Ready {
            id: DispatchId(first_id + i as u64),
            account: batch.account,
            campaign: batch.campaign,
            operator: OperatorId(u16::MAX),
            msisdn: 0,
            class: batch.class,
            content,
            attempt: 1,
            retries: 0,
            reserved: 0,
            accepted_at: now,
        };
        let verdict = match sendbox_policy::number::parse(&row.to) {
            Err(e) => Err(e.code()),
            Ok(m) => {
                ready.msisdn = m.get();
                match tables.router.route(m, channel) {
                    Err(e) => Err(e.code()),
                    Ok(op) => {
                        ready.operator = op;
                        if blacklists.is_blocked(batch.account, m) {
                            Err("blacklisted")
                        } else if unreachable(
                            batch.skip_unreachable.as_deref(),
                            batch.account,
                            &tables.names,
                            m.get(),
                        ) {
                            Err("unreachable")
                        } else {
                            Ok(())
                        }
                    }
                }
            }
        };
        match verdict {
            Ok(()) => {
                *per_queue.entry((ready.operator, channel)).or_default() += 1;
                checked.push((row.index, Checked::Ok(ready)));
            }
            Err(reason) => checked.push((row.index, Checked::Refused(ready, reason))),
        }
    }
    for (&(op, ch), &n) in &per_queue {
        if check_room && !app.core.has_room(op, ch, n) {
            metrics::counter!(crate::metrics::API_BACKPRESSURE).increment(1);
            return Err(AcceptError::Backpressure(Backpressure { retry_after_s: 1 }));
        }
    }
    let names = &tables.names;
    let ops: Vec<WriteOp> = checked
        .iter()
        .map(|(_, c)| {
            let (Checked::Ok(d) | Checked::Refused(d, _)) = c;
            WriteOp::AcceptDispatch(outbox_row(
                d,
                names,
                DispatchState::Accepted,
                batch.not_before,
            ))
        })
        .collect();
    app.store
        .write(ops)
        .await
        .map_err(|e| AcceptError::Store(e.to_string()))?;
    let accepted = checked.len() as u64;
    app.core
        .stats
        .accepted
        .fetch_add(accepted, std::sync::atomic::Ordering::Relaxed);
    let mut totals = Totals::default();
    let mut results = Vec::with_capacity(checked.len());
    // Counted per channel once per batch: a labelled counter costs a registry lookup per call.
    let mut by_channel = [0u64; 2];
    for (index, c) in checked {
        let (Checked::Ok(d) | Checked::Refused(d, _)) = &c;
        by_channel[crate::stats::channel_index(d.channel())] += 1;
        let r = match c {
            Checked::Refused(d, reason) => {
                let id = d.id;
                app.core.refuse(d, reason);
                totals.refused += 1;
                RowResult {
                    index,
                    id: Some(id),
                    status: "refused",
                    reason: Some(reason),
                    not_before: None,
                }
            }
            Checked::Ok(d) => {
                let id = d.id;
                let admission = match batch.not_before {
                    Some(at) => app.core.admit_at(d, at),
                    None => app.core.admit(d),
                };
                let (status, not_before) = match admission {
                    Admission::Queued => {
                        totals.queued += 1;
                        ("queued", None)
                    }
                    Admission::Deferred(at) => {
                        totals.deferred += 1;
                        ("deferred", Some(at))
                    }
                    Admission::InsufficientFunds => {
                        totals.insufficient_funds += 1;
                        ("insufficient_funds", None)
                    }
                    Admission::Refused => {
                        totals.refused += 1;
                        ("refused", None)
                    }
                };
                RowResult {
                    index,
                    id: Some(id),
                    status,
                    reason: (status == "refused").then_some("window_never_opens"),
                    not_before,
                }
            }
        };
        results.push(r);
    }
    for (ch, n) in [Channel::Sms, Channel::Voice].into_iter().zip(by_channel) {
        if n > 0 {
            metrics::counter!(crate::metrics::ACCEPTED, "channel" => ch.as_str()).increment(n);
        }
    }
    Ok((results, totals))
}

fn unreachable(
    insights: Option<&crate::insights::Insights>,
    account: AccountId,
    names: &crate::tables::Names,
    msisdn: u64,
) -> bool {
    insights.is_some_and(|i| {
        let account = i.history.account_index(names.account(account));
        // An account with no history in the index has no failures of its own.
        account.is_some()
            && i.history.is_unreachable(
                msisdn,
                account,
                sendbox_analytics::validate::UNREACHABLE_AFTER,
            )
    })
}

/// Why a batch was not accepted at all.
#[derive(Debug)]
pub enum AcceptError {
    /// A queue is full.
    Backpressure(Backpressure),
    /// The store could not make the batch durable.
    Store(String),
}

/// The outbox row of a dispatch.
pub fn outbox_row(
    d: &Ready,
    names: &crate::tables::Names,
    state: DispatchState,
    not_before: Option<jiff::Timestamp>,
) -> DispatchRow {
    let (content_ref, sender, segments) = match &*d.content {
        Content::Sms(s) => (s.text.clone(), s.sender.clone(), s.segments),
        Content::Voice(v) => (v.audio_id.clone(), String::new(), 1),
    };
    DispatchRow {
        id: d.id.0,
        account: names.account_shared(d.account),
        campaign: d.campaign.map(|c| c.0),
        channel: d.channel(),
        class: d.class,
        msisdn: d.msisdn,
        operator: names.operator_shared(d.operator),
        content_ref,
        sender,
        segments,
        reserved_tiyn: d.reserved,
        accepted_at: d.accepted_at,
        not_before,
        state,
    }
}

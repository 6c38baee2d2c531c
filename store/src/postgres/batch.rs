//! One group commit on PostgreSQL: every caller's ops, turned into column arrays and written
//! with one `INSERT ... SELECT FROM unnest(...)` (or `UPDATE ... FROM unnest`) per table.
//!
//! Statements run in a fixed order: campaigns, audio, accepts, handoffs, state updates,
//! receipts (which make their dispatches final), ledger, feedback. State changes carry their
//! event time and the newest wins, so this order gives the same result as applying each
//! caller's ops one by one.

use super::types::Ts;
use crate::StoreError;
use crate::model::{LedgerKey, LedgerKind, WriteOp, WriteResult};
use std::collections::{HashMap, HashSet};
use tokio_postgres::types::ToSql;

// Unless a receipt came first (out of order), a new dispatch is open until its receipt.
const INSERT_DISPATCHES: &str =
    "WITH ins AS (INSERT INTO dispatches (id, account, campaign, channel, class,
    msisdn, operator, content_ref, sender, segments, reserved_tiyn, accepted_at, not_before,
    state, state_at)
    SELECT id, account, campaign, channel, class, msisdn, operator, content_ref, sender,
        segments, reserved_tiyn, accepted_at, not_before, state, accepted_at
    FROM unnest($1::int8[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::int8[],
        $7::text[], $8::text[], $9::text[], $10::int8[], $11::int8[], $12::timestamptz[],
        $13::timestamptz[], $14::text[])
        AS u(id, account, campaign, channel, class, msisdn, operator, content_ref, sender,
        segments, reserved_tiyn, accepted_at, not_before, state)
    ON CONFLICT (id) DO NOTHING
    RETURNING id)
    INSERT INTO open_dispatches (id) SELECT id FROM ins
    WHERE NOT EXISTS (SELECT 1 FROM receipts r WHERE r.dispatch_id = ins.id)";

// The newest handoff of a dispatch is its current one.
const HANDED_OFF: &str = "INSERT INTO handoffs (id, at, local, operator_ref, units, cost_tiyn)
    SELECT * FROM unnest($1::int8[], $2::timestamptz[], $3::text[], $4::text[], $5::int8[],
        $6::int8[])
    ON CONFLICT (id) DO UPDATE SET at = excluded.at, local = excluded.local,
        operator_ref = excluded.operator_ref, units = excluded.units,
        cost_tiyn = excluded.cost_tiyn
    WHERE excluded.at >= handoffs.at";

// A state set by a later event than the row's state and the handoff wins, and ends the
// handoff it follows (the dispatch is no longer with the operator). Both statements see the
// handoffs as they were before this one.
const UPDATE_STATES: &str = "WITH u AS (
    SELECT * FROM unnest($1::int8[], $2::text[], $3::timestamptz[], $4::timestamptz[])
        AS u(id, state, at, not_before)
), updated AS (
    UPDATE dispatches d SET state = u.state, state_at = u.at,
        not_before = COALESCE(u.not_before, d.not_before)
    FROM u
    WHERE d.id = u.id AND d.state_at <= u.at
    AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.id = u.id AND h.at > u.at)
)
DELETE FROM handoffs h USING u WHERE h.id = u.id AND h.at <= u.at";

const INSERT_RECEIPTS: &str = "WITH ins AS (
    INSERT INTO receipts (dispatch_id, account, campaign, operator, channel, msisdn, state,
        error, segments, billable_seconds, cost_tiyn, accepted_at, handed_off_at,
        handed_off_local, final_at, final_local, inside_window, call_detail, attempt)
    SELECT dispatch_id, account, campaign, operator, channel, msisdn, state, error, segments,
        billable_seconds, cost_tiyn, accepted_at, handed_off_at, handed_off_local, final_at,
        final_local, inside_window, call_detail::jsonb, attempt
    FROM unnest($1::int8[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::int8[],
        $7::text[], $8::text[], $9::int8[], $10::int8[], $11::int8[], $12::timestamptz[],
        $13::timestamptz[], $14::text[], $15::timestamptz[], $16::text[], $17::bool[],
        $18::text[], $19::int8[])
        AS u(dispatch_id, account, campaign, operator, channel, msisdn, state, error, segments,
        billable_seconds, cost_tiyn, accepted_at, handed_off_at, handed_off_local, final_at,
        final_local, inside_window, call_detail, attempt)
    ON CONFLICT (dispatch_id) DO NOTHING
    RETURNING dispatch_id
), closed AS (
    DELETE FROM open_dispatches o USING ins WHERE o.id = ins.dispatch_id
)
SELECT dispatch_id FROM ins";

const INSERT_LEDGER: &str = "INSERT INTO ledger (dispatch_id, account, kind, attempt,
        amount_tiyn, at)
    SELECT dispatch_id, account, kind, attempt, amount_tiyn, at
    FROM unnest($1::int8[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::timestamptz[])
        WITH ORDINALITY AS u(dispatch_id, account, kind, attempt, amount_tiyn, at, n)
    ORDER BY n
    ON CONFLICT DO NOTHING
    RETURNING dispatch_id, kind, attempt";

const INSERT_FEEDBACK: &str = "INSERT INTO feedback (account, msisdn, dispatch_id, kind, body, at)
    SELECT account, msisdn, dispatch_id, kind, body, at
    FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::timestamptz[])
        WITH ORDINALITY AS u(account, msisdn, dispatch_id, kind, body, at, n)
    ORDER BY n";

const INSERT_CAMPAIGNS: &str = "INSERT INTO campaigns (id, account, channel, created_at, total)
    SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::timestamptz[], $5::int8[])
    ON CONFLICT (id) DO NOTHING";

const INSERT_AUDIO: &str = "INSERT INTO audio (id, metadata, alaw, created_at)
    VALUES ($1, $2::text::jsonb, $3, $4) ON CONFLICT (id) DO NOTHING";

/// Column arrays, one `Vec` per column, in statement parameter order.
macro_rules! columns {
    ($name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Default)]
        struct $name<'a> {
            $($field: Vec<$ty>,)*
            _life: std::marker::PhantomData<&'a ()>,
        }
        impl<'a> $name<'a> {
            fn len(&self) -> usize {
                columns!(@first self $($field)*)
            }
            fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
                vec![$(&self.$field as &(dyn ToSql + Sync),)*]
            }
        }
    };
    (@first $s:ident $f:ident $($rest:ident)*) => { $s.$f.len() };
}

columns!(Dispatches {
    id: i64, account: &'a str, campaign: Option<i64>, channel: &'a str, class: &'a str,
    msisdn: i64, operator: &'a str, content_ref: &'a str, sender: &'a str, segments: i64,
    reserved: i64, accepted: Ts, not_before: Option<Ts>, state: &'a str,
});
columns!(Handoffs {
    id: i64, at: Ts, local: &'a str, oref: &'a str, units: i64, cost: i64,
});
columns!(States { id: i64, state: &'a str, at: Ts, not_before: Option<Ts> });
columns!(Receipts {
    dispatch_id: i64, account: &'a str, campaign: Option<i64>, operator: &'a str,
    channel: &'a str, msisdn: i64, state: &'a str, error: Option<&'a str>, segments: i64,
    billable: i64, cost: i64, accepted: Ts, handed_off: Option<Ts>,
    handed_off_local: Option<&'a str>, final_at: Ts, final_local: &'a str, inside: bool,
    call: Option<String>, attempt: i64,
});
columns!(Ledger {
    dispatch_id: Option<i64>, account: &'a str, kind: &'a str, attempt: i64, amount: i64, at: Ts,
});
columns!(Feedback {
    account: &'a str, msisdn: i64, dispatch_id: Option<i64>, kind: &'a str, body: &'a str, at: Ts,
});
columns!(Campaigns { id: i64, account: &'a str, channel: &'a str, created: Ts, total: i64 });

/// Where a receipt or ledger op's outcome goes: which caller, and whether it was the first
/// of its key in the group (later ones are duplicates of it).
struct Slot<K> {
    caller: usize,
    key: K,
    first: bool,
}

/// Write every caller's ops in one transaction; one result per caller.
pub(crate) async fn write_group(
    client: &mut deadpool_postgres::Client,
    callers: &[&[WriteOp]],
) -> Result<Vec<WriteResult>, StoreError> {
    let mut d = Dispatches::default();
    let mut s = States::default();
    let mut h = Handoffs::default();
    let mut r = Receipts::default();
    let mut l = Ledger::default();
    let mut f = Feedback::default();
    let mut c = Campaigns::default();
    let mut audio = Vec::new();
    // Newest event per dispatch (ties: the later op), as an UPDATE ... FROM touches a row once.
    let mut state_of: HashMap<u64, (Ts, usize)> = HashMap::new();
    let mut handoff_of: HashMap<u64, (Ts, usize)> = HashMap::new();
    let mut state_ops = Vec::new();
    let mut handoff_ops = Vec::new();
    let mut receipt_slots = Vec::new();
    let mut ledger_slots = Vec::new();
    let mut seen_receipts = HashSet::new();
    let mut seen_ledger = HashSet::new();

    // Ids and numbers were checked to fit i64 by `validate::check_ops`: the casts are lossless.
    for (caller, ops) in callers.iter().enumerate() {
        for op in ops.iter() {
            match op {
                WriteOp::AcceptDispatch(x) => {
                    d.id.push(x.id as i64);
                    d.account.push(&x.account);
                    d.campaign.push(x.campaign.map(|v| v as i64));
                    d.channel.push(x.channel.as_str());
                    d.class.push(x.class.as_str());
                    d.msisdn.push(x.msisdn as i64);
                    d.operator.push(&x.operator);
                    d.content_ref.push(&x.content_ref);
                    d.sender.push(&x.sender);
                    d.segments.push(i64::from(x.segments));
                    d.reserved.push(x.reserved_tiyn);
                    d.accepted.push(x.accepted_at.into());
                    d.not_before.push(x.not_before.map(Ts::from));
                    d.state.push(x.state.as_str());
                }
                WriteOp::UpdateState {
                    id,
                    state,
                    at,
                    not_before,
                } => {
                    let at = Ts::from(*at);
                    let i = state_ops.len();
                    state_ops.push((*id, *state, at, not_before.map(Ts::from)));
                    let e = state_of.entry(*id).or_insert((at, i));
                    if at >= e.0 {
                        *e = (at, i);
                    }
                }
                WriteOp::HandedOff { id, handoff } => {
                    let at = Ts::from(handoff.at_utc);
                    let i = handoff_ops.len();
                    handoff_ops.push((*id, handoff));
                    let e = handoff_of.entry(*id).or_insert((at, i));
                    if at >= e.0 {
                        *e = (at, i);
                    }
                }
                WriteOp::Final(x) => {
                    let first = seen_receipts.insert(x.dispatch_id);
                    receipt_slots.push(Slot {
                        caller,
                        key: x.dispatch_id,
                        first,
                    });
                    if !first {
                        continue;
                    }
                    let call = x
                        .call
                        .as_ref()
                        .map(serde_json::to_string)
                        .transpose()
                        .map_err(|e| StoreError::InvalidWrite(format!("call detail: {e}")))?;
                    r.dispatch_id.push(x.dispatch_id as i64);
                    r.account.push(&x.account);
                    r.campaign.push(x.campaign.map(|v| v as i64));
                    r.operator.push(&x.operator);
                    r.channel.push(x.channel.as_str());
                    r.msisdn.push(x.msisdn as i64);
                    r.state.push(x.state.as_str());
                    r.error.push(x.error.as_deref());
                    r.segments.push(i64::from(x.segments));
                    r.billable.push(i64::from(x.billable_seconds));
                    r.cost.push(x.cost_tiyn);
                    r.accepted.push(x.accepted_at.into());
                    r.handed_off.push(x.handed_off_at_utc.map(Ts::from));
                    r.handed_off_local.push(x.handed_off_local.as_deref());
                    r.final_at.push(x.final_at_utc.into());
                    r.final_local.push(x.final_local.as_str());
                    r.inside.push(x.inside_window);
                    r.call.push(call);
                    r.attempt.push(i64::from(x.attempt));
                }
                WriteOp::Ledger(x) => {
                    if let Some(dispatch_id) = x.dispatch_id {
                        let key = LedgerKey {
                            dispatch_id,
                            kind: x.kind,
                            attempt: x.attempt,
                        };
                        let first = seen_ledger.insert(key);
                        ledger_slots.push(Slot { caller, key, first });
                        if !first {
                            continue;
                        }
                    }
                    l.dispatch_id.push(x.dispatch_id.map(|v| v as i64));
                    l.account.push(&x.account);
                    l.kind.push(x.kind.as_str());
                    l.attempt.push(i64::from(x.attempt));
                    l.amount.push(x.amount_tiyn);
                    l.at.push(x.at.into());
                }
                WriteOp::Feedback(x) => {
                    f.account.push(&x.account);
                    f.msisdn.push(x.msisdn as i64);
                    f.dispatch_id.push(x.dispatch_id.map(|v| v as i64));
                    f.kind.push(x.kind.as_str());
                    f.body.push(&x.body);
                    f.at.push(x.at.into());
                }
                WriteOp::Campaign(x) => {
                    c.id.push(x.id as i64);
                    c.account.push(&x.account);
                    c.channel.push(x.channel.as_str());
                    c.created.push(x.created_at.into());
                    c.total.push(x.total as i64);
                }
                WriteOp::Audio(x) => audio.push(x),
            }
        }
    }
    for (id, (_, i)) in &state_of {
        let (_, state, at, not_before) = state_ops[*i];
        s.id.push(*id as i64);
        s.state.push(state.as_str());
        s.at.push(at);
        s.not_before.push(not_before);
    }
    for (id, (_, i)) in &handoff_of {
        let (_, x) = handoff_ops[*i];
        h.id.push(*id as i64);
        h.at.push(x.at_utc.into());
        h.local.push(x.at_local.as_str());
        h.oref.push(&x.operator_ref);
        h.units.push(i64::from(x.units));
        h.cost.push(x.cost_tiyn);
    }

    let tx = client.transaction().await?;
    if c.len() > 0 {
        let st = tx.prepare_cached(INSERT_CAMPAIGNS).await?;
        tx.execute(&st, &c.params()).await?;
    }
    for a in &audio {
        let st = tx.prepare_cached(INSERT_AUDIO).await?;
        let meta = a.metadata.to_string();
        let created = Ts::from(a.created_at);
        tx.execute(&st, &[&a.id, &meta, &a.alaw, &created]).await?;
    }
    if d.len() > 0 {
        let st = tx.prepare_cached(INSERT_DISPATCHES).await?;
        tx.execute(&st, &d.params()).await?;
    }
    if h.len() > 0 {
        let st = tx.prepare_cached(HANDED_OFF).await?;
        tx.execute(&st, &h.params()).await?;
    }
    if s.len() > 0 {
        let st = tx.prepare_cached(UPDATE_STATES).await?;
        tx.execute(&st, &s.params()).await?;
    }
    let mut new_receipts = HashSet::new();
    if r.len() > 0 {
        let st = tx.prepare_cached(INSERT_RECEIPTS).await?;
        for row in tx.query(&st, &r.params()).await? {
            new_receipts.insert(row.try_get::<_, i64>(0)? as u64);
        }
    }
    let mut new_ledger = HashSet::new();
    if l.len() > 0 {
        let st = tx.prepare_cached(INSERT_LEDGER).await?;
        for row in tx.query(&st, &l.params()).await? {
            let (Some(id), kind, attempt) = (
                row.try_get::<_, Option<i64>>(0)?,
                row.try_get::<_, &str>(1)?,
                row.try_get::<_, i32>(2)?,
            ) else {
                continue;
            };
            if let Some(kind) = LedgerKind::parse(kind) {
                new_ledger.insert(LedgerKey {
                    dispatch_id: id as u64,
                    kind,
                    attempt: attempt as u16,
                });
            }
        }
    }
    if f.len() > 0 {
        let st = tx.prepare_cached(INSERT_FEEDBACK).await?;
        tx.execute(&st, &f.params()).await?;
    }
    tx.commit().await?;

    let mut results = vec![WriteResult::default(); callers.len()];
    for slot in receipt_slots {
        let res = &mut results[slot.caller];
        if slot.first && new_receipts.contains(&slot.key) {
            res.new_receipts.push(slot.key);
        } else {
            res.duplicate_receipts.push(slot.key);
        }
    }
    for slot in ledger_slots {
        if !(slot.first && new_ledger.contains(&slot.key)) {
            results[slot.caller].duplicate_ledger.push(slot.key);
        }
    }
    Ok(results)
}

//! Checks on writes before they reach the writer, and decoding of stored names.

use crate::StoreError;
use crate::model::{DispatchState, LedgerKind, WriteOp};
use sendbox_dispatch::{Channel, FinalState, LocalTime, TrafficClass};

/// Check every op of one write; the first problem rejects the whole write.
pub(crate) fn check_ops(ops: &[WriteOp]) -> Result<(), StoreError> {
    for op in ops {
        check_op(op)?;
    }
    Ok(())
}

fn id(what: &str, v: u64) -> Result<(), StoreError> {
    if v > i64::MAX as u64 {
        return Err(StoreError::InvalidWrite(format!(
            "{what} {v} exceeds the stored range (i64::MAX)"
        )));
    }
    Ok(())
}

/// A count stored in a 32-bit signed column (PostgreSQL `INTEGER`; SQLite keeps the same bound
/// so both backends accept exactly the same writes).
fn count(what: &str, dispatch: u64, v: u32) -> Result<(), StoreError> {
    if v > i32::MAX as u32 {
        return Err(StoreError::InvalidWrite(format!(
            "dispatch {dispatch}: {what} {v} exceeds the stored range (i32::MAX)"
        )));
    }
    Ok(())
}

fn check_op(op: &WriteOp) -> Result<(), StoreError> {
    match op {
        WriteOp::AcceptDispatch(d) => {
            id("dispatch id", d.id)?;
            id("msisdn", d.msisdn)?;
            if let Some(c) = d.campaign {
                id("campaign id", c)?;
            }
            if d.state == DispatchState::Final {
                return Err(StoreError::InvalidWrite(format!(
                    "dispatch {} accepted in state final; write a receipt instead",
                    d.id
                )));
            }
        }
        WriteOp::UpdateState { id: d, state, .. } => {
            id("dispatch id", *d)?;
            if *state == DispatchState::Final {
                return Err(StoreError::InvalidWrite(format!(
                    "dispatch {d}: state final is set by writing its receipt"
                )));
            }
        }
        WriteOp::HandedOff { id: d, handoff } => {
            id("dispatch id", *d)?;
            count("handoff units", *d, handoff.units)?;
        }
        WriteOp::Final(r) => {
            id("dispatch id", r.dispatch_id)?;
            count("segments", r.dispatch_id, r.segments)?;
            count("billable seconds", r.dispatch_id, r.billable_seconds)?;
            id("msisdn", r.msisdn)?;
            if let Some(c) = r.campaign {
                id("campaign id", c)?;
            }
        }
        WriteOp::Ledger(l) => {
            if let Some(d) = l.dispatch_id {
                id("dispatch id", d)?;
            }
            let wrong_sign = match l.kind {
                LedgerKind::Reserve | LedgerKind::Debit => l.amount_tiyn > 0,
                LedgerKind::Release => l.amount_tiyn < 0,
                LedgerKind::Topup | LedgerKind::Opening => false,
            };
            if wrong_sign {
                return Err(StoreError::InvalidWrite(format!(
                    "ledger {} of {} tiyn for account {:?}: reserve and debit must be <= 0, release >= 0",
                    l.kind.as_str(),
                    l.amount_tiyn,
                    l.account
                )));
            }
        }
        WriteOp::Feedback(f) => {
            id("msisdn", f.msisdn)?;
            if let Some(d) = f.dispatch_id {
                id("dispatch id", d)?;
            }
        }
        WriteOp::Campaign(c) => {
            id("campaign id", c.id)?;
            id("campaign total", c.total)?;
        }
        WriteOp::Audio(a) => {
            if a.id.is_empty() {
                return Err(StoreError::InvalidWrite("audio with an empty id".into()));
            }
        }
    }
    Ok(())
}

/// The channel named `s` in a stored row.
pub(crate) fn channel(s: &str) -> Result<Channel, StoreError> {
    match s {
        "sms" => Ok(Channel::Sms),
        "voice" => Ok(Channel::Voice),
        _ => Err(corrupt("channel", s)),
    }
}

/// A stored `*_local` time.
pub(crate) fn local_time(s: String) -> Result<LocalTime, StoreError> {
    LocalTime::from_text(&s).ok_or_else(|| corrupt("local time", &s))
}

/// A stored `*_local` time that may be NULL.
pub(crate) fn opt_local_time(s: Option<String>) -> Result<Option<LocalTime>, StoreError> {
    s.map(local_time).transpose()
}

/// The traffic class named `s` in a stored row.
pub(crate) fn class(s: &str) -> Result<TrafficClass, StoreError> {
    match s {
        "service" => Ok(TrafficClass::Service),
        "marketing" => Ok(TrafficClass::Marketing),
        "otp" => Ok(TrafficClass::Otp),
        _ => Err(corrupt("traffic class", s)),
    }
}

/// The final state named `s` in a stored row.
pub(crate) fn final_state(s: &str) -> Result<FinalState, StoreError> {
    use FinalState::*;
    let all = [
        Delivered,
        Undeliverable,
        Expired,
        Rejected,
        Answered,
        Busy,
        NoAnswer,
        InvalidNumber,
        Cancelled,
        Failed,
        Refused,
    ];
    all.into_iter()
        .find(|f| f.as_str() == s)
        .ok_or_else(|| corrupt("final state", s))
}

/// The dispatch state named `s` in a stored row.
pub(crate) fn dispatch_state(s: &str) -> Result<DispatchState, StoreError> {
    DispatchState::parse(s).ok_or_else(|| corrupt("dispatch state", s))
}

/// A stored non-negative integer as `u64`.
pub(crate) fn unsigned(what: &str, v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} is negative: {v}")))
}

/// A stored small integer as `u16`/`u32`.
pub(crate) fn small<T: TryFrom<i64>>(what: &str, v: i64) -> Result<T, StoreError> {
    T::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} out of range: {v}")))
}

/// Decode the stored call-detail JSON.
pub(crate) fn call_detail(
    json: Option<String>,
) -> Result<Option<sendbox_dispatch::CallDetail>, StoreError> {
    json.map(|j| {
        serde_json::from_str(&j).map_err(|e| StoreError::Corrupt(format!("call detail: {e}")))
    })
    .transpose()
}

fn corrupt(what: &str, s: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} {s:?}"))
}

//! The behavioural suite run against every backend: `suite!(fixture)` expands to one
//! `#[tokio::test]` per scenario, each on a fresh database from `fixture().await`.

#![allow(dead_code)]

pub mod scenarios;

use jiff::Timestamp;
use sendbox_dispatch::{Channel, FinalState, TrafficClass};
use sendbox_store::*;
use std::sync::Arc;

/// A fresh, empty database: its URL, plus whatever must live as long as it (temp dir, schema
/// dropper).
pub struct Db {
    pub url: String,
    pub _guard: Box<dyn std::any::Any + Send>,
}

impl Db {
    pub async fn open(&self) -> Arc<dyn Store> {
        sendbox_store::open(&self.url).await.expect("open store")
    }
}

/// `2026-11-25T05:00:00Z` plus `secs` seconds.
pub fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_795_582_800 + secs).unwrap()
}

pub fn dispatch(id: u64, account: &str, msisdn: u64) -> DispatchRow {
    DispatchRow {
        id,
        account: account.into(),
        campaign: Some(7),
        channel: Channel::Sms,
        class: TrafficClass::Service,
        msisdn,
        operator: "beeline".into(),
        content_ref: format!("hello {id}"),
        sender: "SENDBOX".into(),
        segments: 1,
        reserved_tiyn: 1500,
        accepted_at: t(id as i64),
        not_before: None,
        state: DispatchState::Accepted,
    }
}

pub fn handoff(at: Timestamp) -> Handoff {
    Handoff {
        at_utc: at,
        at_local: local(at),
        operator_ref: "msg-1".into(),
        units: 1,
        cost_tiyn: 1200,
    }
}

pub fn receipt(d: &DispatchRow, state: FinalState, at: Timestamp) -> ReceiptRow {
    ReceiptRow {
        dispatch_id: d.id,
        account: d.account.clone(),
        campaign: d.campaign,
        operator: d.operator.clone(),
        channel: d.channel,
        msisdn: d.msisdn,
        state,
        error: (state != FinalState::Delivered).then(|| "dlr:UNDELIV/err=001".to_string()),
        segments: 1,
        billable_seconds: 0,
        cost_tiyn: 1200,
        accepted_at: d.accepted_at,
        handed_off_at_utc: Some(d.accepted_at),
        handed_off_local: Some(local(d.accepted_at)),
        final_at_utc: at,
        final_local: local(at),
        inside_window: true,
        call: None,
        attempt: 1,
    }
}

pub fn debit(d: &DispatchRow, amount: i64, at: Timestamp) -> LedgerRow {
    LedgerRow {
        dispatch_id: Some(d.id),
        account: d.account.clone(),
        kind: LedgerKind::Debit,
        attempt: 1,
        amount_tiyn: -amount,
        at,
    }
}

/// Expands to the whole suite for one backend. `$fixture` is an async fn returning
/// `Option<Db>` (None: backend unavailable, test skipped loudly by the fixture).
#[macro_export]
macro_rules! suite {
    ($fixture:path) => {
        $crate::suite!(@tests $fixture;
            receipts_page_in_commit_order_with_cursor,
            receipts_page_filters_by_account,
            duplicate_final_is_stored_and_billed_once,
            duplicate_debit_is_stored_once,
            unfinished_dispatches_survive_a_restart,
            history_lists_every_dispatch_to_a_number,
            concurrent_writers_lose_nothing,
            migrations_are_idempotent_on_reopen,
            stale_state_updates_are_ignored,
            handoffs_and_states_order_by_time_then_by_write,
            balances_sum_the_ledger_per_account,
            invalid_write_stores_nothing,
            feedback_links_to_the_last_dispatch,
            campaign_counts_group_final_and_open_states,
            campaign_receipts_and_feedback_are_read_by_campaign,
            audio_round_trips_by_content_id,
            voice_receipt_keeps_call_detail,
            closed_store_refuses_writes,
            receipt_before_accept_leaves_nothing_open,
            large_writes_with_duplicates_are_billed_once,
        );
    };
    (@tests $fixture:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(db) = $fixture().await else { return };
                $crate::common::scenarios::$name(&db).await;
            }
        )*
    };
}

/// `at` as the Almaty wall time a store keeps (the zoned form, which fits a `LocalTime`).
pub fn local(at: Timestamp) -> LocalTime {
    LocalTime::from_text(&time::almaty_local(at)).expect("an Almaty time fits")
}

//! The assembled engine: store, tables, balances, core, record writer and operator links,
//! built from a validated configuration. The daemon, the demo and the tests all build one.

use crate::auth::{Caller, Tokens};
use crate::core::Core;
use crate::ids::IdGen;
use crate::links::Links;
use crate::records::RecordSink;
use crate::tables::{Names, Tables};
use anyhow::Context;
use bytes::Bytes;
use dashmap::DashMap;
use sendbox_config::Config;
use sendbox_dispatch::clock::WallClock;
use sendbox_dispatch::{AccountId, CampaignId, Content, DispatchId, Ready, SmsContent};
use sendbox_policy::balance::Wallets;
use sendbox_policy::blacklist::{BlacklistSet, BlacklistSources, Blacklists};
use sendbox_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What the API needs to know about an account.
#[derive(Debug, Clone)]
pub struct AccountInfo {
    /// The account id from config.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Sender ids it may use (`None`: any well-formed sender).
    pub senders: Option<Vec<String>>,
    /// Traffic classes it may use (`None`: all).
    pub classes: Option<Vec<sendbox_dispatch::TrafficClass>>,
}

/// The running engine.
#[derive(Debug)]
pub struct App {
    /// The configuration it was built from (replaced on reload).
    pub config: arc_swap::ArcSwap<Config>,
    /// The dispatch core.
    pub core: Arc<Core>,
    /// The billing store.
    pub store: Arc<dyn Store>,
    /// Live blacklists.
    pub blacklists: Blacklists,
    /// API tokens.
    pub tokens: Tokens,
    /// Dispatch and campaign ids.
    pub ids: IdGen,
    /// Accounts by index.
    pub accounts: Vec<AccountInfo>,
    /// Telephone audio by id, shared by every call that plays it.
    pub audio: DashMap<String, Bytes>,
    /// Operator links.
    pub links: Links,
    /// Cancelled to stop the engine.
    pub shutdown: CancellationToken,
    /// History, models and reports.
    pub insights: Arc<crate::insights::InsightsCell>,
    writer: parking_lot::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl App {
    /// Open the store, restore balances, build the tables, start the links, and continue
    /// whatever was accepted but not final before the last stop.
    pub async fn build(config: Config, clock: Arc<dyn WallClock>) -> anyhow::Result<Arc<App>> {
        let store = sendbox_store::open(&store_url(&config.store.url))
            .await
            .with_context(|| format!("store.url: cannot open {}", config.store.url.redacted()))?;
        let tables = Tables::from_config(&config)?;
        let names: Arc<Names> = tables.names.clone();
        let ledger = store.balances().await.context("reading balances")?;
        let opening: Vec<i64> = config
            .accounts
            .values()
            .map(|a| {
                let sum = ledger
                    .iter()
                    .find(|b| b.account == a.id)
                    .map_or(0, |b| b.ledger_sum_tiyn);
                i64::try_from(a.opening_balance_tiyn).unwrap_or(i64::MAX) + sum
            })
            .collect();
        let wallets = Wallets::new(opening);
        let blacklists = Blacklists::new(load_blacklists(&config)?);
        let (sink, writer) = RecordSink::spawn(store.clone(), names.clone());
        let core = Arc::new(Core::new(
            clock,
            tables,
            wallets,
            config.accounts.len().max(1),
            config.queues.capacity_per_operator,
            sink,
            (
                u16::try_from(config.voice.max_attempts).unwrap_or(u16::MAX),
                config.voice.retry_interval,
            ),
        ));
        core.start();
        let mut tokens = Tokens::default();
        for (i, a) in config.accounts.values().enumerate() {
            tokens.insert(a.token_sha256.as_hex(), Caller::Account(i as u32));
        }
        if let Some(admin) = &config.api.admin_token_sha256 {
            tokens.insert(admin.as_hex(), Caller::Admin);
        }
        let accounts = config
            .accounts
            .values()
            .map(|a| AccountInfo {
                id: a.id.clone(),
                name: a.name.clone(),
                senders: a.senders.clone(),
                classes: a
                    .classes
                    .as_ref()
                    .map(|cs| cs.iter().map(|c| crate::api::class_of(*c)).collect()),
            })
            .collect();
        let shutdown = CancellationToken::new();
        let links = Links::start(&config, &core, shutdown.clone())?;
        let app = Arc::new(App {
            // System time, not the injected clock: ids must grow across restarts even when a
            // test or the demo runs the engine at a fixed or shifted wall time.
            ids: IdGen::new(jiff::Timestamp::now(), 0),
            config: arc_swap::ArcSwap::from_pointee(config),
            core,
            store,
            blacklists,
            tokens,
            accounts,
            audio: DashMap::new(),
            links,
            shutdown: shutdown.clone(),
            insights: Arc::new(crate::insights::InsightsCell::default()),
            writer: parking_lot::Mutex::new(Some(writer)),
        });
        app.resume_unfinished().await?;
        app.insights.spawn_schedule(app.store.clone(), shutdown);
        crate::metrics::spawn_sampler(&app);
        Ok(app)
    }

    /// Re-admit what was accepted but not final when the engine last stopped.
    ///
    /// A call between attempts continues with its next attempt number (the attempt limit
    /// counts the attempts before the stop) and its receipt still includes their fees.
    async fn resume_unfinished(&self) -> anyhow::Result<()> {
        let rows = self
            .store
            .unfinished()
            .await
            .context("reading unfinished dispatches")?;
        if rows.is_empty() {
            return Ok(());
        }
        let names = self.core.tables.load().names.clone();
        let mut resumed = 0usize;
        for u in rows {
            let r = &u.row;
            let Some(account) = names.account_index(&r.account) else {
                tracing::warn!(id = r.id, account = %r.account, "Unfinished dispatch of an unknown account left as is.");
                continue;
            };
            let Some(operator) = names.operator_index(&r.operator) else {
                tracing::warn!(id = r.id, operator = %r.operator, "Unfinished dispatch of an unknown operator left as is.");
                continue;
            };
            let content = match r.channel {
                sendbox_dispatch::Channel::Sms => Content::Sms(SmsContent {
                    sender: r.sender.clone(),
                    text: r.content_ref.clone(),
                    segments: r.segments,
                }),
                sendbox_dispatch::Channel::Voice => match self.prompt(&r.content_ref).await {
                    Some(alaw) => Content::Voice(sendbox_dispatch::VoiceContent {
                        audio_id: r.content_ref.clone(),
                        alaw,
                        repeat: 1,
                    }),
                    None => {
                        tracing::warn!(id = r.id, audio = %r.content_ref, "Unfinished call's audio is gone; left as is.");
                        continue;
                    }
                },
            };
            let ready = Ready {
                id: DispatchId(r.id),
                account,
                campaign: r.campaign.map(CampaignId),
                operator,
                msisdn: r.msisdn,
                class: r.class,
                content: Arc::new(content),
                attempt: 1,
                retries: 0,
                reserved: 0,
                accepted_at: r.accepted_at,
            };
            // Only a dispatch still handed off is with the operator (see `Unfinished::new`).
            let handoff = u.handoff.as_ref();
            let (attempt, earlier) = continued_attempts(u.billed, handoff.map(|h| h.cost_tiyn));
            let ready = Ready { attempt, ..ready };
            self.core.restore_earlier_attempts(ready.id, earlier);
            if handoff.is_some() {
                // Handed off before the stop: the operator has it. Its receipt may still come
                // on the same link (SMPP receipts are matched by message id); if none comes it
                // expires. It is not sent again.
                self.links.adopt_handed_off(&self.core, ready, handoff);
            } else {
                let _ = match r.not_before {
                    Some(at) => self.core.admit_at(ready, at),
                    None => self.core.admit(ready),
                };
            }
            resumed += 1;
        }
        tracing::info!(
            resumed,
            "Continuing dispatches accepted before the last stop."
        );
        Ok(())
    }

    /// The telephone audio `id`, from memory or the store.
    pub async fn prompt(&self, id: &str) -> Option<Bytes> {
        if let Some(b) = self.audio.get(id) {
            return Some(b.clone());
        }
        let row = self.store.audio_get(id).await.ok().flatten()?;
        let bytes = Bytes::from(row.alaw);
        self.audio.insert(id.to_owned(), bytes.clone());
        Some(bytes)
    }

    /// The account at `index`.
    pub fn account(&self, a: AccountId) -> Option<&AccountInfo> {
        self.accounts.get(a.0 as usize)
    }

    /// Stop: links finish or hand back what they hold, then every record is written.
    pub async fn stop(&self, grace: Duration) {
        self.shutdown.cancel();
        self.links.join(grace).await;
        self.core.sink.drained().await;
        if let Err(e) = self.store.flush().await {
            tracing::error!(error = %e, "Final store flush failed.");
        }
        let writer = self.writer.lock().take();
        if let Some(w) = writer {
            w.abort();
        }
    }
}

/// The store URL the driver wants (the config keeps a postgres URL as a secret).
pub fn store_url(url: &sendbox_config::StoreUrl) -> String {
    match url {
        sendbox_config::StoreUrl::Sqlite(p) => format!("sqlite:{}", p.display()),
        sendbox_config::StoreUrl::Postgres(s) => s.expose().to_owned(),
        _ => "sqlite::memory:".to_owned(),
    }
}

/// Load the global and per-account blacklists named in the config.
pub fn load_blacklists(config: &Config) -> anyhow::Result<BlacklistSet> {
    let sources = blacklist_sources(config);
    let (set, report) = BlacklistSet::load(&sources).context("blacklist")?;
    for e in report.errors.iter().take(20) {
        tracing::warn!(%e, "Blacklist line skipped.");
    }
    if report.bad_lines() > 0 {
        tracing::warn!(
            bad_lines = report.bad_lines(),
            "Blacklist lines skipped (first 20 logged)."
        );
    }
    tracing::info!(entries = report.entries, "Blacklists loaded.");
    Ok(set)
}

/// Where the blacklists come from.
pub fn blacklist_sources(config: &Config) -> BlacklistSources {
    BlacklistSources {
        global: config.blacklist.files.clone(),
        accounts: config
            .accounts
            .values()
            .enumerate()
            .filter_map(|(i, a)| a.blacklist.clone().map(|p| (AccountId(i as u32), vec![p])))
            .collect(),
    }
}

/// Where a dispatch interrupted by a restart continues, from the ledger: its attempt number
/// and what its earlier attempts were debited. Handed off (`handoff_cost`): the current attempt
/// is the last billed one and its own fee is the handoff's. Not handed off: the next attempt.
fn continued_attempts(billed: sendbox_store::BilledSoFar, handoff_cost: Option<i64>) -> (u16, i64) {
    match handoff_cost {
        Some(cost) => (billed.attempts.max(1), (billed.debited_tiyn - cost).max(0)),
        None => (billed.attempts.saturating_add(1), billed.debited_tiyn),
    }
}

#[cfg(test)]
mod tests {
    use super::continued_attempts;
    use sendbox_store::BilledSoFar;

    fn billed(attempts: u16, debited_tiyn: i64) -> BilledSoFar {
        BilledSoFar {
            attempts,
            debited_tiyn,
        }
    }

    #[test]
    fn a_new_dispatch_starts_at_attempt_one_with_nothing_earlier() {
        assert_eq!(continued_attempts(billed(0, 0), None), (1, 0));
    }

    #[test]
    fn a_call_waiting_for_its_retry_continues_with_the_next_attempt_and_keeps_the_fees() {
        // Attempt 1 (fee 500) was busy; attempt 2 (fee 500 + 90 for seconds) hung up early.
        assert_eq!(continued_attempts(billed(2, 1090), None), (3, 1090));
    }

    #[test]
    fn a_handed_off_dispatch_keeps_its_attempt_and_counts_only_the_ones_before() {
        assert_eq!(continued_attempts(billed(2, 1000), Some(500)), (2, 500));
        // An SMS handed off once: nothing earlier.
        assert_eq!(continued_attempts(billed(1, 1200), Some(1200)), (1, 0));
    }
}

//! Validation, scoring and campaign reports (the `analytics` crate) over the engine's store.
//!
//! The history index and the models are built from the receipts in the store: on first use,
//! every hour after that, and on demand (`POST /v1/admin/scores/retrain`). They are swapped in
//! atomically, so requests never wait for a retraining.

use arc_swap::ArcSwapOption;
use sendbox_analytics::history::History;
use sendbox_analytics::model::TrainConfig;
use sendbox_analytics::score::Models;
use sendbox_store::Store;
use std::sync::Arc;
use std::time::Duration;

/// How often the models are retrained.
pub const RETRAIN_EVERY: Duration = Duration::from_secs(3600);

/// A history index and the models trained on it.
#[derive(Debug)]
pub struct Insights {
    /// What the store knows about each number.
    pub history: History,
    /// Per-account and service-wide engagement models.
    pub models: Models,
    /// When this was built.
    pub built_at: jiff::Timestamp,
}

/// The current [`Insights`], rebuilt in the background.
#[derive(Debug, Default)]
pub struct InsightsCell {
    current: ArcSwapOption<Insights>,
    building: tokio::sync::Mutex<()>,
}

impl InsightsCell {
    /// The current insights, building them first if there are none yet.
    pub async fn get(&self, store: &Arc<dyn Store>) -> anyhow::Result<Arc<Insights>> {
        if let Some(i) = self.current.load_full() {
            return Ok(i);
        }
        self.rebuild(store).await
    }

    /// Rebuild from the store now (one rebuild at a time; a caller arriving during a rebuild
    /// gets its result).
    pub async fn rebuild(&self, store: &Arc<dyn Store>) -> anyhow::Result<Arc<Insights>> {
        let _one = self.building.lock().await;
        let history = History::load(store.as_ref(), None).await?;
        let now = jiff::Timestamp::now();
        let unix = now.as_second();
        let (history, models) = tokio::task::spawn_blocking(move || {
            let models = Models::train_all(&history, unix, &TrainConfig::default());
            (history, models)
        })
        .await?;
        let i = Arc::new(Insights {
            history,
            models,
            built_at: now,
        });
        self.current.store(Some(i.clone()));
        Ok(i)
    }

    /// Retrain every [`RETRAIN_EVERY`] until `stop`.
    pub fn spawn_schedule(
        self: &Arc<Self>,
        store: Arc<dyn Store>,
        stop: tokio_util::sync::CancellationToken,
    ) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(RETRAIN_EVERY);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        if let Err(e) = me.rebuild(&store).await {
                            tracing::error!(error = %format!("{e:#}"), "Scheduled retraining failed.");
                        }
                    }
                    () = stop.cancelled() => return,
                }
            }
        });
    }
}

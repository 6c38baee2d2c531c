//! Analytics for sendbox: validation of client bases, explainable engagement scores and
//! campaign reports.
//!
//! | Module | What |
//! |---|---|
//! | [`validate`], [`line`](mod@line), [`input`], [`output`] | streamed validation of a CSV or list, summary, result CSV |
//! | [`history`], [`facts`], [`failure`] | per-number facts from receipts and feedback (in-memory index) |
//! | [`features`], [`model`], [`score`] | logistic regression (linfa), scores 0-100 with factors in words |
//! | [`evaluate`] | held-out AUC, Brier, calibration vs a constant predictor |
//! | [`report`], [`html`], [`svg`] | campaign report as JSON, per-recipient CSV, self-contained HTML |
//! | [`generate`] | seeded synthetic histories with a known signal |
//! | [`metrics`] | metric names and `describe()` |
//!
//! Nothing here does IO except [`history::History::load`] and [`report::load_campaign`],
//! which page through the store.

pub mod evaluate;
pub mod facts;
pub mod failure;
pub mod features;
pub mod generate;
pub mod history;
pub mod html;
pub mod input;
pub mod line;
pub mod metrics;
pub mod model;
pub mod output;
pub mod report;
pub mod score;
pub mod svg;
pub mod validate;

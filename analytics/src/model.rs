//! The engagement model: an L2-regularised logistic regression (linfa-logistic) on
//! standardised [`crate::features`], saved as JSON with its version and training date, and
//! explained by per-feature contributions.
//!
//! Training looks back: features are what the history knew before a cut-off, the label is
//! whether the number was reached (SMS delivered, call answered, reply or key) in the
//! `label_days` after it. See [`crate::evaluate`] for held-out evaluation.
//!
//! ```
//! use sendbox_analytics::{generate::*, history::History, model::*};
//! let g = Generator::new(GeneratorConfig { recipients: 400, ..Default::default() }).generate();
//! let h = History::from_rows(g.receipts.iter(), g.feedback.iter());
//! let now = h.latest().unwrap() + 1;
//! let m = Model::train(&h, None, now, &TrainConfig::default()).unwrap();
//! assert_eq!(m.weights.len(), m.features.len());
//! let back = Model::from_json(&m.to_json()).unwrap();
//! assert_eq!(back.version, m.version);
//! ```

use crate::features::{FEATURES, explain, fill};
use crate::history::{EventKind, Facts, History};
use jiff::Timestamp;
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

/// Errors of [`Model::train`] and [`Model::from_json`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// [`Model::train`]: too few labelled numbers, or only one outcome among them.
    #[error(
        "not enough history to train: {samples} numbers, {positives} reached (need {min} with both outcomes)"
    )]
    NotEnoughData {
        /// Labelled numbers found.
        samples: usize,
        /// Of which reached.
        positives: usize,
        /// The minimum.
        min: usize,
    },
    /// [`Model::train`]: the solver failed.
    #[error("logistic regression failed: {0}")]
    Fit(String),
    /// [`Model::from_json`]: not a model file, or one of another shape.
    #[error("bad model JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// [`Model::from_json`]: the vectors disagree in length.
    #[error("inconsistent model: {0}")]
    Inconsistent(&'static str),
}

/// How to train.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Days after the cut-off whose outcomes are the labels.
    pub label_days: i64,
    /// Fewest labelled numbers to train on.
    pub min_samples: usize,
    /// L2 penalty.
    pub alpha: f64,
    /// Solver iterations.
    pub max_iterations: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            label_days: 30,
            min_samples: 100,
            alpha: 1.0,
            max_iterations: 200,
        }
    }
}

/// A trained model. Its JSON is what [`Model::to_json`] writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// `"<scope>-<unix seconds of training>"`, e.g. `acme-1764000000`.
    pub version: String,
    /// When it was trained.
    pub trained_at: Timestamp,
    /// The account it was trained on; `None` for the whole service (the prior).
    pub account: Option<String>,
    /// Feature names, in order (the fixed ones, then `operator:<name>`).
    pub features: Vec<String>,
    /// Operator vocabulary (the operator indicators' order).
    pub operators: Vec<String>,
    /// Weights on standardised features.
    pub weights: Vec<f64>,
    /// Intercept.
    pub intercept: f64,
    /// Feature means (standardisation).
    pub means: Vec<f64>,
    /// Feature standard deviations (1 where constant).
    pub scales: Vec<f64>,
    /// Labelled numbers trained on.
    pub samples: usize,
    /// Of which reached.
    pub positives: usize,
}

/// A labelled sample set: features before a cut-off, outcome after.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// Feature rows.
    pub x: Vec<Vec<f64>>,
    /// Reached in the label window.
    pub y: Vec<bool>,
}

/// Whether `events` (of `account` if given) in `[from, to)` include an attempt, and if so
/// whether any reached the number.
pub fn label(h: &History, msisdn: u64, account: Option<u32>, from: i64, to: i64) -> Option<bool> {
    let mut attempted = false;
    let mut reached = false;
    for e in h
        .events(msisdn)
        .iter()
        .filter(|e| e.at >= from && e.at < to)
    {
        if account.is_some_and(|a| a != e.account) {
            continue;
        }
        match e.kind {
            EventKind::SmsDelivered | EventKind::CallAnswered => {
                attempted = true;
                reached = true;
            }
            EventKind::Reply | EventKind::Keys => reached = true,
            _ => attempted = true,
        }
    }
    attempted.then_some(reached)
}

/// The operator vocabulary of a history, sorted.
pub fn vocabulary(h: &History) -> Vec<String> {
    let mut v = h.operators().to_vec();
    v.sort();
    v
}

/// Feature row of `f` with the operator one-hot over `operators`.
pub fn row(f: &Facts, now: i64, h: &History, operators: &[String]) -> Vec<f64> {
    let mut x = vec![0.0; FEATURES.len() + operators.len()];
    fill(f, now, &mut x[..FEATURES.len()]);
    let name = f
        .operator_idx
        .and_then(|o| h.operators().get(usize::from(o)));
    if let Some(i) = name.and_then(|name| operators.iter().position(|o| o == name)) {
        x[FEATURES.len() + i] = 1.0;
    }
    x
}

/// Samples from `h`: numbers attempted in `[cutoff, end)`, featured on what was known before
/// `cutoff`.
pub fn samples(
    h: &History,
    account: Option<u32>,
    cutoff: i64,
    end: i64,
    operators: &[String],
) -> Samples {
    let mut s = Samples::default();
    let mut numbers: Vec<u64> = h.msisdns().collect();
    numbers.sort_unstable();
    for m in numbers {
        if let Some(y) = label(h, m, account, cutoff, end) {
            let f = h.facts_idx(m, account, cutoff);
            s.x.push(row(&f, cutoff, h, operators));
            s.y.push(y);
        }
    }
    s
}

impl Model {
    /// Trains on `h` (only `account`'s events if given) as of `now` (Unix seconds): the
    /// labels are the last [`TrainConfig::label_days`] before `now`.
    pub fn train(
        h: &History,
        account: Option<&str>,
        now: i64,
        cfg: &TrainConfig,
    ) -> Result<Model, ModelError> {
        let idx = match account {
            Some(a) => Some(h.account_index(a).ok_or(ModelError::NotEnoughData {
                samples: 0,
                positives: 0,
                min: cfg.min_samples,
            })?),
            None => None,
        };
        let operators = vocabulary(h);
        let cutoff = now - cfg.label_days * 86_400;
        let s = samples(h, idx, cutoff, now, &operators);
        let m = Model::fit(&s, operators, account, now, cfg);
        let result = match &m {
            Ok(_) => "ok",
            Err(ModelError::NotEnoughData { .. }) => "not_enough_data",
            Err(_) => "error",
        };
        let scope = if account.is_some() {
            "account"
        } else {
            "global"
        };
        crate::metrics::trained(scope, result);
        m
    }

    /// Fits on prepared samples.
    pub fn fit(
        s: &Samples,
        operators: Vec<String>,
        account: Option<&str>,
        now: i64,
        cfg: &TrainConfig,
    ) -> Result<Model, ModelError> {
        let n = s.x.len();
        let positives = s.y.iter().filter(|y| **y).count();
        if n < cfg.min_samples || positives == 0 || positives == n {
            return Err(ModelError::NotEnoughData {
                samples: n,
                positives,
                min: cfg.min_samples,
            });
        }
        let d = s.x[0].len();
        let mut means = vec![0.0; d];
        let mut scales = vec![0.0; d];
        for r in &s.x {
            for j in 0..d {
                means[j] += r[j] / n as f64;
            }
        }
        for r in &s.x {
            for j in 0..d {
                scales[j] += (r[j] - means[j]).powi(2) / n as f64;
            }
        }
        for v in &mut scales {
            *v = if *v > 1e-12 { v.sqrt() } else { 1.0 };
        }
        let mut x = Array2::<f64>::zeros((n, d));
        for (i, r) in s.x.iter().enumerate() {
            for j in 0..d {
                x[[i, j]] = (r[j] - means[j]) / scales[j];
            }
        }
        let y = Array1::from(s.y.clone());
        let fitted = LogisticRegression::default()
            .alpha(cfg.alpha)
            .max_iterations(cfg.max_iterations)
            .fit(&Dataset::new(x, y))
            .map_err(|e| ModelError::Fit(e.to_string()))?;
        // linfa picks which label is "positive"; make the model predict P(reached).
        let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
        let trained_at = Timestamp::from_second(now).unwrap_or(Timestamp::UNIX_EPOCH);
        let mut features: Vec<String> = FEATURES.iter().map(|f| f.to_string()).collect();
        features.extend(operators.iter().map(|o| format!("operator:{o}")));
        Ok(Model {
            version: format!("{}-{now}", account.unwrap_or("global")),
            trained_at,
            account: account.map(str::to_string),
            features,
            operators,
            weights: fitted.params().iter().map(|w| w * sign).collect(),
            intercept: fitted.intercept() * sign,
            means,
            scales,
            samples: n,
            positives,
        })
    }

    /// Serialises to pretty JSON.
    pub fn to_json(&self) -> String {
        // Serialising plain numbers and strings cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a model written by [`Model::to_json`], checking its shape.
    pub fn from_json(s: &str) -> Result<Model, ModelError> {
        let m: Model = serde_json::from_str(s)?;
        let d = FEATURES.len() + m.operators.len();
        if m.weights.len() != d
            || m.means.len() != d
            || m.scales.len() != d
            || m.features.len() != d
        {
            return Err(ModelError::Inconsistent(
                "weights, means, scales and features must match the feature count",
            ));
        }
        if m.scales.iter().any(|s| s.is_nan() || *s <= 0.0) {
            return Err(ModelError::Inconsistent("scales must be positive"));
        }
        Ok(m)
    }

    /// The logit of a feature row.
    pub fn logit(&self, x: &[f64]) -> f64 {
        let terms = self
            .weights
            .iter()
            .zip(&self.means)
            .zip(&self.scales)
            .zip(x);
        self.intercept + terms.map(|(((w, m), s), x)| w * (x - m) / s).sum::<f64>()
    }

    /// P(reached) for a feature row.
    pub fn probability(&self, x: &[f64]) -> f64 {
        1.0 / (1.0 + (-self.logit(x)).exp())
    }

    /// Each feature's contribution to the logit, relative to the average number.
    pub fn contributions(&self, x: &[f64]) -> Vec<f64> {
        (0..self.weights.len().min(x.len()))
            .map(|j| self.weights[j] * (x[j] - self.means[j]) / self.scales[j])
            .collect()
    }

    /// The `k` largest contributions as `(feature index, contribution, words)`.
    pub fn top_factors(
        &self,
        x: &[f64],
        f: &Facts,
        now: i64,
        k: usize,
    ) -> Vec<(usize, f64, String)> {
        let mut c: Vec<(usize, f64)> = self.contributions(x).into_iter().enumerate().collect();
        c.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        c.into_iter()
            .filter(|(_, v)| v.abs() > 1e-3)
            .take(k)
            .map(|(j, v)| (j, v, explain(j, f, now, &self.operators)))
            .collect()
    }
}

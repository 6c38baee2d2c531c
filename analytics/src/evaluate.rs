//! Held-out evaluation: train on an earlier window, test on the latest one, and compare
//! with a constant predictor (the training base rate). What `sendbox score --evaluate` prints.
//!
//! ```
//! use sendbox_analytics::{evaluate::*, generate::*, history::History, model::TrainConfig};
//! let g = Generator::new(GeneratorConfig { recipients: 1500, ..Default::default() }).generate();
//! let h = History::from_rows(g.receipts.iter(), g.feedback.iter());
//! let e = evaluate(&h, None, h.latest().unwrap() + 1, &TrainConfig::default()).unwrap();
//! assert!(e.auc > 0.6, "{}", e.to_text());
//! ```

use crate::history::History;
use crate::model::{Model, ModelError, TrainConfig, samples, vocabulary};
use serde::Serialize;

/// One calibration bin: predicted vs observed rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationBin {
    /// Lower edge of predicted probability.
    pub from: f64,
    /// Upper edge.
    pub to: f64,
    /// Numbers in the bin.
    pub count: usize,
    /// Mean predicted probability.
    pub predicted: f64,
    /// Observed share reached.
    pub observed: f64,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// The evaluated model's version.
    pub model_version: String,
    /// Training numbers.
    pub train_samples: usize,
    /// Held-out numbers.
    pub test_samples: usize,
    /// Held-out base rate.
    pub base_rate: f64,
    /// Area under the ROC curve on held-out numbers (0.5 = no better than chance).
    pub auc: f64,
    /// Brier score of the model (lower is better).
    pub brier: f64,
    /// Brier score of the constant predictor (the training base rate).
    pub constant_brier: f64,
    /// Log loss of the model.
    pub log_loss: f64,
    /// Log loss of the constant predictor.
    pub constant_log_loss: f64,
    /// Ten equal-width bins of predicted probability.
    pub calibration: Vec<CalibrationBin>,
}

/// ROC AUC by the rank-sum (Mann-Whitney) formula, ties averaged. 0.5 with one class.
pub fn auc(scores: &[f64], labels: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len().min(labels.len())).collect();
    idx.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    let (mut rank_sum, mut pos) = (0.0, 0usize);
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in &idx[i..=j] {
            if labels[*k] {
                rank_sum += avg;
                pos += 1;
            }
        }
        i = j + 1;
    }
    let neg = idx.len() - pos;
    if pos == 0 || neg == 0 {
        return 0.5;
    }
    (rank_sum - (pos * (pos + 1)) as f64 / 2.0) / (pos as f64 * neg as f64)
}

fn log_loss(p: f64, y: bool) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    if y { -p.ln() } else { -(1.0 - p).ln() }
}

/// Trains on labels in `[now - 2L, now - L)` (L = `label_days`) and tests on `[now - L, now)`,
/// each featured on what was known before its window.
pub fn evaluate(
    h: &History,
    account: Option<&str>,
    now: i64,
    cfg: &TrainConfig,
) -> Result<Evaluation, ModelError> {
    let l = cfg.label_days * 86_400;
    let idx = match account {
        Some(a) => Some(h.account_index(a).ok_or(ModelError::NotEnoughData {
            samples: 0,
            positives: 0,
            min: cfg.min_samples,
        })?),
        None => None,
    };
    let operators = vocabulary(h);
    let train = samples(h, idx, now - 2 * l, now - l, &operators);
    let model = Model::fit(&train, operators.clone(), account, now - l, cfg)?;
    let test = samples(h, idx, now - l, now, &operators);
    let base = train.y.iter().filter(|y| **y).count() as f64 / train.y.len().max(1) as f64;
    Ok(score_against(&model, &test.x, &test.y, base, train.y.len()))
}

/// Evaluates `model` on labelled rows against a constant `base` predictor.
pub fn score_against(
    model: &Model,
    x: &[Vec<f64>],
    y: &[bool],
    base: f64,
    train_samples: usize,
) -> Evaluation {
    let p: Vec<f64> = x.iter().map(|r| model.probability(r)).collect();
    let n = p.len().max(1) as f64;
    let yf = |b: bool| if b { 1.0 } else { 0.0 };
    let brier = p
        .iter()
        .zip(y)
        .map(|(p, y)| (p - yf(*y)).powi(2))
        .sum::<f64>()
        / n;
    let constant_brier = y.iter().map(|y| (base - yf(*y)).powi(2)).sum::<f64>() / n;
    let ll = p.iter().zip(y).map(|(p, y)| log_loss(*p, *y)).sum::<f64>() / n;
    let cll = y.iter().map(|y| log_loss(base, *y)).sum::<f64>() / n;
    let mut bins: Vec<CalibrationBin> = (0..10)
        .map(|i| CalibrationBin {
            from: i as f64 / 10.0,
            to: (i + 1) as f64 / 10.0,
            count: 0,
            predicted: 0.0,
            observed: 0.0,
        })
        .collect();
    for (p, y) in p.iter().zip(y) {
        let b = &mut bins[((p * 10.0) as usize).min(9)];
        b.count += 1;
        b.predicted += p;
        b.observed += yf(*y);
    }
    for b in &mut bins {
        if b.count > 0 {
            b.predicted /= b.count as f64;
            b.observed /= b.count as f64;
        }
    }
    Evaluation {
        model_version: model.version.clone(),
        train_samples,
        test_samples: p.len(),
        base_rate: y.iter().filter(|y| **y).count() as f64 / n,
        auc: auc(&p, y),
        brier,
        constant_brier,
        log_loss: ll,
        constant_log_loss: cll,
        calibration: bins,
    }
}

impl Evaluation {
    /// Whether the model beats the constant predictor on both AUC and Brier score.
    pub fn beats_constant(&self) -> bool {
        self.auc > 0.5 && self.brier < self.constant_brier
    }

    /// A plain-text table for the command line.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "model {}: trained on {} numbers, tested on {} held-out numbers (base rate {:.3})\n\
             AUC {:.3} (constant predictor 0.500)\n\
             Brier {:.4} (constant {:.4})\nlog loss {:.4} (constant {:.4})\n\
             calibration:\n  predicted      count  mean_pred  observed\n",
            self.model_version,
            self.train_samples,
            self.test_samples,
            self.base_rate,
            self.auc,
            self.brier,
            self.constant_brier,
            self.log_loss,
            self.constant_log_loss
        );
        for b in self.calibration.iter().filter(|b| b.count > 0) {
            s += &format!(
                "  {:.1}-{:.1}  {:>10}  {:>9.3}  {:>8.3}\n",
                b.from, b.to, b.count, b.predicted, b.observed
            );
        }
        s
    }
}

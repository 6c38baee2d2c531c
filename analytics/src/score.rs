//! Scores 0-100 per recipient and account, each with its top factors in words and the
//! model's version and training date.
//!
//! An account with enough history gets its own model ([`Models::train_all`]); others use
//! the service-wide model as a prior. An account model reads the account's own history with
//! the number; the service-wide model reads everything the service knows about it.
//!
//! ```
//! use sendbox_analytics::{generate::*, history::History, model::TrainConfig, score::*};
//! let g = Generator::new(GeneratorConfig { recipients: 400, ..Default::default() }).generate();
//! let h = History::from_rows(g.receipts.iter(), g.feedback.iter());
//! let now = h.latest().unwrap() + 1;
//! let models = Models::train_all(&h, now, &TrainConfig::default());
//! let scorer = Scorer::for_account(&h, &models, "acme", now).unwrap();
//! let s = scorer.score(g.receipts[0].msisdn);
//! assert!(s.score <= 100 && !s.factors.is_empty());
//! ```

use crate::features::{FEATURES, fill};
use crate::history::{Facts, History};
use crate::model::{Model, ModelError, TrainConfig};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The service-wide model and the per-account ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Models {
    /// Trained on every account: the prior for accounts without their own.
    pub global: Option<Model>,
    /// Per account name.
    pub accounts: BTreeMap<String, Model>,
}

impl Models {
    /// Trains the service-wide model and one per account that has enough history. Accounts
    /// without enough history are skipped (they use the global model).
    pub fn train_all(h: &History, now: i64, cfg: &TrainConfig) -> Models {
        let global = Model::train(h, None, now, cfg).ok();
        let accounts = h
            .accounts()
            .iter()
            .filter_map(|a| {
                Model::train(h, Some(a), now, cfg)
                    .ok()
                    .map(|m| (a.clone(), m))
            })
            .collect();
        Models { global, accounts }
    }

    /// Retrains one account's model (on demand); on too little data, removes it so the
    /// account falls back to the global model, and returns the error.
    pub fn retrain_account(
        &mut self,
        h: &History,
        account: &str,
        now: i64,
        cfg: &TrainConfig,
    ) -> Result<&Model, ModelError> {
        match Model::train(h, Some(account), now, cfg) {
            Ok(m) => {
                self.accounts.insert(account.to_string(), m);
                Ok(&self.accounts[account])
            }
            Err(e) => {
                self.accounts.remove(account);
                Err(e)
            }
        }
    }

    /// The model scoring `account`'s recipients: its own, else the global one.
    pub fn for_account(&self, account: &str) -> Option<&Model> {
        self.accounts.get(account).or(self.global.as_ref())
    }

    /// Serialises all models as JSON.
    pub fn to_json(&self) -> String {
        // Plain numbers and strings: cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads [`Models::to_json`] output, checking every model's shape.
    pub fn from_json(s: &str) -> Result<Models, ModelError> {
        let m: Models = serde_json::from_str(s)?;
        for model in m.global.iter().chain(m.accounts.values()) {
            Model::from_json(&serde_json::to_string(model)?)?;
        }
        Ok(m)
    }
}

/// One factor of a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Factor {
    /// The feature's name.
    pub feature: String,
    /// Its effect on the log-odds, relative to the average recipient.
    pub effect: f64,
    /// `raises` or `lowers`.
    pub direction: &'static str,
    /// In words, e.g. "answered 4 of 5 calls".
    pub text: String,
}

/// An explained score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// The number, E.164 digits.
    pub msisdn: u64,
    /// 0-100: the predicted probability of engagement, in percent.
    pub score: u8,
    /// The predicted probability.
    pub probability: f64,
    /// Top contributing factors, largest first.
    pub factors: Vec<Factor>,
    /// The model's version.
    pub model_version: String,
    /// When the model was trained.
    pub model_trained_at: Timestamp,
    /// Whether the model is the account's own (else the service-wide prior).
    pub account_model: bool,
    /// What the history knows about the number.
    pub facts: Facts,
}

/// Scores numbers with one model over one history. Cheap to build; `Sync`.
#[derive(Debug)]
pub struct Scorer<'a> {
    history: &'a History,
    model: &'a Model,
    account: Option<u32>,
    account_model: bool,
    /// History operator index → model vocabulary index.
    op_map: Vec<Option<usize>>,
    now: i64,
}

impl<'a> Scorer<'a> {
    /// A scorer with `model`, reading `account`'s events only if given.
    pub fn new(
        history: &'a History,
        model: &'a Model,
        account: Option<&str>,
        now: i64,
    ) -> Scorer<'a> {
        let op_map = history
            .operators()
            .iter()
            .map(|o| model.operators.iter().position(|m| m == o))
            .collect();
        let account_model = account.is_some();
        // An account unknown to the history has no events: u32::MAX matches none.
        let account = account.map(|a| history.account_index(a).unwrap_or(u32::MAX));
        Scorer {
            history,
            model,
            account,
            account_model,
            op_map,
            now,
        }
    }

    /// The scorer for `account`: its own model on its own history if it has one, else the
    /// global model on the service's history. `None` if no model exists at all.
    pub fn for_account(
        history: &'a History,
        models: &'a Models,
        account: &str,
        now: i64,
    ) -> Option<Scorer<'a>> {
        match models.accounts.get(account) {
            Some(m) => Some(Scorer::new(history, m, Some(account), now)),
            None => models
                .global
                .as_ref()
                .map(|m| Scorer::new(history, m, None, now)),
        }
    }

    /// The model in use.
    pub fn model(&self) -> &Model {
        self.model
    }

    fn row(&self, f: &Facts, x: &mut Vec<f64>) {
        x.clear();
        x.resize(FEATURES.len() + self.model.operators.len(), 0.0);
        fill(f, self.now, &mut x[..FEATURES.len()]);
        if let Some(v) = f
            .operator_idx
            .and_then(|o| self.op_map.get(usize::from(o)).copied().flatten())
        {
            x[FEATURES.len() + v] = 1.0;
        }
    }

    fn to_score(p: f64) -> u8 {
        (p * 100.0).round().clamp(0.0, 100.0) as u8
    }

    /// The score alone (the fast path for bulk scoring). `buf` is reused between calls.
    pub fn score_value(&self, msisdn: u64, buf: &mut Vec<f64>) -> u8 {
        let f = self.history.facts_idx(msisdn, self.account, self.now);
        self.row(&f, buf);
        Self::to_score(self.model.probability(buf))
    }

    /// Scores of many numbers, in order.
    pub fn score_values(&self, msisdns: &[u64]) -> Vec<u8> {
        let mut buf = Vec::new();
        crate::metrics::scored(msisdns.len());
        msisdns
            .iter()
            .map(|m| self.score_value(*m, &mut buf))
            .collect()
    }

    /// The explained score of one number with its top 3 factors.
    pub fn score(&self, msisdn: u64) -> Score {
        let mut f = self.history.facts_idx(msisdn, self.account, self.now);
        f.operator = f
            .operator_idx
            .and_then(|o| self.history.operators().get(usize::from(o)).cloned());
        f.last_permanent_failure = f.permanent_code_idx.map(|(at, c)| {
            (
                at,
                self.history
                    .codes()
                    .get(usize::from(c))
                    .cloned()
                    .unwrap_or_default(),
            )
        });
        let mut x = Vec::new();
        self.row(&f, &mut x);
        let p = self.model.probability(&x);
        let factors = self
            .model
            .top_factors(&x, &f, self.now, 3)
            .into_iter()
            .map(|(j, effect, text)| Factor {
                feature: self.model.features.get(j).cloned().unwrap_or_default(),
                effect,
                direction: if effect >= 0.0 { "raises" } else { "lowers" },
                text,
            })
            .collect();
        Score {
            msisdn,
            score: Self::to_score(p),
            probability: p,
            factors,
            model_version: self.model.version.clone(),
            model_trained_at: self.model.trained_at,
            account_model: self.account_model,
            facts: f,
        }
    }
}

/// `now` as Unix seconds, for callers holding a [`Timestamp`].
pub fn unix(now: Timestamp) -> i64 {
    now.as_second()
}

//! The model on generated histories: it learns a known signal, finds none where there is
//! none, explains itself, and round-trips through JSON.

use sendbox_analytics::evaluate::{auc, evaluate};
use sendbox_analytics::generate::{Generator, GeneratorConfig};
use sendbox_analytics::history::History;
use sendbox_analytics::model::{Model, ModelError, TrainConfig};
use sendbox_analytics::score::{Models, Scorer};

fn history(signal: bool, recipients: usize, seed: u64) -> (History, i64) {
    let g = Generator::new(GeneratorConfig {
        recipients,
        signal,
        seed,
        ..Default::default()
    })
    .generate();
    let h = History::from_rows(g.receipts.iter(), g.feedback.iter());
    let now = h.latest().unwrap() + 1;
    (h, now)
}

#[test]
fn model_beats_a_constant_predictor_when_the_signal_is_there() {
    let (h, now) = history(true, 3000, 11);
    let e = evaluate(&h, None, now, &TrainConfig::default()).unwrap();
    assert!(e.auc > 0.65, "{}", e.to_text());
    assert!(e.beats_constant(), "{}", e.to_text());
    assert!(e.log_loss < e.constant_log_loss, "{}", e.to_text());
    assert!(e.to_text().contains("AUC"));
}

#[test]
fn model_finds_nothing_when_there_is_no_signal() {
    let (h, now) = history(false, 3000, 12);
    let e = evaluate(&h, None, now, &TrainConfig::default()).unwrap();
    assert!((0.42..0.58).contains(&e.auc), "{}", e.to_text());
}

#[test]
fn auc_is_one_for_perfect_ranking_and_half_for_ties() {
    assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]), 1.0);
    assert_eq!(auc(&[0.5; 4], &[false, true, false, true]), 0.5);
    assert_eq!(auc(&[0.9, 0.1], &[false, true]), 0.0);
}

#[test]
fn scores_come_with_factors_in_words_and_the_model_version() {
    let (h, now) = history(true, 1500, 13);
    let models = Models::train_all(&h, now, &TrainConfig::default());
    let scorer = Scorer::for_account(&h, &models, "acme", now).unwrap();
    let best = h
        .msisdns()
        .max_by_key(|m| {
            let f = h.facts_idx(*m, None, now);
            (f.calls_answered, f.calls)
        })
        .unwrap();
    let s = scorer.score(best);
    assert!(s.account_model);
    assert!(s.score > 50, "{s:?}");
    assert_eq!(s.model_version, models.accounts["acme"].version);
    assert_eq!(s.factors.len(), 3);
    assert!(
        s.factors.iter().any(|f| f.text.contains(" of ")),
        "{:?}",
        s.factors
    );
    assert_eq!(scorer.score_values(&[best])[0], s.score);
    // A number nobody knows: the factors say so.
    let unknown = scorer.score(77019999999);
    assert!(
        unknown
            .factors
            .iter()
            .any(|f| f.text.contains("no history") || f.text.contains("never")),
        "{:?}",
        unknown.factors
    );
}

#[test]
fn new_accounts_fall_back_to_the_service_wide_model() {
    let (h, now) = history(true, 800, 14);
    let models = Models::train_all(&h, now, &TrainConfig::default());
    let s = Scorer::for_account(&h, &models, "newcomer", now).unwrap();
    assert_eq!(s.model().account, None);
    let score = s.score(h.msisdns().next().unwrap());
    assert!(!score.account_model);
}

#[test]
fn too_little_history_is_a_clear_error() {
    let (h, now) = history(true, 20, 15);
    match Model::train(&h, None, now, &TrainConfig::default()) {
        Err(ModelError::NotEnoughData { samples, min, .. }) => assert!(samples < min),
        other => panic!("expected NotEnoughData, got {other:?}"),
    }
}

#[test]
fn models_round_trip_through_json_and_bad_json_is_refused() {
    let (h, now) = history(true, 600, 16);
    let models = Models::train_all(&h, now, &TrainConfig::default());
    let back = Models::from_json(&models.to_json()).unwrap();
    assert_eq!(back.global, models.global);
    let m = models.global.unwrap();
    let mut bad: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
    bad["weights"] = serde_json::json!([1.0]);
    assert!(matches!(
        Model::from_json(&bad.to_string()),
        Err(ModelError::Inconsistent(_))
    ));
    assert!(matches!(Model::from_json("{"), Err(ModelError::Json(_))));
}

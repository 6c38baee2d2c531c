//! The model's inputs: a fixed vector of explainable features computed from [`Facts`], and
//! the words that explain each one.
//!
//! ```
//! use sendbox_analytics::features::{features, FEATURES};
//! use sendbox_analytics::history::Facts;
//! let f = Facts { calls: 5, calls_answered: 4, ..Facts::default() };
//! let x = features(&f, 0, 0, None);
//! assert_eq!(x.len(), FEATURES.len());
//! assert!(x[1] > 0.6); // answer rate, smoothed
//! ```

use crate::history::Facts;

/// Names of the fixed features, in vector order. Operator indicators follow them.
pub const FEATURES: [&str; 13] = [
    "delivery_rate",
    "answer_rate",
    "listened_fraction",
    "key_press_rate",
    "reply_rate",
    "days_since_reached",
    "permanent_failures",
    "no_history",
    "attempts",
    "engaged_morning",
    "engaged_afternoon",
    "engaged_evening",
    "engaged_night",
];

const DAY: f64 = 86_400.0;

/// The feature vector of `facts` as of `now` (Unix seconds): the [`FEATURES`], then
/// `operators` indicators, of which the one at `operator` (the number's last operator in the
/// model's vocabulary, if any) is 1.
pub fn features(facts: &Facts, now: i64, operators: usize, operator: Option<usize>) -> Vec<f64> {
    let mut x = vec![0.0; FEATURES.len() + operators];
    fill(facts, now, &mut x[..FEATURES.len()]);
    if let Some(slot) = operator.and_then(|o| x.get_mut(FEATURES.len() + o)) {
        *slot = 1.0;
    }
    x
}

/// Writes the [`FEATURES`] of `facts` into `x` (length `FEATURES.len()`), allocation-free.
pub fn fill(f: &Facts, now: i64, x: &mut [f64]) {
    let r = |num: u32, den: u32| (f64::from(num) + 1.0) / (f64::from(den) + 2.0);
    x[0] = r(f.sms_delivered, f.sms_sent);
    x[1] = r(f.calls_answered, f.calls);
    x[2] = (f.heard_fraction_sum + 0.5) / (f64::from(f.calls_answered) + 1.0);
    x[3] = f64::from(f.key_presses) / (f64::from(f.calls_answered) + 1.0);
    x[4] = f64::from(f.replies) / (f64::from(f.sms_delivered) + 1.0);
    x[5] = f
        .last_reached
        .map_or(1.0, |t| ((now - t) as f64 / DAY / 365.0).clamp(0.0, 1.0));
    x[6] = f64::from(f.permanent_failures.min(5)) / 5.0;
    x[7] = if f.attempts() == 0 { 1.0 } else { 0.0 };
    x[8] = (1.0 + f64::from(f.attempts())).ln() / 50f64.ln();
    let engaged: u32 = f.engaged_by_daypart.iter().sum();
    for (i, n) in f.engaged_by_daypart.iter().enumerate() {
        x[9 + i] = f64::from(*n) / (f64::from(engaged) + 1.0);
    }
}

/// Words explaining feature `i` (an index into the full vector) for these facts, e.g.
/// "answered 4 of 5 calls". `operators` is the model's operator vocabulary.
pub fn explain(i: usize, f: &Facts, now: i64, operators: &[String]) -> String {
    let days = |t: i64| (now - t).max(0) / 86_400;
    match i {
        0 if f.sms_sent == 0 => "no SMS sent yet".into(),
        0 => format!("{} of {} SMS delivered", f.sms_delivered, f.sms_sent),
        1 if f.calls == 0 => "never called".into(),
        1 => format!("answered {} of {} calls", f.calls_answered, f.calls),
        2 if f.calls_answered == 0 => "never listened to a prompt".into(),
        2 => format!(
            "heard {}% of the prompt on average, {} of {} to the end",
            (100.0 * f.heard_fraction_sum / f64::from(f.calls_answered)).round(),
            f.heard_to_end,
            f.calls_answered
        ),
        3 => format!(
            "pressed a key in {} of {} answered calls",
            f.key_presses, f.calls_answered
        ),
        4 => format!(
            "replied {} times to {} delivered SMS",
            f.replies, f.sms_delivered
        ),
        5 => match f.last_reached {
            Some(t) => format!("last reached {} days ago", days(t)),
            None if f.attempts() > 0 => format!("never reached in {} attempts", f.attempts()),
            None => "never reached".into(),
        },
        6 => match &f.last_permanent_failure {
            Some((_, code)) => format!(
                "{} permanent failures (last: {})",
                f.permanent_failures,
                crate::history::describe_code(code)
            ),
            None => format!("{} permanent failures", f.permanent_failures),
        },
        7 if f.attempts() == 0 => "no history with this number".into(),
        7 => "has history with this number".into(),
        8 => format!("{} attempts in history", f.attempts()),
        9..=12 => {
            let part = ["morning", "afternoon", "evening", "night"][i - 9];
            let total: u32 = f.engaged_by_daypart.iter().sum();
            format!(
                "{} of {} responses in the {part}",
                f.engaged_by_daypart[i - 9],
                total
            )
        }
        _ => match operators.get(i - FEATURES.len()) {
            Some(op) if f.operator.as_deref() == Some(op.as_str()) => format!("operator {op}"),
            Some(op) => format!("not on operator {op}"),
            None => "unknown factor".into(),
        },
    }
}

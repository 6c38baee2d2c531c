//! Prints the held-out evaluation of the engagement model on a generated history, with and
//! without a signal: what `sendbox score --evaluate` prints for a real one.
//!
//! `cargo run --release -p sendbox-analytics --example evaluate -- [RECIPIENTS]`

use sendbox_analytics::evaluate::evaluate;
use sendbox_analytics::generate::{Generator, GeneratorConfig};
use sendbox_analytics::history::History;
use sendbox_analytics::model::TrainConfig;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let recipients = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20_000);
    for signal in [true, false] {
        let g = Generator::new(GeneratorConfig {
            recipients,
            signal,
            ..Default::default()
        })
        .generate();
        let h = History::from_rows(g.receipts.iter(), g.feedback.iter());
        let now = h.latest().ok_or("empty history")? + 1;
        let e = evaluate(&h, None, now, &TrainConfig::default())?;
        println!(
            "== generated history, {recipients} recipients, signal: {signal}\n{}",
            e.to_text()
        );
    }
    Ok(())
}

//! `sendbox score --evaluate` and `sendbox report CAMPAIGN_ID --html out.html`: the analytics
//! from the command line, over the store a configuration names.

use crate::app::store_url;
use anyhow::Context;
use clap::Args;
use sendbox_analytics::history::History;
use sendbox_analytics::model::TrainConfig;
use sendbox_analytics::report::{CampaignReport, load_campaign, recipients_csv};
use sendbox_analytics::score::{Models, Scorer};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `sendbox score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The configuration file (its store is read).
    #[arg(long, short, default_value = "/etc/sendbox/sendbox.toml")]
    pub config: PathBuf,
    /// Train on older history, test on the last 30 days, print AUC and calibration.
    #[arg(long)]
    pub evaluate: bool,
    /// Only this account's history.
    #[arg(long)]
    pub account: Option<String>,
}

/// Arguments of `sendbox report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The campaign id.
    pub campaign: u64,
    /// The configuration file (its store is read).
    #[arg(long, short, default_value = "/etc/sendbox/sendbox.toml")]
    pub config: PathBuf,
    /// Write the self-contained HTML report here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Write the JSON report here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the per-recipient CSV here.
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

async fn open_store(
    config: &std::path::Path,
) -> anyhow::Result<std::sync::Arc<dyn sendbox_store::Store>> {
    let config = sendbox_config::load(config).map_err(|e| anyhow::anyhow!("{e}"))?;
    sendbox_store::open(&store_url(&config.store.url))
        .await
        .with_context(|| format!("opening {}", config.store.url.redacted()))
}

/// Run `sendbox score`.
pub async fn score(args: ScoreArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(&args.config).await?;
    let history = History::load(store.as_ref(), args.account.as_deref()).await?;
    let now = jiff::Timestamp::now().as_second();
    if args.evaluate {
        let e = sendbox_analytics::evaluate::evaluate(
            &history,
            args.account.as_deref(),
            now,
            &TrainConfig::default(),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        print!("{}", e.to_text());
        return Ok(ExitCode::SUCCESS);
    }
    let models = Models::train_all(&history, now, &TrainConfig::default());
    println!(
        "trained on {} numbers: global model {}, {} account models",
        history.len(),
        if models.global.is_some() {
            "yes"
        } else {
            "no (not enough history)"
        },
        models.accounts.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Run `sendbox report`.
pub async fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(&args.config).await?;
    let Some(data) = load_campaign(store.as_ref(), args.campaign).await? else {
        eprintln!("no campaign {}", args.campaign);
        return Ok(ExitCode::from(2));
    };
    let account = data.campaign.as_ref().map(|c| c.account.clone());
    let history = History::load(store.as_ref(), None).await?;
    let now = jiff::Timestamp::now().as_second();
    let models = Models::train_all(&history, now, &TrainConfig::default());
    let recipients = data.recipients();
    let scores = account
        .as_deref()
        .and_then(|a| Scorer::for_account(&history, &models, a, now))
        .map(|s| s.score_values(&recipients));
    let by_number: HashMap<u64, u8> = match &scores {
        Some(s) => recipients.iter().copied().zip(s.iter().copied()).collect(),
        None => HashMap::new(),
    };
    let report = CampaignReport::build(&data, None, scores.as_deref());
    if let Some(p) = &args.html {
        std::fs::write(p, sendbox_analytics::html::render(&report))?;
        println!("HTML report: {}", p.display());
    }
    if let Some(p) = &args.json {
        std::fs::write(p, report.to_json())?;
        println!("JSON report: {}", p.display());
    }
    if let Some(p) = &args.csv {
        let csv = recipients_csv(&data, &by_number, Vec::new())?;
        std::fs::write(p, csv)?;
        println!("CSV per recipient: {}", p.display());
    }
    if args.html.is_none() && args.json.is_none() && args.csv.is_none() {
        println!("{}", report.to_json());
    }
    Ok(ExitCode::SUCCESS)
}

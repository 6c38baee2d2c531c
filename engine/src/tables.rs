//! The engine's reloadable lookup tables, built from the configuration: operator and account
//! names, the router (DEF prefixes and number portability), calling-window rules and tariffs.
//!
//! Built before any port is bound; rebuilt on SIGHUP and swapped atomically, so a bad new file
//! leaves the old tables in force.

use anyhow::{Context, anyhow};
use sendbox_config::{Config, WindowRule as RuleConfig};
use sendbox_dispatch::{AccountId, Content, OperatorId, Ready, TrafficClass};
use sendbox_policy::portability::Portability;
use sendbox_policy::route::Router;
use sendbox_policy::window::{WindowPolicy, WindowRule};
use std::sync::Arc;

/// Operator and account names by index (config order).
#[derive(Debug, Default)]
pub struct Names {
    /// Operator ids.
    pub operators: Vec<Arc<str>>,
    /// Account ids.
    pub accounts: Vec<Arc<str>>,
}

impl Names {
    /// From the config's order.
    pub fn from_config(config: &Config) -> Self {
        Names {
            operators: config
                .operators
                .keys()
                .map(|k| Arc::from(k.as_str()))
                .collect(),
            accounts: config
                .accounts
                .keys()
                .map(|k| Arc::from(k.as_str()))
                .collect(),
        }
    }

    /// An operator's id (`?` if out of range, which the engine never produces).
    pub fn operator(&self, op: OperatorId) -> &str {
        self.operators.get(usize::from(op.0)).map_or("", |s| s)
    }

    /// An account's id.
    pub fn account(&self, a: AccountId) -> &str {
        self.accounts.get(a.0 as usize).map_or("?", |s| s)
    }

    /// An account's id, shared: store rows hold it without a copy per row.
    pub fn account_shared(&self, a: AccountId) -> Arc<str> {
        shared_name(&self.accounts, a.0 as usize, "?")
    }

    /// An operator's id, shared (empty for "no operator", as [`Names::operator`]).
    pub fn operator_shared(&self, op: OperatorId) -> Arc<str> {
        shared_name(&self.operators, usize::from(op.0), "")
    }

    /// The index of the account with id `id`.
    pub fn account_index(&self, id: &str) -> Option<AccountId> {
        self.accounts
            .iter()
            .position(|a| &**a == id)
            .map(|i| AccountId(i as u32))
    }

    /// The index of the operator with id `id`.
    pub fn operator_index(&self, id: &str) -> Option<OperatorId> {
        self.operators
            .iter()
            .position(|a| &**a == id)
            .map(|i| OperatorId(i as u16))
    }
}

/// Prices of one operator, in tiyn.
#[derive(Debug, Clone, Copy, Default)]
pub struct Prices {
    /// Per SMS segment.
    pub sms_segment: i64,
    /// Per call attempt.
    pub call_attempt: i64,
    /// Per answered second.
    pub call_second: i64,
    /// Answered time is rounded up to a multiple of this.
    pub increment: u32,
}

impl Prices {
    /// Answered seconds, rounded up to the increment, priced.
    pub fn seconds_cost(&self, seconds: u32) -> i64 {
        let inc = self.increment.max(1);
        let billed = seconds.div_ceil(inc) * inc;
        i64::from(billed).saturating_mul(self.call_second)
    }
}

/// Everything a dispatch is checked against that a reload may change.
#[derive(Debug)]
pub struct Tables {
    /// Names by index.
    pub names: Arc<Names>,
    /// Operator ids, for metrics labels.
    pub operators: Vec<Arc<str>>,
    /// Number → operator.
    pub router: Router,
    /// Calling-window rules.
    pub window: WindowPolicy,
    /// Prices per operator.
    pub prices: Vec<Prices>,
}

impl Tables {
    /// Build from a validated config. Fails if the portability file cannot be read.
    pub fn from_config(config: &Config) -> anyhow::Result<Tables> {
        let names = Arc::new(Names::from_config(config));
        let mut defs = Vec::new();
        for (i, op) in config.operators.values().enumerate() {
            for p in &op.prefixes {
                let def: u16 = p
                    .parse()
                    .with_context(|| format!("operators.{}.prefixes: bad code {p}", op.id))?;
                defs.push((def, OperatorId(i as u16)));
            }
        }
        let mut router = Router::new(defs).map_err(|e| anyhow!("operators.*.prefixes: {e}"))?;
        let portability_files: Vec<_> = config
            .operators
            .values()
            .filter_map(|o| o.portability_csv.clone())
            .collect();
        if !portability_files.is_empty() {
            let by_id = |name: &str| names.operator_index(name);
            let (table, report) = Portability::load(&portability_files, by_id)
                .context("operators.*.portability_csv: cannot read the number-portability file")?;
            for e in report.errors.iter().take(20) {
                tracing::warn!(%e, "Portability line skipped.");
            }
            tracing::info!(
                files = portability_files.len(),
                entries = report.entries,
                bad_lines = report.bad_lines(),
                "Number portability table loaded."
            );
            router = router.with_portability(Arc::new(table));
        }
        let window = window_policy(config)?;
        let prices = config
            .operators
            .keys()
            .map(|id| {
                let t = config.tariff(id);
                Prices {
                    sms_segment: t.and_then(|t| t.sms_segment_tiyn).unwrap_or(0) as i64,
                    call_attempt: t.and_then(|t| t.call_attempt_tiyn).unwrap_or(0) as i64,
                    call_second: t.and_then(|t| t.call_second_tiyn).unwrap_or(0) as i64,
                    increment: t.map_or(1, |t| t.billing_increment_seconds),
                }
            })
            .collect();
        Ok(Tables {
            operators: names.operators.clone(),
            names,
            router,
            window,
            prices,
        })
    }

    /// An operator's id for labels.
    pub fn operator_name(&self, op: OperatorId) -> Arc<str> {
        shared_name(&self.operators, usize::from(op.0), "?")
    }

    fn prices(&self, op: OperatorId) -> Prices {
        self.prices
            .get(usize::from(op.0))
            .copied()
            .unwrap_or_default()
    }

    /// What to reserve when a dispatch is queued: every segment of an SMS; for a call, the
    /// attempt plus the whole prompt played `repeat` times.
    pub fn reservation(&self, d: &Ready) -> i64 {
        let p = self.prices(d.operator);
        match &*d.content {
            Content::Sms(s) => p.sms_segment * i64::from(s.segments),
            Content::Voice(v) => {
                let secs = (v.prompt_ms() * u64::from(v.repeat.max(1))).div_ceil(1000) + 1;
                p.call_attempt + p.seconds_cost(u32::try_from(secs).unwrap_or(u32::MAX))
            }
        }
    }

    /// What the handoff costs: segments × price, or the attempt fee.
    pub fn handoff_cost(&self, d: &Ready, units: u32) -> i64 {
        let p = self.prices(d.operator);
        match &*d.content {
            Content::Sms(_) => p.sms_segment * i64::from(units),
            Content::Voice(_) => p.call_attempt,
        }
    }

    /// What `seconds` of an answered call cost.
    pub fn call_seconds_cost(&self, op: OperatorId, seconds: u32) -> i64 {
        self.prices(op).seconds_cost(seconds)
    }
}

fn rule(r: &RuleConfig) -> anyhow::Result<WindowRule> {
    let mut days = 0u8;
    for (bit, wd) in [
        jiff::civil::Weekday::Monday,
        jiff::civil::Weekday::Tuesday,
        jiff::civil::Weekday::Wednesday,
        jiff::civil::Weekday::Thursday,
        jiff::civil::Weekday::Friday,
        jiff::civil::Weekday::Saturday,
        jiff::civil::Weekday::Sunday,
    ]
    .into_iter()
    .enumerate()
    {
        if r.days.contains(wd) {
            days |= 1 << bit;
        }
    }
    WindowRule::try_new(
        r.start.minutes(),
        r.end.minutes(),
        days,
        r.closed_on_holidays,
    )
    .map_err(|e| anyhow!("{e}"))
}

fn window_policy(config: &Config) -> anyhow::Result<WindowPolicy> {
    let w = &config.window;
    let mut p = WindowPolicy::new(w.timezone.clone(), rule(&w.default)?)
        .with_holidays(w.holidays.iter().copied());
    for (class, cfg) in [
        (TrafficClass::Service, &w.classes.service),
        (TrafficClass::Marketing, &w.classes.marketing),
        (TrafficClass::Otp, &w.classes.otp),
    ] {
        if let Some(r) = cfg {
            p = p.with_class(class, rule(r)?);
        }
    }
    for (i, op) in config.operators.values().enumerate() {
        if let Some(r) = &op.window {
            p = p.with_operator(OperatorId(i as u16), rule(r)?);
        }
    }
    for (i, a) in config.accounts.values().enumerate() {
        if let Some(r) = &a.window {
            p = p.with_account(AccountId(i as u32), rule(r)?);
        }
    }
    Ok(p)
}

/// The name at `i` of `names`, shared, or `missing` (out of range: the engine never produces
/// such an id).
fn shared_name(names: &[Arc<str>], i: usize, missing: &str) -> Arc<str> {
    names.get(i).cloned().unwrap_or_else(|| Arc::from(missing))
}

//! The semantic pass: after parsing, check everything and report *all* problems at once, each
//! with its key path. It also normalises a few values (holidays sorted, hashes lower-cased).

use crate::error::Errors;
use crate::{Config, LoadError, StoreUrl, TokenHash, WindowRule};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// Checks `config`; on failure returns [`LoadError::Invalid`] with every problem found.
pub(crate) fn validate(config: &mut Config) -> Result<(), LoadError> {
    let mut errs = Errors::new(&config.file);
    api(config, &mut errs);
    store(config, &mut errs);
    crate::validate_operator::operators(config, &mut errs);
    crate::validate_operator::tariffs(config, &mut errs);
    window(config, &mut errs);
    accounts(config, &mut errs);
    misc(config, &mut errs);
    errs.into_result()
}

/// An id usable as a table key and a metric label: `[a-z0-9_-]`, 1..=32, starting alphanumeric.
pub(crate) fn check_id(errs: &mut Errors, path: &str, id: &str) {
    let ok = !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && id.as_bytes()[0].is_ascii_alphanumeric();
    if !ok {
        errs.push(
            path,
            format!(
                "id {id:?} must be 1..=32 of a-z, 0-9, '_', '-', starting with a letter or digit"
            ),
        );
    }
}

/// A named, non-empty text field.
pub(crate) fn check_nonempty(errs: &mut Errors, path: &str, value: &str) {
    if value.trim().is_empty() {
        errs.push(path, "must not be empty");
    }
}

/// A file the engine will read at start-up.
pub(crate) fn check_file(errs: &mut Errors, path: &str, file: &Path) {
    match std::fs::metadata(file) {
        Ok(m) if m.is_file() => {}
        Ok(_) => errs.push(path, format!("{} is not a file", file.display())),
        Err(e) => errs.push(path, format!("cannot read {}: {e}", file.display())),
    }
}

/// A duration that must be positive.
pub(crate) fn check_positive(errs: &mut Errors, path: &str, d: Duration) {
    if d.is_zero() {
        errs.push(path, "must be longer than 0s");
    }
}

/// A rule must be open some time, and a narrower rule must overlap the default.
pub(crate) fn check_rule(
    errs: &mut Errors,
    path: &str,
    rule: &WindowRule,
    default: Option<&WindowRule>,
) {
    if rule.start >= rule.end {
        errs.push(
            format!("{path}.end"),
            format!("must be after start ({}), got {}", rule.start, rule.end),
        );
        return;
    }
    if rule.days.is_empty() {
        errs.push(format!("{path}.days"), "must list at least one day");
        return;
    }
    if let Some(default) = default
        && !default.is_empty()
        && rule.intersect(default).is_empty()
    {
        errs.push(
            path,
            format!("this rule ({rule}) never overlaps window.default ({default}): nothing could ever be sent"),
        );
    }
}

/// A token hash must be 64 hex digits; the value is not quoted (it may be a pasted raw token).
fn check_hash(errs: &mut Errors, path: &str, hash: &mut TokenHash) {
    if hash.is_well_formed() {
        hash.0.make_ascii_lowercase();
    } else {
        errs.push(
            path,
            format!(
                "must be the SHA-256 of the token as 64 hex digits, got {} characters (value not shown)",
                hash.0.chars().count()
            ),
        );
    }
}

fn api(config: &mut Config, errs: &mut Errors) {
    errs.range("api.max_batch", config.api.max_batch, 1, 1_000_000);
    if let Some(h) = &mut config.api.admin_token_sha256 {
        check_hash(errs, "api.admin_token_sha256", h);
    }
    let (api, metrics) = (config.api.listen, config.metrics.listen);
    if api == metrics && api.port() != 0 {
        errs.push("metrics.listen", format!("{metrics} is also api.listen"));
    }
}

fn store(config: &Config, errs: &mut Errors) {
    if let StoreUrl::Sqlite(path) = &config.store.url {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !dir.is_dir() {
            errs.push(
                "store.url",
                format!("directory {} does not exist", dir.display()),
            );
        }
    }
}

fn window(config: &mut Config, errs: &mut Errors) {
    let w = &mut config.window;
    w.holidays.sort_unstable();
    w.holidays.dedup();
    check_rule(errs, "window.default", &w.default, None);
    for class in crate::Class::ALL {
        if let Some(rule) = w.classes.get(class) {
            check_rule(
                errs,
                &format!("window.classes.{class}"),
                rule,
                Some(&w.default),
            );
        }
    }
}

fn accounts(config: &mut Config, errs: &mut Errors) {
    let default = config.window.default;
    // Token hash → the key that first used it, so two callers never share a token.
    let mut owners: HashMap<String, String> = HashMap::new();
    if let Some(h) = &config.api.admin_token_sha256
        && h.is_well_formed()
    {
        owners.insert(h.as_hex().to_owned(), "api.admin_token_sha256".to_owned());
    }
    for (id, a) in &mut config.accounts {
        let at = format!("accounts.{id}");
        check_id(errs, &at, id);
        check_nonempty(errs, &format!("{at}.name"), &a.name);
        let hash_path = format!("{at}.token_sha256");
        check_hash(errs, &hash_path, &mut a.token_sha256);
        if a.token_sha256.is_well_formed() {
            if let Some(first) = owners.get(a.token_sha256.as_hex()) {
                errs.push(
                    &hash_path,
                    format!("same token hash as {first}; every caller needs its own token"),
                );
            } else {
                owners.insert(a.token_sha256.as_hex().to_owned(), hash_path);
            }
        }
        if let Some(rule) = &a.window {
            check_rule(errs, &format!("{at}.window"), rule, Some(&default));
        }
        if let Some(p) = &a.blacklist {
            check_file(errs, &format!("{at}.blacklist"), p);
        }
        if let Some(senders) = &a.senders {
            if senders.is_empty() {
                errs.push(
                    format!("{at}.senders"),
                    "must list at least one sender (omit it to allow any)",
                );
            }
            for (i, s) in senders.iter().enumerate() {
                if let Err(why) = check_sender(s) {
                    errs.push(format!("{at}.senders[{i}]"), why);
                }
            }
        }
        if a.classes.as_ref().is_some_and(Vec::is_empty) {
            errs.push(
                format!("{at}.classes"),
                "must list at least one class (omit it to allow all)",
            );
        }
    }
}

/// A sender id: alphanumeric (1..=11 characters, not all digits) or numeric (1..=15 digits).
fn check_sender(s: &str) -> Result<(), String> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits {
        return if s.len() <= 15 {
            Ok(())
        } else {
            Err(format!("numeric sender {s:?} is longer than 15 digits"))
        };
    }
    let printable = s.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    if s.is_empty() || s.len() > 11 || !printable {
        return Err(format!(
            "sender {s:?} must be 1..=11 ASCII characters, or up to 15 digits"
        ));
    }
    Ok(())
}

fn misc(config: &Config, errs: &mut Errors) {
    for (i, p) in config.blacklist.files.iter().enumerate() {
        check_file(errs, &format!("blacklist.files[{i}]"), p);
    }
    if config.queues.capacity_per_operator == 0 {
        errs.push("queues.capacity_per_operator", "must be at least 1, got 0");
    }
    let v = &config.voice;
    errs.range("voice.max_attempts", v.max_attempts, 1, 10);
    errs.range("voice.min_prompt_seconds", v.min_prompt_seconds, 0, 600);
    check_positive(errs, "voice.retry_interval", v.retry_interval);
    let a = &v.audio;
    if a.max_bytes == 0 {
        errs.push("voice.audio.max_bytes", "must be at least 1, got 0");
    }
    check_positive(errs, "voice.audio.max_duration", a.max_duration);
    if Duration::from_secs(u64::from(v.min_prompt_seconds)) > a.max_duration {
        errs.push(
            "voice.min_prompt_seconds",
            format!(
                "{}s is longer than voice.audio.max_duration",
                v.min_prompt_seconds
            ),
        );
    }
    if !(-60.0..=0.0).contains(&a.normalize_dbfs) {
        errs.push(
            "voice.audio.normalize_dbfs",
            format!("must be -60.0..=0.0, got {}", a.normalize_dbfs),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_follow_the_alphanumeric_and_numeric_limits() {
        assert!(check_sender("ACME").is_ok());
        assert!(check_sender("77011234567").is_ok());
        assert!(check_sender("TwelveChars!").is_err());
        assert!(check_sender("").is_err());
        assert!(check_sender("1234567890123456").is_err());
    }
}

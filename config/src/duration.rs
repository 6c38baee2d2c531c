//! Durations written as humantime strings (`"30s"`, `"10m"`, `"48h"`, `"1h 30m"`).
//!
//! Used with `#[serde(with = "crate::duration")]`, or `crate::duration::option` for an optional key.

use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// Parses a humantime string, with an error that quotes it (durations are never secrets).
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| {
        format!("invalid duration {text:?} ({e}); write e.g. \"30s\", \"10m\", \"48h\"")
    })
}

/// Deserializes a required duration string.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// Optional duration strings.
pub(crate) mod option {
    use super::*;

    /// Deserializes an optional duration string (use with `#[serde(default)]`).
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map(Some).map_err(serde::de::Error::custom)
    }
}

/// Formats a duration for `check-config` output: `30s`, `48h`, `1h 30m`.
pub(crate) fn show(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_units() {
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse("48h"), Ok(Duration::from_secs(48 * 3600)));
        assert_eq!(parse("1h 30m"), Ok(Duration::from_secs(5400)));
    }

    #[test]
    fn rejects_a_bare_number_and_unknown_units() {
        assert!(parse("30").is_err());
        assert!(parse("30x").unwrap_err().contains("\"30x\""));
    }
}

//! `[window]`: the calling window — time zone, holidays, the default rule and per-class rules.
//!
//! ```toml
//! [window]
//! timezone = "Asia/Almaty"          # looked up in jiff's bundled tz database
//! holidays = ["2026-12-16"]
//! [window.default]                  # the service terms: 09:00–20:00 every day
//! start = "09:00"
//! end = "20:00"
//! [window.classes.marketing]
//! start = "10:00"
//! end = "20:00"
//! days = ["mon", "tue", "wed", "thu", "fri"]
//! closed_on_holidays = true
//! ```
//!
//! Operators (`[operators.<id>.window]`) and accounts (`[accounts.<id>.window]`) may narrow
//! further; the policy crate intersects them all.

use crate::WindowRule;
use jiff::civil::Date;
use jiff::tz::{TimeZone, TimeZoneDatabase};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// The default time zone of the service terms.
pub const DEFAULT_TIMEZONE: &str = "Asia/Almaty";

/// `[window]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowConfig {
    /// The IANA zone the rules are written in (default `Asia/Almaty`), from jiff's bundled tzdb
    /// so every host gives the same answer.
    #[serde(
        default = "default_timezone",
        deserialize_with = "deserialize_timezone"
    )]
    pub timezone: TimeZone,
    /// Public holidays, as local dates; sorted and deduplicated at load (binary-searchable).
    #[serde(default)]
    pub holidays: Vec<Date>,
    /// The rule every dispatch obeys; default 09:00–20:00 every day, open on holidays.
    #[serde(default)]
    pub default: WindowRule,
    /// Narrower rules per traffic class.
    #[serde(default)]
    pub classes: WindowClasses,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            timezone: default_timezone(),
            holidays: Vec::new(),
            default: WindowRule::default(),
            classes: WindowClasses::default(),
        }
    }
}

impl WindowConfig {
    /// Whether `date` (local, in [`WindowConfig::timezone`]) is a listed holiday.
    pub fn is_holiday(&self, date: Date) -> bool {
        self.holidays.binary_search(&date).is_ok()
    }

    /// The time zone's IANA name, e.g. `Asia/Almaty`.
    pub fn timezone_name(&self) -> &str {
        self.timezone.iana_name().unwrap_or("(unnamed)")
    }
}

/// `[window.classes.*]`: one optional rule per traffic class. Unknown classes are rejected.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowClasses {
    /// Notifications the customer asked for.
    pub service: Option<WindowRule>,
    /// Promotional traffic.
    pub marketing: Option<WindowRule>,
    /// One-time passwords.
    pub otp: Option<WindowRule>,
}

impl WindowClasses {
    /// The rule for `class`, if one is configured.
    pub fn get(&self, class: Class) -> Option<&WindowRule> {
        match class {
            Class::Service => self.service.as_ref(),
            Class::Marketing => self.marketing.as_ref(),
            Class::Otp => self.otp.as_ref(),
        }
    }
}

/// A traffic class as the config names it (`service`, `marketing`, `otp`); the engine maps it
/// to `sendbox_dispatch::TrafficClass`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Notifications the customer asked for.
    Service,
    /// Promotional traffic.
    Marketing,
    /// One-time passwords.
    Otp,
}

impl Class {
    /// All classes, in config order.
    pub const ALL: [Class; 3] = [Class::Service, Class::Marketing, Class::Otp];

    /// The lower-case name used in the config and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Service => "service",
            Class::Marketing => "marketing",
            Class::Otp => "otp",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Looks `name` up in jiff's bundled tz database (never the host's, never a fixed offset).
pub fn lookup_timezone(name: &str) -> Result<TimeZone, String> {
    TimeZoneDatabase::bundled().get(name).map_err(|_| {
        format!("unknown time zone {name:?}; use an IANA name such as \"Asia/Almaty\"")
    })
}

fn default_timezone() -> TimeZone {
    // Asia/Almaty is in every tzdb release jiff bundles; a failure would be a build problem,
    // and falling back to UTC would be silently wrong, so this is checked by a unit test.
    lookup_timezone(DEFAULT_TIMEZONE).unwrap_or(TimeZone::UTC)
}

fn deserialize_timezone<'de, D: Deserializer<'de>>(d: D) -> Result<TimeZone, D::Error> {
    let name = String::deserialize(d)?;
    lookup_timezone(&name).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_timezone_is_almaty_at_utc_plus_5_since_2024() {
        let tz = default_timezone();
        assert_eq!(tz.iana_name(), Some("Asia/Almaty"));
        // 2024-02-29T19:00Z is 2024-03-01 00:00 local under the unified +05 offset.
        let ts: jiff::Timestamp = "2024-02-29T19:00:00Z".parse().unwrap();
        assert_eq!(tz.to_offset(ts).seconds(), 5 * 3600);
        let before: jiff::Timestamp = "2024-02-29T17:00:00Z".parse().unwrap();
        assert_eq!(tz.to_offset(before).seconds(), 6 * 3600);
    }

    #[test]
    fn unknown_zone_is_rejected() {
        assert!(lookup_timezone("Asia/Atlantis").is_err());
        assert!(lookup_timezone("asia/almaty").is_ok());
    }
}

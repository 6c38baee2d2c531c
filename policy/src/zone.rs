//! A time zone's UTC offsets as a precomputed table of constant-offset segments, so the
//! calling-window check is integer arithmetic instead of a tz conversion per dispatch.
//!
//! The table is built from jiff's bundled IANA database (never a hardcoded offset) for
//! 1900–2200; outside that range every call goes to jiff directly. For Asia/Almaty the
//! last segment starts at 2024-03-01 00:00 local (+06 → +05), so today's instants hit the
//! first check of [`Zone::offset_at`].

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// 1900-01-01T00:00:00Z.
const TABLE_FROM: i64 = -2_208_988_800;
/// 2200-01-01T00:00:00Z.
const TABLE_UNTIL: i64 = 7_258_118_400;

/// Offsets of one time zone; see the module docs.
#[derive(Debug, Clone)]
pub(crate) struct Zone {
    tz: TimeZone,
    /// `(start second, offset seconds)`, ascending; the first starts at `TABLE_FROM` and each
    /// runs until the next one's start (the last until `TABLE_UNTIL`).
    segments: Vec<(i64, i32)>,
}

impl Zone {
    pub(crate) fn new(tz: TimeZone) -> Zone {
        let from = ts(TABLE_FROM);
        let mut segments = vec![(TABLE_FROM, tz.to_offset(from).seconds())];
        for t in tz.following(from) {
            let at = t.timestamp().as_second();
            if at >= TABLE_UNTIL {
                break;
            }
            if t.offset().seconds() != segments.last().map_or(i32::MIN, |s| s.1) {
                segments.push((at, t.offset().seconds()));
            }
        }
        Zone { tz, segments }
    }

    pub(crate) fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// The offset in force at second `t`.
    #[inline]
    pub(crate) fn offset_at(&self, t: i64) -> i32 {
        if let Some(&(start, off)) = self.segments.last()
            && t >= start
            && t < TABLE_UNTIL
        {
            return off;
        }
        if !(TABLE_FROM..TABLE_UNTIL).contains(&t) {
            return self.tz.to_offset(ts(t)).seconds();
        }
        let i = self.segments.partition_point(|s| s.0 <= t);
        // t >= TABLE_FROM = segments[0].0, so i >= 1.
        self.segments[i.saturating_sub(1)].1
    }

    /// The offset in force at `t` and the second at which it next changes (`i64::MAX` for
    /// never).
    pub(crate) fn segment(&self, t: i64) -> (i32, i64) {
        if (TABLE_FROM..TABLE_UNTIL).contains(&t) {
            let i = self.segments.partition_point(|s| s.0 <= t);
            // t >= TABLE_FROM = segments[0].0, so i >= 1 and the index is in range.
            let off = self.segments[i.saturating_sub(1)].1;
            let end = self.segments.get(i).map_or(TABLE_UNTIL, |s| s.0);
            return (off, end);
        }
        let at = ts(t);
        let end = self
            .tz
            .following(at)
            .next()
            .map_or(i64::MAX, |tr| tr.timestamp().as_second().max(t + 1));
        (self.tz.to_offset(at).seconds(), end)
    }
}

/// The timestamp at second `t`, clamped to jiff's range.
pub(crate) fn ts(t: i64) -> Timestamp {
    Timestamp::from_second(t).unwrap_or(if t < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// Floor of a timestamp in whole seconds (jiff's `as_second` truncates toward zero).
pub(crate) fn floor_second(t: Timestamp) -> i64 {
    let s = t.as_second();
    if t.subsec_nanosecond() < 0 { s - 1 } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn almaty() -> Zone {
        Zone::new(
            jiff::tz::TimeZoneDatabase::bundled()
                .get("Asia/Almaty")
                .unwrap(),
        )
    }

    fn sec(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_second()
    }

    #[test]
    fn almaty_moved_from_plus_six_to_plus_five_on_2024_03_01() {
        let z = almaty();
        assert_eq!(z.offset_at(sec("2024-02-29T17:00:00Z")), 6 * 3600);
        assert_eq!(z.offset_at(sec("2024-02-29T17:59:59Z")), 6 * 3600);
        assert_eq!(z.offset_at(sec("2024-02-29T18:00:00Z")), 5 * 3600);
        assert_eq!(z.offset_at(sec("2026-11-25T12:00:00Z")), 5 * 3600);
        let (off, end) = z.segment(sec("2024-02-29T17:00:00Z"));
        assert_eq!((off, end), (6 * 3600, sec("2024-02-29T18:00:00Z")));
    }

    #[test]
    fn the_table_agrees_with_jiff_everywhere() {
        let z = almaty();
        let ny = Zone::new(
            jiff::tz::TimeZoneDatabase::bundled()
                .get("America/New_York")
                .unwrap(),
        );
        for zone in [&z, &ny] {
            let mut t = TABLE_FROM - 86_400 * 400;
            while t < TABLE_UNTIL + 86_400 * 800 {
                assert_eq!(
                    zone.offset_at(t),
                    zone.tz.to_offset(ts(t)).seconds(),
                    "at {t}"
                );
                let (off, end) = zone.segment(t);
                assert_eq!(off, zone.offset_at(t));
                assert!(end > t);
                if end < i64::MAX {
                    assert_eq!(zone.offset_at(end - 1), off);
                }
                t += 86_400 * 3 + 3_601;
            }
        }
    }

    #[test]
    fn floor_second_rounds_down_before_the_epoch() {
        assert_eq!(floor_second("1969-12-31T23:59:59.5Z".parse().unwrap()), -1);
        assert_eq!(
            floor_second("2026-01-01T00:00:00.9Z".parse().unwrap()),
            1_767_225_600
        );
    }
}

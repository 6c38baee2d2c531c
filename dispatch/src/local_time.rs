//! A wall-clock time as RFC 3339 text with its offset, held inline.
//!
//! Every handoff and every final outcome records the Almaty wall time next to UTC: the
//! compliance proof that a message left inside the calling window. The links make two or three
//! of them per message, and the store's writer frees them on another thread. As a `String`
//! each was an allocation; the cross-thread frees left the links' threads allocating from
//! memory out of their caches (9.7 % of the SMPP threads' samples in the SMS throughput run
//! were in making these strings, most of it in the allocation). The text has a bounded
//! length, so it lives in the record itself and is bound from there.

use jiff::Timestamp;
use jiff::tz::Offset;
use std::fmt;

/// Room for the longest text jiff prints for a [`Timestamp`] with an [`Offset`]: a signed
/// six-digit year, nanoseconds and an offset with seconds,
/// `-009999-12-31T23:59:59.999999999-25:59:59`, is 41 bytes.
const CAP: usize = 48;

/// `2026-11-25T14:03:00+05:00`: an instant as local time with its UTC offset, the form the
/// store keeps in its `*_local` columns.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LocalTime {
    len: u8,
    text: [u8; CAP],
}

impl LocalTime {
    /// `at` at the UTC offset `offset`, as jiff prints it (RFC 3339; fractional seconds only
    /// when not zero).
    ///
    /// Consecutive calls on a thread mostly fall in the same second: the text of that whole
    /// second is kept per thread and only the fraction is written per call (jiff's printing
    /// was about 1 % of the engine's samples in the SMS throughput run).
    pub fn new(at: Timestamp, offset: Offset) -> Self {
        thread_local! {
            /// (second, offset in seconds, that whole second's text, where its offset starts)
            static LAST: std::cell::Cell<Option<(i64, i32, LocalTime, u8)>> =
                const { std::cell::Cell::new(None) };
        }
        let (second, nanos) = (at.as_second(), at.subsec_nanosecond());
        if nanos < 0 {
            // Before 1970 the fraction counts back from the next second; rare, printed whole.
            return Self::printed(at, offset);
        }
        let key = offset.seconds();
        let (whole, split) = match LAST.get() {
            Some((s, o, whole, split)) if s == second && o == key => (whole, split),
            _ => {
                let Ok(floor) = Timestamp::from_second(second) else {
                    return Self::printed(at, offset);
                };
                let whole = Self::printed(floor, offset);
                // The offset is the last field, after the seconds: its sign (or `Z`) is the
                // last of these characters in the text.
                let Some(split) = whole.as_str().rfind(['+', '-', 'Z']) else {
                    return Self::printed(at, offset);
                };
                let split = split as u8; // < CAP
                LAST.set(Some((second, key, whole, split)));
                (whole, split)
            }
        };
        if nanos == 0 {
            return whole;
        }
        // jiff's automatic precision: nine digits with the trailing zeros cut.
        let mut digits = [0u8; 9];
        let mut n = nanos as u32;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        let used = 9 - digits.iter().rev().take_while(|&&d| d == b'0').count();
        let split = usize::from(split);
        let tail = usize::from(whole.len) - split;
        if usize::from(whole.len) + 1 + used > CAP {
            return Self::printed(at, offset);
        }
        let mut t = whole;
        t.text[split] = b'.';
        t.text[split + 1..split + 1 + used].copy_from_slice(&digits[..used]);
        t.text[split + 1 + used..split + 1 + used + tail]
            .copy_from_slice(&whole.text[split..split + tail]);
        t.len = whole.len + 1 + used as u8;
        t
    }

    /// As jiff prints it, every time.
    fn printed(at: Timestamp, offset: Offset) -> Self {
        use fmt::Write;
        let mut w = Writer(LocalTime::default());
        // Fits: see `CAP`. Were it ever longer, the text would end early rather than panic
        // on a link's thread; the test below pins the extremes.
        let _ = write!(w, "{}", at.display_with_offset(offset));
        w.0
    }

    /// Text read back from a store: `None` if it is longer than any [`LocalTime::new`] makes.
    pub fn from_text(s: &str) -> Option<Self> {
        let mut t = LocalTime {
            len: u8::try_from(s.len()).ok()?,
            ..LocalTime::default()
        };
        t.text.get_mut(..s.len())?.copy_from_slice(s.as_bytes());
        Some(t)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only whole `str`s are ever copied in (`Writer::write_str`, `from_text`).
        std::str::from_utf8(&self.text[..usize::from(self.len)]).unwrap_or_default()
    }
}

/// The empty text (a handoff row read back without its local time).
impl Default for LocalTime {
    fn default() -> Self {
        LocalTime {
            len: 0,
            text: [0; CAP],
        }
    }
}

/// Appends to a [`LocalTime`]'s text, refusing what does not fit.
struct Writer(LocalTime);

impl fmt::Write for Writer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let start = usize::from(self.0.len);
        let end = start + s.len();
        let dest = self.0.text.get_mut(start..end).ok_or(fmt::Error)?;
        dest.copy_from_slice(s.as_bytes());
        self.0.len = end as u8; // end <= CAP < 256
        Ok(())
    }
}

impl std::ops::Deref for LocalTime {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for LocalTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<str> for LocalTime {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for LocalTime {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn off(h: i8) -> Offset {
        Offset::constant(h)
    }

    #[test]
    fn same_text_as_jiff() {
        for (at, h) in [
            ("2026-11-25T09:03:00Z", 5),
            ("2026-11-25T09:03:00.5Z", 5),
            ("2026-11-25T09:03:00.123456789Z", 5),
            ("2024-02-29T18:30:00Z", 6),
            ("1970-01-01T00:00:00Z", 0),
        ] {
            let at: Timestamp = at.parse().unwrap();
            let want = at.display_with_offset(off(h)).to_string();
            let got = LocalTime::new(at, off(h));
            assert_eq!(got.as_str(), want);
            assert_eq!(got.to_string(), want);
            assert_eq!(LocalTime::from_text(&want), Some(got));
        }
    }

    #[test]
    fn same_text_as_jiff_across_seconds_offsets_and_fractions() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let offsets = [
            off(5),
            off(6),
            Offset::UTC,
            off(-3),
            Offset::from_seconds(5 * 3600 + 30 * 60).unwrap(),
            Offset::from_seconds(-(25 * 3600 + 59 * 60 + 59)).unwrap(),
        ];
        let base = Timestamp::from_second(1_796_000_000).unwrap();
        for i in 0..20_000u64 {
            let r = next();
            // Mostly runs within one second (the cached case), sometimes a jump; whole
            // seconds and fractions with trailing zeros; before 1970; the ends of the range.
            let at = match i % 97 {
                0 => Timestamp::MIN,
                1 => Timestamp::MAX,
                2 => Timestamp::from_second(-62_135_596_800 - (r % 1_000_000) as i64).unwrap(),
                3 => Timestamp::new(-((r % 1_000_000) as i64), -((r % 999_999_999) as i32) - 1)
                    .unwrap(),
                _ => {
                    let jump = if r % 13 == 0 { r % 1_000_000_000 } else { 0 };
                    let secs = (i / 50 + jump) as i64;
                    let nanos = match r % 5 {
                        0 => 0,
                        1 => (r % 1000) as i32 * 1_000_000,
                        2 => (r % 1_000_000) as i32 * 1_000,
                        _ => (r % 1_000_000_000) as i32,
                    };
                    base.checked_add(jiff::SignedDuration::new(secs, nanos))
                        .unwrap()
                }
            };
            // One offset for runs of calls (the cached case), now and then another.
            let pick = if r % 7 == 0 {
                (r >> 32) as usize
            } else {
                (i / 300) as usize
            };
            let offset = offsets[pick % offsets.len()];
            let want = at.display_with_offset(offset).to_string();
            assert_eq!(
                LocalTime::new(at, offset).as_str(),
                want,
                "{at:?} {offset:?}"
            );
        }
    }

    #[test]
    fn the_longest_texts_fit() {
        let worst = Offset::from_seconds(-(25 * 3600 + 59 * 60 + 59)).unwrap();
        for at in [Timestamp::MIN, Timestamp::MAX] {
            let at = at
                .checked_add(jiff::SignedDuration::from_nanos(999_999_999))
                .unwrap_or(at);
            for offset in [worst, Offset::MAX, Offset::UTC] {
                let want = at.display_with_offset(offset).to_string();
                assert_eq!(LocalTime::new(at, offset).as_str(), want, "{want}");
            }
        }
    }

    #[test]
    fn text_too_long_is_refused() {
        assert_eq!(LocalTime::from_text(&"9".repeat(CAP + 1)), None);
        assert_eq!(LocalTime::from_text(&"9".repeat(300)), None);
        assert_eq!(LocalTime::from_text("").map(|t| t.len()), Some(0));
    }
}

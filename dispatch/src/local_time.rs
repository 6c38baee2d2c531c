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
    pub fn new(at: Timestamp, offset: Offset) -> Self {
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

//! Kazakhstan phone numbers: syntax, country and length ([`parse`]), and the numbering-plan
//! classification of the DEF (operator) code ([`LineType`]).
//!
//! Parsing accepts what customers paste: `+77011234567`, `77011234567`, `87011234567`
//! (trunk prefix 8), `7011234567` (national), the international prefix `00`
//! (`007 701 ...`), with spaces, tabs, dashes, dots and parentheses anywhere. The result is
//! the E.164 number as digits in a `u64`: `77011234567`. It never allocates.
//!
//! Whether a number is mobile and which operator serves it needs the prefix table, so that is
//! the [`crate::route::Router`]'s job; [`LineType::of_def`] only says what the national
//! numbering plan says about a DEF code.
//!
//! ```
//! use sendbox_policy::number::{parse, LineType, NumberError};
//! let m = parse("8 (701) 123-45-67").unwrap();
//! assert_eq!(m.get(), 77011234567);
//! assert_eq!(m.def_code(), 701);
//! assert_eq!(m.line_type(), Some(LineType::Mobile));
//! assert_eq!(m.masked().to_string(), "7701***4567");
//! assert_eq!(parse("+7 916 123 45 67").unwrap_err().code(), "not_kazakhstan");
//! assert_eq!(parse("+7 701 123"), Err(NumberError::WrongLength { digits: 7 }));
//! ```

use std::fmt;

/// The smallest Kazakhstan E.164 number: `+7 600 000 0000`.
pub(crate) const KZ_MIN: u64 = 76_000_000_000;
/// One past the largest Kazakhstan E.164 number: `+7 799 999 9999`.
pub(crate) const KZ_END: u64 = 78_000_000_000;
/// 10^7: the subscriber part after the DEF code.
pub(crate) const SUBSCRIBER: u64 = 10_000_000;

/// Why a number was refused. `Copy`, allocation-free; [`NumberError::code`] is the stable
/// reason code the API and the store use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum NumberError {
    /// [`parse`]: no digits at all.
    #[error("empty number")]
    Empty,
    /// [`parse`]: a character that is not a digit, a leading `+` or a separator
    /// (space, tab, `-`, `.`, `(`, `)`), at this byte offset.
    #[error("bad character at byte {at}")]
    BadCharacter {
        /// Byte offset of the first offending character.
        at: u16,
    },
    /// [`parse`]: the number has the wrong count of digits for its format.
    #[error("wrong length: {digits} digits")]
    WrongLength {
        /// Digits found (saturating at 255).
        digits: u8,
    },
    /// [`parse`]: another country, or a +7 number outside Kazakhstan's 6xx/7xx ranges (Russia).
    #[error("not a Kazakhstan number")]
    NotKazakhstan,
    /// [`crate::route::Router::route`]: a fixed-line (or fixed-wireless) number cannot take SMS.
    #[error("fixed-line number {def} cannot receive SMS")]
    FixedLine {
        /// The DEF code.
        def: u16,
    },
    /// [`crate::route::Router::route`]: no operator serves this DEF code and the number is not
    /// in the portability table.
    #[error("unknown DEF code {def}")]
    UnknownDef {
        /// The DEF code.
        def: u16,
    },
}

impl NumberError {
    /// The stable reason code: `empty`, `bad_character`, `wrong_length`, `not_kazakhstan`,
    /// `fixed_line`, `unknown_def`.
    pub fn code(self) -> &'static str {
        match self {
            NumberError::Empty => "empty",
            NumberError::BadCharacter { .. } => "bad_character",
            NumberError::WrongLength { .. } => "wrong_length",
            NumberError::NotKazakhstan => "not_kazakhstan",
            NumberError::FixedLine { .. } => "fixed_line",
            NumberError::UnknownDef { .. } => "unknown_def",
        }
    }
}

/// A Kazakhstan number in E.164, as its digits: `77011234567`.
///
/// Always 11 digits, `7` then a DEF code in 600–799. `Display` prints the digits; `Debug`
/// and [`Msisdn::masked`] hide the middle so numbers do not end up in logs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Msisdn(u64);

impl Msisdn {
    /// Validates E.164 digits that came from a trusted store (e.g. `Ready::msisdn`).
    pub fn from_e164(digits: u64) -> Result<Msisdn, NumberError> {
        if (KZ_MIN..KZ_END).contains(&digits) {
            Ok(Msisdn(digits))
        } else if (10_000_000_000..100_000_000_000).contains(&digits) {
            Err(NumberError::NotKazakhstan)
        } else {
            Err(NumberError::WrongLength {
                digits: digit_count(digits),
            })
        }
    }

    /// The E.164 digits, e.g. `77011234567`.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The 10-digit national number, e.g. `7011234567`.
    pub fn national(self) -> u64 {
        self.0 - 70_000_000_000
    }

    /// The 3-digit DEF (operator) code, e.g. `701`.
    pub fn def_code(self) -> u16 {
        // Always in 600..800 because the value is in KZ_MIN..KZ_END.
        (self.0 / SUBSCRIBER - 7000) as u16
    }

    /// What the numbering plan says about the DEF code (`None`: not assigned in the plan).
    pub fn line_type(self) -> Option<LineType> {
        LineType::of_def(self.def_code())
    }

    /// A redacted form for logs: `7701***4567`.
    pub fn masked(self) -> Masked {
        Masked(self.0)
    }
}

impl fmt::Display for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Msisdn({})", self.masked())
    }
}

impl From<Msisdn> for u64 {
    fn from(m: Msisdn) -> u64 {
        m.0
    }
}

impl std::str::FromStr for Msisdn {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Msisdn, NumberError> {
        parse(s)
    }
}

/// A number redacted for logs: the first four and last four digits, `7701***4567`.
#[derive(Clone, Copy)]
pub struct Masked(u64);

impl fmt::Display for Masked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}***{:04}", self.0 / SUBSCRIBER, self.0 % 10_000)
    }
}

impl fmt::Debug for Masked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What the Kazakhstan numbering plan says about a DEF code (domain.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineType {
    /// 70x, 747, 77x.
    Mobile,
    /// 71x–72x (Almaty 727, Astana 7172).
    FixedLine,
    /// 760–764: Kulan, Nursat, Arna, 2Day; not SMS targets.
    FixedWireless,
}

impl LineType {
    /// Classifies a 3-digit DEF code; `None` for codes the plan does not assign
    /// (6xx, 73x, 74x other than 747, 75x, 765–769, 78x, 79x).
    pub fn of_def(def: u16) -> Option<LineType> {
        match def {
            700..=709 | 747 | 770..=779 => Some(LineType::Mobile),
            710..=729 => Some(LineType::FixedLine),
            760..=764 => Some(LineType::FixedWireless),
            _ => None,
        }
    }

    /// Whether SMS can be delivered to this kind of line.
    pub fn takes_sms(self) -> bool {
        matches!(self, LineType::Mobile)
    }
}

/// Parses a number as typed by a customer; see the [module docs](self) for the formats.
pub fn parse(input: &str) -> Result<Msisdn, NumberError> {
    parse_bytes(input.as_bytes())
}

/// [`parse`] on raw bytes (a line of a file that may not be UTF-8).
pub fn parse_bytes(input: &[u8]) -> Result<Msisdn, NumberError> {
    // Fast path: the canonical form, which is what files and the API mostly carry.
    if input.len() == 11 && input[0] == b'7' && input.iter().all(u8::is_ascii_digit) {
        let v = input
            .iter()
            .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
        return from_national(v - 70_000_000_000);
    }
    let mut plus = false;
    let mut count: usize = 0;
    let mut value: u64 = 0;
    let mut lead = [0u8; 3];
    for (i, &b) in input.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                let d = b - b'0';
                if count < 3 {
                    lead[count] = d;
                }
                if count < 19 {
                    value = value * 10 + u64::from(d);
                }
                count += 1;
            }
            b' ' | b'\t' | b'-' | b'.' | b'(' | b')' => {}
            b'+' if count == 0 && !plus => plus = true,
            _ => {
                return Err(NumberError::BadCharacter {
                    at: u16::try_from(i).unwrap_or(u16::MAX),
                });
            }
        }
    }
    let digits = u8::try_from(count).unwrap_or(u8::MAX);
    if count == 0 {
        return Err(NumberError::Empty);
    }
    let wrong = NumberError::WrongLength { digits };
    if plus || (lead[0] == 0 && lead[1] == 0 && count > 2) {
        // International format: +CC... or 00CC...
        let (cc, n) = if plus {
            (lead[0], count)
        } else {
            (lead[2], count - 2)
        };
        if cc != 7 {
            return Err(NumberError::NotKazakhstan);
        }
        if n != 11 {
            return Err(wrong);
        }
        return from_national(value % 10_000_000_000);
    }
    match (count, lead[0]) {
        (11, 7) | (11, 8) => from_national(value % 10_000_000_000),
        (10, 8) => Err(wrong),
        (10, _) => from_national(value),
        (_, 7) | (_, 8) => Err(wrong),
        (c, _) if c > 11 => Err(NumberError::NotKazakhstan),
        _ => Err(wrong),
    }
}

/// Checks the national number's first digit (6 or 7 is Kazakhstan; the rest of +7 is Russia).
fn from_national(national: u64) -> Result<Msisdn, NumberError> {
    let e164 = 70_000_000_000 + national;
    if (KZ_MIN..KZ_END).contains(&e164) {
        Ok(Msisdn(e164))
    } else {
        Err(NumberError::NotKazakhstan)
    }
}

fn digit_count(mut v: u64) -> u8 {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

#[cfg(test)]
#[path = "number_tests.rs"]
mod tests;

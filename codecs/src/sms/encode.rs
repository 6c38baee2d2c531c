//! Choosing the SMS encoding and producing the encoded units.
//!
//! GSM 03.38 7-bit (with the extension table) is used when *every* character fits; otherwise the whole
//! text goes UCS-2 (UTF-16BE, so emoji travel as surrogate pairs). Any Cyrillic, hence all Russian and
//! Kazakh text, is UCS-2.
//!
//! ```
//! use sendbox_codecs::sms::{encode, Encoding};
//! let e = encode("Hi {you}");
//! assert_eq!(e.encoding, Encoding::Gsm7);
//! assert_eq!(e.units, vec![0x48, 0x69, 0x20, 0x1B, 0x28, 0x79, 0x6F, 0x75, 0x1B, 0x29]);
//! let e = encode("Қ");
//! assert_eq!(e.encoding, Encoding::Ucs2);
//! assert_eq!(e.units, vec![0x04, 0x9A]);
//! ```

use super::gsm7::{self, ESC, Septet};

/// The alphabet a text is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// GSM 03.38 default alphabet, unpacked septets; SMPP `data_coding` 0x00.
    Gsm7,
    /// UCS-2 / UTF-16BE; SMPP `data_coding` 0x08.
    Ucs2,
}

impl Encoding {
    /// The SMPP `data_coding` value: 0x00 for GSM 7-bit (MC default alphabet), 0x08 for UCS-2.
    pub const fn data_coding(self) -> u8 {
        match self {
            Encoding::Gsm7 => 0x00,
            Encoding::Ucs2 => 0x08,
        }
    }

    /// Units per single, unconcatenated message: 160 septets or 70 UTF-16 units.
    pub const fn single_capacity(self) -> usize {
        match self {
            Encoding::Gsm7 => 160,
            Encoding::Ucs2 => 70,
        }
    }

    /// Octets per encoded unit: 1 (an unpacked septet) or 2 (a UTF-16 unit).
    pub const fn octets_per_unit(self) -> usize {
        match self {
            Encoding::Gsm7 => 1,
            Encoding::Ucs2 => 2,
        }
    }
}

/// A text in its chosen encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Which alphabet [`Encoded::units`] is in.
    pub encoding: Encoding,
    /// GSM: unpacked septets, one per octet, including 0x1B escapes. UCS-2: UTF-16BE bytes.
    pub units: Vec<u8>,
}

/// Picks the encoding for `text` and returns the length in units (septets or UTF-16 units)
/// without allocating.
pub(crate) fn measure(text: &str) -> (Encoding, usize) {
    let mut septets = 0usize;
    if text.is_ascii() {
        // Fast path: one table lookup per byte, no UTF-8 decoding.
        for &b in text.as_bytes() {
            match gsm7::ascii_septets(b) {
                Some(n) => septets += usize::from(n),
                None => return (Encoding::Ucs2, text.len()),
            }
        }
        return (Encoding::Gsm7, septets);
    }
    for c in text.chars() {
        match gsm7::gsm7_septets(c) {
            Some(n) => septets += usize::from(n),
            None => return (Encoding::Ucs2, text.encode_utf16().count()),
        }
    }
    (Encoding::Gsm7, septets)
}

/// The number of units one character costs in `encoding`. Only call with characters that fit.
#[inline]
pub(crate) fn char_units(c: char, encoding: Encoding) -> usize {
    match encoding {
        Encoding::Gsm7 => gsm7::gsm7_septets(c).map_or(1, usize::from),
        Encoding::Ucs2 => c.len_utf16(),
    }
}

/// Appends one character's encoded form to `out` (septets or UTF-16BE bytes).
#[inline]
pub(crate) fn push_char(c: char, encoding: Encoding, out: &mut Vec<u8>) {
    match encoding {
        Encoding::Gsm7 => match gsm7::lookup(c) {
            Some(Septet::Basic(s)) => out.push(s),
            Some(Septet::Extended(code)) => out.extend_from_slice(&[ESC, code]),
            // `measure` chose GSM only because every character fits; keep going rather than panic.
            None => out.push(b'?'),
        },
        Encoding::Ucs2 => {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.extend_from_slice(&unit.to_be_bytes());
            }
        }
    }
}

/// Encodes `text` in GSM 03.38 when every character fits, else in UCS-2 (UTF-16BE).
pub fn encode(text: &str) -> Encoded {
    let (encoding, len) = measure(text);
    let mut units = Vec::with_capacity(len * encoding.octets_per_unit());
    for c in text.chars() {
        push_char(c, encoding, &mut units);
    }
    Encoded { encoding, units }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_cyrillic_letter_turns_the_whole_text_ucs2() {
        let e = encode("Hello Қ");
        assert_eq!(e.encoding, Encoding::Ucs2);
        assert_eq!(e.units.len(), 14);
        assert_eq!(&e.units[..2], &[0x00, 0x48]);
    }

    #[test]
    fn emoji_is_a_surrogate_pair_in_ucs2() {
        let e = encode("😀");
        assert_eq!(e.units, vec![0xD8, 0x3D, 0xDE, 0x00]);
        assert_eq!(measure("😀"), (Encoding::Ucs2, 2));
    }

    #[test]
    fn gsm_length_counts_escapes_twice() {
        assert_eq!(measure("a€b"), (Encoding::Gsm7, 4));
        assert_eq!(encode("a€b").units, vec![0x61, 0x1B, 0x65, 0x62]);
        assert_eq!(encode("\u{000C}").units, vec![0x1B, 0x0A]);
    }

    #[test]
    fn empty_text_is_gsm_with_no_units() {
        assert_eq!(
            encode(""),
            Encoded {
                encoding: Encoding::Gsm7,
                units: vec![]
            }
        );
    }
}

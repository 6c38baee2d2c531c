//! Decoding inbound SMS text (MO deliver_sm) by `data_coding`, tolerantly.
//!
//! Peer bytes never panic: undecodable input becomes U+FFFD. The caller strips any UDH first
//! (see [`super::Part::text_bytes`] for the layout).
//!
//! | `data_coding` | Decoded as |
//! |---|---|
//! | 0x00, GSM DCS groups with the default alphabet (0x10–0x13, 0xF0–0xF3, …) | GSM 03.38 unpacked septets incl. extension |
//! | 0x01 | IA5 / ASCII |
//! | 0x02, 0x04, 8-bit DCS groups | octets, shown as Latin-1 |
//! | 0x03 | Latin-1 |
//! | 0x06 | ISO-8859-5 (Cyrillic) |
//! | 0x08, UCS-2 DCS groups (0x18, …) | UTF-16BE |
//! | anything else | Latin-1 |
//!
//! ```
//! use sendbox_codecs::sms::decode;
//! assert_eq!(decode(0x00, &[0x48, 0x69, 0x1B, 0x65]), "Hi€");
//! assert_eq!(decode(0x08, &[0x04, 0x9A, 0x00, 0x21]), "Қ!");
//! assert_eq!(decode(0x08, &[0xD8, 0x3D]), "\u{FFFD}");
//! ```

use super::gsm7::{ESC, basic_char, extension_char};

/// Which decoder a `data_coding` value selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alphabet {
    Gsm7,
    Ascii,
    Latin1,
    Cyrillic,
    Ucs2,
}

/// Maps an SMPP `data_coding` (values below 0x10 are SMPP-specific; above, GSM 03.38 DCS groups).
fn alphabet(data_coding: u8) -> Alphabet {
    match data_coding {
        0x00 => Alphabet::Gsm7,
        0x01 => Alphabet::Ascii,
        0x06 => Alphabet::Cyrillic,
        0x08 => Alphabet::Ucs2,
        0x02..=0x0F => Alphabet::Latin1,
        // General data coding (0x00–0x3F) and message-marked-for-deletion (0x40–0x7F) groups:
        // bits 3..2 give the alphabet.
        0x10..=0x7F => match (data_coding >> 2) & 0x03 {
            0 => Alphabet::Gsm7,
            2 => Alphabet::Ucs2,
            _ => Alphabet::Latin1,
        },
        // Message waiting groups: discard/store (GSM), store UCS-2.
        0xC0..=0xDF => Alphabet::Gsm7,
        0xE0..=0xEF => Alphabet::Ucs2,
        // Data coding / message class group: bit 2 selects 8-bit.
        0xF0..=0xFF if data_coding & 0x04 == 0 => Alphabet::Gsm7,
        _ => Alphabet::Latin1,
    }
}

/// Decodes an inbound `short_message` (or `message_payload`) by its `data_coding`; never panics.
pub fn decode(data_coding: u8, bytes: &[u8]) -> String {
    match alphabet(data_coding) {
        Alphabet::Gsm7 => decode_gsm7_unpacked(bytes),
        Alphabet::Ascii => bytes
            .iter()
            .map(|&b| {
                if b < 0x80 {
                    char::from(b)
                } else {
                    char::REPLACEMENT_CHARACTER
                }
            })
            .collect(),
        Alphabet::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
        Alphabet::Cyrillic => bytes.iter().map(|&b| iso_8859_5(b)).collect(),
        Alphabet::Ucs2 => {
            let units = bytes.chunks(2).map(|pair| match *pair {
                [hi, lo] => u16::from_be_bytes([hi, lo]),
                // A dangling odd octet: decodes as a lone surrogate, hence U+FFFD.
                _ => 0xDC00,
            });
            char::decode_utf16(units)
                .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
    }
}

/// GSM 03.38 unpacked septets (one per octet). Octets above 0x7F and a trailing escape become U+FFFD;
/// an undefined extension code shows its basic-table character, as TS 23.038 §6.2.1.1 allows.
fn decode_gsm7_unpacked(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut iter = bytes.iter();
    while let Some(&b) = iter.next() {
        if b > 0x7F {
            out.push(char::REPLACEMENT_CHARACTER);
        } else if b == ESC {
            match iter.next() {
                Some(&code) if code <= 0x7F => {
                    out.push(extension_char(code).unwrap_or_else(|| basic_char(code)));
                }
                _ => out.push(char::REPLACEMENT_CHARACTER),
            }
        } else {
            out.push(basic_char(b));
        }
    }
    out
}

/// One ISO-8859-5 octet.
fn iso_8859_5(b: u8) -> char {
    let code = match b {
        0x00..=0xA0 | 0xAD => u32::from(b),
        0xF0 => 0x2116, // №
        0xFD => 0x00A7, // §
        _ => 0x0360 + u32::from(b),
    };
    char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm_decodes_basic_and_extension_including_form_feed() {
        assert_eq!(
            decode(0x00, &[0x00, 0x1B, 0x0A, 0x1B, 0x14, 0x24]),
            "@\u{000C}^¤"
        );
    }

    #[test]
    fn gsm_tolerates_high_octets_and_a_trailing_escape() {
        assert_eq!(decode(0x00, &[0x41, 0xFF, 0x1B]), "A\u{FFFD}\u{FFFD}");
        assert_eq!(decode(0x00, &[0x1B, 0x41]), "A");
    }

    #[test]
    fn ucs2_odd_length_and_lone_surrogates_become_replacement() {
        assert_eq!(decode(0x08, &[0x00, 0x41, 0x00]), "A\u{FFFD}");
        assert_eq!(decode(0x08, &[0xDE, 0x00, 0x00, 0x42]), "\u{FFFD}B");
        assert_eq!(decode(0x08, &[0xD8, 0x3D, 0xDE, 0x00]), "😀");
    }

    #[test]
    fn ascii_latin1_and_cyrillic_tables() {
        assert_eq!(decode(0x01, b"ok\x80"), "ok\u{FFFD}");
        assert_eq!(decode(0x03, &[0xE9]), "é");
        assert_eq!(decode(0x06, &[0xB0, 0xD0, 0xA1, 0xF1, 0xF0]), "АаЁё№");
    }

    #[test]
    fn dcs_groups_pick_the_alphabet() {
        assert_eq!(decode(0x18, &[0x04, 0x10]), "А");
        assert_eq!(decode(0xF0, &[0x41]), "A");
        assert_eq!(decode(0xF4, &[0xE9]), "é");
        assert_eq!(decode(0x11, &[0x41]), "A");
    }
}

//! The GSM 03.38 (3GPP TS 23.038) default alphabet and its extension table, plus septet packing.
//!
//! Characters map to *unpacked* septets, one per octet, the form SMPP normally carries with
//! `data_coding` 0x00. Extension characters (`^ { } \ [ ~ ] | €` and form feed) take two septets:
//! the escape 0x1B, then the extension code.
//!
//! ```
//! use sendbox_codecs::sms::{gsm7_septets, pack_gsm7};
//! assert_eq!(gsm7_septets('A'), Some(1));
//! assert_eq!(gsm7_septets('€'), Some(2));
//! assert_eq!(gsm7_septets('Қ'), None);
//! // "hi" packs into two octets: 0x68 | (0x69 << 7)
//! assert_eq!(pack_gsm7(&[0x68, 0x69]), vec![0xE8, 0x34]);
//! ```

/// The escape septet that introduces an extension-table character.
pub const ESC: u8 = 0x1B;

/// The basic table, indexed by septet. Index 0x1B (escape) holds a placeholder that is never emitted.
const BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{FFFD}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The extension table: (extension code, character). Form feed is included (rusmpp-extra misses it).
const EXTENSION: [(u8, char); 10] = [
    (0x0A, '\u{000C}'),
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// Marks "no GSM encoding" in [`ASCII`].
const NONE: u16 = 0xFFFF;
/// Set in an [`ASCII`] entry when the character lives in the extension table.
const EXT_FLAG: u16 = 0x100;

/// ASCII fast path: the septet (or `EXT_FLAG | code`) for each ASCII character, or [`NONE`].
const ASCII: [u16; 128] = build_ascii();

const fn build_ascii() -> [u16; 128] {
    let mut table = [NONE; 128];
    let mut septet = 0;
    while septet < 128 {
        let c = BASIC[septet] as u32;
        if c < 128 && septet != ESC as usize {
            table[c as usize] = septet as u16;
        }
        septet += 1;
    }
    let mut i = 0;
    while i < EXTENSION.len() {
        let (code, c) = EXTENSION[i];
        let c = c as u32;
        if c < 128 {
            table[c as usize] = EXT_FLAG | code as u16;
        }
        i += 1;
    }
    table
}

/// A character's GSM 03.38 form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Septet {
    /// One septet from the basic table.
    Basic(u8),
    /// Escape plus this extension-table code (two septets).
    Extended(u8),
}

/// Looks a character up in the basic and extension tables.
#[inline]
pub(crate) fn lookup(c: char) -> Option<Septet> {
    let code = c as u32;
    if code < 128 {
        let entry = ASCII[code as usize];
        return match entry {
            NONE => None,
            e if e & EXT_FLAG != 0 => Some(Septet::Extended(e as u8)),
            e => Some(Septet::Basic(e as u8)),
        };
    }
    // Non-ASCII basic characters: Latin-1 letters, £ ¥ ¤ § ¡ ¿ and Greek capitals (kept in step
    // with `BASIC` by the `every_basic_septet_round_trips_through_lookup` test).
    let septet = match c {
        '€' => return Some(Septet::Extended(0x65)),
        '£' => 0x01,
        '¥' => 0x03,
        'è' => 0x04,
        'é' => 0x05,
        'ù' => 0x06,
        'ì' => 0x07,
        'ò' => 0x08,
        'Ç' => 0x09,
        'Ø' => 0x0B,
        'ø' => 0x0C,
        'Å' => 0x0E,
        'å' => 0x0F,
        'Δ' => 0x10,
        'Φ' => 0x12,
        'Γ' => 0x13,
        'Λ' => 0x14,
        'Ω' => 0x15,
        'Π' => 0x16,
        'Ψ' => 0x17,
        'Σ' => 0x18,
        'Θ' => 0x19,
        'Ξ' => 0x1A,
        'Æ' => 0x1C,
        'æ' => 0x1D,
        'ß' => 0x1E,
        'É' => 0x1F,
        '¤' => 0x24,
        '¡' => 0x40,
        'Ä' => 0x5B,
        'Ö' => 0x5C,
        'Ñ' => 0x5D,
        'Ü' => 0x5E,
        '§' => 0x5F,
        '¿' => 0x60,
        'ä' => 0x7B,
        'ö' => 0x7C,
        'ñ' => 0x7D,
        'ü' => 0x7E,
        'à' => 0x7F,
        _ => return None,
    };
    Some(Septet::Basic(septet))
}

/// Septets for an ASCII byte: `Some(1)`, `Some(2)` (extension) or `None`; the ASCII fast path.
#[inline]
pub(crate) fn ascii_septets(b: u8) -> Option<u8> {
    match ASCII[usize::from(b & 0x7F)] {
        NONE => None,
        e if e & EXT_FLAG != 0 => Some(2),
        _ => Some(1),
    }
}

/// How many septets `c` costs in GSM 03.38: `Some(1)` (basic), `Some(2)` (extension), `None` (not encodable).
#[inline]
pub fn gsm7_septets(c: char) -> Option<u8> {
    lookup(c).map(|s| match s {
        Septet::Basic(_) => 1,
        Septet::Extended(_) => 2,
    })
}

/// The basic-table character for a septet (the low 7 bits of `septet` are used).
#[inline]
pub(crate) fn basic_char(septet: u8) -> char {
    BASIC[(septet & 0x7F) as usize]
}

/// The extension-table character for the code after an escape, if the code is defined.
#[inline]
pub(crate) fn extension_char(code: u8) -> Option<char> {
    EXTENSION.iter().find(|&&(k, _)| k == code).map(|&(_, c)| c)
}

/// Packs unpacked septets (one per octet, high bit ignored) into GSM 7-bit packed octets, LSB first,
/// as in 3GPP TS 23.038 §6.1.2.1. For operators that want packed GSM with `data_coding` 0x00.
pub fn pack_gsm7(septets: &[u8]) -> Vec<u8> {
    pack_with_fill(septets, 0)
}

/// Packs septets for a concatenated part whose UDH (`udh`, e.g. `05 00 03 RR TT NN`) precedes them:
/// returns `udh` followed by fill bits that align the text to a septet boundary, then the packed text
/// (3GPP TS 23.040 §9.2.3.24). With a 6-octet UDH this is 1 fill bit, so 153 septets fill 140 octets.
pub fn pack_gsm7_after_udh(udh: &[u8], septets: &[u8]) -> Vec<u8> {
    let udh_bits = udh.len() * 8;
    let fill = (7 - udh_bits % 7) % 7;
    let mut out = Vec::with_capacity(udh.len() + (septets.len() * 7 + fill).div_ceil(8));
    out.extend_from_slice(udh);
    out.extend_from_slice(&pack_with_fill(septets, fill));
    out
}

/// Packs septets after `fill` leading zero bits.
fn pack_with_fill(septets: &[u8], fill: usize) -> Vec<u8> {
    let total_bits = fill + septets.len() * 7;
    let mut out = Vec::with_capacity(total_bits.div_ceil(8));
    let mut acc: u32 = 0;
    let mut bits = fill as u32;
    for &s in septets {
        acc |= u32::from(s & 0x7F) << bits;
        bits += 7;
        while bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.push(acc as u8);
    }
    out
}

/// Unpacks GSM 7-bit packed octets into septets; `count` is the number of septets (the packed form
/// cannot tell 7 trailing zero bits from an `@`). Inverse of [`pack_gsm7`].
pub fn unpack_gsm7(packed: &[u8], count: usize) -> Vec<u8> {
    let count = count.min(packed.len() * 8 / 7);
    let mut out = Vec::with_capacity(count);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut bytes = packed.iter();
    while out.len() < count {
        if bits < 7 {
            match bytes.next() {
                Some(&b) => {
                    acc |= u32::from(b) << bits;
                    bits += 8;
                }
                None => break,
            }
        }
        out.push((acc & 0x7F) as u8);
        acc >>= 7;
        bits -= 7;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_basic_septet_round_trips_through_lookup() {
        for septet in 0u8..128 {
            if septet == ESC {
                continue;
            }
            assert_eq!(
                lookup(basic_char(septet)),
                Some(Septet::Basic(septet)),
                "septet {septet:#x}"
            );
        }
    }

    #[test]
    fn extension_characters_including_form_feed_cost_two_septets() {
        for c in ['^', '{', '}', '\\', '[', '~', ']', '|', '€', '\u{000C}'] {
            assert_eq!(gsm7_septets(c), Some(2), "{c:?}");
        }
    }

    #[test]
    fn cyrillic_and_latin_kazakh_letters_are_not_gsm() {
        for c in "ӘҒҚҢӨҰҮҺІабвğşūıç`".chars() {
            assert_eq!(gsm7_septets(c), None, "{c:?}");
        }
    }

    #[test]
    fn packing_matches_the_classic_hello_example() {
        // "hellohello" from the 3GPP examples.
        let septets: Vec<u8> = b"hellohello".to_vec();
        assert_eq!(
            pack_gsm7(&septets),
            vec![0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]
        );
        assert_eq!(unpack_gsm7(&pack_gsm7(&septets), 10), septets);
    }

    #[test]
    fn a_six_octet_udh_plus_153_septets_fills_exactly_140_octets() {
        let udh = [0x05, 0x00, 0x03, 0x01, 0x02, 0x01];
        let packed = pack_gsm7_after_udh(&udh, &[0x41; 153]);
        assert_eq!(packed.len(), 140);
        assert_eq!(&packed[..6], &udh);
        // One fill bit, then 'A' (0x41) shifted left by one.
        assert_eq!(packed[6], 0x82);
    }
}

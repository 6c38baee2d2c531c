//! Splitting a text into SMS segments and counting them for billing.
//!
//! One message holds 160 GSM septets or 70 UCS-2 units. Longer texts are concatenated: 153/67 per part
//! with an 8-bit reference UDH (`05 00 03 RR TT NN`) or SAR TLVs, 152/66 with a 16-bit reference UDH
//! (`06 08 04 RRRR TT NN`). A GSM escape pair or a UTF-16 surrogate pair is never cut: the whole character
//! moves to the next part. The segment count is what the operator bills, so [`count_segments`] is exact
//! and allocation-free.
//!
//! ```
//! use sendbox_codecs::sms::{count_segments, split, Concat};
//! let text = "a".repeat(161);
//! assert_eq!(count_segments(&text, Concat::Udh8), 2);
//! let parts = split(&text, Concat::Udh8, 0x2A).unwrap();
//! assert_eq!(parts[0].short_message[..6], [0x05, 0x00, 0x03, 0x2A, 0x02, 0x01]);
//! assert_eq!(parts[1].short_message.len(), 6 + 8);
//! ```

use super::encode::{Encoding, char_units, measure, push_char};
use super::gsm7;

/// The most parts a concatenated message can have (the UDH total is one octet).
pub const MAX_PARTS: u8 = 255;

/// The most octets a `message_payload` TLV can carry (its length field is 16 bits).
pub const MAX_PAYLOAD_OCTETS: usize = 65_535;

/// How a long message is concatenated (an operator option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Concat {
    /// UDH with an 8-bit reference in `short_message`, UDHI set (the default; 153/67 per part).
    Udh8,
    /// UDH with a 16-bit reference (152/66 per part).
    Udh16,
    /// SAR TLVs `sar_msg_ref_num`/`sar_total_segments`/`sar_segment_seqnum`; the MC adds the UDH,
    /// so parts are sized like [`Concat::Udh8`] (153/67).
    Sar,
    /// The whole text in one `message_payload` TLV (`sm_length` 0); the MC segments it.
    Payload,
}

impl Concat {
    /// Units (septets or UTF-16 units) of text per concatenated part.
    pub const fn part_capacity(self, encoding: Encoding) -> usize {
        match (self, encoding) {
            (Concat::Udh16, Encoding::Gsm7) => 152,
            (Concat::Udh16, Encoding::Ucs2) => 66,
            (_, Encoding::Gsm7) => 153,
            (_, Encoding::Ucs2) => 67,
        }
    }
}

/// One submit_sm's worth of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// SMPP `data_coding`: 0x00 (GSM 7-bit) or 0x08 (UCS-2).
    pub data_coding: u8,
    /// Whether to set UDHI (`esm_class` |= 0x40): `short_message` starts with a UDH.
    pub esm_class_udhi: bool,
    /// The `short_message` octets: UDH then text for [`Concat::Udh8`]/[`Concat::Udh16`] parts, else text.
    /// With `payload` set these octets go in the `message_payload` TLV instead, and `sm_length` is 0.
    pub short_message: Vec<u8>,
    /// `(sar_msg_ref_num, sar_total_segments, sar_segment_seqnum)` for [`Concat::Sar`] parts.
    pub sar: Option<(u16, u8, u8)>,
    /// Whether the octets belong in the `message_payload` TLV ([`Concat::Payload`] with a long text).
    pub payload: bool,
}

impl Part {
    /// The text octets of this part, without the UDH.
    pub fn text_bytes(&self) -> &[u8] {
        if self.esm_class_udhi {
            let udh_len = self
                .short_message
                .first()
                .map_or(0, |&l| usize::from(l) + 1);
            self.short_message.get(udh_len..).unwrap_or(&[])
        } else {
            &self.short_message
        }
    }
}

/// Errors from [`split`] and [`split_with_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SmsTextError {
    /// The text needs more parts than allowed (255, or the operator's cap given to [`split_with_limit`]).
    #[error("text needs {parts} SMS parts, more than the limit of {max}")]
    TooLong {
        /// Parts the text needs.
        parts: usize,
        /// The limit.
        max: usize,
    },
    /// With [`Concat::Payload`], the encoded text exceeds what `message_payload` can carry.
    #[error("text encodes to {octets} octets, more than message_payload's {max}")]
    PayloadTooLong {
        /// Encoded size.
        octets: usize,
        /// The limit (65,535).
        max: usize,
    },
}

/// Counts the parts `text` needs (the greedy split that [`split`] performs), without allocating.
/// ASCII texts take [`count_ascii`] instead.
fn count_parts(text: &str, encoding: Encoding, capacity: usize) -> usize {
    let mut parts = 1;
    let mut used = 0;
    for c in text.chars() {
        let w = char_units(c, encoding);
        if used + w > capacity {
            parts += 1;
            used = 0;
        }
        used += w;
    }
    parts
}

/// The number of SMS segments `text` is billed as under `concat`; no allocation.
///
/// Equals `split(text, concat, _)?.len()` for the UDH and SAR modes. For [`Concat::Payload`] it is
/// the number of segments the MC will cut the payload into (as with [`Concat::Udh8`]), while
/// [`split`] returns a single PDU. An empty text counts as one segment. Saturates at `u16::MAX`.
pub fn count_segments(text: &str, concat: Concat) -> u16 {
    let concat = if concat == Concat::Payload {
        Concat::Udh8
    } else {
        concat
    };
    if text.is_ascii() {
        return count_ascii(text.as_bytes(), concat);
    }
    let (encoding, len) = measure(text);
    if len <= encoding.single_capacity() {
        return 1;
    }
    let parts = count_parts(text, encoding, concat.part_capacity(encoding));
    u16::try_from(parts).unwrap_or(u16::MAX)
}

/// [`count_segments`] for ASCII text in one pass: total septets and the greedy part count together.
fn count_ascii(bytes: &[u8], concat: Concat) -> u16 {
    let capacity = concat.part_capacity(Encoding::Gsm7);
    let (mut septets, mut parts, mut used) = (0usize, 1usize, 0usize);
    for &b in bytes {
        let Some(w) = gsm7::ascii_septets(b) else {
            // Not GSM (e.g. '`'): UCS-2, one unit per ASCII byte, no surrogates.
            let parts = if bytes.len() <= Encoding::Ucs2.single_capacity() {
                1
            } else {
                bytes.len().div_ceil(concat.part_capacity(Encoding::Ucs2))
            };
            return u16::try_from(parts).unwrap_or(u16::MAX);
        };
        let w = usize::from(w);
        septets += w;
        if used + w > capacity {
            parts += 1;
            used = 0;
        }
        used += w;
    }
    if septets <= Encoding::Gsm7.single_capacity() {
        1
    } else {
        u16::try_from(parts).unwrap_or(u16::MAX)
    }
}

/// Splits `text` into submit_sm parts under `concat`, with the concatenation `reference` (only the low
/// 8 bits are used for [`Concat::Udh8`]). At most [`MAX_PARTS`] parts.
pub fn split(text: &str, concat: Concat, reference: u16) -> Result<Vec<Part>, SmsTextError> {
    split_with_limit(text, concat, reference, MAX_PARTS)
}

/// Like [`split`], with the operator's cap on parts: a text billed as more than `max_parts`
/// segments gives [`SmsTextError::TooLong`].
pub fn split_with_limit(
    text: &str,
    concat: Concat,
    reference: u16,
    max_parts: u8,
) -> Result<Vec<Part>, SmsTextError> {
    let (encoding, len) = measure(text);
    let data_coding = encoding.data_coding();
    if len <= encoding.single_capacity() {
        let mut short_message = Vec::with_capacity(len * encoding.octets_per_unit());
        text.chars()
            .for_each(|c| push_char(c, encoding, &mut short_message));
        return Ok(vec![Part {
            data_coding,
            esm_class_udhi: false,
            short_message,
            sar: None,
            payload: false,
        }]);
    }
    let billed = usize::from(count_segments(text, concat));
    if billed > usize::from(max_parts) {
        return Err(SmsTextError::TooLong {
            parts: billed,
            max: usize::from(max_parts),
        });
    }
    if concat == Concat::Payload {
        let octets = len * encoding.octets_per_unit();
        if octets > MAX_PAYLOAD_OCTETS {
            return Err(SmsTextError::PayloadTooLong {
                octets,
                max: MAX_PAYLOAD_OCTETS,
            });
        }
        let mut short_message = Vec::with_capacity(octets);
        text.chars()
            .for_each(|c| push_char(c, encoding, &mut short_message));
        return Ok(vec![Part {
            data_coding,
            esm_class_udhi: false,
            short_message,
            sar: None,
            payload: true,
        }]);
    }
    // `billed` ≤ max_parts ≤ 255, so it fits the one-octet total.
    let total = billed as u8;
    let capacity = concat.part_capacity(encoding);
    let octets_per_part = capacity * encoding.octets_per_unit() + 7;
    let layout = Layout {
        concat,
        encoding,
        reference,
        total,
        capacity,
        octets_per_part,
    };
    let parts = if text.is_ascii() {
        // ASCII: skip UTF-8 decoding.
        fill_parts(text.bytes().map(char::from), &layout, billed)
    } else {
        fill_parts(text.chars(), &layout, billed)
    };
    Ok(parts)
}

/// How the parts of one message are laid out.
struct Layout {
    concat: Concat,
    encoding: Encoding,
    reference: u16,
    total: u8,
    capacity: usize,
    octets_per_part: usize,
}

/// Greedy fill: each character goes in the current part if it fits whole, else starts the next.
fn fill_parts(chars: impl Iterator<Item = char>, l: &Layout, billed: usize) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::with_capacity(billed);
    let mut used = l.capacity; // forces a new part for the first character
    for c in chars {
        let w = char_units(c, l.encoding);
        if used + w > l.capacity {
            // At most `total` (≤ 255) parts are created, so the sequence number fits a u8.
            let seq = parts.len() as u8 + 1;
            parts.push(new_part(l, seq));
            used = 0;
        }
        used += w;
        // A part was pushed above on the first character, so `last_mut` is Some.
        if let Some(part) = parts.last_mut() {
            push_char(c, l.encoding, &mut part.short_message);
        }
    }
    parts
}

/// An empty concatenated part with its UDH or SAR fields filled in.
fn new_part(l: &Layout, seq: u8) -> Part {
    let (reference, total) = (l.reference, l.total);
    let mut short_message = Vec::with_capacity(l.octets_per_part);
    let (udhi, sar) = match l.concat {
        Concat::Udh8 => {
            short_message.extend_from_slice(&[0x05, 0x00, 0x03, reference as u8, total, seq]);
            (true, None)
        }
        Concat::Udh16 => {
            let [hi, lo] = reference.to_be_bytes();
            short_message.extend_from_slice(&[0x06, 0x08, 0x04, hi, lo, total, seq]);
            (true, None)
        }
        Concat::Sar | Concat::Payload => (false, Some((reference, total, seq))),
    };
    Part {
        data_coding: l.encoding.data_coding(),
        esm_class_udhi: udhi,
        short_message,
        sar,
        payload: false,
    }
}

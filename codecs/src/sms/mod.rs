//! SMS text encoding: GSM 03.38 7-bit or UCS-2, segmentation and billing counts, inbound decoding.
//!
//! The engine calls [`count_segments`] at ingest (billing; allocation-free), [`split`] when building
//! submit_sm PDUs, and [`decode`] for inbound (MO) messages. Unlike rusmpp-extra's segmenter, sizes are
//! counted in septets / UTF-16 units: 160/153 (152 with a 16-bit reference) and 70/67 (66).
//!
//! ```
//! use sendbox_codecs::sms::{count_segments, split, Concat, Encoding, encode};
//! let kz = "Қазақстан ".repeat(8); // 80 Cyrillic characters: UCS-2, 2 parts of ≤ 67
//! assert_eq!(encode(&kz).encoding, Encoding::Ucs2);
//! assert_eq!(count_segments(&kz, Concat::Udh8), 2);
//! let parts = split(&kz, Concat::Udh8, 7).unwrap();
//! assert_eq!(parts[0].data_coding, 0x08);
//! assert_eq!(parts[0].short_message.len(), 6 + 67 * 2);
//! ```

mod decode;
mod encode;
mod gsm7;
mod segment;

pub use decode::decode;
pub use encode::{Encoded, Encoding, encode};
pub use gsm7::{ESC, gsm7_septets, pack_gsm7, pack_gsm7_after_udh, unpack_gsm7};
pub use segment::{
    Concat, MAX_PARTS, MAX_PAYLOAD_OCTETS, Part, SmsTextError, count_segments, split,
    split_with_limit,
};

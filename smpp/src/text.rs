//! From a dispatch's text and sender to submit_sm fields, without allocating per message.
//!
//! Consecutive dispatches with equal content (a campaign's, sharing one `Arc<Content>` or not)
//! reuse one split, and only the concatenation reference is patched into each message's copy
//! (on the stack) at send time.
//!
//! ```
//! use sendbox_smpp::text::{sender_address, Sender};
//! assert_eq!(sender_address("SHOP"), Ok(Sender { ton: 5, npi: 0 }));
//! assert_eq!(sender_address("77012345678"), Ok(Sender { ton: 1, npi: 1 }));
//! assert!(sender_address("A-VERY-LONG-NAME").is_err());
//! ```

use sendbox_codecs::sms::{self, Concat, Part, SmsTextError};
use sendbox_dispatch::Content;
use std::sync::Arc;

/// TON/NPI of a sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sender {
    /// `source_addr_ton`.
    pub ton: u8,
    /// `source_addr_npi`.
    pub npi: u8,
}

/// Why a dispatch cannot become submit_sm PDUs (a permanent failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    /// The sender is empty, too long, or not ASCII.
    #[error("sender must be 1-11 ASCII characters (alphanumeric) or up to 15 digits (numeric)")]
    BadSender,
    /// The text needs more parts than the operator allows.
    #[error(transparent)]
    Split(#[from] SmsTextError),
    /// The dispatch is not an SMS.
    #[error("not an SMS dispatch")]
    NotSms,
}

impl TextError {
    /// The code put in the outcome.
    pub fn code(self) -> &'static str {
        match self {
            TextError::BadSender => "smpp:invalid_sender",
            TextError::Split(_) => "smpp:text_too_long",
            TextError::NotSms => "smpp:not_sms",
        }
    }
}

/// TON/NPI for `sender`: digits are numeric (TON 1, NPI 1), anything else alphanumeric
/// (TON 5, NPI 0, at most 11 characters).
pub fn sender_address(sender: &str) -> Result<Sender, TextError> {
    let digits = sender.strip_prefix('+').unwrap_or(sender);
    if !digits.is_empty() && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Sender { ton: 1, npi: 1 });
    }
    if sender.is_empty() || sender.len() > 11 || !sender.is_ascii() {
        return Err(TextError::BadSender);
    }
    Ok(Sender { ton: 5, npi: 0 })
}

/// The parts of a message and what it is billed.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// submit_sm parts (shared by the whole campaign; reference not yet patched).
    pub parts: Arc<[Part]>,
    /// Segments billed.
    pub units: u32,
    /// Sender TON/NPI.
    pub sender: Sender,
}

/// A one-entry cache of the last content's split.
#[derive(Debug)]
pub struct TextCache {
    concat: Concat,
    max_parts: u8,
    last: Option<(Arc<Content>, Prepared)>,
}

impl TextCache {
    /// A cache splitting with `concat` into at most `max_parts` parts.
    pub fn new(concat: Concat, max_parts: u8) -> Self {
        TextCache {
            concat,
            max_parts,
            last: None,
        }
    }

    /// The parts for `content`, split once per run of equal contents (the same `Arc`, or an
    /// equal text from the same sender: rows restored at restart, or posted one by one).
    pub fn prepare(&mut self, content: &Arc<Content>) -> Result<Prepared, TextError> {
        if let Some((c, p)) = &self.last
            && (Arc::ptr_eq(c, content) || **c == **content)
        {
            return Ok(p.clone());
        }
        let Content::Sms(sms) = &**content else {
            return Err(TextError::NotSms);
        };
        let sender = sender_address(&sms.sender)?;
        let parts: Arc<[Part]> =
            sms::split_with_limit(&sms.text, self.concat, 0, self.max_parts)?.into();
        // Concatenated parts are the segments billed (the split counts them to size itself);
        // a message_payload is one part that the MC segments, so it is counted here.
        let units = match self.concat {
            Concat::Payload => {
                u32::from(sms::count_segments(&sms.text, self.concat)).max(parts.len() as u32)
            }
            _ => parts.len() as u32,
        };
        let p = Prepared {
            parts,
            units,
            sender,
        };
        self.last = Some((content.clone(), p.clone()));
        Ok(p)
    }
}

/// Copies `part`'s octets into `buf` with the concatenation reference set, returning them.
/// Parts too large for the buffer (message_payload) are returned as they are: they carry no UDH.
pub fn patched<'a>(
    part: &'a Part,
    concat: Concat,
    reference: u16,
    buf: &'a mut [u8; 256],
) -> &'a [u8] {
    let sm = &part.short_message[..];
    if !part.esm_class_udhi || sm.len() > buf.len() {
        return sm;
    }
    buf[..sm.len()].copy_from_slice(sm);
    match (concat, sm) {
        (Concat::Udh8, [5, 0, 3, ..]) => buf[3] = reference as u8,
        (Concat::Udh16, [6, 8, 4, ..]) => buf[3..5].copy_from_slice(&reference.to_be_bytes()),
        _ => {}
    }
    &buf[..sm.len()]
}

/// The SAR fields with the reference set.
pub fn patched_sar(part: &Part, reference: u16) -> Option<(u16, u8, u8)> {
    part.sar.map(|(_, total, seq)| (reference, total, seq))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sendbox_dispatch::SmsContent;

    fn content(text: &str) -> Arc<Content> {
        Arc::new(Content::Sms(SmsContent {
            sender: "SHOP".into(),
            text: text.into(),
            segments: 0,
        }))
    }

    #[test]
    fn equal_contents_in_separate_arcs_are_split_once() {
        let mut cache = TextCache::new(Concat::Udh8, 10);
        let p1 = cache.prepare(&content("Сәлем")).unwrap();
        let p2 = cache.prepare(&content("Сәлем")).unwrap();
        assert!(Arc::ptr_eq(&p1.parts, &p2.parts));
        let p3 = cache.prepare(&content("Сәлем!")).unwrap();
        assert!(!Arc::ptr_eq(&p2.parts, &p3.parts));
    }

    #[test]
    fn same_content_is_split_once_and_reference_is_patched_per_message() {
        let mut cache = TextCache::new(Concat::Udh8, 10);
        let c = content(&"a".repeat(200));
        let p1 = cache.prepare(&c).unwrap();
        let p2 = cache.prepare(&c).unwrap();
        assert!(Arc::ptr_eq(&p1.parts, &p2.parts));
        assert_eq!((p1.parts.len(), p1.units), (2, 2));
        let mut buf = [0u8; 256];
        let sm = patched(&p1.parts[1], Concat::Udh8, 0x1234, &mut buf);
        assert_eq!(&sm[..6], &[5, 0, 3, 0x34, 2, 2]);
    }

    #[test]
    fn units_are_the_segments_counted_for_every_concatenation() {
        let texts = [
            "a".repeat(160),
            "a".repeat(161),
            "[".repeat(80),
            format!("{}{}", "a".repeat(152), "€"),
            "Сәлем әлем ".repeat(7),
            "ж".repeat(70),
            "ж".repeat(71),
            "😀".repeat(40),
            "`".repeat(300),
        ];
        for concat in [Concat::Udh8, Concat::Udh16, Concat::Sar, Concat::Payload] {
            for t in &texts {
                let p = TextCache::new(concat, 20).prepare(&content(t)).unwrap();
                assert_eq!(
                    p.units,
                    u32::from(sms::count_segments(t, concat)),
                    "{concat:?} {t:?}"
                );
                if concat != Concat::Payload {
                    assert_eq!(p.units as usize, p.parts.len(), "{concat:?} {t:?}");
                }
            }
        }
    }

    #[test]
    fn udh16_reference_takes_two_octets() {
        let mut cache = TextCache::new(Concat::Udh16, 10);
        let p = cache.prepare(&content(&"b".repeat(200))).unwrap();
        let mut buf = [0u8; 256];
        assert_eq!(
            &patched(&p.parts[0], Concat::Udh16, 0xABCD, &mut buf)[..7],
            &[6, 8, 4, 0xAB, 0xCD, 2, 1]
        );
    }

    #[test]
    fn too_many_parts_and_bad_sender_are_errors() {
        let mut cache = TextCache::new(Concat::Udh8, 2);
        assert_eq!(
            cache
                .prepare(&content(&"c".repeat(500)))
                .unwrap_err()
                .code(),
            "smpp:text_too_long"
        );
        assert_eq!(sender_address("ÆØÅ").unwrap_err(), TextError::BadSender);
        assert_eq!(
            sender_address("+77011234567"),
            Ok(Sender { ton: 1, npi: 1 })
        );
    }
}

//! Exact-byte segmentation cases for `sms::split` and `sms::count_segments`.

use sendbox_codecs::sms::{
    Concat, Encoding, SmsTextError, count_segments, decode, encode, split, split_with_limit,
};

fn udh8(reference: u8, total: u8, seq: u8) -> [u8; 6] {
    [0x05, 0x00, 0x03, reference, total, seq]
}

#[test]
fn a_160_character_gsm_text_is_one_part_without_udh() {
    let text = "a".repeat(160);
    let parts = split(&text, Concat::Udh8, 1).unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(count_segments(&text, Concat::Udh8), 1);
    let p = &parts[0];
    assert_eq!(
        (p.data_coding, p.esm_class_udhi, p.sar, p.payload),
        (0x00, false, None, false)
    );
    assert_eq!(p.short_message, vec![0x61; 160]);
}

#[test]
fn a_161_character_gsm_text_is_two_parts_of_153_and_8() {
    let text = "b".repeat(161);
    let parts = split(&text, Concat::Udh8, 0x42).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(count_segments(&text, Concat::Udh8), 2);
    let mut first = udh8(0x42, 2, 1).to_vec();
    first.extend_from_slice(&[0x62; 153]);
    let mut second = udh8(0x42, 2, 2).to_vec();
    second.extend_from_slice(&[0x62; 8]);
    assert_eq!(parts[0].short_message, first);
    assert_eq!(parts[1].short_message, second);
    assert!(
        parts
            .iter()
            .all(|p| p.esm_class_udhi && p.data_coding == 0x00 && p.sar.is_none())
    );
}

#[test]
fn an_escape_pair_at_the_boundary_moves_to_the_next_part() {
    // 152 septets, then '€' (ESC 0x65) would take septets 153 and 154: it must not be cut.
    let text = format!("{}€{}", "c".repeat(152), "d".repeat(10));
    let parts = split(&text, Concat::Udh8, 9).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].short_message.len(), 6 + 152);
    assert_eq!(parts[0].short_message.last(), Some(&0x63));
    assert_eq!(
        &parts[1].short_message[..9],
        &[0x05, 0x00, 0x03, 9, 2, 2, 0x1B, 0x65, 0x64]
    );
}

#[test]
fn extension_characters_make_a_160_character_text_need_two_parts() {
    // 159 'a' + '[' = 161 septets.
    let text = format!("{}[", "a".repeat(159));
    assert_eq!(encode(&text).units.len(), 161);
    assert_eq!(count_segments(&text, Concat::Udh8), 2);
}

#[test]
fn kazakh_cyrillic_over_70_characters_splits_into_67_unit_ucs2_parts() {
    // "Қазақстан " is 10 characters; 8 of them make 80 characters.
    let text = "Қазақстан ".repeat(8);
    assert_eq!(encode(&text).encoding, Encoding::Ucs2);
    let parts = split(&text, Concat::Udh8, 0xA5).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(count_segments(&text, Concat::Udh8), 2);
    assert_eq!(&parts[0].short_message[..6], &udh8(0xA5, 2, 1));
    // 'Қ' is U+049A, 'а' U+0430.
    assert_eq!(&parts[0].short_message[6..10], &[0x04, 0x9A, 0x04, 0x30]);
    assert_eq!(parts[0].short_message.len(), 6 + 67 * 2);
    assert_eq!(&parts[1].short_message[..6], &udh8(0xA5, 2, 2));
    assert_eq!(parts[1].short_message.len(), 6 + 13 * 2);
    assert!(
        parts
            .iter()
            .all(|p| p.data_coding == 0x08 && p.esm_class_udhi)
    );
    let joined: Vec<u8> = parts.iter().flat_map(|p| p.text_bytes().to_vec()).collect();
    assert_eq!(decode(0x08, &joined), text);
}

#[test]
fn seventy_russian_characters_fit_one_part_of_140_octets() {
    let text = "ж".repeat(70);
    let parts = split(&text, Concat::Udh8, 1).unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].short_message.len(), 140);
    assert_eq!(count_segments(&"ж".repeat(71), Concat::Udh8), 2);
}

#[test]
fn an_emoji_surrogate_pair_is_never_split() {
    // 66 units, then a 2-unit emoji: 68 > 67, so the emoji starts part 2.
    let text = format!("Қ{}😀{}", "a".repeat(65), "b".repeat(5));
    let parts = split(&text, Concat::Udh8, 3).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].text_bytes().len(), 66 * 2);
    assert_eq!(&parts[1].text_bytes()[..4], &[0xD8, 0x3D, 0xDE, 0x00]);
}

#[test]
fn a_16_bit_reference_uses_the_seven_octet_udh_and_152_septets() {
    let text = "e".repeat(305);
    let parts = split(&text, Concat::Udh16, 0x1234).unwrap();
    assert_eq!(parts.len(), 3);
    assert_eq!(count_segments(&text, Concat::Udh16), 3);
    assert_eq!(
        &parts[0].short_message[..7],
        &[0x06, 0x08, 0x04, 0x12, 0x34, 3, 1]
    );
    assert_eq!(parts[0].short_message.len(), 7 + 152);
    assert_eq!(parts[2].short_message.len(), 7 + 1);
    // The same text is 2 parts with an 8-bit reference (153 + 152).
    assert_eq!(count_segments(&text, Concat::Udh8), 2);
}

#[test]
fn a_16_bit_reference_carries_66_ucs2_units() {
    let text = "ә".repeat(133);
    assert_eq!(count_segments(&text, Concat::Udh16), 3);
    assert_eq!(count_segments(&text, Concat::Udh8), 2);
}

#[test]
fn an_8_bit_udh_keeps_the_low_octet_of_the_reference() {
    let parts = split(&"f".repeat(200), Concat::Udh8, 0x1234).unwrap();
    assert_eq!(parts[1].short_message[3], 0x34);
}

#[test]
fn sar_parts_carry_no_udh_and_153_septets() {
    let text = "g".repeat(200);
    let parts = split(&text, Concat::Sar, 0xBEEF).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].sar, Some((0xBEEF, 2, 1)));
    assert_eq!(parts[1].sar, Some((0xBEEF, 2, 2)));
    assert!(!parts[0].esm_class_udhi);
    assert_eq!(parts[0].short_message, vec![0x67; 153]);
    assert_eq!(parts[1].short_message, vec![0x67; 47]);
}

#[test]
fn payload_mode_sends_one_pdu_but_bills_the_segments_the_smsc_cuts() {
    let text = "h".repeat(400);
    let parts = split(&text, Concat::Payload, 5).unwrap();
    assert_eq!(parts.len(), 1);
    assert!(parts[0].payload && !parts[0].esm_class_udhi && parts[0].sar.is_none());
    assert_eq!(parts[0].short_message.len(), 400);
    assert_eq!(count_segments(&text, Concat::Payload), 3);
    // A short text stays a plain short_message even in payload mode.
    assert!(!split("hi", Concat::Payload, 5).unwrap()[0].payload);
}

#[test]
fn more_parts_than_the_operator_cap_is_an_error() {
    let text = "i".repeat(153 * 3 + 1);
    assert_eq!(
        split_with_limit(&text, Concat::Udh8, 1, 3),
        Err(SmsTextError::TooLong { parts: 4, max: 3 })
    );
    assert_eq!(
        split_with_limit(&text, Concat::Udh8, 1, 4).unwrap().len(),
        4
    );
    let huge = "j".repeat(153 * 255 + 1);
    assert_eq!(
        split(&huge, Concat::Udh8, 1),
        Err(SmsTextError::TooLong {
            parts: 256,
            max: 255
        })
    );
    assert_eq!(count_segments(&huge, Concat::Udh8), 256);
}

#[test]
fn the_empty_text_is_one_empty_segment() {
    assert_eq!(count_segments("", Concat::Udh8), 1);
    let parts = split("", Concat::Udh8, 1).unwrap();
    assert_eq!(parts.len(), 1);
    assert!(parts[0].short_message.is_empty());
}

//! Property tests: split parts decode back to the text, fit 140 octets on air, and match the count.

use proptest::prelude::*;
use sendbox_codecs::sms::{Concat, Part, count_segments, decode, pack_gsm7_after_udh, split};

/// Characters that exercise every path: basic GSM, extension (2 septets), Cyrillic, emoji.
fn any_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => prop::char::range('a', 'z'),
        2 => prop::sample::select(vec!['€', '[', ']', '{', '}', '^', '~', '|', '\\', '\u{c}']),
        1 => prop::sample::select(vec!['Қ', 'ә', 'ғ', 'ж', 'Ё', 'ү']),
        1 => prop::sample::select(vec!['😀', '🇰', '𝄞']),
        1 => prop::sample::select(vec!['é', 'Δ', '£', '@', '\n', 'ß', ' ', '`', '$']),
    ]
}

fn gsm_char() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => prop::char::range(' ', 'z').prop_filter("not GSM", |c| *c != '`'),
        2 => prop::sample::select(vec!['€', '[', ']', '{', '}', '^', '~', '|', '\\', '\u{c}']),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(gsm_char(), 0..700),
        prop::collection::vec(any_char(), 0..400),
    ]
    .prop_map(|cs| cs.into_iter().collect())
}

fn concat() -> impl Strategy<Value = Concat> {
    prop::sample::select(vec![Concat::Udh8, Concat::Udh16, Concat::Sar])
}

/// The octets a part occupies on the air interface (GSM packed with UDH fill bits).
fn air_octets(part: &Part) -> usize {
    if part.data_coding == 0x08 {
        return part.short_message.len();
    }
    let udh_len = part.short_message.len() - part.text_bytes().len();
    pack_gsm7_after_udh(&part.short_message[..udh_len], part.text_bytes()).len()
}

proptest! {
    #[test]
    fn parts_concatenate_back_to_the_text(text in text(), concat in concat(), reference: u16) {
        let parts = split(&text, concat, reference).unwrap();
        let dc = parts[0].data_coding;
        prop_assert!(parts.iter().all(|p| p.data_coding == dc));
        let joined: Vec<u8> = parts.iter().flat_map(|p| p.text_bytes().to_vec()).collect();
        prop_assert_eq!(decode(dc, &joined), text);
    }

    #[test]
    fn each_part_decodes_on_its_own(text in text(), concat in concat()) {
        // No escape or surrogate pair is cut, so every part is valid by itself.
        let parts = split(&text, concat, 1).unwrap();
        let joined: String = parts.iter().map(|p| decode(p.data_coding, p.text_bytes())).collect();
        prop_assert_eq!(joined, text);
    }

    #[test]
    fn no_part_exceeds_140_octets_on_air(text in text(), concat in concat()) {
        for part in split(&text, concat, 1).unwrap() {
            prop_assert!(air_octets(&part) <= 140, "{} octets", air_octets(&part));
        }
    }

    #[test]
    fn count_segments_equals_the_number_of_parts(text in text(), concat in concat()) {
        let parts = split(&text, concat, 1).unwrap();
        prop_assert_eq!(usize::from(count_segments(&text, concat)), parts.len());
        prop_assert_eq!(count_segments(&text, Concat::Payload), count_segments(&text, Concat::Udh8));
    }

    #[test]
    fn parts_are_numbered_from_one_with_the_right_total(text in text(), concat in concat()) {
        let parts = split(&text, concat, 0x0102).unwrap();
        let n = parts.len();
        for (i, p) in parts.iter().enumerate() {
            if n == 1 {
                prop_assert!(!p.esm_class_udhi && p.sar.is_none());
                continue;
            }
            let (total, seq) = match concat {
                Concat::Udh8 => (p.short_message[4], p.short_message[5]),
                Concat::Udh16 => (p.short_message[5], p.short_message[6]),
                _ => p.sar.map(|(_, t, s)| (t, s)).unwrap(),
            };
            prop_assert_eq!(usize::from(total), n);
            prop_assert_eq!(usize::from(seq), i + 1);
        }
    }

    #[test]
    fn decode_never_panics(dc: u8, bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode(dc, &bytes);
    }
}

proptest! {
    #[test]
    fn ascii_texts_with_a_non_gsm_backtick_go_ucs2_and_still_split_right(
        n in 0usize..400, at in 0usize..400, concat in concat(),
    ) {
        // '`' is ASCII but not GSM 03.38: the whole text is UCS-2 (the ASCII fast path must agree).
        let mut text = "x".repeat(n);
        text.insert(at.min(n), '`');
        let parts = split(&text, concat, 1).unwrap();
        prop_assert!(parts.iter().all(|p| p.data_coding == 0x08));
        prop_assert_eq!(usize::from(count_segments(&text, concat)), parts.len());
        let joined: Vec<u8> = parts.iter().flat_map(|p| p.text_bytes().to_vec()).collect();
        prop_assert_eq!(decode(0x08, &joined), text);
    }
}

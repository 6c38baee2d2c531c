//! Tests of number parsing and classification.

use super::*;
use proptest::prelude::*;

fn ok(s: &str) -> u64 {
    match parse(s) {
        Ok(m) => m.get(),
        Err(e) => panic!("{s:?} was refused: {e}"),
    }
}

fn code(s: &str) -> &'static str {
    match parse(s) {
        Ok(m) => panic!("{s:?} was accepted as {m}"),
        Err(e) => e.code(),
    }
}

#[test]
fn every_accepted_format_normalises_to_e164() {
    for s in [
        "+77011234567",
        "77011234567",
        "87011234567",
        "7011234567",
        "+7 701 123 45 67",
        "8 (701) 123-45-67",
        "+7(701)123.45.67",
        "7-701-123-4567",
        "  +7 701 1234567  ",
        "\t8\t701\t1234567",
        "(701) 123 45 67",
        "0077011234567",
        "00 7 701 123 45 67",
    ] {
        assert_eq!(ok(s), 77011234567, "{s:?}");
    }
}

#[test]
fn six_hundred_range_is_kazakhstan() {
    assert_eq!(ok("+76001234567"), 76001234567);
    assert_eq!(ok("6991234567"), 76991234567);
}

#[test]
fn russian_numbers_are_not_kazakhstan() {
    assert_eq!(code("+79161234567"), "not_kazakhstan");
    assert_eq!(code("89161234567"), "not_kazakhstan");
    assert_eq!(code("79161234567"), "not_kazakhstan");
    assert_eq!(code("9161234567"), "not_kazakhstan");
    assert_eq!(code("+74951234567"), "not_kazakhstan");
}

#[test]
fn other_countries_are_not_kazakhstan() {
    assert_eq!(code("+998901234567"), "not_kazakhstan");
    assert_eq!(code("+1 212 555 0100"), "not_kazakhstan");
    assert_eq!(code("998901234567"), "not_kazakhstan");
    assert_eq!(code("00998901234567"), "not_kazakhstan");
}

#[test]
fn wrong_lengths_are_reported_with_the_digit_count() {
    assert_eq!(
        parse("+7701123456"),
        Err(NumberError::WrongLength { digits: 10 })
    );
    assert_eq!(
        parse("+770112345678"),
        Err(NumberError::WrongLength { digits: 12 })
    );
    assert_eq!(
        parse("870112345678"),
        Err(NumberError::WrongLength { digits: 12 })
    );
    assert_eq!(
        parse("8701123456"),
        Err(NumberError::WrongLength { digits: 10 })
    );
    assert_eq!(parse("701123"), Err(NumberError::WrongLength { digits: 6 }));
    assert_eq!(parse("1"), Err(NumberError::WrongLength { digits: 1 }));
    assert_eq!(code("77011234567777777777777777"), "wrong_length");
}

#[test]
fn bad_characters_are_reported_with_their_offset() {
    assert_eq!(
        parse("+7701abc4567"),
        Err(NumberError::BadCharacter { at: 5 })
    );
    assert_eq!(
        parse("7701+1234567"),
        Err(NumberError::BadCharacter { at: 4 })
    );
    assert_eq!(
        parse("++77011234567"),
        Err(NumberError::BadCharacter { at: 1 })
    );
    assert_eq!(
        parse("7701/1234567"),
        Err(NumberError::BadCharacter { at: 4 })
    );
    assert_eq!(code("７７０１１２３４５６７"), "bad_character");
}

#[test]
fn empty_inputs_are_empty() {
    for s in ["", "   ", "+", "( - )", "+ "] {
        assert_eq!(parse(s), Err(NumberError::Empty), "{s:?}");
    }
}

#[test]
fn def_codes_classify_per_the_numbering_plan() {
    assert_eq!(LineType::of_def(701), Some(LineType::Mobile));
    assert_eq!(LineType::of_def(700), Some(LineType::Mobile));
    assert_eq!(LineType::of_def(747), Some(LineType::Mobile));
    assert_eq!(LineType::of_def(777), Some(LineType::Mobile));
    assert_eq!(LineType::of_def(727), Some(LineType::FixedLine));
    assert_eq!(LineType::of_def(717), Some(LineType::FixedLine));
    assert_eq!(LineType::of_def(760), Some(LineType::FixedWireless));
    assert_eq!(LineType::of_def(764), Some(LineType::FixedWireless));
    assert_eq!(LineType::of_def(765), None);
    assert_eq!(LineType::of_def(745), None);
    assert_eq!(LineType::of_def(600), None);
    assert_eq!(LineType::of_def(780), None);
    assert!(LineType::Mobile.takes_sms());
    assert!(!LineType::FixedWireless.takes_sms());
}

#[test]
fn accessors_split_the_number() {
    let m = parse("87272123456").unwrap();
    assert_eq!(m.def_code(), 727);
    assert_eq!(m.national(), 7272123456);
    assert_eq!(m.line_type(), Some(LineType::FixedLine));
    assert_eq!(m.to_string(), "77272123456");
    assert_eq!(u64::from(m), 77272123456);
}

#[test]
fn masked_and_debug_hide_the_middle_digits() {
    let m = parse("+77011234567").unwrap();
    assert_eq!(m.masked().to_string(), "7701***4567");
    assert_eq!(format!("{m:?}"), "Msisdn(7701***4567)");
    let m = parse("+77010000007").unwrap();
    assert_eq!(m.masked().to_string(), "7701***0007");
}

#[test]
fn from_e164_validates_stored_numbers() {
    assert_eq!(Msisdn::from_e164(77011234567).unwrap().get(), 77011234567);
    assert_eq!(
        Msisdn::from_e164(79161234567),
        Err(NumberError::NotKazakhstan)
    );
    assert_eq!(
        Msisdn::from_e164(7701123456),
        Err(NumberError::WrongLength { digits: 10 })
    );
    assert_eq!(
        Msisdn::from_e164(0),
        Err(NumberError::WrongLength { digits: 1 })
    );
}

#[test]
fn codes_are_stable() {
    let all = [
        (NumberError::Empty, "empty"),
        (NumberError::BadCharacter { at: 0 }, "bad_character"),
        (NumberError::WrongLength { digits: 3 }, "wrong_length"),
        (NumberError::NotKazakhstan, "not_kazakhstan"),
        (NumberError::FixedLine { def: 727 }, "fixed_line"),
        (NumberError::UnknownDef { def: 699 }, "unknown_def"),
    ];
    for (e, c) in all {
        assert_eq!(e.code(), c);
        assert!(!e.to_string().is_empty());
    }
}

proptest! {
    #[test]
    fn any_kz_number_in_any_format_round_trips(
        national in 6_000_000_000u64..8_000_000_000,
        form in 0usize..6,
        seps in proptest::collection::vec(prop_oneof![Just(""), Just(" "), Just("-"), Just("."), Just("(" ), Just(")")], 12),
    ) {
        let digits = match form {
            0 => format!("+7{national}"),
            1 => format!("7{national}"),
            2 => format!("8{national}"),
            3 => format!("{national}"),
            4 => format!("007{national}"),
            _ => format!("+ 7 {national}"),
        };
        let mut s = String::new();
        for (i, c) in digits.chars().enumerate() {
            s.push(c);
            if c != '+' {
                s.push_str(seps[i % seps.len()]);
            }
        }
        prop_assert_eq!(parse(&s).map(Msisdn::get), Ok(70_000_000_000 + national));
    }

    #[test]
    fn parse_never_panics_and_accepts_only_kz_numbers(s in "\\PC{0,24}") {
        if let Ok(m) = parse(&s) {
            prop_assert!((KZ_MIN..KZ_END).contains(&m.get()));
            prop_assert!(s.chars().all(|c| c.is_ascii_digit() || " \t-.()+".contains(c)));
        }
    }

    #[test]
    fn parse_bytes_never_panics(b in proptest::collection::vec(any::<u8>(), 0..32)) {
        let _ = parse_bytes(&b);
    }

    #[test]
    fn non_kz_plus7_numbers_are_refused(national in 0u64..10_000_000_000) {
        let r = parse(&format!("+7{national:010}"));
        if (6_000_000_000..8_000_000_000).contains(&national) {
            prop_assert!(r.is_ok());
        } else {
            prop_assert_eq!(r, Err(NumberError::NotKazakhstan));
        }
    }
}

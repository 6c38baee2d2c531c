use super::*;

#[test]
fn standard_appendix_b_receipt() {
    let r = parse_text(
        b"id:1234567890 sub:001 dlvrd:001 submit date:2511251200 done date:2511251205 stat:DELIVRD err:000 text:Hello world",
    )
    .unwrap();
    assert_eq!(r.id, b"1234567890");
    assert_eq!(r.stat, Stat::Delivered);
    assert_eq!(r.err, b"000");
    assert_eq!(r.submit_date, b"2511251200");
    assert_eq!(r.done_date, b"2511251205");
}

#[test]
fn twelve_digit_dates_are_read() {
    let r = parse_text(b"id:77 sub:001 dlvrd:000 submit date:251125120059 done date:251125120130 stat:UNDELIV err:001 text:").unwrap();
    assert_eq!(r.submit_date, b"251125120059");
    assert_eq!(r.done_date, b"251125120130");
    assert_eq!(r.stat, Stat::Undeliverable);
    assert_eq!(r.err, b"001");
}

#[test]
fn missing_sub_and_dlvrd_and_capitalised_text() {
    let r = parse_text(b"id:abc-9 submit date:2511251200 done date:2511251201 stat:EXPIRED err:0 Text:stat:DELIVRD id:evil").unwrap();
    assert_eq!(r.id, b"abc-9");
    assert_eq!(
        r.stat,
        Stat::Expired,
        "text after Text: must not be read as fields"
    );
}

#[test]
fn keys_in_any_case_and_extra_blanks() {
    let r = parse_text(b"  ID:5f3a   Stat:rejectd  ERR:045 ").unwrap();
    assert_eq!(r.id, b"5f3a");
    assert_eq!(r.stat, Stat::Rejected);
    assert_eq!(r.err, b"045");
}

#[test]
fn unknown_stat_word_is_unknown_and_final() {
    let r = parse_text(b"id:1 stat:WEIRD").unwrap();
    assert_eq!(r.stat, Stat::Unknown);
    assert_eq!(r.stat.final_state(), Some(FinalState::Undeliverable));
}

#[test]
fn missing_id_or_stat_is_an_error() {
    assert_eq!(
        parse_text(b"sub:001 stat:DELIVRD"),
        Err(DlrError::MissingId)
    );
    assert_eq!(parse_text(b"id:42 err:000"), Err(DlrError::MissingStat));
    assert_eq!(parse_text(b""), Err(DlrError::MissingId));
    assert_eq!(parse_text(&[0xFF, 0xFE, b':']), Err(DlrError::MissingId));
}

#[test]
fn intermediate_states_are_not_final() {
    for s in [Stat::Enroute, Stat::Scheduled, Stat::Accepted] {
        assert_eq!(s.final_state(), None);
    }
    assert_eq!(
        Stat::from_state(2).final_state(),
        Some(FinalState::Delivered)
    );
    assert_eq!(
        Stat::from_state(8).final_state(),
        Some(FinalState::Rejected)
    );
    assert_eq!(Stat::from_state(200), Stat::Unknown);
}

#[test]
fn hex_and_decimal_ids_normalise_to_the_same_key() {
    // Kannel msg-id-type: hex in submit_sm_resp, decimal in the receipt.
    let submit = MsgKey::new(b"00FF", IdBase::Hex);
    let receipt = MsgKey::new(b"255", IdBase::Decimal);
    assert_eq!(submit, receipt);
    assert_eq!(
        MsgKey::new(b"00ff", IdBase::Hex),
        MsgKey::new(b"FF", IdBase::Hex)
    );
}

#[test]
fn text_ids_ignore_case_and_blanks_but_keep_leading_zeros() {
    assert_eq!(
        MsgKey::new(b" AbC1 ", IdBase::Text),
        MsgKey::new(b"abc1", IdBase::Text)
    );
    assert_ne!(
        MsgKey::new(b"012", IdBase::Text),
        MsgKey::new(b"12", IdBase::Text)
    );
    let long = b"0123456789abcdef0123456789ABCDEF-long";
    assert_eq!(
        MsgKey::new(long, IdBase::Text),
        MsgKey::new(&long.to_ascii_lowercase(), IdBase::Text)
    );
}

#[test]
fn unparsable_number_falls_back_to_text() {
    assert_eq!(
        MsgKey::new(b"xyz", IdBase::Decimal),
        MsgKey::new(b"XYZ", IdBase::Text)
    );
}

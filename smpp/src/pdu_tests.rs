use super::*;
use rusmpp::Pdu;
use rusmpp::tokio_codec::CommandCodec;
use tokio_util::codec::Decoder;

fn raw(id: u32, status: u32, seq: u32, body: &[u8]) -> Bytes {
    let mut v = Vec::new();
    v.extend_from_slice(&((16 + body.len()) as u32).to_be_bytes());
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(&status.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(body);
    Bytes::from(v)
}

fn deliver_body(esm: u8, text: &[u8], tlvs: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 1, 1];
    b.extend_from_slice(b"77011234567\0");
    b.extend_from_slice(&[5, 0]);
    b.extend_from_slice(b"SHOP\0");
    b.extend_from_slice(&[esm, 0, 0, 0, 0, 0, 0, 0, 0, text.len() as u8]);
    b.extend_from_slice(text);
    b.extend_from_slice(tlvs);
    b
}

#[test]
fn submit_sm_resp_decodes_strictly() {
    let d = decode(raw(0x8000_0004, 0, 7, b"abc123\0"));
    assert_eq!(d.body, Body::SubmitSmResp(Bytes::from_static(b"abc123")));
    assert!(!d.tolerant);
    assert_eq!(d.header.seq, 7);
}

#[test]
fn submit_sm_resp_without_nul_is_accepted_by_the_tolerant_parser() {
    let d = decode(raw(0x8000_0004, 0, 8, b"5F3A21"));
    assert_eq!(d.body, Body::SubmitSmResp(Bytes::from_static(b"5F3A21")));
    assert!(d.tolerant);
}

#[test]
fn header_only_error_response_has_an_empty_message_id() {
    let d = decode(raw(0x8000_0004, 0x58, 9, b""));
    assert_eq!(d.body, Body::SubmitSmResp(Bytes::new()));
    assert_eq!(d.header.status, 0x58);
}

#[test]
fn receipt_tlvs_are_read() {
    let tlvs = [
        0x00, 0x1E, 0x00, 0x04, b'a', b'b', b'c', 0, 0x04, 0x27, 0x00, 0x01, 2,
    ];
    let d = decode(raw(
        5,
        0,
        3,
        &deliver_body(0x04, b"id:abc stat:DELIVRD", &tlvs),
    ));
    let Body::DeliverSm(dl) = d.body else {
        panic!("{:?}", d.body)
    };
    assert!(dl.is_receipt());
    assert_eq!(dl.receipted_message_id.as_deref(), Some(&b"abc"[..]));
    assert_eq!(dl.message_state, Some(2));
    assert_eq!(&dl.source_addr[..], b"77011234567");
    assert_eq!(&dl.dest_addr[..], b"SHOP");
}

#[test]
fn receipted_message_id_without_nul_and_truncated_tlv_are_tolerated() {
    let tlvs = [
        0x00, 0x1E, 0x00, 0x03, b'x', b'y', b'z', 0x04, 0x27, 0x00, 0x01,
    ];
    let d = decode(raw(5, 0, 4, &deliver_body(0x04, b"id:xyz", &tlvs)));
    assert!(d.tolerant);
    let Body::DeliverSm(dl) = d.body else {
        panic!("{:?}", d.body)
    };
    assert_eq!(dl.receipted_message_id.as_deref(), Some(&b"xyz"[..]));
    assert_eq!(dl.message_state, None);
}

#[test]
fn garbage_deliver_sm_is_malformed_with_its_header() {
    let d = decode(raw(5, 0, 11, &[1, 2, 3]));
    assert_eq!(d.body, Body::Malformed);
    assert_eq!(d.header.seq, 11);
}

#[test]
fn unknown_command_is_other() {
    let d = decode(raw(0x0000_0777, 0, 12, b""));
    assert!(matches!(d.body, Body::Other | Body::Malformed));
}

#[test]
fn hand_encoded_submit_sm_is_what_rusmpp_decodes() {
    let mut buf = BytesMut::new();
    let mut dbuf = [0u8; 20];
    let validity = relative_validity(3600 * 25 + 61);
    assert_eq!(&validity, b"000001010101000R");
    let m = SubmitSm {
        source_ton: 5,
        source_npi: 0,
        source_addr: b"SHOP",
        dest_addr: digits(77011234567, &mut dbuf),
        esm_class: 0x40,
        registered_delivery: 1,
        data_coding: 8,
        validity_period: &validity,
        short_message: &[5, 0, 3, 1, 2, 1, 0, 0x41],
        payload: false,
        sar: Some((0x1234, 2, 1)),
    };
    encode_submit_sm(&mut buf, 42, &m);
    let cmd = CommandCodec::new().decode(&mut buf).unwrap().unwrap();
    assert_eq!(cmd.sequence_number(), 42);
    let Some(Pdu::SubmitSm(s)) = cmd.pdu() else {
        panic!("{cmd:?}")
    };
    assert_eq!(s.destination_addr.as_str(), "77011234567");
    assert_eq!(s.source_addr.as_str(), "SHOP");
    assert_eq!(u8::from(s.esm_class), 0x40);
    assert_eq!(u8::from(s.data_coding), 8);
    assert_eq!(s.short_message().as_ref(), &[5, 0, 3, 1, 2, 1, 0, 0x41]);
    assert_eq!(s.validity_period.as_ref(), b"000001010101000R\0");
    assert_eq!(s.tlvs().len(), 3);
}

#[test]
fn payload_submit_sm_has_zero_sm_length() {
    let mut buf = BytesMut::new();
    let text = vec![b'a'; 300];
    let m = SubmitSm {
        source_ton: 1,
        source_npi: 1,
        source_addr: b"7700",
        dest_addr: b"77011234567",
        esm_class: 0,
        registered_delivery: 1,
        data_coding: 0,
        validity_period: b"",
        short_message: &text,
        payload: true,
        sar: None,
    };
    encode_submit_sm(&mut buf, 1, &m);
    let cmd = CommandCodec::new().decode(&mut buf).unwrap().unwrap();
    let Some(Pdu::SubmitSm(s)) = cmd.pdu() else {
        panic!("{cmd:?}")
    };
    assert_eq!(s.sm_length(), 0);
    assert_eq!(s.tlvs().len(), 1);
}

#[test]
fn digits_writes_zero_and_large_numbers() {
    let mut b = [0u8; 20];
    assert_eq!(digits(0, &mut b), b"0");
    assert_eq!(digits(u64::MAX, &mut b), b"18446744073709551615");
}

#[test]
fn plain_submit_sm_resp_ids_read_directly_decode_as_the_general_way_does() {
    let tlv = [0x04, 0x25, 0x00, 0x01, 0x00]; // delivery_failure_reason (SMPP 5.0)
    let ids: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"abc123".to_vec(),
        b"5F3A21".to_vec(),
        b"1234567890123456789".to_vec(),
        vec![b'7'; 64],
        b"id:with/punctuation-_.~".to_vec(),
    ];
    for (seq, id) in ids.iter().enumerate() {
        for tail in [&[][..], &tlv[..]] {
            let mut body = id.clone();
            body.push(0);
            body.extend_from_slice(tail);
            let frame = raw(0x8000_0004, 0, seq as u32, &body);
            let header = Header::parse(&frame).unwrap();
            assert_eq!(plain_message_id(&frame[HEADER_LEN..]), Some(&id[..]));
            let direct = decode(frame.clone());
            let general = decode_general(frame.clone(), header);
            assert_eq!(direct.body, Body::SubmitSmResp(Bytes::copy_from_slice(id)));
            assert_eq!(
                direct.body,
                general.body,
                "{:?}",
                String::from_utf8_lossy(id)
            );
            assert_eq!(direct.body, lenient::body(&frame, &header));
            assert!(!direct.tolerant);
        }
    }
}

#[test]
fn other_submit_sm_resp_ids_go_the_general_way() {
    for body in [
        &b"5F3A21"[..],       // no NUL
        b"with space\0",      // not plain
        "идент\0".as_bytes(), // not ASCII
        &[b'7'; 65],          // too long, and no NUL within 65
        b"",                  // header only
    ] {
        let frame = raw(0x8000_0004, 0, 3, body);
        let header = Header::parse(&frame).unwrap();
        assert_eq!(plain_message_id(&frame[HEADER_LEN..]), None, "{body:?}");
        assert_eq!(decode(frame.clone()), decode_general(frame, header));
    }
}

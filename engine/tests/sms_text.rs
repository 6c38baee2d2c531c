//! What an SMSC receives for a long Kazakh text posted to the API, byte for byte, and what it
//! is billed: the engine against SMSC simulators over loopback, on real SQLite.

mod common;

use common::{ACME, ADMIN, Engine, Opts};
use std::collections::BTreeMap;

/// 150 characters of Kazakh Cyrillic (all in the Basic Multilingual Plane): UCS-2, so three
/// parts of at most 67 characters (67 + 67 + 16) behind an 8-bit reference UDH.
fn kazakh_150() -> String {
    let s: String =
        "Құрметті клиент! Сіздің тапсырысыңыз дайын, оны ертең сағат онға дейін алуға болады. "
            .chars()
            .cycle()
            .take(150)
            .collect();
    assert_eq!(s.chars().count(), 150);
    s
}

/// UCS-2 big-endian octets of `chars`, written out here rather than by the codec under test.
fn ucs2(chars: &[char]) -> Vec<u8> {
    chars
        .iter()
        .flat_map(|&c| {
            let mut unit = [0u16; 2];
            assert_eq!(c.encode_utf16(&mut unit).len(), 1, "{c} is in the BMP");
            unit[0].to_be_bytes()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_kazakh_text_reaches_the_smsc_as_three_exact_ucs2_parts_billed_as_three() {
    let e = Engine::start(Opts::default()).await;
    let text = kazakh_150();
    // One number per operator: Kcell (701, 1200 tiyn a segment) and Beeline (705, 1100).
    let to = ["77011234567", "77051234567"];
    e.sms(ACME, &to, &text).await;
    e.wait(|| e.finals() >= 2, "2 receipts").await;

    let chars: Vec<char> = text.chars().collect();
    let bodies: Vec<Vec<u8>> = chars.chunks(67).map(ucs2).collect();
    assert_eq!(
        bodies.iter().map(Vec::len).collect::<Vec<_>>(),
        [134, 134, 32]
    );

    for (sim, dest) in e.smsc.iter().zip(to) {
        let got = sim.received();
        assert_eq!(got.len(), 3, "{dest}: one submit_sm per part: {got:?}");
        // Parts of one message may travel on different binds: order them by the UDH's seq.
        let mut parts = BTreeMap::new();
        for r in &got {
            assert_eq!(r.dest, dest);
            assert_eq!(r.source, "ACME");
            assert_eq!(r.data_coding, 0x08, "UCS-2");
            assert_eq!(r.esm_class & 0x40, 0x40, "UDHI set");
            assert_eq!(r.registered_delivery & 0x01, 0x01, "a receipt is requested");
            assert_eq!((r.message_payload.as_ref(), r.sar), (None, None));
            let udh = &r.short_message[..6];
            assert_eq!(
                &udh[..3],
                &[0x05, 0x00, 0x03],
                "8-bit reference concatenation IE"
            );
            assert_eq!(udh[4], 3, "three parts in all");
            assert!(
                parts.insert(udh[5], r.short_message.clone()).is_none(),
                "part {} sent once",
                udh[5]
            );
        }
        assert_eq!(parts.keys().copied().collect::<Vec<_>>(), [1, 2, 3]);
        let reference = parts[&1][3];
        for (seq, sm) in &parts {
            assert_eq!(sm[3], reference, "one reference for all parts");
            let mut want = vec![0x05, 0x00, 0x03, reference, 3, *seq];
            want.extend_from_slice(&bodies[usize::from(*seq) - 1]);
            assert_eq!(sm, &want, "part {seq} of {dest}, byte for byte");
        }
    }

    let receipts = e.receipts(ACME).await;
    assert_eq!(receipts.len(), 2);
    let mut cost: Vec<(i64, i64)> = receipts
        .iter()
        .map(|r| {
            assert_eq!(r["state"], "delivered", "{r}");
            (
                r["segments"].as_i64().unwrap(),
                r["cost_tiyn"].as_i64().unwrap(),
            )
        })
        .collect();
    cost.sort_unstable();
    assert_eq!(cost, [(3, 3 * 1100), (3, 3 * 1200)]);
    let (_, acct) = e.get("/v1/admin/accounts/acme", ADMIN).await;
    assert_eq!(
        acct["spent_tiyn"],
        3 * 1100 + 3 * 1200,
        "billed once, per segment"
    );
    assert_eq!(acct["reserved_tiyn"], 0);
    e.stop().await;
}

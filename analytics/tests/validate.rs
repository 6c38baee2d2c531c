//! Validation of mixed client bases: reasons, operators, duplicates, blacklists, history.

use sendbox_analytics::generate::{Generator, GeneratorConfig};
use sendbox_analytics::history::History;
use sendbox_analytics::output::{HEADER, ResultCsv};
use sendbox_analytics::validate::{Run, Summary, Validator};
use sendbox_dispatch::FinalState;
use sendbox_policy::blacklist::{Blacklist, BlacklistSet};
use sendbox_policy::number::parse;
use sendbox_policy::portability::Portability;
use sendbox_policy::route::Router;
use sendbox_policy::{AccountId, OperatorId};
use std::sync::Arc;

fn setup() -> (Router, Vec<String>, BlacklistSet) {
    let port = Portability::from_rows([(parse("77011110000").unwrap(), OperatorId(1))]);
    let router = Router::new([
        (701, OperatorId(0)),
        (705, OperatorId(1)),
        (707, OperatorId(2)),
        (727, OperatorId(3)),
    ])
    .unwrap()
    .with_portability(Arc::new(port));
    let ops = ["kcell", "beeline", "tele2", "kaztelecom"]
        .map(String::from)
        .to_vec();
    let lists = BlacklistSet::new(Blacklist::from_numbers([parse("77059999999").unwrap()]))
        .with_account(
            AccountId(3),
            Some(Blacklist::from_numbers([parse("77070000001").unwrap()])),
        );
    (router, ops, lists)
}

type Row = (
    u64,
    Option<u64>,
    Option<&'static str>,
    Option<String>,
    bool,
    bool,
);

fn run_all(v: &Validator<'_>, input: &[u8], chunk: usize) -> (Vec<Row>, Summary) {
    let mut rows = Vec::new();
    let mut run = Run::new(v);
    let mut out = |r: &sendbox_analytics::validate::Validation<'_>| {
        rows.push((
            r.line,
            r.normalized.map(|m| m.get()),
            r.reason,
            r.operator.map(|o| v.operator_name(o).to_string()),
            r.blacklisted,
            r.duplicate,
        ));
    };
    for c in input.chunks(chunk.max(1)) {
        run.push(c, &mut out);
    }
    let s = run.finish(&mut out);
    (rows, s)
}

const BASE: &[u8] = b"name,phone\r\n\"Doe, John\",8 (701) 123-45-67\r\nA,+77011110000\r\nB,+7 916 123 45 67\r\nC,7701\r\nD,87059999999\r\nE,87272123456\r\nF,x7701\r\nG,87011234567\r\nH,77070000001\r\nI,+77651234567\r\nJ,";

#[test]
fn mixed_rows_get_the_right_reasons_operators_and_flags() {
    let (router, ops, lists) = setup();
    let v = Validator::new(&router, &ops, &lists, AccountId(3));
    let (rows, s) = run_all(&v, BASE, 1 << 20);
    let by_line = |l: u64| rows.iter().find(|r| r.0 == l).unwrap().clone();
    assert_eq!(by_line(2).1, Some(77011234567));
    assert_eq!(by_line(2).3.as_deref(), Some("kcell"));
    assert_eq!(
        by_line(3).3.as_deref(),
        Some("beeline"),
        "portability table wins over the prefix"
    );
    assert_eq!(by_line(4).2, Some("not_kazakhstan"));
    assert_eq!(by_line(5).2, Some("wrong_length"));
    assert!(by_line(6).4, "globally blacklisted");
    assert_eq!(
        by_line(7).3.as_deref(),
        Some("kaztelecom"),
        "fixed lines are valid, typed fixed_line"
    );
    assert_eq!(by_line(8).2, Some("bad_character"));
    assert!(by_line(9).5, "duplicate of line 2");
    assert!(by_line(10).4, "account blacklist");
    assert_eq!(by_line(11).2, Some("unknown_def"));
    assert_eq!(by_line(12).2, Some("empty"));
    assert_eq!(
        (s.rows, s.valid, s.invalid, s.unique, s.duplicates),
        (11, 6, 5, 5, 1)
    );
    assert_eq!(s.by_line_type.get("fixed_line"), Some(&1));
    assert_eq!(s.blacklisted, 2);
    assert_eq!(s.by_reason.values().sum::<u64>(), 5);
}

#[test]
fn chunk_boundaries_do_not_change_results() {
    let (router, ops, lists) = setup();
    let v = Validator::new(&router, &ops, &lists, AccountId(3));
    let whole = run_all(&v, BASE, 1 << 20);
    for chunk in [1, 2, 3, 7, 16] {
        assert_eq!(run_all(&v, BASE, chunk), whole, "chunk size {chunk}");
    }
}

#[test]
fn headerless_single_column_and_json_lists_validate_every_row() {
    let (router, ops, lists) = setup();
    let v = Validator::new(&router, &ops, &lists, AccountId(0));
    let (rows, s) = run_all(&v, b"87011234567\n87051234567\n", 5);
    assert_eq!(rows.len(), 2);
    assert_eq!(s.valid, 2);
    let mut run = Run::new(&v);
    let mut n = 0;
    run.push_numbers(["87011234567", " +7 705 123 45 67 ", "nope"], &mut |_| {
        n += 1
    });
    let s = run.finish(&mut |_| n += 1);
    assert_eq!((n, s.valid, s.invalid), (3, 2, 1));
}

#[test]
fn repeated_permanent_failures_flag_a_number_unreachable() {
    let (router, ops, lists) = setup();
    let mut g = Generator::new(GeneratorConfig {
        recipients: 3,
        max_attempts: 3,
        dead_share: 0.0,
        ..Default::default()
    })
    .generate();
    let dead = g.receipts[0].msisdn;
    for r in g.receipts.iter_mut().filter(|r| r.msisdn == dead).take(1) {
        r.state = FinalState::Undeliverable;
        r.error = Some("dlr:UNDELIV/err=001".into());
    }
    let mut extra = g.receipts[0].clone();
    extra.dispatch_id = 999;
    extra.state = FinalState::Undeliverable;
    extra.error = Some("dlr:UNDELIV/err=001".into());
    g.receipts.push(extra);
    let h = History::from_rows(g.receipts.iter(), g.feedback.iter());
    let v = Validator::new(&router, &ops, &lists, AccountId(0)).with_history(&h, Some("acme"));
    let mut flags = Vec::new();
    let mut csv = ResultCsv::new(Vec::new()).unwrap();
    let mut run = Run::new(&v);
    let input = format!(
        "{dead}\n{}\n",
        g.receipts.iter().find(|r| r.msisdn != dead).unwrap().msisdn
    );
    run.push(input.as_bytes(), &mut |r| {
        flags.push((r.unreachable, r.history.permanent_failures));
        csv.write(r, &v).unwrap();
    });
    let s = run.finish(&mut |_| {});
    assert_eq!(flags[0], (true, 2));
    assert!(!flags[1].0);
    assert_eq!((s.unreachable, s.known), (1, 2));
    let text = String::from_utf8(csv.finish().unwrap()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], HEADER.join(","));
    assert!(
        lines[1].ends_with("dlr:UNDELIV/err=001,unknown subscriber"),
        "{}",
        lines[1]
    );
    // Another account's history knows nothing about the number.
    let other = Validator::new(&router, &ops, &lists, AccountId(0)).with_history(&h, Some("other"));
    let mut run = Run::new(&other);
    let mut unreachable = None;
    run.push(input.as_bytes(), &mut |r| {
        unreachable.get_or_insert(r.unreachable);
    });
    assert_eq!(unreachable, Some(false));
}

#[test]
fn garbage_input_never_panics() {
    let (router, ops, lists) = setup();
    let v = Validator::new(&router, &ops, &lists, AccountId(0));
    let mut seed = 12345u64;
    let mut bytes = Vec::new();
    for _ in 0..20_000 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        bytes.push((seed >> 33) as u8);
    }
    let (rows, s) = run_all(&v, &bytes, 97);
    assert_eq!(rows.len() as u64, s.rows);
    let long = vec![b'7'; 200_000];
    let (_, s) = run_all(&v, &long, 4096);
    assert_eq!(s.invalid, 1);
}

#[test]
fn a_reader_upload_streams_to_a_result_csv_with_one_row_per_input_row() {
    let (router, ops, lists) = setup();
    let v = Validator::new(&router, &ops, &lists, AccountId(3));
    let (summary, out) =
        sendbox_analytics::input::validate_stream(&v, BASE, Some(Vec::new())).unwrap();
    let text = String::from_utf8(out.unwrap()).unwrap();
    assert_eq!(text.lines().count() as u64, summary.rows + 1);
    assert!(text.contains("\n8,x7701,,false,bad_character,"), "{text}");
}

#[test]
fn is_unreachable_counts_permanent_failures_per_account() {
    let mut g = Generator::new(GeneratorConfig {
        recipients: 2,
        max_attempts: 1,
        dead_share: 0.0,
        ..Default::default()
    })
    .generate();
    let mut fail = g.receipts[0].clone();
    fail.state = FinalState::Undeliverable;
    fail.error = Some("dlr:UNDELIV/err=001".into());
    g.receipts.push(fail.clone());
    g.receipts.push(fail.clone());
    let h = History::from_rows(g.receipts.iter(), g.feedback.iter());
    let acme = h.account_index("acme");
    assert!(h.is_unreachable(fail.msisdn, acme, 2));
    assert!(!h.is_unreachable(fail.msisdn, acme, 3));
    assert!(
        !h.is_unreachable(fail.msisdn, Some(u32::MAX), 1),
        "another account knows nothing"
    );
    assert!(!h.is_unreachable(g.receipts[1].msisdn, None, 1));
}

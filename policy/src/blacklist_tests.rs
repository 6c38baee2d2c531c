//! Tests of blacklist loading, lookups and atomic replacement.

use super::*;
use crate::lines::LineFault;
use crate::number::{NumberError, parse};
use std::io::Write;

fn m(s: &str) -> Msisdn {
    parse(s).unwrap()
}

fn file(content: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(content.as_bytes()).unwrap();
    f
}

#[test]
fn load_accepts_every_format_and_reports_bad_lines_with_file_and_line() {
    let f = file(
        "+77011234567\n8 (705) 111-22-33\n\n# comment\nhello\n7011234567\n+79161234567\n7272123456\n",
    );
    let (list, report) = Blacklist::load(&[f.path()]).unwrap();
    assert_eq!(list.len(), 3, "duplicates count once");
    assert!(list.contains(m("77011234567")));
    assert!(list.contains(m("77051112233")));
    assert!(list.contains(m("77272123456")));
    assert!(!list.contains(m("77011234568")));
    assert_eq!(report.lines, 8);
    assert_eq!(report.entries, 3);
    let bad: Vec<(u64, LineFault)> = report.errors.iter().map(|e| (e.line, e.fault)).collect();
    assert_eq!(
        bad,
        vec![
            (5, LineFault::Number(NumberError::BadCharacter { at: 0 })),
            (7, LineFault::Number(NumberError::NotKazakhstan)),
        ]
    );
    assert!(
        report.errors[0]
            .to_string()
            .starts_with(&format!("{}:5: bad number", f.path().display()))
    );
}

#[test]
fn load_merges_several_files() {
    let a = file("77011234567\n");
    let b = file("77771234567\nnot a number\n");
    let (list, report) = Blacklist::load(&[a.path(), b.path()]).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].file.as_ref(), b.path());
    assert_eq!(report.errors[0].line, 2);
}

#[test]
fn an_unreadable_file_fails_the_load_and_names_it() {
    let e = Blacklist::load(&["/nonexistent/bl.txt"]).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/bl.txt"));
}

#[test]
fn per_account_lists_block_only_their_account() {
    let set = BlacklistSet::new(Blacklist::from_numbers([m("77011111111")])).with_account(
        AccountId(5),
        Some(Blacklist::from_numbers([m("77052222222")])),
    );
    let lists = Blacklists::new(set);
    assert!(lists.is_blocked(AccountId(0), m("77011111111")));
    assert!(lists.is_blocked(AccountId(5), m("77011111111")));
    assert!(lists.is_blocked(AccountId(5), m("77052222222")));
    assert!(!lists.is_blocked(AccountId(4), m("77052222222")));
    assert!(!lists.is_blocked(AccountId(900), m("77052222222")));
}

#[test]
fn replace_swaps_atomically_and_partial_replacements_keep_the_rest() {
    let lists = Blacklists::new(
        BlacklistSet::new(Blacklist::from_numbers([m("77011111111")])).with_account(
            AccountId(1),
            Some(Blacklist::from_numbers([m("77013333333")])),
        ),
    );
    let held = lists.snapshot();
    lists.replace_global(Blacklist::from_numbers([m("77012222222")]));
    assert!(!lists.is_blocked(AccountId(0), m("77011111111")));
    assert!(lists.is_blocked(AccountId(0), m("77012222222")));
    assert!(
        lists.is_blocked(AccountId(1), m("77013333333")),
        "account list kept"
    );
    assert!(
        held.is_blocked(AccountId(0), m("77011111111")),
        "a reader's snapshot is unchanged"
    );
    lists.replace_account(AccountId(1), None);
    assert!(!lists.is_blocked(AccountId(1), m("77013333333")));
    assert!(lists.snapshot().account(AccountId(1)).is_none());
    let old = lists.replace(BlacklistSet::default());
    assert_eq!(old.global().len(), 1);
    assert!(!lists.is_blocked(AccountId(0), m("77012222222")));
}

#[test]
fn reload_loads_global_and_account_files_and_keeps_old_lists_on_error() {
    let g = file("77011111111\n");
    let a = file("77052222222\nbad\n");
    let lists = Blacklists::new(BlacklistSet::default());
    let sources = BlacklistSources {
        global: vec![g.path().to_path_buf()],
        accounts: vec![(AccountId(2), vec![a.path().to_path_buf()])],
    };
    let report = lists.reload(&sources).unwrap();
    assert_eq!(report.entries, 2);
    assert_eq!(report.bad_lines(), 1);
    assert!(lists.is_blocked(AccountId(2), m("77052222222")));
    assert!(lists.is_blocked(AccountId(0), m("77011111111")));

    let broken = BlacklistSources {
        global: vec![PathBuf::from("/nonexistent/global.txt")],
        accounts: vec![],
    };
    assert!(lists.reload(&broken).is_err());
    assert!(
        lists.is_blocked(AccountId(0), m("77011111111")),
        "old lists stay"
    );
}

#[test]
fn readers_never_see_a_torn_set_during_replacements() {
    let a = m("77011111111");
    let b = m("77012222222");
    let both = || {
        BlacklistSet::new(Blacklist::from_numbers([a]))
            .with_account(AccountId(0), Some(Blacklist::from_numbers([b])))
    };
    let neither = BlacklistSet::default;
    let lists = Arc::new(Blacklists::new(both()));
    std::thread::scope(|s| {
        for _ in 0..2 {
            let lists = Arc::clone(&lists);
            s.spawn(move || {
                for _ in 0..20_000 {
                    let snap = lists.snapshot();
                    let (x, y) = (
                        snap.is_blocked(AccountId(0), a),
                        snap.is_blocked(AccountId(0), b),
                    );
                    assert_eq!(x, y, "global and account lists swap together");
                }
            });
        }
        for i in 0..2_000 {
            lists.replace(if i % 2 == 0 { neither() } else { both() });
        }
    });
}

#[test]
fn iter_returns_the_numbers_ascending() {
    let list = Blacklist::from_numbers([m("77771234567"), m("77011234567")]);
    let v: Vec<u64> = list.iter().map(Msisdn::get).collect();
    assert_eq!(v, vec![77011234567, 77771234567]);
    assert!(Blacklist::default().is_empty());
}

#[test]
fn dense_def_codes_use_a_bitmap_and_answer_like_a_set() {
    // 400k numbers in 701 (dense: bitmap) and a few in 777 (sparse: sorted index).
    let dense: Vec<u64> = (0..400_000u64)
        .map(|i| 77_010_000_000 + i * 23 % 10_000_000)
        .collect();
    let sparse = [77_770_000_001u64, 77_779_999_999];
    let list = Blacklist::from_numbers(
        dense
            .iter()
            .chain(&sparse)
            .chain(&dense[..10])
            .map(|&n| Msisdn::from_e164(n).unwrap()),
    );
    assert_eq!(list.len(), 400_002);
    assert!(
        list.memory_bytes() < 5 * list.len(),
        "{} bytes",
        list.memory_bytes()
    );
    let all: std::collections::HashSet<u64> = dense.iter().chain(&sparse).copied().collect();
    for n in (77_010_000_000..77_010_050_000).chain(77_769_999_990..77_770_000_010) {
        assert_eq!(
            list.contains(Msisdn::from_e164(n).unwrap()),
            all.contains(&n),
            "{n}"
        );
    }
    assert!(list.contains(m("77779999999")));
    assert!(!list.contains(m("77020000000")));
    let listed: Vec<u64> = list.iter().map(Msisdn::get).collect();
    let mut want: Vec<u64> = all.into_iter().collect();
    want.sort_unstable();
    assert_eq!(listed, want);
}

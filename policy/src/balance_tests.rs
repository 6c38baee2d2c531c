//! Tests of the prepaid balance: single operations, a model-based proptest and a
//! many-thread stress run that checks the balance never goes negative.

use super::*;
use proptest::prelude::*;
use std::sync::atomic::AtomicBool;

const A: AccountId = AccountId(0);

fn snap(w: &Wallets) -> (i64, i64, i64) {
    let s = w.snapshot(A).unwrap();
    (s.available, s.reserved, s.spent)
}

#[test]
fn reserve_debit_release_move_money_between_counters() {
    let w = Wallets::new([1_000]);
    w.reserve(A, 300).unwrap();
    assert_eq!(snap(&w), (700, 300, 0));
    assert_eq!(
        w.debit(A, 300, 250),
        Ok(Debit {
            charged: 250,
            uncovered: 0
        })
    );
    assert_eq!(snap(&w), (750, 0, 250));
    w.reserve(A, 100).unwrap();
    w.release(A, 100).unwrap();
    assert_eq!(snap(&w), (750, 0, 250));
}

#[test]
fn an_empty_balance_refuses_and_pauses_until_a_topup() {
    let w = Wallets::new([100]);
    w.reserve(A, 100).unwrap();
    assert_eq!(
        w.reserve(A, 1),
        Err(BalanceError::InsufficientFunds {
            available: 0,
            needed: 1
        })
    );
    assert!(w.is_paused(A));
    assert!(w.snapshot(A).unwrap().paused);
    assert_eq!(w.topup(A, 50), Ok(50));
    assert!(!w.is_paused(A));
    w.reserve(A, 50).unwrap();
    assert_eq!(snap(&w), (0, 150, 0));
}

#[test]
fn a_cost_above_the_reservation_takes_only_what_is_available() {
    let w = Wallets::new([130]);
    w.reserve(A, 100).unwrap();
    assert_eq!(
        w.debit(A, 100, 120),
        Ok(Debit {
            charged: 120,
            uncovered: 0
        })
    );
    assert_eq!(snap(&w), (10, 0, 120));
    w.reserve(A, 5).unwrap();
    assert_eq!(
        w.debit(A, 5, 40),
        Ok(Debit {
            charged: 10,
            uncovered: 30
        })
    );
    assert_eq!(snap(&w), (0, 0, 130));
}

#[test]
fn double_release_and_bad_amounts_are_refused_without_change() {
    let w = Wallets::new([100]);
    w.reserve(A, 40).unwrap();
    w.release(A, 40).unwrap();
    assert_eq!(
        w.release(A, 40),
        Err(BalanceError::NotReserved {
            reserved: 0,
            asked: 40
        })
    );
    assert_eq!(
        w.debit(A, 10, 10),
        Err(BalanceError::NotReserved {
            reserved: 0,
            asked: 10
        })
    );
    assert_eq!(w.reserve(A, -1), Err(BalanceError::InvalidAmount(-1)));
    assert_eq!(w.topup(A, -5), Err(BalanceError::InvalidAmount(-5)));
    assert_eq!(
        w.topup(A, i64::MAX),
        Err(BalanceError::InvalidAmount(i64::MAX))
    );
    assert_eq!(snap(&w), (100, 0, 0));
    assert_eq!(
        w.reserve(AccountId(9), 1),
        Err(BalanceError::UnknownAccount(9))
    );
    assert!(!w.is_paused(AccountId(9)));
    assert!(w.snapshot(AccountId(9)).is_err());
    assert_eq!(w.len(), 1);
}

#[test]
fn restore_brings_back_saved_counters_and_state() {
    let saved = WalletSnapshot {
        available: 0,
        reserved: 300,
        spent: 700,
        paused: true,
    };
    let w = Wallets::restore([saved]);
    assert_eq!(w.snapshot(A), Ok(saved));
    assert_eq!(saved.state(), "insufficient_funds");
    w.release(A, 300).unwrap();
    w.topup(A, 1).unwrap();
    assert_eq!(w.snapshot(A).unwrap().state(), "active");
    assert_eq!(snap(&w), (301, 0, 700));
}

#[test]
fn negative_openings_count_as_zero() {
    let w = Wallets::new([-5]);
    assert_eq!(snap(&w), (0, 0, 0));
}

#[derive(Debug, Clone)]
enum Op {
    Reserve(i64),
    Debit(usize, i64),
    Release(usize),
    Topup(i64),
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0i64..500).prop_map(Op::Reserve),
        (any::<usize>(), 0i64..600).prop_map(|(i, a)| Op::Debit(i, a)),
        any::<usize>().prop_map(Op::Release),
        (0i64..400).prop_map(Op::Topup),
    ]
}

proptest! {
    #[test]
    fn random_operations_keep_the_books_balanced(
        opening in 0i64..2_000,
        ops in proptest::collection::vec(arb_op(), 0..200),
    ) {
        let w = Wallets::new([opening]);
        let mut held: Vec<i64> = Vec::new();
        let mut topups = 0;
        for op in ops {
            match op {
                Op::Reserve(a) => {
                    let before = snap(&w).0;
                    match w.reserve(A, a) {
                        Ok(()) => held.push(a),
                        Err(BalanceError::InsufficientFunds { available, needed }) => {
                            prop_assert!(available < needed);
                            prop_assert_eq!(available, before);
                            prop_assert!(w.is_paused(A));
                        }
                        Err(e) => prop_assert!(false, "unexpected {e}"),
                    }
                }
                Op::Debit(i, actual) if !held.is_empty() => {
                    let r = held.swap_remove(i % held.len());
                    let d = w.debit(A, r, actual).unwrap();
                    prop_assert_eq!(d.charged + d.uncovered, actual);
                }
                Op::Release(i) if !held.is_empty() => {
                    let r = held.swap_remove(i % held.len());
                    w.release(A, r).unwrap();
                }
                Op::Topup(a) => {
                    topups += a;
                    w.topup(A, a).unwrap();
                    prop_assert!(!w.is_paused(A));
                }
                _ => {}
            }
            let (available, reserved, spent) = snap(&w);
            prop_assert!(available >= 0);
            prop_assert_eq!(reserved, held.iter().sum::<i64>());
            prop_assert_eq!(available + reserved + spent, opening + topups);
        }
    }
}

#[test]
fn many_threads_never_drive_the_balance_negative() {
    const THREADS: usize = 8;
    const ROUNDS: i64 = 20_000;
    let w = Wallets::new([5_000, 100]);
    let stop = AtomicBool::new(false);
    let topped = AtomicI64::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Acquire) {
                for acc in [AccountId(0), AccountId(1)] {
                    let snap = w.snapshot(acc).unwrap();
                    assert!(snap.available >= 0 && snap.reserved >= 0, "{snap:?}");
                }
            }
        });
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (w, topped) = (&w, &topped);
                s.spawn(move || {
                    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ t as u64;
                    for _ in 0..ROUNDS {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        let acc = AccountId((x % 2) as u32);
                        let amount = (x >> 8) as i64 % 300;
                        if w.reserve(acc, amount).is_ok() {
                            if x & 0x10000 == 0 {
                                w.debit(acc, amount, amount / 2 + (x >> 40) as i64 % amount.max(1))
                                    .unwrap();
                            } else {
                                w.release(acc, amount).unwrap();
                            }
                        }
                        if x.is_multiple_of(97) {
                            w.topup(acc, 50).unwrap();
                            if acc.0 == 0 {
                                topped.fetch_add(50, Ordering::Relaxed);
                            }
                        }
                    }
                })
            })
            .collect();
        for h in workers {
            h.join().unwrap();
        }
        stop.store(true, Ordering::Release);
    });
    let s = w.snapshot(AccountId(0)).unwrap();
    assert!(s.available >= 0);
    assert_eq!(s.reserved, 0);
    assert_eq!(
        s.available + s.reserved + s.spent,
        5_000 + topped.load(Ordering::Relaxed)
    );
    assert!(s.spent > 0, "the run spent something: {s:?}");
}

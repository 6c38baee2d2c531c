//! The calling window against Almaty wall time, across the 2024-03-01 offset change, day
//! boundaries, narrowing rules and holidays; proptests against jiff's own conversion.

use jiff::Timestamp;
use jiff::civil::{Date, date};
use proptest::prelude::*;
use sendbox_policy::window::{WindowError, WindowPolicy, WindowRule, almaty, days};
use sendbox_policy::{AccountId, OperatorId, TrafficClass};

const OP: OperatorId = OperatorId(0);
const ACC: AccountId = AccountId(0);
const SVC: TrafficClass = TrafficClass::Service;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn rule(start: u16, end: u16, days: u8, hol: bool) -> WindowRule {
    WindowRule::try_new(start, end, days, hol).unwrap()
}

fn policy() -> WindowPolicy {
    WindowPolicy::almaty_default().unwrap()
}

#[test]
fn default_window_is_nine_to_eight_almaty_time() {
    let p = policy();
    // 2026: Almaty is +05.
    assert!(!p.is_open(t("2026-11-25T03:59:59Z"), OP, SVC, ACC));
    assert!(p.is_open(t("2026-11-25T04:00:00Z"), OP, SVC, ACC));
    assert!(p.is_open(t("2026-11-25T14:59:59.999Z"), OP, SVC, ACC));
    assert!(!p.is_open(t("2026-11-25T15:00:00Z"), OP, SVC, ACC));
}

#[test]
fn the_window_moved_an_hour_in_utc_on_2024_03_01() {
    let p = policy();
    // 2024-02-29 was still +06: 09:00 local = 03:00Z.
    assert!(!p.is_open(t("2024-02-29T02:59:59Z"), OP, SVC, ACC));
    assert!(p.is_open(t("2024-02-29T03:00:00Z"), OP, SVC, ACC));
    assert!(!p.is_open(t("2024-02-29T14:00:00Z"), OP, SVC, ACC));
    // 2024-03-01 is +05: 09:00 local = 04:00Z.
    assert!(!p.is_open(t("2024-03-01T03:00:00Z"), OP, SVC, ACC));
    assert!(p.is_open(t("2024-03-01T04:00:00Z"), OP, SVC, ACC));
    assert!(p.is_open(t("2024-03-01T14:59:59Z"), OP, SVC, ACC));
    assert_eq!(
        p.next_opening(t("2024-02-29T17:00:00Z"), OP, SVC, ACC),
        Some(t("2024-03-01T04:00:00Z"))
    );
    assert_eq!(
        p.next_opening(t("2024-02-28T23:00:00Z"), OP, SVC, ACC),
        Some(t("2024-02-29T03:00:00Z"))
    );
}

#[test]
fn local_time_uses_the_offset_in_force_at_each_instant() {
    let p = policy();
    assert_eq!(
        p.local_time(t("2024-02-29T17:00:00Z")),
        "2024-02-29T23:00:00+06:00"
    );
    assert_eq!(
        p.local_time(t("2024-02-29T18:00:00Z")),
        "2024-02-29T23:00:00+05:00"
    );
    assert_eq!(
        p.local_time(t("2024-02-29T19:00:00Z")),
        "2024-03-01T00:00:00+05:00"
    );
    assert_eq!(
        p.local_time(t("2026-11-25T09:03:00Z")),
        "2026-11-25T14:03:00+05:00"
    );
    assert_eq!(p.offset_at(t("2024-02-29T17:59:59Z")).seconds(), 6 * 3600);
}

#[test]
fn the_repeated_hour_of_2024_02_29_is_judged_by_wall_time() {
    // 22:00-24:00: open at 23:00+06, again at 23:00+05 (the hour happened twice), shut at
    // 00:00+05 on March 1st.
    let late = rule(22 * 60, 1440, days::ALL, false);
    let p = WindowPolicy::new(almaty().unwrap(), late);
    assert!(p.is_open(t("2024-02-29T17:00:00Z"), OP, SVC, ACC));
    assert!(p.is_open(t("2024-02-29T17:59:59Z"), OP, SVC, ACC));
    assert!(p.is_open(t("2024-02-29T18:00:00Z"), OP, SVC, ACC));
    assert!(p.is_open(t("2024-02-29T18:59:59Z"), OP, SVC, ACC));
    assert!(!p.is_open(t("2024-02-29T19:00:00Z"), OP, SVC, ACC));
    // 23:30-24:00: shut between 00:00+06 (=18:00Z, shown as 23:00+05) and 23:30+05.
    let last_half = rule(23 * 60 + 30, 1440, days::ALL, false);
    let p = WindowPolicy::new(almaty().unwrap(), last_half);
    assert!(p.is_open(t("2024-02-29T17:59:00Z"), OP, SVC, ACC));
    assert!(!p.is_open(t("2024-02-29T18:00:00Z"), OP, SVC, ACC));
    assert_eq!(
        p.next_opening(t("2024-02-29T18:00:00Z"), OP, SVC, ACC),
        Some(t("2024-02-29T18:30:00Z"))
    );
}

#[test]
fn next_opening_crosses_day_boundaries_and_weekends() {
    let weekdays = rule(10 * 60, 19 * 60, days::WEEKDAYS, false);
    let p = policy().with_class(TrafficClass::Marketing, weekdays);
    // Friday 2026-11-27 19:00+05 = 14:00Z → Monday 2026-11-30 10:00+05 = 05:00Z.
    let m = TrafficClass::Marketing;
    assert_eq!(
        p.next_opening(t("2026-11-27T14:00:00Z"), OP, m, ACC),
        Some(t("2026-11-30T05:00:00Z"))
    );
    // After the default's 20:00 close → next morning 09:00.
    assert_eq!(
        p.next_opening(t("2026-11-25T15:00:00Z"), OP, SVC, ACC),
        Some(t("2026-11-26T04:00:00Z"))
    );
    // Open now → now, sub-second included.
    let now = t("2026-11-25T06:00:00.25Z");
    assert_eq!(p.next_opening(now, OP, SVC, ACC), Some(now));
    // Closed with a fraction of a second: the next whole second that is open.
    assert_eq!(
        p.next_opening(t("2026-11-25T03:59:59.5Z"), OP, SVC, ACC),
        Some(t("2026-11-25T04:00:00Z"))
    );
}

#[test]
fn rules_intersect_across_operator_class_and_account() {
    let p = policy()
        .with_operator(OperatorId(2), rule(8 * 60, 18 * 60, days::ALL, false))
        .with_class(
            TrafficClass::Marketing,
            rule(10 * 60, 21 * 60, days::WEEKDAYS, false),
        )
        .with_account(AccountId(7), rule(0, 12 * 60, days::ALL & !days::WED, true));
    let eff = p.effective(OperatorId(2), TrafficClass::Marketing, AccountId(7));
    assert_eq!((eff.start_min(), eff.end_min()), (10 * 60, 12 * 60));
    assert_eq!(eff.days(), days::WEEKDAYS & !days::WED);
    assert!(eff.closed_on_holidays());
    assert_eq!(
        p.effective(OperatorId(1), SVC, AccountId(6)),
        WindowRule::DEFAULT
    );
    let op2 = p.effective(OperatorId(2), SVC, AccountId(6));
    assert_eq!((op2.start_min(), op2.end_min()), (9 * 60, 18 * 60));
    // Wednesday 11:00+05: the account excludes Wednesday.
    let wed11 = t("2026-11-25T06:00:00Z");
    assert!(!p.is_open(wed11, OperatorId(2), TrafficClass::Marketing, AccountId(7)));
    assert!(p.is_open(wed11, OperatorId(2), TrafficClass::Marketing, AccountId(8)));
    assert_eq!(
        p.next_opening(wed11, OperatorId(2), TrafficClass::Marketing, AccountId(7)),
        Some(t("2026-11-26T05:00:00Z"))
    );
}

#[test]
fn holidays_close_only_rules_that_say_so() {
    let marketing = rule(9 * 60, 20 * 60, days::ALL, true);
    let p = policy()
        .with_holidays([date(2026, 12, 16), date(2026, 12, 17)])
        .with_class(TrafficClass::Marketing, marketing);
    let hol = t("2026-12-16T06:00:00Z");
    assert!(p.is_open(hol, OP, SVC, ACC));
    assert!(!p.is_open(hol, OP, TrafficClass::Marketing, ACC));
    assert_eq!(
        p.next_opening(hol, OP, TrafficClass::Marketing, ACC),
        Some(t("2026-12-18T04:00:00Z"))
    );
}

#[test]
fn a_window_that_never_opens_has_no_next_opening() {
    let p = policy()
        .with_operator(OP, rule(0, 8 * 60, days::ALL, false))
        .with_class(TrafficClass::Otp, rule(0, 60, days::SUN, false));
    assert_eq!(
        p.next_opening(t("2026-11-25T00:00:00Z"), OP, SVC, ACC),
        None
    );
    let sundays = WindowPolicy::new(almaty().unwrap(), WindowRule::ALWAYS)
        .with_class(TrafficClass::Otp, rule(0, 60, days::SUN, false))
        .with_holidays(
            // Every Sunday for two years is a holiday.
            (0..110).map(|w| {
                date(2026, 11, 29)
                    .checked_add(jiff::Span::new().weeks(w))
                    .unwrap()
            }),
        );
    let p = sundays.with_account(ACC, rule(0, 1440, days::ALL, true));
    assert_eq!(
        p.next_opening(t("2026-11-25T00:00:00Z"), OP, TrafficClass::Otp, ACC),
        None
    );
}

#[test]
fn invalid_rules_are_refused() {
    assert_eq!(
        WindowRule::try_new(600, 600, days::ALL, false),
        Err(WindowError::BadTimes {
            start_min: 600,
            end_min: 600
        })
    );
    assert!(WindowRule::try_new(0, 1441, days::ALL, false).is_err());
    assert_eq!(
        WindowRule::try_new(0, 60, 0x80, false),
        Err(WindowError::BadDays(0x80))
    );
    assert!(WindowRule::try_new(0, 1440, 0, false).unwrap().is_never());
}

// === proptests ===

/// Local wall-time oracle straight from jiff.
fn oracle(p: &WindowPolicy, r: WindowRule, holidays: &[Date], at: Timestamp) -> bool {
    let z = at.to_zoned_datetime(p.time_zone().clone());
    let minute = u16::try_from(z.hour()).unwrap() * 60 + u16::try_from(z.minute()).unwrap();
    let dow = z.weekday().to_monday_zero_offset();
    minute >= r.start_min()
        && minute < r.end_min()
        && r.days() & (1 << dow) != 0
        && !(r.closed_on_holidays() && holidays.contains(&z.date()))
}

fn arb_rule() -> impl Strategy<Value = WindowRule> {
    (0u16..1440, 1u16..=1440, 1u8..=0x7F, any::<bool>())
        .prop_map(|(s, len, d, h)| WindowRule::try_new(s, (s + len).min(1440), d, h).unwrap())
}

/// Seconds around the 2024-03-01 change half the time, else anywhere in 2020–2030.
fn arb_instant() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        1_708_300_000i64..1_709_900_000,
        1_577_836_800i64..1_893_456_000,
    ]
    .prop_map(|s| Timestamp::from_second(s).unwrap())
}

fn arb_holidays() -> impl Strategy<Value = Vec<Date>> {
    proptest::collection::vec(0i64..40, 0..4).prop_map(|offs| {
        offs.iter()
            .map(|&d| {
                date(2024, 2, 20)
                    .checked_add(jiff::Span::new().days(d))
                    .unwrap()
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn is_open_matches_almaty_wall_time(r in arb_rule(), at in arb_instant(), hol in arb_holidays()) {
        let p = WindowPolicy::new(almaty().unwrap(), r).with_holidays(hol.clone());
        prop_assert_eq!(p.is_open(at, OP, SVC, ACC), oracle(&p, r, &hol, at));
        prop_assert_eq!(p.rule_is_open(r, at), oracle(&p, r, &hol, at));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn next_opening_is_open_and_nothing_earlier_is(
        r in arb_rule(),
        at in arb_instant(),
        hol in arb_holidays(),
        frac in 0i64..1_000_000_000,
    ) {
        let at = at.checked_add(jiff::SignedDuration::from_nanos(frac)).unwrap();
        let p = WindowPolicy::new(almaty().unwrap(), r).with_holidays(hol.clone());
        let next = p.next_opening(at, OP, SVC, ACC);
        let next = next.expect("a rule with days opens within a year");
        prop_assert!(next >= at);
        prop_assert!(oracle(&p, r, &hol, next), "next opening {} is closed", next);
        // Window edges and offset changes fall on whole UTC minutes, so checking `at` and
        // every minute boundary before `next` finds any earlier opening.
        let mut probe = at;
        let mut minute = (at.as_second().div_euclid(60) + 1) * 60;
        while probe < next {
            prop_assert!(!oracle(&p, r, &hol, probe), "open at {} before {}", probe, next);
            probe = Timestamp::from_second(minute).unwrap();
            minute += 60;
        }
    }
}

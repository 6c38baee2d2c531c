//! The shipped example files load, validate and mean what their comments say.

use sendbox_config::{BindMode, Class, Concatenation, Config, StoreUrl, TimeOfDay, Weekdays, load};
use std::path::{Path, PathBuf};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

fn load_example(name: &str) -> Config {
    match load(&example(name)) {
        Ok(c) => c,
        Err(e) => panic!("{name} does not load:\n{e}"),
    }
}

#[test]
fn full_example_loads_with_the_three_operators_in_file_order() {
    let c = load_example("sendbox.toml");
    let ids: Vec<&str> = c.operators.keys().map(String::as_str).collect();
    assert_eq!(ids, ["kcell", "beeline", "tele2"]);
    assert_eq!(c.operators[0].prefixes, ["701", "702", "775", "778"]);
    assert_eq!(c.operators[1].prefixes, ["705", "706", "771", "776", "777"]);
    assert_eq!(c.operators[2].prefixes, ["707", "747", "700", "708"]);
    assert_eq!(c.operator_index("tele2"), Some(2));
    for (op, port) in c.operators.values().zip([2775, 2776, 2777]) {
        let smpp = op.smpp.as_ref().expect("every example operator has smpp");
        assert!(
            smpp.binds
                .iter()
                .all(|b| b.host == "127.0.0.1" && b.port == port),
            "{}",
            op.id
        );
        assert!(op.sip.is_some(), "{}", op.id);
        assert!(c.tariff(&op.id).is_some(), "{}", op.id);
    }
    let sip_ports: Vec<u16> = c
        .operators
        .values()
        .map(|o| o.sip.as_ref().map_or(0, |s| s.port))
        .collect();
    assert_eq!(sip_ports, [5070, 5071, 5072]);
}

#[test]
fn full_example_values_and_defaults_are_typed() {
    let c = load_example("sendbox.toml");
    let kcell = &c.operators["kcell"];
    let smpp = kcell.smpp.as_ref().unwrap();
    assert_eq!(smpp.enquire_link.as_secs(), 30);
    assert_eq!(smpp.dlr_timeout.as_secs(), 48 * 3600);
    assert_eq!(smpp.concatenation, Concatenation::Udh8);
    assert_eq!(
        (
            smpp.binds[0].count,
            smpp.binds[0].window,
            smpp.binds[0].max_tps
        ),
        (2, 10, 50)
    );
    assert_eq!(smpp.binds[0].password.expose(), "kcellpw");
    assert_eq!(kcell.sms_rate(), 100);
    let beeline = &c.operators["beeline"];
    let modes: Vec<BindMode> = beeline
        .smpp
        .as_ref()
        .unwrap()
        .binds
        .iter()
        .map(|b| b.mode)
        .collect();
    assert_eq!(modes, [BindMode::Transmitter, BindMode::Receiver]);
    // Defaults fill what beeline's receiver bind leaves out.
    assert_eq!(beeline.smpp.as_ref().unwrap().binds[1].window, 10);
    assert_eq!(
        beeline.smpp.as_ref().unwrap().response_timeout.as_secs(),
        10
    );
    assert_eq!(
        c.operators["tele2"].sms_rate(),
        30,
        "no operator-wide cap: sum of the binds"
    );
    assert_eq!(c.tariff("kcell").unwrap().call_tiyn(7), 500 + 12 * 30);
    assert_eq!(c.accounts[1].id, "kaspi-otp");
    assert!(c.accounts["kaspi-otp"].allows_class(Class::Otp));
    assert!(!c.accounts["kaspi-otp"].allows_class(Class::Marketing));
    assert!(c.accounts["acme"].allows_sender("ACME") && !c.accounts["acme"].allows_sender("KASPI"));
}

#[test]
fn full_example_window_is_almaty_9_to_20_with_marketing_on_workdays() {
    let c = load_example("sendbox.toml");
    let w = &c.window;
    assert_eq!(w.timezone_name(), "Asia/Almaty");
    assert_eq!(
        (w.default.start, w.default.end),
        (
            TimeOfDay::new(9, 0).unwrap(),
            TimeOfDay::new(20, 0).unwrap()
        )
    );
    assert_eq!(w.default.days, Weekdays::ALL);
    let m = w.classes.marketing.expect("marketing rule");
    assert_eq!(m.days, Weekdays::WORKDAYS);
    assert!(m.closed_on_holidays);
    assert!(w.is_holiday(jiff::civil::date(2026, 12, 16)));
    assert!(w.is_holiday(jiff::civil::date(2027, 3, 22)));
    assert!(!w.is_holiday(jiff::civil::date(2026, 12, 17)));
    assert!(
        w.holidays.windows(2).all(|p| p[0] < p[1]),
        "sorted for binary search"
    );
}

#[test]
fn example_paths_resolve_next_to_the_file() {
    let c = load_example("sendbox.toml");
    let dir = example("");
    assert_eq!(c.blacklist.files, [dir.join("blacklist.txt")]);
    assert_eq!(
        c.operators["kcell"].portability_csv.as_deref(),
        Some(dir.join("portability.csv").as_path())
    );
    assert_eq!(
        c.accounts["acme"].blacklist.as_deref(),
        Some(dir.join("acme-blacklist.txt").as_path())
    );
    assert_eq!(c.store.url, StoreUrl::Sqlite(dir.join("sendbox.db")));
}

#[test]
fn minimal_example_loads_and_takes_the_defaults() {
    let c = load_example("minimal.toml");
    assert_eq!(c.api.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.metrics.listen.to_string(), "127.0.0.1:9090");
    assert_eq!(c.window.timezone_name(), "Asia/Almaty");
    assert_eq!(c.window.default.to_string(), "09:00–20:00, every day");
    assert_eq!(c.queues.capacity_per_operator, 1_000_000);
    assert_eq!(c.api.max_batch, 10_000);
    assert_eq!(c.voice.retry_interval.as_secs(), 1800);
    assert_eq!(c.operators.len(), 1);
}

#[test]
fn summary_describes_the_example_without_any_secret() {
    let c = load_example("sendbox.toml");
    let s = c.summary();
    for needle in [
        "kcell \"Kcell\": prefixes 701 702 775 778",
        "bind 127.0.0.1:2775 system_id=sendbox transceiver×2, window 10, 50 msg/s each",
        "sip udp 127.0.0.1:5070",
        "default: 09:00–20:00, every day",
        "marketing: 09:00–20:00, Mon–Fri, closed on holidays",
        "opening balance 50000.00 KZT (5000000 tiyn)",
        "SMS 12.00 KZT (1200 tiyn) per segment",
        "window: 10:00–19:00, every day",
    ] {
        assert!(s.contains(needle), "summary lacks {needle:?}:\n{s}");
    }
    let debug = format!("{c:?}");
    for secret in ["kcellpw", "beelinpw", "tele2pw", "kcell-sip-pw"] {
        assert!(!s.contains(secret), "summary shows {secret}");
        assert!(!debug.contains(secret), "Debug shows {secret}");
    }
    assert!(!debug.contains("28daa606f54b368209e11244fd3d5612b41212e822258df22e55afe06a7bdae1"));
}

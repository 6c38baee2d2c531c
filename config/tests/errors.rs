//! Bad configs are refused with every problem named by file and key path.

mod common;
use common::{BASE, has, invalid, parse, parse_error};
use sendbox_config::{LoadError, load};

#[test]
fn base_config_is_valid() {
    let c = parse(BASE).unwrap();
    assert_eq!(c.file, "test.toml");
}

#[test]
fn unknown_key_is_rejected_with_its_full_path() {
    let text = BASE.replace(
        "system_id = \"sendbox\"",
        "system_id = \"sendbox\"\nwindw = 5",
    );
    let (path, message) = parse_error(&text);
    assert_eq!(path, "operators.kcell.smpp.binds[0].windw");
    assert!(message.starts_with("unknown key"), "{message}");
    assert!(
        message.contains("`window`"),
        "lists the expected keys: {message}"
    );
}

#[test]
fn unknown_top_level_section_and_traffic_class_are_rejected() {
    let (path, _) = parse_error(&format!("{BASE}\n[metrix]\nlisten = \"127.0.0.1:1\"\n"));
    assert_eq!(path, "metrix");
    let text = format!("{BASE}\n[window.classes.promo]\nstart = \"09:00\"\nend = \"10:00\"\n");
    assert_eq!(parse_error(&text).0, "window.classes.promo");
}

#[test]
fn many_semantic_errors_are_reported_together_in_one_pass() {
    let text = BASE
        .replace(
            "system_id = \"sendbox\"",
            "system_id = \"sendbox\"\nwindow = 0\ncount = 65",
        )
        .replace(
            "prefixes = [\"701\", \"702\"]",
            "prefixes = [\"701\", \"801\"]",
        )
        .replace(
            "call_second_tiyn = 30",
            "call_second_tiyn = 30\nbilling_increment_seconds = 0",
        );
    let text = format!("{text}\n[api]\nmax_batch = 0\n");
    let errors = invalid(&text);
    assert!(
        has(
            &errors,
            "operators.kcell.smpp.binds[0].window",
            "must be 1..=1024, got 0"
        ),
        "{errors:#?}"
    );
    assert!(has(
        &errors,
        "operators.kcell.smpp.binds[0].count",
        "must be 1..=64, got 65"
    ));
    assert!(has(
        &errors,
        "operators.kcell.prefixes[1]",
        "\"801\" is not a 3-digit Kazakh DEF code"
    ));
    assert!(has(
        &errors,
        "tariffs.kcell.billing_increment_seconds",
        "got 0"
    ));
    assert!(has(&errors, "api.max_batch", "must be 1..=1000000, got 0"));
    assert_eq!(errors.len(), 5, "{errors:#?}");
    let shown = LoadError::Invalid(errors).to_string();
    assert!(
        shown
            .contains("test.toml: operators.kcell.smpp.binds[0].window: must be 1..=1024, got 0\n"),
        "{shown}"
    );
    assert_eq!(shown.lines().count(), 5);
}

#[test]
fn a_prefix_claimed_by_two_operators_names_both() {
    let text = format!(
        "{BASE}\n[operators.beeline]\nname = \"Beeline\"\nprefixes = [\"705\", \"702\"]\n\
         [operators.beeline.smpp]\nbinds = [{{ host = \"h\", system_id = \"s\", password = \"p\" }}]\n\
         [tariffs.beeline]\nsms_segment_tiyn = 1\n"
    );
    let errors = invalid(&text);
    assert!(
        has(
            &errors,
            "operators.beeline.prefixes[1]",
            "702 is already claimed by operators.kcell"
        ),
        "{errors:#?}"
    );
    assert_eq!(errors.len(), 1);
}

#[test]
fn an_operator_without_a_tariff_and_a_tariff_without_an_operator_are_both_reported() {
    let text = BASE.replace("[tariffs.kcell]", "[tariffs.kcel]");
    let errors = invalid(&text);
    assert!(
        has(&errors, "tariffs", "operator \"kcell\" has no tariff"),
        "{errors:#?}"
    );
    assert!(has(&errors, "tariffs.kcel", "there is no [operators.kcel]"));
}

#[test]
fn missing_prices_for_a_channel_are_required() {
    let errors = invalid(&BASE.replace("call_attempt_tiyn = 500\n", ""));
    assert!(
        has(
            &errors,
            "tariffs.kcell.call_attempt_tiyn",
            "the operator has [sip]"
        ),
        "{errors:#?}"
    );
}

#[test]
fn unknown_timezone_names_the_key() {
    let (path, message) = parse_error(&format!(
        "{BASE}\n[window]\ntimezone = \"Asia/Alma-Ata-Nowhere\"\n"
    ));
    assert_eq!(path, "window.timezone");
    assert!(
        message.contains("unknown time zone \"Asia/Alma-Ata-Nowhere\""),
        "{message}"
    );
}

#[test]
fn a_fixed_offset_is_not_a_timezone() {
    let (path, _) = parse_error(&format!("{BASE}\n[window]\ntimezone = \"+05:00\"\n"));
    assert_eq!(path, "window.timezone");
}

#[test]
fn bad_durations_name_the_key_and_zero_is_refused() {
    let text = BASE.replace(
        "[operators.kcell.smpp]",
        "[operators.kcell.smpp]\nenquire_link = \"30 parsecs\"",
    );
    let (path, message) = parse_error(&text);
    assert_eq!(path, "operators.kcell.smpp.enquire_link");
    assert!(
        message.contains("invalid duration \"30 parsecs\""),
        "{message}"
    );
    let (path, _) = parse_error(&format!("{BASE}\n[voice]\nretry_interval = 30\n"));
    assert_eq!(path, "voice.retry_interval");
    let errors = invalid(&BASE.replace(
        "[operators.kcell.smpp]",
        "[operators.kcell.smpp]\nenquire_link = \"0s\"",
    ));
    assert!(
        has(
            &errors,
            "operators.kcell.smpp.enquire_link",
            "longer than 0s"
        ),
        "{errors:#?}"
    );
}

#[test]
fn ring_timeout_shorter_than_min_ring_time_is_refused() {
    let text = BASE.replace(
        "auth_user = \"sb\"",
        "auth_user = \"sb\"\nring_timeout = \"15s\"",
    );
    let errors = invalid(&text);
    assert!(
        has(
            &errors,
            "operators.kcell.sip.ring_timeout",
            "at least min_ring_time (20s), got 15s"
        ),
        "{errors:#?}"
    );
}

#[test]
fn window_rules_must_be_ordered_and_overlap_the_default() {
    let text = format!(
        "{BASE}\n[window.default]\nstart = \"09:00\"\nend = \"20:00\"\n\
         [window.classes.marketing]\nstart = \"20:00\"\nend = \"22:00\"\n\
         [window.classes.otp]\nstart = \"10:00\"\nend = \"09:00\"\n"
    );
    let text = text.replace(
        "name = \"ACME\"",
        "name = \"ACME\"\nwindow = { start = \"09:00\", end = \"20:00\", days = [] }",
    );
    let errors = invalid(&text);
    assert!(
        has(
            &errors,
            "window.classes.marketing",
            "never overlaps window.default"
        ),
        "{errors:#?}"
    );
    assert!(has(
        &errors,
        "window.classes.otp.end",
        "must be after start (10:00), got 09:00"
    ));
    assert!(has(
        &errors,
        "accounts.acme.window.days",
        "at least one day"
    ));
    assert_eq!(errors.len(), 3);
}

#[test]
fn a_rule_on_other_days_than_the_default_is_empty() {
    let text = format!(
        "{BASE}\n[window.default]\nstart = \"09:00\"\nend = \"20:00\"\ndays = [\"mon\", \"tue\"]\n"
    )
    .replace(
        "[operators.kcell.smpp]",
        "window = { start = \"09:00\", end = \"20:00\", days = [\"sat\"] }\n[operators.kcell.smpp]",
    );
    let errors = invalid(&text);
    assert!(
        has(&errors, "operators.kcell.window", "never overlaps"),
        "{errors:#?}"
    );
}

#[test]
fn malformed_times_days_and_dates_are_parse_errors_at_their_key() {
    let (path, _) = parse_error(&format!(
        "{BASE}\n[window.default]\nstart = \"9am\"\nend = \"20:00\"\n"
    ));
    assert_eq!(path, "window.default.start");
    let (path, m) = parse_error(&format!(
        "{BASE}\n[window.default]\nstart = \"09:00\"\nend = \"20:00\"\ndays = [\"mon\", \"funday\"]\n"
    ));
    assert_eq!(path, "window.default.days");
    assert!(m.contains("funday"));
    let (path, _) = parse_error(&format!("{BASE}\n[window]\nholidays = [\"2026-02-30\"]\n"));
    assert_eq!(path, "window.holidays[0]");
}

#[test]
fn listen_address_errors_name_the_key() {
    let (path, _) = parse_error(&format!("{BASE}\n[api]\nlisten = \"localhost\"\n"));
    assert_eq!(path, "api.listen");
    let errors = invalid(&format!("{BASE}\n[api]\nlisten = \"127.0.0.1:9090\"\n"));
    assert!(
        has(&errors, "metrics.listen", "is also api.listen"),
        "{errors:#?}"
    );
}

#[test]
fn store_url_scheme_is_checked() {
    let (path, message) = parse_error(&format!(
        "{BASE}\n[store]\nurl = \"mysql://root:hunter2@db/x\"\n"
    ));
    assert_eq!(path, "store.url");
    assert!(
        message.contains("must start with") && !message.contains("hunter2"),
        "{message}"
    );
    let c = parse(&format!(
        "{BASE}\n[store]\nurl = \"postgresql://sb:hunter2@db:5432/sendbox\"\n"
    ))
    .unwrap();
    assert_eq!(
        c.store.url.redacted(),
        "postgresql://sb:***@db:5432/sendbox"
    );
    let errors = invalid(&format!(
        "{BASE}\n[store]\nurl = \"sqlite:/no/such/dir/x.db\"\n"
    ));
    assert!(
        has(&errors, "store.url", "/no/such/dir does not exist"),
        "{errors:#?}"
    );
}

#[test]
fn operator_needs_a_channel_and_smpp_needs_a_sending_and_a_receiving_bind() {
    let text =
        format!("{BASE}\n[operators.empty]\nname = \"E\"\nprefixes = [\"777\"]\n[tariffs.empty]\n");
    let errors = invalid(&text);
    assert!(
        has(&errors, "operators.empty", "needs [smpp], [sip] or both"),
        "{errors:#?}"
    );
    let errors = invalid(&BASE.replace(
        "password = \"Pw0rd!x9\"",
        "password = \"Pw0rd!x9\"\nmode = \"transmitter\"",
    ));
    assert!(
        has(
            &errors,
            "operators.kcell.smpp.binds",
            "no delivery receipt could arrive"
        ),
        "{errors:#?}"
    );
}

#[test]
fn token_hashes_must_be_hex_and_distinct() {
    let errors = invalid(&BASE.replace("28daa606f54b", "zzzz"));
    assert!(
        has(&errors, "accounts.acme.token_sha256", "64 hex digits"),
        "{errors:#?}"
    );
    let dup = format!(
        "{BASE}\n[api]\nadmin_token_sha256 = \"28DAA606F54B368209E11244FD3D5612B41212E822258DF22E55AFE06A7BDAE1\"\n"
    );
    let errors = invalid(&dup);
    assert!(
        has(
            &errors,
            "accounts.acme.token_sha256",
            "same token hash as api.admin_token_sha256"
        ),
        "{errors:#?}"
    );
}

#[test]
fn an_empty_file_needs_an_operator() {
    let errors = invalid("");
    assert!(
        has(&errors, "operators", "at least one operator"),
        "{errors:#?}"
    );
}

#[test]
fn truncated_example_never_panics() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let text = std::fs::read_to_string(path.join("sendbox.toml")).unwrap();
    let mut cuts = 0;
    for (i, _) in text.char_indices().step_by(23) {
        let _ = sendbox_config::from_str(&text[..i], "cut.toml", &path);
        cuts += 1;
    }
    assert!(cuts > 400, "{cuts}");
}

#[test]
fn syntax_error_gives_line_and_column() {
    let (path, message) = parse_error("[api]\nlisten = \n");
    assert_eq!(path, "");
    assert!(message.contains("line 2"), "{message}");
}

#[test]
fn load_names_a_missing_file() {
    let e = load(std::path::Path::new("/no/such/sendbox.toml")).unwrap_err();
    assert!(matches!(e, LoadError::Io { .. }));
    assert!(
        e.to_string()
            .starts_with("/no/such/sendbox.toml: cannot read config"),
        "{e}"
    );
    assert_eq!(e.exit_code(), 64);
}

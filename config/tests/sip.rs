//! SIP trunk checks: local sockets of trunks on one address must not collide.

mod common;
use common::{BASE, has, invalid, parse, parse_error};

fn second_trunk(extra: &str) -> String {
    format!(
        "{BASE}\n[operators.tele2]\nname = \"Tele2\"\nprefixes = [\"707\"]\n\
         [operators.tele2.sip]\nhost = \"127.0.0.1\"\nfrom_uri = \"sip:sb@127.0.0.1\"\n{extra}\n\
         [tariffs.tele2]\ncall_attempt_tiyn = 1\ncall_second_tiyn = 1\n"
    )
}

#[test]
fn trunks_with_default_rtp_ranges_on_one_address_collide() {
    let errors = invalid(&second_trunk(""));
    assert!(
        has(
            &errors,
            "operators.tele2.sip.rtp_port_min",
            "overlaps operators.kcell.sip (20000..=29999)"
        ),
        "{errors:#?}"
    );
}

#[test]
fn disjoint_ranges_or_different_addresses_are_fine() {
    let text = second_trunk("rtp_port_min = 30000\nrtp_port_max = 30999").replace(
        "auth_user = \"sb\"",
        "auth_user = \"sb\"\nrtp_port_max = 20999",
    );
    let c = parse(&text).unwrap();
    assert_eq!(
        c.operators["tele2"].sip.as_ref().unwrap().rtp_port_pairs(),
        500
    );
    parse(&second_trunk("local_ip = \"127.0.0.2\"")).unwrap();
}

#[test]
fn an_unspecified_local_ip_collides_with_every_address() {
    let errors = invalid(&second_trunk("local_ip = \"0.0.0.0\"\nlocal_port = 5080"));
    assert!(
        has(&errors, "operators.tele2.sip.rtp_port_min", "overlaps"),
        "{errors:#?}"
    );
}

#[test]
fn rtp_range_must_hold_a_pair_per_concurrent_call() {
    let text = BASE.replace(
        "auth_user = \"sb\"",
        "auth_user = \"sb\"\nmax_concurrent_calls = 10\nrtp_port_min = 20000\nrtp_port_max = 20019",
    );
    assert_eq!(
        parse(&text).unwrap().operators[0]
            .sip
            .as_ref()
            .unwrap()
            .rtp_port_pairs(),
        10
    );
    let errors = invalid(&text.replace("rtp_port_max = 20019", "rtp_port_max = 20018"));
    let want = "20000..=20018 holds 9 RTP/RTCP port pairs, fewer than max_concurrent_calls (10)";
    assert!(
        has(&errors, "operators.kcell.sip.rtp_port_max", want),
        "{errors:#?}"
    );
}

#[test]
fn sip_auth_needs_user_and_password_together() {
    let errors = invalid(&BASE.replace("auth_password = \"TrunkSecret-77\"\n", ""));
    assert!(
        has(
            &errors,
            "operators.kcell.sip.auth_password",
            "required when auth_user is set"
        ),
        "{errors:#?}"
    );
}

#[test]
fn rtp_pacer_options_default_and_are_range_checked() {
    let c = parse(BASE).unwrap();
    let s = c.operators[0].sip.as_ref().unwrap();
    assert_eq!((s.rtp_pacer_threads, s.rtp_realtime_priority), (1, None));
    let text = BASE.replace(
        "auth_user = \"sb\"",
        "auth_user = \"sb\"\nrtp_pacer_threads = 2\nrtp_realtime_priority = 10",
    );
    let c = parse(&text).unwrap();
    let s = c.operators[0].sip.as_ref().unwrap();
    assert_eq!(
        (s.rtp_pacer_threads, s.rtp_realtime_priority),
        (2, Some(10))
    );
    let errors = invalid(
        &text
            .replace("rtp_pacer_threads = 2", "rtp_pacer_threads = 0")
            .replace("rtp_realtime_priority = 10", "rtp_realtime_priority = 100"),
    );
    assert!(
        has(
            &errors,
            "operators.kcell.sip.rtp_pacer_threads",
            "at least 1"
        ),
        "{errors:#?}"
    );
    assert!(
        has(
            &errors,
            "operators.kcell.sip.rtp_realtime_priority",
            "1-99, got 100"
        ),
        "{errors:#?}"
    );
}

#[test]
fn transport_tcp_loads_and_an_unknown_transport_is_refused_by_name() {
    let c = parse(&second_trunk(
        "transport = \"tcp\"\nrtp_port_min = 30000\nrtp_port_max = 30999",
    ))
    .unwrap();
    assert_eq!(
        c.operators["tele2"].sip.as_ref().unwrap().transport,
        sendbox_config::SipTransport::Tcp
    );
    let (path, message) = parse_error(&second_trunk("transport = \"tls\""));
    assert!(path.contains("transport"), "{path}: {message}");
    assert!(
        message.contains("tls") && message.contains("tcp"),
        "{message}"
    );
}

#[test]
fn a_udp_and_a_tcp_trunk_may_share_a_local_port_two_udp_trunks_may_not() {
    let base = BASE.replace(
        "auth_user = \"sb\"",
        "auth_user = \"sb\"\nlocal_port = 5080",
    );
    let text = |t: &str| {
        second_trunk(&format!(
            "transport = \"{t}\"\nlocal_port = 5080\nrtp_port_min = 30000\nrtp_port_max = 30999"
        ))
        .replacen(BASE, &base, 1)
    };
    parse(&text("tcp")).unwrap();
    let errors = invalid(&text("udp"));
    assert!(
        has(&errors, "operators.tele2.sip.local_port", "5080"),
        "{errors:#?}"
    );
}

//! Semantic checks of `[operators.*]` (prefixes, SMPP binds, SIP trunk, window) and
//! `[tariffs.*]`.

use crate::error::Errors;
use crate::validate::{check_file, check_id, check_nonempty, check_positive, check_rule};
use crate::{BindConfig, Config, SipConfig, SmppConfig};
use std::collections::HashMap;

/// SMPP 3.4/5.0 field limits (C-Octet strings, NUL excluded).
const SYSTEM_ID_MAX: usize = 15;
const PASSWORD_MAX: usize = 8;
const SYSTEM_TYPE_MAX: usize = 12;

pub(crate) fn operators(config: &Config, errs: &mut Errors) {
    if config.operators.is_empty() {
        errs.push("operators", "at least one operator is required");
    }
    // DEF code → the operator that claimed it first.
    let mut claimed: HashMap<&str, &str> = HashMap::new();
    for (id, op) in &config.operators {
        let at = format!("operators.{id}");
        check_id(errs, &at, id);
        check_nonempty(errs, &format!("{at}.name"), &op.name);
        if op.prefixes.is_empty() {
            errs.push(format!("{at}.prefixes"), "must list at least one DEF code");
        }
        for (i, p) in op.prefixes.iter().enumerate() {
            let path = format!("{at}.prefixes[{i}]");
            let well_formed = p.len() == 3
                && p.bytes().all(|b| b.is_ascii_digit())
                && matches!(p.as_bytes()[0], b'6' | b'7');
            if !well_formed {
                errs.push(
                    path,
                    format!("{p:?} is not a 3-digit Kazakh DEF code (6xx or 7xx)"),
                );
            } else if let Some(owner) = claimed.get(p.as_str()) {
                let whom = if *owner == id {
                    "this operator".to_owned()
                } else {
                    format!("operators.{owner}")
                };
                errs.push(path, format!("{p} is already claimed by {whom}"));
            } else {
                claimed.insert(p, id);
            }
        }
        if let Some(csv) = &op.portability_csv {
            check_file(errs, &format!("{at}.portability_csv"), csv);
        }
        if let Some(r) = op.max_sms_per_second {
            errs.range(format!("{at}.max_sms_per_second"), r, 1, 100_000);
            if op.smpp.is_none() {
                errs.push(
                    format!("{at}.max_sms_per_second"),
                    "is set but the operator has no [smpp]",
                );
            }
        }
        if op.smpp.is_none() && op.sip.is_none() {
            errs.push(&at, "needs [smpp], [sip] or both");
        }
        if let Some(smpp) = &op.smpp {
            check_smpp(errs, &format!("{at}.smpp"), smpp);
        }
        if let Some(sip) = &op.sip {
            check_sip(errs, &format!("{at}.sip"), sip);
        }
        if let Some(rule) = &op.window {
            check_rule(
                errs,
                &format!("{at}.window"),
                rule,
                Some(&config.window.default),
            );
        }
    }
    check_trunk_sockets(config, errs);
}

fn check_smpp(errs: &mut Errors, at: &str, s: &SmppConfig) {
    check_positive(errs, &format!("{at}.enquire_link"), s.enquire_link);
    check_positive(errs, &format!("{at}.response_timeout"), s.response_timeout);
    check_positive(errs, &format!("{at}.reconnect_min"), s.reconnect_min);
    check_positive(errs, &format!("{at}.dlr_timeout"), s.dlr_timeout);
    if s.reconnect_max < s.reconnect_min {
        errs.push(
            format!("{at}.reconnect_max"),
            format!(
                "must be at least reconnect_min ({})",
                crate::duration::show(s.reconnect_min)
            ),
        );
    }
    if let Some(v) = s.validity {
        check_positive(errs, &format!("{at}.validity"), v);
    }
    if let Some(ton) = s.source_ton {
        errs.range(format!("{at}.source_ton"), ton, 0, 6);
    }
    if let Some(npi) = s.source_npi
        && ![0, 1, 3, 4, 6, 8, 9, 10, 14, 18].contains(&npi)
    {
        errs.push(
            format!("{at}.source_npi"),
            format!("{npi} is not an SMPP NPI (0, 1, 3, 4, 6, 8, 9, 10, 14, 18)"),
        );
    }
    check_positive(errs, &format!("{at}.throttle_pause"), s.throttle_pause);
    check_positive(errs, &format!("{at}.temp_retry_base"), s.temp_retry_base);
    errs.range(format!("{at}.max_temp_retries"), s.max_temp_retries, 0, 20);
    if s.max_segments == 0 {
        errs.push(format!("{at}.max_segments"), "must be 1..=255, got 0");
    }
    if s.binds.is_empty() {
        errs.push(format!("{at}.binds"), "must list at least one bind");
        return;
    }
    for (i, b) in s.binds.iter().enumerate() {
        check_bind(errs, &format!("{at}.binds[{i}]"), b);
    }
    if !s.binds.iter().any(|b| b.mode.transmits()) {
        errs.push(
            format!("{at}.binds"),
            "no transceiver or transmitter bind: nothing could be sent",
        );
    }
    if !s.binds.iter().any(|b| b.mode.receives()) {
        errs.push(
            format!("{at}.binds"),
            "no transceiver or receiver bind: no delivery receipt could arrive",
        );
    }
}

fn check_bind(errs: &mut Errors, at: &str, b: &BindConfig) {
    check_nonempty(errs, &format!("{at}.host"), &b.host);
    if b.port == 0 {
        errs.push(format!("{at}.port"), "must be 1..=65535, got 0");
    }
    let id_len = b.system_id.chars().count();
    if id_len == 0 || id_len > SYSTEM_ID_MAX || !b.system_id.is_ascii() {
        errs.push(
            format!("{at}.system_id"),
            format!("must be 1..={SYSTEM_ID_MAX} ASCII characters, got {id_len}"),
        );
    }
    // Lengths only: the password itself is never quoted.
    let pw_len = b.password.expose().chars().count();
    if pw_len > PASSWORD_MAX || !b.password.expose().is_ascii() {
        errs.push(
            format!("{at}.password"),
            format!("must be at most {PASSWORD_MAX} ASCII characters (the SMPP limit)"),
        );
    }
    let st_len = b.system_type.chars().count();
    if st_len > SYSTEM_TYPE_MAX || !b.system_type.is_ascii() {
        errs.push(
            format!("{at}.system_type"),
            format!("must be at most {SYSTEM_TYPE_MAX} ASCII characters, got {st_len}"),
        );
    }
    let ar_len = b.address_range.chars().count();
    if ar_len > 40 || !b.address_range.is_ascii() {
        errs.push(
            format!("{at}.address_range"),
            format!("must be at most 40 ASCII characters, got {ar_len}"),
        );
    }
    errs.range(format!("{at}.count"), b.count, 1, 64);
    errs.range(format!("{at}.window"), b.window, 1, 1024);
    errs.range(format!("{at}.max_tps"), b.max_tps, 1, 10_000);
}

fn check_sip(errs: &mut Errors, at: &str, s: &SipConfig) {
    check_nonempty(errs, &format!("{at}.host"), &s.host);
    if s.port == 0 {
        errs.push(format!("{at}.port"), "must be 1..=65535, got 0");
    }
    match (&s.auth_user, &s.auth_password) {
        (Some(_), None) => errs.push(
            format!("{at}.auth_password"),
            "is required when auth_user is set",
        ),
        (None, Some(_)) => errs.push(
            format!("{at}.auth_user"),
            "is required when auth_password is set",
        ),
        (Some(u), Some(_)) => check_nonempty(errs, &format!("{at}.auth_user"), u),
        (None, None) => {}
    }
    let uri_ok = (s.from_uri.starts_with("sip:") || s.from_uri.starts_with("sips:"))
        && s.from_uri.contains('@');
    if !uri_ok {
        errs.push(
            format!("{at}.from_uri"),
            format!(
                "{:?} must be a sip: or sips: URI with a user@host",
                s.from_uri
            ),
        );
    }
    errs.range(
        format!("{at}.max_concurrent_calls"),
        s.max_concurrent_calls,
        1,
        10_000,
    );
    errs.range(
        format!("{at}.max_calls_per_second"),
        s.max_calls_per_second,
        1,
        1_000,
    );
    check_positive(errs, &format!("{at}.ring_timeout"), s.ring_timeout);
    if s.ring_timeout < s.min_ring_time {
        errs.push(
            format!("{at}.ring_timeout"),
            format!(
                "must be at least min_ring_time ({}), got {}",
                crate::duration::show(s.min_ring_time),
                crate::duration::show(s.ring_timeout)
            ),
        );
    }
    if s.rtp_pacer_threads == 0 {
        errs.push(
            format!("{at}.rtp_pacer_threads"),
            "must be at least 1, got 0".to_owned(),
        );
    }
    if let Some(p) = s.rtp_realtime_priority
        && !(1..=99).contains(&p)
    {
        errs.push(
            format!("{at}.rtp_realtime_priority"),
            format!("must be a SCHED_FIFO priority 1-99, got {p}"),
        );
    }
    if s.rtp_port_min == 0 || s.rtp_port_min >= s.rtp_port_max {
        errs.push(
            format!("{at}.rtp_port_max"),
            format!(
                "must be above rtp_port_min ({}) and rtp_port_min above 0, got {}",
                s.rtp_port_min, s.rtp_port_max
            ),
        );
    } else if s.rtp_port_pairs() < s.max_concurrent_calls {
        errs.push(
            format!("{at}.rtp_port_max"),
            format!(
                "{}..={} holds {} RTP/RTCP port pairs, fewer than max_concurrent_calls ({})",
                s.rtp_port_min,
                s.rtp_port_max,
                s.rtp_port_pairs(),
                s.max_concurrent_calls
            ),
        );
    }
    if s.codecs.is_empty() {
        errs.push(format!("{at}.codecs"), "must list at least one codec");
    }
    for (i, c) in s.codecs.iter().enumerate() {
        if s.codecs[..i].contains(c) {
            errs.push(
                format!("{at}.codecs[{i}]"),
                format!("{} is listed twice", c.as_str()),
            );
        }
    }
}

/// Trunks that bind the same local address must not share a SIP port or RTP ports.
fn check_trunk_sockets(config: &Config, errs: &mut Errors) {
    let trunks: Vec<(&str, &SipConfig)> = config
        .operators
        .iter()
        .filter_map(|(id, op)| op.sip.as_ref().map(|s| (id.as_str(), s)))
        .collect();
    for (i, (id, s)) in trunks.iter().enumerate() {
        for (other, o) in &trunks[..i] {
            let same_ip = s.local_ip == o.local_ip
                || s.local_ip.is_unspecified()
                || o.local_ip.is_unspecified();
            if !same_ip {
                continue;
            }
            // A UDP socket and a TCP one may share a port number.
            if s.local_port != 0 && s.local_port == o.local_port && s.transport == o.transport {
                errs.push(
                    format!("operators.{id}.sip.local_port"),
                    format!("{} is also operators.{other}.sip.local_port", s.local_port),
                );
            }
            if s.rtp_port_min <= o.rtp_port_max && o.rtp_port_min <= s.rtp_port_max {
                errs.push(
                    format!("operators.{id}.sip.rtp_port_min"),
                    format!(
                        "{}..={} overlaps operators.{other}.sip ({}..={}) on the same local_ip",
                        s.rtp_port_min, s.rtp_port_max, o.rtp_port_min, o.rtp_port_max
                    ),
                );
            }
        }
    }
}

pub(crate) fn tariffs(config: &Config, errs: &mut Errors) {
    for (id, op) in &config.operators {
        let Some(t) = config.tariffs.get(id) else {
            errs.push(
                "tariffs",
                format!("operator {id:?} has no tariff; add [tariffs.{id}]"),
            );
            continue;
        };
        let at = format!("tariffs.{id}");
        if op.smpp.is_some() && t.sms_segment_tiyn.is_none() {
            errs.push(
                format!("{at}.sms_segment_tiyn"),
                "is required: the operator has [smpp]",
            );
        }
        if op.sip.is_some() {
            if t.call_attempt_tiyn.is_none() {
                errs.push(
                    format!("{at}.call_attempt_tiyn"),
                    "is required: the operator has [sip]",
                );
            }
            if t.call_second_tiyn.is_none() {
                errs.push(
                    format!("{at}.call_second_tiyn"),
                    "is required: the operator has [sip]",
                );
            }
        }
        errs.range(
            format!("{at}.billing_increment_seconds"),
            t.billing_increment_seconds,
            1,
            3600,
        );
    }
    for id in config.tariffs.keys() {
        if !config.operators.contains_key(id) {
            errs.push(
                format!("tariffs.{id}"),
                format!("there is no [operators.{id}]"),
            );
        }
    }
}

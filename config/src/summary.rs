//! [`Config::summary`]: what `sendbox check-config` prints. It shows every setting that matters
//! to an operator of the service, and no secret: passwords print as "set", the store URL is
//! redacted, tokens appear only as a hash prefix.

use crate::account::kzt;
use crate::duration::show;
use crate::{Config, OperatorConfig, Tariff};
use std::fmt::Write as _;

impl Config {
    /// A human-readable description of the whole config, without secrets.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail, so the fmt::Results are ignored.
        let _ = self.write_summary(&mut out);
        out
    }

    fn write_summary(&self, o: &mut String) -> std::fmt::Result {
        writeln!(o, "config: {}", self.file)?;
        let admin = if self.api.admin_token_sha256.is_some() {
            "set"
        } else {
            "none (admin calls disabled)"
        };
        writeln!(
            o,
            "api: {} (admin token: {admin}), max batch {}",
            self.api.listen, self.api.max_batch
        )?;
        writeln!(o, "metrics: {}", self.metrics.listen)?;
        writeln!(o, "store: {}", self.store.url.redacted())?;
        writeln!(
            o,
            "queues: {} dispatches per operator",
            self.queues.capacity_per_operator
        )?;
        let w = &self.window;
        writeln!(o, "window: {} local time", w.timezone_name())?;
        writeln!(o, "  default: {}", w.default)?;
        for class in crate::Class::ALL {
            if let Some(rule) = w.classes.get(class) {
                writeln!(o, "  {class}: {rule}")?;
            }
        }
        match (w.holidays.first(), w.holidays.last()) {
            (Some(first), Some(last)) => writeln!(
                o,
                "  holidays: {} dates, {first} … {last}",
                w.holidays.len()
            )?,
            _ => writeln!(o, "  holidays: none")?,
        }
        writeln!(o, "operators ({}):", self.operators.len())?;
        for (i, op) in self.operators.values().enumerate() {
            write_operator(o, i, op, self.tariffs.get(&op.id))?;
        }
        writeln!(o, "accounts ({}):", self.accounts.len())?;
        for (i, a) in self.accounts.values().enumerate() {
            let bal = a.opening_balance_tiyn;
            writeln!(
                o,
                "  [{i}] {} {:?}: opening balance {} ({bal} tiyn), token {}",
                a.id,
                a.name,
                kzt(bal),
                a.token_sha256.short()
            )?;
            match &a.senders {
                Some(s) => writeln!(o, "      senders: {}", s.join(", "))?,
                None => writeln!(o, "      senders: any")?,
            }
            match &a.classes {
                Some(c) => {
                    let names: Vec<&str> = c.iter().map(|c| c.as_str()).collect();
                    writeln!(o, "      classes: {}", names.join(", "))?;
                }
                None => writeln!(o, "      classes: all")?,
            }
            if let Some(rule) = &a.window {
                writeln!(o, "      window: {rule}")?;
            }
            if let Some(p) = &a.blacklist {
                writeln!(o, "      blacklist: {}", p.display())?;
            }
        }
        writeln!(o, "blacklist files ({}):", self.blacklist.files.len())?;
        for p in &self.blacklist.files {
            writeln!(o, "  {}", p.display())?;
        }
        let v = &self.voice;
        writeln!(
            o,
            "voice: {} attempts {} apart, listened after {}s; audio ≤ {} bytes, ≤ {}, normalised to {} dBFS, trim silence {}",
            v.max_attempts,
            show(v.retry_interval),
            v.min_prompt_seconds,
            v.audio.max_bytes,
            show(v.audio.max_duration),
            v.audio.normalize_dbfs,
            if v.audio.trim_silence { "on" } else { "off" },
        )?;
        let numbers = if self.logging.show_numbers {
            "shown"
        } else {
            "masked"
        };
        writeln!(
            o,
            "logging: {}, phone numbers {numbers}",
            self.logging.format.as_str()
        )
    }
}

fn write_operator(
    o: &mut String,
    i: usize,
    op: &OperatorConfig,
    tariff: Option<&Tariff>,
) -> std::fmt::Result {
    writeln!(
        o,
        "  [{i}] {} {:?}: prefixes {}",
        op.id,
        op.name,
        op.prefixes.join(" ")
    )?;
    if let Some(p) = &op.portability_csv {
        writeln!(o, "      portability: {}", p.display())?;
    }
    if let Some(s) = &op.smpp {
        writeln!(
            o,
            "      smpp {}: {} msg/s operator-wide, enquire_link {}, response_timeout {}, reconnect {}..{}, dlr_timeout {}, validity {}, concatenation {} up to {} segments",
            if s.interface_version.octet() == 0x34 {
                "3.4"
            } else {
                "5.0"
            },
            op.sms_rate(),
            show(s.enquire_link),
            show(s.response_timeout),
            show(s.reconnect_min),
            show(s.reconnect_max),
            show(s.dlr_timeout),
            s.validity.map_or_else(|| "SMSC default".to_owned(), show),
            s.concatenation.as_str(),
            s.max_segments,
        )?;
        for b in &s.binds {
            let st = if b.system_type.is_empty() {
                String::new()
            } else {
                format!(" system_type={}", b.system_type)
            };
            let traffic = if b.mode.transmits() {
                format!("window {}, {} msg/s each", b.window, b.max_tps)
            } else {
                "receipts only".to_owned()
            };
            writeln!(
                o,
                "        bind {}:{} system_id={}{st} {}×{}, {traffic} (password set)",
                b.host,
                b.port,
                b.system_id,
                b.mode.as_str(),
                b.count,
            )?;
        }
    }
    if let Some(s) = &op.sip {
        let auth = match &s.auth_user {
            Some(u) => format!("digest user {u} (password set)"),
            None => "no auth".to_owned(),
        };
        let codecs: Vec<&str> = s.codecs.iter().map(|c| c.as_str()).collect();
        writeln!(
            o,
            "      sip {} {}:{} from {}, {auth}; {} concurrent calls, {} calls/s, ring {} (at least {}), codecs {}",
            s.transport.as_str(),
            s.host,
            s.port,
            s.from_uri,
            s.max_concurrent_calls,
            s.max_calls_per_second,
            show(s.ring_timeout),
            show(s.min_ring_time),
            codecs.join(" "),
        )?;
        let local_port = if s.local_port == 0 {
            "any port".to_owned()
        } else {
            s.local_port.to_string()
        };
        writeln!(
            o,
            "        local {} SIP {local_port}, RTP {}..={} ({} calls), {} pacer thread(s) at {}",
            s.local_ip,
            s.rtp_port_min,
            s.rtp_port_max,
            s.rtp_port_pairs(),
            s.rtp_pacer_threads,
            s.rtp_realtime_priority.map_or_else(
                || "normal priority".to_owned(),
                |p| format!("SCHED_FIFO {p}")
            ),
        )?;
    }
    if let Some(rule) = &op.window {
        writeln!(o, "      window: {rule}")?;
    }
    if let Some(t) = tariff {
        let price =
            |p: Option<u64>| p.map_or_else(|| "-".to_owned(), |t| format!("{} ({t} tiyn)", kzt(t)));
        writeln!(
            o,
            "      tariff: SMS {} per segment; call {} per attempt + {} per answered second, billed per {} s",
            price(t.sms_segment_tiyn),
            price(t.call_attempt_tiyn),
            price(t.call_second_tiyn),
            t.billing_increment_seconds
        )?;
    }
    Ok(())
}

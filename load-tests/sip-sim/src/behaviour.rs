//! What the simulated trunk does with one call, and how a call's behaviour is chosen.
//!
//! A [`Behaviour`] is picked per call from the Request-URI user (the dialed number): the first
//! matching [`Rule`] wins, otherwise a seeded weighted random mix, otherwise the default.
//! Behaviours also have a compact text form used by the CLI, for example:
//!
//! ```
//! use sendbox_sip_sim::Behaviour;
//! let b: Behaviour = "challenge=407/sendbox>answer,ring=1s,hangup=5s,dtmf=1@500ms+#@1s".parse().unwrap();
//! assert!(matches!(b, Behaviour::Challenge { .. }));
//! let busy: Behaviour = "busy=600".parse().unwrap();
//! assert_eq!(busy, Behaviour::Busy(600));
//! ```

use std::str::FromStr;
use std::time::Duration;

use crate::error::SpecError;

/// What the simulator does with one INVITE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// 180 Ringing, then after `ring` a 200 OK with an SDP answer.
    Answer {
        /// Time between the INVITE and the 200 OK (0 skips the 180).
        ring: Duration,
        /// Send a BYE this long after answering (None: wait for the caller's BYE).
        hangup_after: Option<Duration>,
        /// RFC 4733 digits to send, each at the given offset after answering.
        dtmf: Vec<(char, Duration)>,
    },
    /// A final busy-class response: 486, 600 or 603.
    Busy(u16),
    /// 180 Ringing forever, until the caller sends CANCEL (answered with 200 and 487).
    NoAnswer,
    /// Any other final failure response (404, 480, 484, 503, ...).
    Reject(u16),
    /// Demand digest authentication, then behave as `then` once the retry authenticates.
    Challenge {
        /// Realm put into the challenge.
        realm: String,
        /// 401 (WWW-Authenticate) or 407 (Proxy-Authenticate).
        kind: u16,
        /// Digest algorithm offered in the challenge.
        algorithm: DigestAlgorithm,
        /// What to do after a correct Authorization.
        then: Box<Behaviour>,
    },
}

/// Digest algorithm the challenge offers; verification accepts MD5 and SHA-256 either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DigestAlgorithm {
    /// RFC 2617 MD5 (what most trunks use).
    #[default]
    Md5,
    /// RFC 7616 / RFC 8760 SHA-256.
    Sha256,
}

impl Behaviour {
    /// Answer immediately and wait for the caller's BYE.
    pub fn answer() -> Self {
        Self::answer_after(Duration::ZERO)
    }

    /// Ring for `ring`, then answer and wait for the caller's BYE.
    pub fn answer_after(ring: Duration) -> Self {
        Self::Answer {
            ring,
            hangup_after: None,
            dtmf: Vec::new(),
        }
    }

    /// Short label used for metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Answer { .. } => "answer",
            Self::Busy(_) => "busy",
            Self::NoAnswer => "no_answer",
            Self::Reject(_) => "reject",
            Self::Challenge { .. } => "challenge",
        }
    }
}

// === text form ===

impl FromStr for Behaviour {
    type Err = SpecError;

    fn from_str(spec: &str) -> Result<Self, SpecError> {
        let spec = spec.trim();
        let bad = |why: &str| SpecError::Behaviour {
            spec: spec.to_owned(),
            why: why.to_owned(),
        };
        if let Some(rest) = spec.strip_prefix("challenge") {
            let (head, then) = rest
                .split_once('>')
                .ok_or_else(|| bad("challenge needs `>THEN`"))?;
            let mut kind = 401;
            let mut realm = "sendbox-sim".to_owned();
            let mut algorithm = DigestAlgorithm::Md5;
            if let Some(args) = head.strip_prefix('=') {
                for (i, part) in args.split('/').enumerate() {
                    match (i, part) {
                        (0, "401") => kind = 401,
                        (0, "407") => kind = 407,
                        (0, _) => return Err(bad("challenge kind must be 401 or 407")),
                        (_, "MD5" | "md5") => algorithm = DigestAlgorithm::Md5,
                        (_, "SHA-256" | "sha256" | "sha-256") => {
                            algorithm = DigestAlgorithm::Sha256
                        }
                        (1, r) if !r.is_empty() => realm = r.to_owned(),
                        _ => return Err(bad("expected challenge=KIND[/REALM][/ALGORITHM]")),
                    }
                }
            } else if !head.is_empty() {
                return Err(bad("expected challenge=KIND[/REALM][/ALGORITHM]>THEN"));
            }
            let then = Box::new(then.parse()?);
            return Ok(Self::Challenge {
                realm,
                kind,
                algorithm,
                then,
            });
        }
        let (name, args) = match spec.split_once([',', '=']) {
            Some((name, _)) => (name, &spec[name.len()..]),
            None => (spec, ""),
        };
        let code = |default: u16, allowed: &[u16]| -> Result<u16, SpecError> {
            let Some(v) = args.strip_prefix('=') else {
                return if args.is_empty() {
                    Ok(default)
                } else {
                    Err(bad("expected NAME=CODE"))
                };
            };
            let c: u16 = v.parse().map_err(|_| bad("status code is not a number"))?;
            if allowed.is_empty() && (400..700).contains(&c) || allowed.contains(&c) {
                Ok(c)
            } else {
                Err(bad("status code not allowed here"))
            }
        };
        match name {
            "busy" => Ok(Self::Busy(code(486, &[486, 600, 603])?)),
            "reject" => Ok(Self::Reject(code(404, &[])?)),
            "noanswer" | "no_answer" if args.is_empty() => Ok(Self::NoAnswer),
            "answer" => parse_answer(args.strip_prefix(',').unwrap_or(args), &bad),
            _ => Err(bad(
                "unknown behaviour (answer, busy, noanswer, reject, challenge)",
            )),
        }
    }
}

fn parse_answer(args: &str, bad: &dyn Fn(&str) -> SpecError) -> Result<Behaviour, SpecError> {
    let mut ring = Duration::ZERO;
    let mut hangup_after = None;
    let mut dtmf = Vec::new();
    for part in args.split(',').filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| bad("expected KEY=VALUE"))?;
        let dur = |v: &str| humantime::parse_duration(v).map_err(|e| bad(&format!("{key}: {e}")));
        match key {
            "ring" => ring = dur(value)?,
            "hangup" => hangup_after = Some(dur(value)?),
            "dtmf" => {
                for item in value.split('+') {
                    let (digit, at) = item
                        .split_once('@')
                        .ok_or_else(|| bad("dtmf is DIGIT@OFFSET"))?;
                    let mut chars = digit.chars();
                    let (Some(c), None) = (chars.next(), chars.next()) else {
                        return Err(bad("dtmf digit must be one character"));
                    };
                    if crate::dtmf::event_code(c).is_none() {
                        return Err(bad("dtmf digit must be 0-9, *, #, A-D"));
                    }
                    dtmf.push((c, dur(at)?));
                }
            }
            _ => return Err(bad("answer keys are ring, hangup, dtmf")),
        }
    }
    Ok(Behaviour::Answer {
        ring,
        hangup_after,
        dtmf,
    })
}

// === rules ===

/// A pattern on the dialed number: `*SUFFIX`, `PREFIX*` or an exact number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// The number ends with this.
    Suffix(String),
    /// The number starts with this.
    Prefix(String),
    /// The number is exactly this.
    Exact(String),
    /// Every number.
    Any,
}

impl Pattern {
    /// Parse `*0486` (suffix), `7701*` (prefix), `*` (any) or an exact number.
    pub fn parse(text: &str) -> Self {
        if text == "*" {
            Self::Any
        } else if let Some(s) = text.strip_prefix('*') {
            Self::Suffix(s.to_owned())
        } else if let Some(p) = text.strip_suffix('*') {
            Self::Prefix(p.to_owned())
        } else {
            Self::Exact(text.to_owned())
        }
    }

    /// Whether `number` matches.
    pub fn matches(&self, number: &str) -> bool {
        match self {
            Self::Suffix(s) => number.ends_with(s.as_str()),
            Self::Prefix(p) => number.starts_with(p.as_str()),
            Self::Exact(e) => number == e,
            Self::Any => true,
        }
    }
}

/// One `pattern → behaviour` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Which numbers this applies to.
    pub pattern: Pattern,
    /// What to do with them.
    pub behaviour: Behaviour,
}

impl FromStr for Rule {
    type Err = SpecError;

    /// `PATTERN=BEHAVIOUR`, e.g. `*0486=busy` or `7701*=answer,ring=2s`.
    fn from_str(s: &str) -> Result<Self, SpecError> {
        let (pattern, behaviour) = s.split_once('=').ok_or_else(|| SpecError::Behaviour {
            spec: s.to_owned(),
            why: "a rule is PATTERN=BEHAVIOUR".to_owned(),
        })?;
        Ok(Self {
            pattern: Pattern::parse(pattern.trim()),
            behaviour: behaviour.parse()?,
        })
    }
}

/// One weighted entry of the random mix: `WEIGHT:BEHAVIOUR`, e.g. `70:answer,ring=1s`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixEntry {
    /// Relative weight (> 0).
    pub weight: u32,
    /// Behaviour picked with probability weight / total.
    pub behaviour: Behaviour,
}

impl FromStr for MixEntry {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Self, SpecError> {
        let bad = |why: &str| SpecError::Behaviour {
            spec: s.to_owned(),
            why: why.to_owned(),
        };
        let (w, b) = s
            .split_once(':')
            .ok_or_else(|| bad("a mix entry is WEIGHT:BEHAVIOUR"))?;
        let weight: u32 = w
            .trim()
            .parse()
            .map_err(|_| bad("weight is not a number"))?;
        if weight == 0 {
            return Err(bad("weight must be > 0"));
        }
        Ok(Self {
            weight,
            behaviour: b.parse()?,
        })
    }
}

/// A rule that holds only for the first `calls` INVITEs to each matching number, e.g. busy on
/// the first attempt and whatever the other rules say on the next (a caller's retry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstCalls {
    /// How many INVITEs per number it applies to (the first ones).
    pub calls: u32,
    /// The rule.
    pub rule: Rule,
}

/// Rules, mix and default together: picks the behaviour for one call.
#[derive(Debug, Clone)]
pub struct BehaviourTable {
    pub(crate) first_calls: Vec<FirstCalls>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) mix: Vec<MixEntry>,
    pub(crate) default: Behaviour,
}

impl BehaviourTable {
    /// Whether a rule depends on how often a number was called (then the caller counts).
    pub fn counts_calls(&self) -> bool {
        !self.first_calls.is_empty()
    }

    /// Choose for the `nth` INVITE (1-based) to `number`: a [`FirstCalls`] rule while it
    /// holds, otherwise as [`choose`](Self::choose).
    pub fn choose_nth(&self, number: &str, nth: u32, roll: u32) -> &Behaviour {
        self.first_calls
            .iter()
            .find(|f| nth <= f.calls && f.rule.pattern.matches(number))
            .map_or_else(|| self.choose(number, roll), |f| &f.rule.behaviour)
    }

    /// Choose for `number`; `roll` is a uniform random `u32` used only by the mix.
    pub fn choose(&self, number: &str, roll: u32) -> &Behaviour {
        if let Some(rule) = self.rules.iter().find(|r| r.pattern.matches(number)) {
            return &rule.behaviour;
        }
        let total: u64 = self.mix.iter().map(|m| u64::from(m.weight)).sum();
        if total > 0 {
            let mut pick = u64::from(roll) % total;
            for m in &self.mix {
                if pick < u64::from(m.weight) {
                    return &m.behaviour;
                }
                pick -= u64::from(m.weight);
            }
        }
        &self.default
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_into_behaviours() {
        assert_eq!("busy".parse::<Behaviour>().unwrap(), Behaviour::Busy(486));
        assert_eq!(
            "reject=503".parse::<Behaviour>().unwrap(),
            Behaviour::Reject(503)
        );
        assert_eq!(
            "noanswer".parse::<Behaviour>().unwrap(),
            Behaviour::NoAnswer
        );
        let a: Behaviour = "answer,ring=2s,hangup=30s,dtmf=1@1s+#@1500ms"
            .parse()
            .unwrap();
        assert_eq!(
            a,
            Behaviour::Answer {
                ring: Duration::from_secs(2),
                hangup_after: Some(Duration::from_secs(30)),
                dtmf: vec![
                    ('1', Duration::from_secs(1)),
                    ('#', Duration::from_millis(1500))
                ],
            }
        );
        let c: Behaviour = "challenge=407/kz/SHA-256>busy=603".parse().unwrap();
        assert_eq!(
            c,
            Behaviour::Challenge {
                realm: "kz".into(),
                kind: 407,
                algorithm: DigestAlgorithm::Sha256,
                then: Box::new(Behaviour::Busy(603)),
            }
        );
    }

    #[test]
    fn bad_specs_are_rejected_with_a_reason() {
        for bad in [
            "busy=200",
            "ring",
            "answer,ring=abc",
            "answer,dtmf=x@1s",
            "challenge=402>answer",
            "challenge",
        ] {
            let err = bad.parse::<Behaviour>().unwrap_err();
            assert!(
                err.to_string().contains(bad.split(',').next().unwrap()),
                "{err}"
            );
        }
    }

    #[test]
    fn rules_win_over_mix_and_default() {
        let table = BehaviourTable {
            first_calls: vec![],
            rules: vec![
                "*0486=busy".parse().unwrap(),
                "7700*=noanswer".parse().unwrap(),
            ],
            mix: vec!["1:reject=404".parse().unwrap(), "3:answer".parse().unwrap()],
            default: Behaviour::Reject(503),
        };
        assert_eq!(table.choose("77010000486", 0), &Behaviour::Busy(486));
        assert_eq!(table.choose("77001234567", 0), &Behaviour::NoAnswer);
        assert_eq!(table.choose("77011234567", 0), &Behaviour::Reject(404));
        assert_eq!(table.choose("77011234567", 1), &Behaviour::answer());
        assert_eq!(table.choose("77011234567", 3), &Behaviour::answer());
        let no_mix = BehaviourTable {
            mix: vec![],
            ..table
        };
        assert_eq!(no_mix.choose("77011234567", 7), &Behaviour::Reject(503));
    }

    #[test]
    fn a_first_calls_rule_holds_for_the_first_invites_to_a_number_only() {
        let table = BehaviourTable {
            first_calls: vec![FirstCalls {
                calls: 2,
                rule: "*0486=busy".parse().unwrap(),
            }],
            rules: vec!["7700*=noanswer".parse().unwrap()],
            mix: vec![],
            default: Behaviour::answer(),
        };
        assert!(table.counts_calls());
        assert_eq!(table.choose_nth("77010000486", 1, 0), &Behaviour::Busy(486));
        assert_eq!(table.choose_nth("77010000486", 2, 0), &Behaviour::Busy(486));
        assert_eq!(table.choose_nth("77010000486", 3, 0), &Behaviour::answer());
        assert_eq!(table.choose_nth("77000000486", 3, 0), &Behaviour::NoAnswer);
        assert_eq!(table.choose_nth("77011234567", 1, 0), &Behaviour::answer());
    }
}

//! Routing: which operator serves a number. The portability table first, then the DEF
//! prefix table from config. Also refuses SMS to fixed lines.
//!
//! ```
//! use sendbox_policy::route::Router;
//! use sendbox_policy::{number::parse, Channel, OperatorId};
//! let router = Router::new([(701, OperatorId(0)), (705, OperatorId(1)), (727, OperatorId(3))]).unwrap();
//! let m = parse("87051234567").unwrap();
//! assert_eq!(router.route(m, Channel::Sms), Ok(OperatorId(1)));
//! let landline = parse("87272123456").unwrap();
//! assert_eq!(router.route(landline, Channel::Sms).unwrap_err().code(), "fixed_line");
//! assert_eq!(router.route(landline, Channel::Voice), Ok(OperatorId(3)));
//! ```

use crate::number::{LineType, Msisdn, NumberError};
use crate::portability::Portability;
use sendbox_dispatch::{Channel, OperatorId};
use std::sync::Arc;

const FIRST_DEF: u16 = 600;
const DEFS: usize = 200;

/// The DEF table given to [`Router::new`] is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteConfigError {
    /// [`Router::new`]: a DEF code outside Kazakhstan's 600–799.
    #[error("DEF code {def} is not a Kazakhstan code (600-799)")]
    NotKazakhstan {
        /// The code.
        def: u16,
    },
    /// [`Router::new`]: one DEF code given to two operators.
    #[error("DEF code {def} is given to operators {first} and {second}")]
    Conflict {
        /// The code.
        def: u16,
        /// The first operator's index.
        first: u16,
        /// The second operator's index.
        second: u16,
    },
}

/// Number → operator. Immutable; rebuild it (cheaply: the portability table is shared) when
/// config or the portability file changes.
#[derive(Debug, Clone)]
pub struct Router {
    by_def: [Option<OperatorId>; DEFS],
    portability: Option<Arc<Portability>>,
}

impl Router {
    /// A router from `(DEF code, operator)` pairs, e.g. `(701, kcell)`. Repeating a pair is
    /// fine; giving one code to two operators is an error.
    pub fn new(
        defs: impl IntoIterator<Item = (u16, OperatorId)>,
    ) -> Result<Router, RouteConfigError> {
        let mut by_def: [Option<OperatorId>; DEFS] = [None; DEFS];
        for (def, op) in defs {
            let slot = def
                .checked_sub(FIRST_DEF)
                .and_then(|i| by_def.get_mut(usize::from(i)))
                .ok_or(RouteConfigError::NotKazakhstan { def })?;
            match *slot {
                Some(prev) if prev != op => {
                    return Err(RouteConfigError::Conflict {
                        def,
                        first: prev.0,
                        second: op.0,
                    });
                }
                _ => *slot = Some(op),
            }
        }
        Ok(Router {
            by_def,
            portability: None,
        })
    }

    /// Consults `table` before the DEF codes.
    pub fn with_portability(mut self, table: Arc<Portability>) -> Router {
        self.portability = Some(table);
        self
    }

    /// The portability table in use, if any.
    pub fn portability(&self) -> Option<&Arc<Portability>> {
        self.portability.as_ref()
    }

    /// The operator for `m` on `channel`.
    ///
    /// Errors: [`NumberError::FixedLine`] for SMS to a fixed-line or fixed-wireless DEF code;
    /// [`NumberError::UnknownDef`] when the number is neither ported nor in the DEF table.
    #[inline]
    pub fn route(&self, m: Msisdn, channel: Channel) -> Result<OperatorId, NumberError> {
        let def = m.def_code();
        if channel == Channel::Sms
            && matches!(
                LineType::of_def(def),
                Some(LineType::FixedLine | LineType::FixedWireless)
            )
        {
            return Err(NumberError::FixedLine { def });
        }
        if let Some(op) = self.portability.as_ref().and_then(|p| p.get(m)) {
            return Ok(op);
        }
        self.default_operator(def)
            .ok_or(NumberError::UnknownDef { def })
    }

    /// The operator the DEF table gives `def`, ignoring portability.
    pub fn default_operator(&self, def: u16) -> Option<OperatorId> {
        let i = def.checked_sub(FIRST_DEF)?;
        *self.by_def.get(usize::from(i))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::number::parse;

    fn kz() -> Router {
        // domain.md §2: Kcell 0, Beeline 1, Tele2/Altel 2.
        Router::new(
            [
                (701, 0),
                (702, 0),
                (775, 0),
                (778, 0),
                (705, 1),
                (706, 1),
                (771, 1),
                (776, 1),
                (777, 1),
                (707, 2),
                (747, 2),
                (700, 2),
                (708, 2),
            ]
            .map(|(d, o)| (d, OperatorId(o))),
        )
        .unwrap()
    }

    fn m(s: &str) -> Msisdn {
        parse(s).unwrap()
    }

    #[test]
    fn routes_by_def_code() {
        let r = kz();
        assert_eq!(r.route(m("87011234567"), Channel::Sms), Ok(OperatorId(0)));
        assert_eq!(r.route(m("87771234567"), Channel::Sms), Ok(OperatorId(1)));
        assert_eq!(r.route(m("87471234567"), Channel::Voice), Ok(OperatorId(2)));
    }

    #[test]
    fn portability_overrides_the_def_code() {
        let ported = m("87011234567");
        let table = Portability::from_rows([(ported, OperatorId(1))]);
        let r = kz().with_portability(Arc::new(table));
        assert_eq!(r.route(ported, Channel::Sms), Ok(OperatorId(1)));
        assert_eq!(r.route(m("87011234568"), Channel::Sms), Ok(OperatorId(0)));
        assert_eq!(r.portability().map(|p| p.len()), Some(1));
    }

    #[test]
    fn sms_to_fixed_lines_is_refused_but_calls_are_routed_if_configured() {
        let r = kz();
        assert_eq!(
            r.route(m("87272123456"), Channel::Sms),
            Err(NumberError::FixedLine { def: 727 })
        );
        assert_eq!(
            r.route(m("87601234567"), Channel::Sms),
            Err(NumberError::FixedLine { def: 760 })
        );
        assert_eq!(
            r.route(m("87272123456"), Channel::Voice),
            Err(NumberError::UnknownDef { def: 727 })
        );
    }

    #[test]
    fn unknown_def_codes_are_refused_with_the_code() {
        let r = kz();
        let e = r.route(m("86991234567"), Channel::Sms).unwrap_err();
        assert_eq!(e, NumberError::UnknownDef { def: 699 });
        assert_eq!(e.code(), "unknown_def");
    }

    #[test]
    fn bad_def_tables_are_refused() {
        assert_eq!(
            Router::new([(916, OperatorId(0))]).unwrap_err(),
            RouteConfigError::NotKazakhstan { def: 916 }
        );
        assert_eq!(
            Router::new([(599, OperatorId(0))]).unwrap_err(),
            RouteConfigError::NotKazakhstan { def: 599 }
        );
        assert_eq!(
            Router::new([(701, OperatorId(0)), (701, OperatorId(1))]).unwrap_err(),
            RouteConfigError::Conflict {
                def: 701,
                first: 0,
                second: 1
            }
        );
        assert!(Router::new([(701, OperatorId(0)), (701, OperatorId(0))]).is_ok());
        assert_eq!(kz().default_operator(800), None);
        assert_eq!(kz().default_operator(12), None);
    }
}

//! Tokio-free policy stages of the dispatch pipeline: number parsing, routing, blacklists,
//! the calling window, prepaid balances and tariffs.
//!
//! The engine composes the stages; each is a plain value with `&self` methods, safe to share
//! across threads (`Blacklists` and `Wallets` are lock-free; the rest are immutable and
//! rebuilt on config reload). No stage does IO except the explicit loaders
//! (`Blacklist::load`, `Blacklists::reload`, `Portability::load`), which block and belong on a
//! blocking thread.
//!
//! | Stage | Type | Per dispatch |
//! |---|---|---|
//! | Number | [`number::parse`] | `&str` → [`Msisdn`] or a [`NumberError`] reason code |
//! | Route | [`route::Router`] | portability, then DEF code; refuses SMS to fixed lines |
//! | Blacklist | [`blacklist::Blacklists`] | global + per-account, swapped atomically on reload |
//! | Window | [`window::WindowPolicy`] | open now? else the next opening (deferred, never dropped) |
//! | Balance | [`balance::Wallets`] | reserve when queued, debit at handoff, release on failure |
//! | Price | [`tariff::Tariff`] | what to reserve and debit |
//!
//! # The per-dispatch pipeline
//!
//! ```
//! use sendbox_policy::{
//!     balance::Wallets, blacklist::{Blacklist, BlacklistSet, Blacklists},
//!     number::parse, route::Router, tariff::Tariff, window::WindowPolicy,
//!     AccountId, Channel, OperatorId, TrafficClass,
//! };
//! let router = Router::new([(701, OperatorId(0)), (705, OperatorId(1))]).unwrap();
//! let lists = Blacklists::new(BlacklistSet::new(Blacklist::from_numbers([
//!     parse("+77059999999").unwrap(),
//! ])));
//! let window = WindowPolicy::almaty_default().unwrap();
//! let wallets = Wallets::new([10_000]); // account 0: 100 tenge
//! let tariff = Tariff::try_new(500, 0, 0, 1).unwrap();
//!
//! let account = AccountId(0);
//! let now: jiff::Timestamp = "2026-11-25T09:03:00Z".parse().unwrap(); // 14:03 in Almaty
//! let class = TrafficClass::Service;
//!
//! // 1. number → 2. route → 3. blacklist → 4. window → 5. reserve
//! let msisdn = parse("8 (701) 123-45-67").map_err(|e| e.code()).unwrap();
//! let operator = router.route(msisdn, Channel::Sms).map_err(|e| e.code()).unwrap();
//! assert!(!lists.is_blocked(account, msisdn));
//! assert!(window.is_open(now, operator, class, account)); // else defer to next_opening
//! let cost = tariff.sms_cost(2);
//! wallets.reserve(account, cost).unwrap();
//!
//! // At handoff: check the window again, then debit; record UTC and Almaty time.
//! assert!(window.is_open(now, operator, class, account));
//! wallets.debit(account, cost, cost).unwrap();
//! assert_eq!(window.local_time(now), "2026-11-25T14:03:00+05:00");
//! assert_eq!(wallets.snapshot(account).unwrap().spent, 1_000);
//!
//! // A blacklisted number is refused; a fixed line cannot take SMS.
//! assert!(lists.is_blocked(account, parse("87059999999").unwrap()));
//! assert_eq!(router.route(parse("87272123456").unwrap(), Channel::Sms).unwrap_err().code(), "fixed_line");
//! ```

pub mod balance;
mod bitmap;
pub mod blacklist;
mod index;
pub mod lines;
pub mod number;
pub mod portability;
pub mod route;
pub mod tariff;
pub mod window;
mod zone;

/// The time library of the window API (`Timestamp`, `civil::Date`, `tz::TimeZone`).
pub use jiff;
pub use number::{LineType, Msisdn, NumberError};
pub use sendbox_dispatch::{AccountId, Channel, OperatorId, TrafficClass};

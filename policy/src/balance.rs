//! Prepaid balances in integer tiyn (1/100 tenge), lock-free.
//!
//! Each account has three counters: `available`, `reserved` and `spent`. A dispatch
//! [`Wallets::reserve`]s its cost when it is queued, is [`Wallets::debit`]ed at handoff to the
//! operator, and is [`Wallets::release`]d if it fails before handoff. `available` is only
//! ever lowered by a compare-and-swap that checks it stays ≥ 0, so the balance never goes
//! negative, also under concurrent load. Money moves between counters in two steps, so a
//! concurrent [`Wallets::snapshot`] may see a transfer half done (money "in flight", never
//! extra); at rest `available + reserved + spent == opening + top-ups`.
//!
//! A reserve that fails for lack of funds marks the account `insufficient_funds`
//! ([`Wallets::is_paused`]); its dispatches wait until [`Wallets::topup`] clears the mark.
//!
//! ```
//! use sendbox_policy::balance::{BalanceError, Wallets};
//! use sendbox_policy::AccountId;
//! let w = Wallets::new([1_000]);
//! let acc = AccountId(0);
//! w.reserve(acc, 700).unwrap();
//! assert_eq!(w.reserve(acc, 700), Err(BalanceError::InsufficientFunds { available: 300, needed: 700 }));
//! assert!(w.is_paused(acc));
//! w.debit(acc, 700, 650).unwrap(); // 50 back to available
//! assert_eq!(w.topup(acc, 1_000), Ok(1_350));
//! assert!(!w.is_paused(acc));
//! ```

use sendbox_dispatch::AccountId;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// Why a balance operation was refused. Nothing changed when one is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BalanceError {
    /// [`Wallets::reserve`]: not enough available; the account is now paused.
    #[error("insufficient funds: {available} tiyn available, {needed} needed")]
    InsufficientFunds {
        /// Available when the reserve was tried.
        available: i64,
        /// The amount asked.
        needed: i64,
    },
    /// Any call: the account index is beyond the table.
    #[error("unknown account {0}")]
    UnknownAccount(u32),
    /// Any call: a negative amount (or an actual cost above the reservation that overflows).
    #[error("invalid amount {0}")]
    InvalidAmount(i64),
    /// [`Wallets::debit`] / [`Wallets::release`]: more than is reserved (a double release).
    #[error("{asked} tiyn asked but only {reserved} reserved")]
    NotReserved {
        /// Currently reserved on the account.
        reserved: i64,
        /// The amount asked.
        asked: i64,
    },
}

/// The result of a [`Wallets::debit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Debit {
    /// Tiyn moved to `spent`.
    pub charged: i64,
    /// Of the actual cost, tiyn that neither the reservation nor the available balance
    /// covered (not charged). Zero unless the actual cost exceeded the reservation.
    pub uncovered: i64,
}

/// One account's counters at a moment (see the module docs on consistency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalletSnapshot {
    /// Spendable now.
    pub available: i64,
    /// Held for queued dispatches.
    pub reserved: i64,
    /// Debited at handoff.
    pub spent: i64,
    /// Whether dispatches are paused for insufficient funds.
    pub paused: bool,
}

impl WalletSnapshot {
    /// The account's visible state: `insufficient_funds` while paused, else `active`.
    pub fn state(&self) -> &'static str {
        if self.paused {
            "insufficient_funds"
        } else {
            "active"
        }
    }
}

/// Padded to a cache line so accounts hot on different cores do not share one.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Wallet {
    available: AtomicI64,
    reserved: AtomicI64,
    spent: AtomicI64,
    paused: AtomicBool,
}

/// The balances of every account, indexed by `AccountId.0`.
#[derive(Debug)]
pub struct Wallets {
    wallets: Box<[Wallet]>,
}

impl Wallets {
    /// Accounts `0..n` with these opening balances (negative openings count as 0).
    pub fn new(opening: impl IntoIterator<Item = i64>) -> Wallets {
        let wallets = opening
            .into_iter()
            .map(|b| Wallet {
                available: AtomicI64::new(b.max(0)),
                ..Wallet::default()
            })
            .collect();
        Wallets { wallets }
    }

    /// Accounts `0..n` restored from saved counters (e.g. the store's after a restart).
    /// Negative counters count as 0.
    pub fn restore(states: impl IntoIterator<Item = WalletSnapshot>) -> Wallets {
        let wallets = states
            .into_iter()
            .map(|s| Wallet {
                available: AtomicI64::new(s.available.max(0)),
                reserved: AtomicI64::new(s.reserved.max(0)),
                spent: AtomicI64::new(s.spent.max(0)),
                paused: AtomicBool::new(s.paused),
            })
            .collect();
        Wallets { wallets }
    }

    /// Accounts in the table.
    pub fn len(&self) -> usize {
        self.wallets.len()
    }

    /// Whether the table has no accounts.
    pub fn is_empty(&self) -> bool {
        self.wallets.is_empty()
    }

    fn wallet(&self, account: AccountId) -> Result<&Wallet, BalanceError> {
        self.wallets
            .get(account.0 as usize)
            .ok_or(BalanceError::UnknownAccount(account.0))
    }

    /// Holds `amount` for a queued dispatch. Fails, pausing the account, if less is available.
    #[inline]
    pub fn reserve(&self, account: AccountId, amount: i64) -> Result<(), BalanceError> {
        let w = self.wallet(account)?;
        check(amount)?;
        let taken = w
            .available
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |a| {
                (a >= amount).then_some(a - amount)
            });
        match taken {
            Ok(_) => {
                w.reserved.fetch_add(amount, Ordering::AcqRel);
                Ok(())
            }
            Err(available) => {
                w.paused.store(true, Ordering::Release);
                Err(BalanceError::InsufficientFunds {
                    available,
                    needed: amount,
                })
            }
        }
    }

    /// At handoff: moves `actual` of the `reserved` amount to spent and returns the rest to
    /// available. If `actual > reserved`, the excess is taken from available as far as it
    /// goes (never below zero); what cannot be covered is reported, not charged.
    pub fn debit(
        &self,
        account: AccountId,
        reserved: i64,
        actual: i64,
    ) -> Result<Debit, BalanceError> {
        let w = self.wallet(account)?;
        check(reserved)?;
        check(actual)?;
        take_reserved(w, reserved)?;
        if actual <= reserved {
            w.spent.fetch_add(actual, Ordering::AcqRel);
            if actual < reserved {
                w.available.fetch_add(reserved - actual, Ordering::AcqRel);
            }
            return Ok(Debit {
                charged: actual,
                uncovered: 0,
            });
        }
        let excess = actual - reserved;
        let prev = w
            .available
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |a| {
                Some(a - excess.min(a))
            })
            .unwrap_or_else(|a| a); // the closure always returns Some
        let covered = excess.min(prev);
        w.spent.fetch_add(reserved + covered, Ordering::AcqRel);
        Ok(Debit {
            charged: reserved + covered,
            uncovered: excess - covered,
        })
    }

    /// Returns a reservation to available (the dispatch failed before handoff).
    pub fn release(&self, account: AccountId, amount: i64) -> Result<(), BalanceError> {
        let w = self.wallet(account)?;
        check(amount)?;
        take_reserved(w, amount)?;
        w.available.fetch_add(amount, Ordering::AcqRel);
        Ok(())
    }

    /// Adds `amount` to available, resumes a paused account, and returns the new available.
    pub fn topup(&self, account: AccountId, amount: i64) -> Result<i64, BalanceError> {
        let w = self.wallet(account)?;
        check(amount)?;
        let prev = w
            .available
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |a| {
                a.checked_add(amount)
            })
            .map_err(|_| BalanceError::InvalidAmount(amount))?;
        w.paused.store(false, Ordering::Release);
        Ok(prev + amount)
    }

    /// Whether the account's dispatches are paused (`insufficient_funds`).
    pub fn is_paused(&self, account: AccountId) -> bool {
        self.wallet(account)
            .is_ok_and(|w| w.paused.load(Ordering::Acquire))
    }

    /// The account's counters now.
    pub fn snapshot(&self, account: AccountId) -> Result<WalletSnapshot, BalanceError> {
        let w = self.wallet(account)?;
        Ok(WalletSnapshot {
            available: w.available.load(Ordering::Acquire),
            reserved: w.reserved.load(Ordering::Acquire),
            spent: w.spent.load(Ordering::Acquire),
            paused: w.paused.load(Ordering::Acquire),
        })
    }
}

fn check(amount: i64) -> Result<(), BalanceError> {
    if amount < 0 {
        Err(BalanceError::InvalidAmount(amount))
    } else {
        Ok(())
    }
}

fn take_reserved(w: &Wallet, amount: i64) -> Result<(), BalanceError> {
    w.reserved
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |r| {
            (r >= amount).then_some(r - amount)
        })
        .map(|_| ())
        .map_err(|reserved| BalanceError::NotReserved {
            reserved,
            asked: amount,
        })
}

#[cfg(test)]
#[path = "balance_tests.rs"]
mod tests;

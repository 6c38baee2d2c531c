//! Blacklists: numbers that must never receive anything, globally or from one account.
//!
//! A [`Blacklist`] is a compact read-only set: a bitmap per DEF code that holds many numbers
//! (one memory access per lookup), a sorted index for the rest (see `index.rs`); at most
//! about 4.3 bytes per number. [`Blacklists`] holds the global list and the
//! per-account lists behind an [`ArcSwap`]: [`Blacklists::is_blocked`] never locks or
//! blocks, and a reload ([`Blacklists::reload`], on SIGHUP or the admin endpoint) builds
//! new lists aside and swaps them in at once. Readers keep the old set until they finish.
//!
//! Files hold one number per line in any format [`crate::number::parse`] accepts; blank lines
//! and `#` comments are skipped; bad lines are reported with file and line and skipped.
//!
//! ```
//! use sendbox_policy::blacklist::{Blacklist, BlacklistSet, Blacklists};
//! use sendbox_policy::{number::parse, AccountId};
//! let global = Blacklist::from_numbers([parse("+77011234567").unwrap()]);
//! let lists = Blacklists::new(BlacklistSet::new(global));
//! assert!(lists.is_blocked(AccountId(3), parse("87011234567").unwrap()));
//! assert!(!lists.is_blocked(AccountId(3), parse("87011234568").unwrap()));
//! ```

use crate::bitmap::{DefBitmaps, PER_DEF};
use crate::index::{NumberIndex, key_of};
use crate::lines::{LineFault, LoadError, LoadReport, for_each_line};
use crate::number::{KZ_MIN, Msisdn, parse_bytes};
use arc_swap::ArcSwap;
use sendbox_dispatch::AccountId;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const DEFS: u32 = 200;

/// A read-only set of numbers: a bitmap for each DEF code holding many numbers, a compact
/// sorted index for the rest (at most about 4.3 bytes a number either way).
#[derive(Debug, Clone)]
pub struct Blacklist {
    dense: DefBitmaps,
    index: NumberIndex,
}

impl Default for Blacklist {
    fn default() -> Self {
        Blacklist::from_numbers([])
    }
}

impl Blacklist {
    /// A list of these numbers (duplicates are fine).
    pub fn from_numbers(numbers: impl IntoIterator<Item = Msisdn>) -> Blacklist {
        let keys = numbers
            .into_iter()
            .filter_map(|m| key_of(m.get()))
            .collect();
        Blacklist::from_keys(keys)
    }

    fn from_keys(mut keys: Vec<u32>) -> Blacklist {
        let dense = DefBitmaps::build(&keys);
        keys.retain(|&k| !dense.covers(k));
        Blacklist {
            dense,
            index: NumberIndex::from_unsorted(keys),
        }
    }

    /// Loads and merges the files. Fails only if a file cannot be read; bad lines are in the
    /// report, and `report.entries` is the count of distinct numbers.
    pub fn load<P: AsRef<Path>>(paths: &[P]) -> Result<(Blacklist, LoadReport), LoadError> {
        let mut report = LoadReport::default();
        let mut keys: Vec<u32> = Vec::new();
        for path in paths {
            let path = path.as_ref();
            if let Ok(meta) = std::fs::metadata(path) {
                // About 12 bytes a line; reserving up front avoids re-copying 40 MB vectors.
                // Capped so a huge garbage file cannot reserve gigabytes before parsing.
                keys.reserve(((meta.len() / 12) as usize).min(64 << 20));
            }
            let file: Arc<Path> = Arc::from(path);
            let lines = for_each_line(path, |line_no, line| {
                match line.and_then(|l| parse_bytes(l).map_err(LineFault::Number)) {
                    // A parsed Msisdn is always in range, so key_of is Some.
                    Ok(m) => keys.extend(key_of(m.get())),
                    Err(fault) => report.push(&file, line_no, fault),
                }
            })?;
            report.lines += lines;
        }
        let list = Blacklist::from_keys(keys);
        report.entries = list.len();
        Ok((list, report))
    }

    /// Whether the number is on the list.
    #[inline]
    pub fn contains(&self, m: Msisdn) -> bool {
        let Some(k) = key_of(m.get()) else {
            return false;
        };
        if let Some(member) = self.dense.get(k) {
            return member;
        }
        self.index.position(m.get()).is_some()
    }

    /// Distinct numbers on the list.
    pub fn len(&self) -> usize {
        self.dense.len() + self.index.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of memory the list uses.
    pub fn memory_bytes(&self) -> usize {
        self.index.memory_bytes() + self.dense.memory_bytes()
    }

    /// The numbers, ascending.
    pub fn iter(&self) -> impl Iterator<Item = Msisdn> + '_ {
        let keys = self.index.keys();
        (0..DEFS)
            .flat_map(move |d| -> Box<dyn Iterator<Item = u32> + '_> {
                match self.dense.keys_of(d) {
                    Some(bits) => Box::new(bits),
                    None => {
                        let from = keys.partition_point(|&k| k < d * PER_DEF);
                        let to = keys.partition_point(|&k| k < (d + 1) * PER_DEF);
                        Box::new(keys[from..to].iter().copied())
                    }
                }
            })
            // Every stored key came from a valid Msisdn, so from_e164 succeeds.
            .filter_map(|k| Msisdn::from_e164(KZ_MIN + u64::from(k)).ok())
    }
}

/// The global list and the per-account lists, swapped together.
#[derive(Debug, Clone, Default)]
pub struct BlacklistSet {
    global: Arc<Blacklist>,
    /// Indexed by `AccountId.0`; `None` where the account has no list of its own.
    accounts: Vec<Option<Arc<Blacklist>>>,
}

impl BlacklistSet {
    /// A set with this global list and no per-account lists.
    pub fn new(global: Blacklist) -> BlacklistSet {
        BlacklistSet {
            global: Arc::new(global),
            accounts: Vec::new(),
        }
    }

    /// Adds (or replaces, or with `None` removes) the list of one account.
    pub fn with_account(mut self, account: AccountId, list: Option<Blacklist>) -> BlacklistSet {
        self.set_account(account, list.map(Arc::new));
        self
    }

    fn set_account(&mut self, account: AccountId, list: Option<Arc<Blacklist>>) {
        let i = account.0 as usize;
        if i >= self.accounts.len() {
            if list.is_none() {
                return;
            }
            self.accounts.resize(i + 1, None);
        }
        self.accounts[i] = list;
    }

    /// Whether `m` is on the global list or on `account`'s list.
    #[inline]
    pub fn is_blocked(&self, account: AccountId, m: Msisdn) -> bool {
        self.global.contains(m)
            || matches!(self.accounts.get(account.0 as usize), Some(Some(l)) if l.contains(m))
    }

    /// The global list.
    pub fn global(&self) -> &Blacklist {
        &self.global
    }

    /// `account`'s own list, if it has one.
    pub fn account(&self, account: AccountId) -> Option<&Blacklist> {
        self.accounts.get(account.0 as usize)?.as_deref()
    }
}

/// Where the lists are loaded from: what the engine maps from config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlacklistSources {
    /// Files of the global list.
    pub global: Vec<PathBuf>,
    /// Files of each account's list.
    pub accounts: Vec<(AccountId, Vec<PathBuf>)>,
}

impl BlacklistSet {
    /// Loads every list named in `sources`. Fails if any file cannot be read (so a reload
    /// never half-applies); bad lines of all files are in the one report.
    pub fn load(sources: &BlacklistSources) -> Result<(BlacklistSet, LoadReport), LoadError> {
        let (global, mut report) = Blacklist::load(&sources.global)?;
        let mut set = BlacklistSet::new(global);
        for (account, paths) in &sources.accounts {
            let (list, r) = Blacklist::load(paths)?;
            report.lines += r.lines;
            report.entries += r.entries;
            for e in r.errors {
                report.push(&e.file, e.line, e.fault);
            }
            report.omitted_errors += r.omitted_errors;
            set.set_account(*account, Some(Arc::new(list)));
        }
        Ok((set, report))
    }
}

/// The live lists: lock-free reads, atomic replacement.
#[derive(Debug, Default)]
pub struct Blacklists {
    current: ArcSwap<BlacklistSet>,
}

impl Blacklists {
    /// Starts with this set.
    pub fn new(set: BlacklistSet) -> Blacklists {
        Blacklists {
            current: ArcSwap::from_pointee(set),
        }
    }

    /// Whether `m` may not be sent to on behalf of `account`. Never blocks. For a batch,
    /// [`Blacklists::snapshot`] once and ask the set: it skips the per-call `ArcSwap` load
    /// (about 15 ns) and checks the whole batch against one version.
    #[inline]
    pub fn is_blocked(&self, account: AccountId, m: Msisdn) -> bool {
        self.current.load().is_blocked(account, m)
    }

    /// The current set, to check a whole batch against one consistent version.
    pub fn snapshot(&self) -> Arc<BlacklistSet> {
        self.current.load_full()
    }

    /// Swaps in a new set; returns the old one.
    pub fn replace(&self, set: BlacklistSet) -> Arc<BlacklistSet> {
        self.current.swap(Arc::new(set))
    }

    /// Replaces only the global list, keeping the per-account lists.
    pub fn replace_global(&self, list: Blacklist) {
        let list = Arc::new(list);
        self.current.rcu(|cur| BlacklistSet {
            global: Arc::clone(&list),
            accounts: cur.accounts.clone(),
        });
    }

    /// Replaces (or with `None` removes) one account's list, keeping the others.
    pub fn replace_account(&self, account: AccountId, list: Option<Blacklist>) {
        let list = list.map(Arc::new);
        self.current.rcu(|cur| {
            let mut next = BlacklistSet::clone(cur);
            next.set_account(account, list.clone());
            next
        });
    }

    /// Loads `sources` and swaps them in. Blocking file IO: run it off the async runtime
    /// (`spawn_blocking`). On error the current lists stay.
    pub fn reload(&self, sources: &BlacklistSources) -> Result<LoadReport, LoadError> {
        let (set, report) = BlacklistSet::load(sources)?;
        self.replace(set);
        Ok(report)
    }
}

#[cfg(test)]
#[path = "blacklist_tests.rs"]
mod tests;

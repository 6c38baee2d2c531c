//! Process-wide SQLite settings that rusqlite has no call for, made once before the first
//! connection of the process (SQLite refuses them afterwards, with SQLITE_MISUSE and no
//! effect, and keeps its defaults, which are correct, only slower):
//!
//! - allocation statistics off (`SQLITE_CONFIG_MEMSTATUS`): nothing here reads them, and
//!   with them on every allocation SQLite makes takes a process-wide mutex to count itself;
//! - the page cache wrapped so that the truncation after every commit skips its scan when it
//!   has nothing to drop ([`super::pcache`]).

#![allow(unsafe_code)]

use rusqlite::ffi;
use std::ffi::c_int;

/// What [`configure`] managed to set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Configured {
    pub(crate) memory_statistics_off: bool,
    pub(crate) page_cache_wrapped: bool,
}

/// Apply the settings above once per process; later calls repeat the first call's answer.
pub(crate) fn configure() -> Configured {
    static ONCE: std::sync::OnceLock<Configured> = std::sync::OnceLock::new();
    *ONCE.get_or_init(|| {
        // SAFETY: `sqlite3_config` either takes effect before SQLite initializes or fails
        // with SQLITE_MISUSE without effect; SQLITE_CONFIG_MEMSTATUS takes an int.
        let memory_statistics_off =
            unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int) }
                == ffi::SQLITE_OK;
        Configured {
            memory_statistics_off,
            page_cache_wrapped: super::pcache::install(),
        }
    })
}

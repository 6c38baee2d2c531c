//! SQLite's page cache, wrapped so that the truncation after every commit does not scan the
//! whole cache for nothing.
//!
//! After each transaction SQLite truncates the page cache to the database size. Its default
//! cache (`pcache1`) keeps the largest page number it ever held, `iMaxKey`, and scans only when
//! that is at or above the limit; when more than its hash table's size above, it scans every
//! hash slot. But `balance_nonroot`, when it sorts the pages of a split B-tree node, parks a
//! page for a moment under the number of the locking page (page 262,145 with 4 KiB pages, past
//! 1 GiB), and `pcache1` never lowers `iMaxKey` when the page moves on. So nearly every
//! commit that split a node scanned all 16,384 slots of the writer's 64 MiB cache and the
//! ~16,000 pages chained in them, only to drop nothing: 1.1–2.0 % of the engine's samples in
//! the SMS throughput run (a uprobe counted 115 such scans a second, each with
//! `iMaxKey = 0x40001`).
//!
//! This wrapper forwards every call to the default cache and keeps its own bound on the page
//! numbers held, which leaves the parking out: a page moved to the locking page's number is
//! counted as parked, and uncounted when it moves on. A truncation whose limit is above the
//! bound while nothing is parked cannot drop anything, and is not forwarded. Every other call
//! is forwarded unchanged, so the cache's behaviour is the default one.
//!
//! SQLite calls a cache's methods only under its connection's lock, one at a time, so the
//! bound needs no synchronisation of its own.

#![allow(unsafe_code)]

use rusqlite::ffi;
use std::ffi::{c_int, c_uint, c_void};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// SQLite's `PENDING_BYTE`: the first octet of the locking page.
const PENDING_BYTE: u64 = 0x4000_0000;

/// The default cache's methods, read before ours replace them.
struct DefaultMethods(ffi::sqlite3_pcache_methods2);
// SAFETY: the methods are plain function pointers and `pArg`, which SQLite itself hands to
// any thread; they are only read after being set once.
unsafe impl Send for DefaultMethods {}
unsafe impl Sync for DefaultMethods {}

static DEFAULT: OnceLock<DefaultMethods> = OnceLock::new();

/// Truncations not forwarded, in this process (for tests and diagnostics).
static SKIPPED: AtomicU64 = AtomicU64::new(0);

/// How many truncations the wrapper found had nothing to drop and did not forward.
pub(crate) fn truncations_skipped() -> u64 {
    SKIPPED.load(Ordering::Relaxed)
}

/// One cache: the default one inside, plus the bound.
struct Cache {
    inner: *mut ffi::sqlite3_pcache,
    /// The default cache's methods, copied from [`DEFAULT`] at creation: the forwarding
    /// (`xFetch` on every page access) reads them without going through the `OnceLock`.
    methods: ffi::sqlite3_pcache_methods2,
    /// The locking page's number for this page size: where `balance_nonroot` parks a page.
    lock_key: c_uint,
    /// Every page held has a number at most this, or is parked.
    max_key: c_uint,
    /// Pages moved to `lock_key` and not yet moved away.
    parked: u32,
}

/// Replace the default page cache by the wrapper; false if SQLite was already initialized.
/// Called once, from [`super::config::configure`].
pub(crate) fn install() -> bool {
    let mut default = std::mem::MaybeUninit::<ffi::sqlite3_pcache_methods2>::zeroed();
    // SAFETY: GETPCACHE2 fills the struct the pointer points to (or fails, leaving it
    // zeroed); PCACHE2 copies the struct it is given. Both fail without effect once SQLite is
    // initialized.
    unsafe {
        if ffi::sqlite3_config(ffi::SQLITE_CONFIG_GETPCACHE2, default.as_mut_ptr())
            != ffi::SQLITE_OK
        {
            return false;
        }
        let default = default.assume_init();
        if default.xCreate.is_none() || DEFAULT.set(DefaultMethods(default)).is_err() {
            return false;
        }
        let ours = ffi::sqlite3_pcache_methods2 {
            iVersion: 1,
            pArg: std::ptr::null_mut(),
            xInit: Some(init),
            xShutdown: Some(shutdown),
            xCreate: Some(create),
            xCachesize: Some(cachesize),
            xPagecount: Some(pagecount),
            xFetch: Some(fetch),
            xUnpin: Some(unpin),
            xRekey: Some(rekey),
            xTruncate: Some(truncate),
            xDestroy: Some(destroy),
            xShrink: Some(shrink),
        };
        ffi::sqlite3_config(
            ffi::SQLITE_CONFIG_PCACHE2,
            &ours as *const ffi::sqlite3_pcache_methods2,
        ) == ffi::SQLITE_OK
    }
}

fn default() -> &'static ffi::sqlite3_pcache_methods2 {
    // Our methods are installed only after DEFAULT is set.
    &DEFAULT
        .get()
        .expect("default page cache read before install")
        .0
}

/// # Safety
/// `p` was returned by [`create`] and not destroyed.
unsafe fn cache<'a>(p: *mut ffi::sqlite3_pcache) -> &'a mut Cache {
    unsafe { &mut *p.cast::<Cache>() }
}

unsafe extern "C" fn init(_: *mut c_void) -> c_int {
    let d = default();
    // SAFETY: the default cache's own initialiser with its own argument.
    d.xInit.map_or(ffi::SQLITE_OK, |f| unsafe { f(d.pArg) })
}

unsafe extern "C" fn shutdown(_: *mut c_void) {
    let d = default();
    if let Some(f) = d.xShutdown {
        // SAFETY: as in `init`.
        unsafe { f(d.pArg) }
    }
}

unsafe extern "C" fn create(
    page_size: c_int,
    extra: c_int,
    purgeable: c_int,
) -> *mut ffi::sqlite3_pcache {
    let d = default();
    let Some(create) = d.xCreate else {
        return std::ptr::null_mut();
    };
    // SAFETY: forwarded unchanged.
    let inner = unsafe { create(page_size, extra, purgeable) };
    if inner.is_null() {
        return inner;
    }
    let lock_key = u64::try_from(page_size)
        .ok()
        .filter(|&s| s > 0)
        .and_then(|s| c_uint::try_from(PENDING_BYTE / s + 1).ok())
        .unwrap_or(0);
    Box::into_raw(Box::new(Cache {
        inner,
        methods: *d,
        lock_key,
        max_key: 0,
        parked: 0,
    }))
    .cast()
}

unsafe extern "C" fn cachesize(p: *mut ffi::sqlite3_pcache, n: c_int) {
    // SAFETY (this and the other forwarding methods): `p` is a live cache of ours, SQLite
    // calls it under its connection's lock, and the inner cache gets the same arguments.
    let c = unsafe { cache(p) };
    if let Some(f) = c.methods.xCachesize {
        unsafe { f(c.inner, n) }
    }
}

unsafe extern "C" fn pagecount(p: *mut ffi::sqlite3_pcache) -> c_int {
    let c = unsafe { cache(p) };
    c.methods.xPagecount.map_or(0, |f| unsafe { f(c.inner) })
}

unsafe extern "C" fn fetch(
    p: *mut ffi::sqlite3_pcache,
    key: c_uint,
    create: c_int,
) -> *mut ffi::sqlite3_pcache_page {
    let c = unsafe { cache(p) };
    let Some(f) = c.methods.xFetch else {
        return std::ptr::null_mut();
    };
    let page = unsafe { f(c.inner, key, create) };
    // A parked page found again under the locking page's number is already counted.
    if !page.is_null() && key > c.max_key && !(key == c.lock_key && c.parked > 0) {
        c.max_key = key;
    }
    page
}

unsafe extern "C" fn unpin(
    p: *mut ffi::sqlite3_pcache,
    page: *mut ffi::sqlite3_pcache_page,
    discard: c_int,
) {
    let c = unsafe { cache(p) };
    if let Some(f) = c.methods.xUnpin {
        unsafe { f(c.inner, page, discard) }
    }
}

unsafe extern "C" fn rekey(
    p: *mut ffi::sqlite3_pcache,
    page: *mut ffi::sqlite3_pcache_page,
    old: c_uint,
    new: c_uint,
) {
    let c = unsafe { cache(p) };
    if let Some(f) = c.methods.xRekey {
        unsafe { f(c.inner, page, old, new) }
    }
    c.note_rekey(old, new);
}

unsafe extern "C" fn truncate(p: *mut ffi::sqlite3_pcache, limit: c_uint) {
    let c = unsafe { cache(p) };
    if !c.truncate_needed(limit) {
        SKIPPED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    if let Some(f) = c.methods.xTruncate {
        unsafe { f(c.inner, limit) }
    }
    c.note_truncate(limit);
}

unsafe extern "C" fn destroy(p: *mut ffi::sqlite3_pcache) {
    // SAFETY: `p` came from `Box::into_raw` in `create` and SQLite destroys it once.
    let c = unsafe { Box::from_raw(p.cast::<Cache>()) };
    if let Some(f) = c.methods.xDestroy {
        unsafe { f(c.inner) }
    }
}

unsafe extern "C" fn shrink(p: *mut ffi::sqlite3_pcache) {
    let c = unsafe { cache(p) };
    if let Some(f) = c.methods.xShrink {
        unsafe { f(c.inner) }
    }
}

impl Cache {
    fn note_rekey(&mut self, old: c_uint, new: c_uint) {
        if old == self.lock_key && self.parked > 0 {
            self.parked -= 1;
        }
        if new == self.lock_key && self.lock_key != 0 {
            self.parked += 1;
        } else if new > self.max_key {
            self.max_key = new;
        }
    }

    /// Whether a truncation to `limit` (drop every page numbered `limit` or more) could drop
    /// anything.
    fn truncate_needed(&self, limit: c_uint) -> bool {
        self.parked > 0 || limit <= self.max_key
    }

    fn note_truncate(&mut self, limit: c_uint) {
        self.max_key = self.max_key.min(limit.saturating_sub(1));
        if limit <= self.lock_key {
            self.parked = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> Cache {
        Cache {
            inner: std::ptr::null_mut(),
            // SAFETY: all-None methods and a null argument: a valid (empty) table.
            methods: unsafe { std::mem::zeroed() },
            lock_key: 262_145,
            max_key: 0,
            parked: 0,
        }
    }

    #[test]
    fn parking_on_the_locking_page_does_not_raise_the_bound() {
        let mut c = cache();
        c.max_key = 900;
        // balance_nonroot's swap of pages 850 and 700 through the locking page.
        c.note_rekey(850, 262_145);
        assert!(c.truncate_needed(901), "a page is parked above the limit");
        c.note_rekey(700, 850);
        c.note_rekey(262_145, 700);
        assert_eq!(c.parked, 0);
        assert_eq!(c.max_key, 900);
        assert!(!c.truncate_needed(901), "nothing above 900 is held");
        assert!(c.truncate_needed(900), "page 900 may be held");
    }

    #[test]
    fn a_truncation_lowers_the_bound_and_a_move_up_raises_it() {
        let mut c = cache();
        c.max_key = 900;
        c.note_truncate(501);
        assert_eq!(c.max_key, 500);
        assert!(!c.truncate_needed(501));
        c.note_rekey(10, 2_000);
        assert!(c.truncate_needed(1_001));
        c.note_truncate(0);
        assert_eq!(c.max_key, 0);
        // A truncation below the locking page drops a parked page too.
        c.note_rekey(5, 262_145);
        c.note_truncate(100);
        assert_eq!(c.parked, 0);
        assert!(!c.truncate_needed(100));
    }
}

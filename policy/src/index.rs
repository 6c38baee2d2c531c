//! A compact, read-only set of Kazakhstan numbers with lookups in about one memory miss:
//! the storage shared by the blacklist and the portability table.
//!
//! Every Kazakhstan number is `7 DDD SSSSSSS` with DEF code `DDD` in 600–799, so
//! `number - 76_000_000_000` fits a `u32`: a sorted `Vec<u32>` holds a number in 4 bytes.
//!
//! A binary search over 10 million keys (40 MB) costs about 24 dependent cache misses, so a
//! directory sits in front of it. Real lists cluster in the few DEF codes in use (701, 705,
//! 707, 747, 771, 775–778), so the directory is built over a *compacted* key: each DEF code
//! present gets a dense slot (`slot * 10^7 + subscriber`), and the top bits of that pick a
//! bucket of about 16 keys (64 bytes). The directory is small enough (0.25 bytes a number) to
//! stay in cache; a lookup reads the slot table (200 bytes), two adjacent directory words,
//! and one run of keys, counted without branches so its cache lines load together: about
//! one memory miss. About 4.3 bytes per number in all.

use crate::number::{KZ_END, KZ_MIN, SUBSCRIBER};

const DEFS: usize = 200;
const NO_SLOT: u8 = u8::MAX;
const SUB: u32 = SUBSCRIBER as u32;
/// Average keys per directory bucket.
const KEYS_PER_BUCKET: usize = 16;
/// Runs up to this long are scanned; longer ones (skewed data) are binary-searched.
const SCAN_MAX: usize = 128;

/// A sorted set of numbers with a bucket directory; see the module docs.
#[derive(Clone)]
pub(crate) struct NumberIndex {
    /// `number - KZ_MIN`, sorted and distinct.
    keys: Vec<u32>,
    /// DEF code - 600 → dense slot, or [`NO_SLOT`] if no key has that DEF code.
    slots: [u8; DEFS],
    /// Compacted key >> shift = bucket.
    shift: u32,
    /// `dir[b]..dir[b + 1]` is the range of `keys` in bucket `b`.
    dir: Vec<u32>,
}

impl std::fmt::Debug for NumberIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NumberIndex")
            .field("len", &self.keys.len())
            .field("buckets", &self.dir.len().saturating_sub(1))
            .finish()
    }
}

/// The storage key of a number, or `None` outside Kazakhstan's range.
#[inline]
pub(crate) fn key_of(number: u64) -> Option<u32> {
    if (KZ_MIN..KZ_END).contains(&number) {
        // In range, the difference is below 2·10^9 < u32::MAX.
        Some((number - KZ_MIN) as u32)
    } else {
        None
    }
}

impl NumberIndex {
    /// Builds from keys in any order, with duplicates.
    pub(crate) fn from_unsorted(mut keys: Vec<u32>) -> NumberIndex {
        keys.sort_unstable();
        keys.dedup();
        NumberIndex::from_sorted_unique(keys)
    }

    /// Builds from keys already sorted and distinct (every key from [`key_of`]).
    pub(crate) fn from_sorted_unique(mut keys: Vec<u32>) -> NumberIndex {
        debug_assert!(keys.windows(2).all(|w| w[0] < w[1]));
        keys.shrink_to_fit();
        let mut slots = [NO_SLOT; DEFS];
        let mut next = 0u8;
        let mut last_def = usize::MAX;
        for &k in &keys {
            // Keys come from key_of, so they are below 2·10^9 and def < 200 = DEFS.
            let def = (k / SUB) as usize;
            if def != last_def {
                // Keys are sorted, so each DEF code is met once, in increasing order; there
                // are at most 200 of them, which fits u8 below NO_SLOT.
                slots[def] = next;
                next += 1;
                last_def = def;
            }
        }
        let span = u64::from(next) * SUBSCRIBER; // compacted keys are < span
        let want = (keys.len() / KEYS_PER_BUCKET).max(1) as u64;
        let mut shift = 0;
        while (span >> shift) > want {
            shift += 1;
        }
        let buckets = ((span.max(1) - 1) >> shift) as usize + 1;
        let mut dir = vec![0u32; buckets + 1];
        let mut index = NumberIndex {
            keys,
            slots,
            shift,
            dir: Vec::new(),
        };
        // Every compacted key is below span, so (c >> shift) + 1 <= buckets: dir has
        // buckets + 1 entries.
        for &k in &index.keys {
            // Every key's DEF has a slot (assigned above), so compact() is Some.
            if let Some(c) = index.compact(k) {
                dir[(c >> shift) as usize + 1] += 1;
            }
        }
        for b in 0..buckets {
            dir[b + 1] += dir[b];
        }
        index.dir = dir;
        index
    }

    #[inline]
    fn compact(&self, key: u32) -> Option<u32> {
        let slot = *self.slots.get((key / SUB) as usize)?;
        if slot == NO_SLOT {
            return None;
        }
        Some(u32::from(slot) * SUB + key % SUB)
    }

    /// The position of `number` in [`NumberIndex::keys`], if present.
    #[inline]
    pub(crate) fn position(&self, number: u64) -> Option<usize> {
        let key = key_of(number)?;
        let b = (self.compact(key)? >> self.shift) as usize;
        // b < buckets because the compacted key is below span; dir has buckets + 1 entries.
        let lo = *self.dir.get(b)? as usize;
        let hi = *self.dir.get(b + 1)? as usize;
        let run = self.keys.get(lo..hi)?;
        if run.len() <= SCAN_MAX {
            // Branch-free count of the keys below: no mispredicted early exit, and the
            // run's cache lines are all requested at once.
            let below = run.iter().map(|&k| usize::from(k < key)).sum::<usize>();
            (run.get(below) == Some(&key)).then_some(lo + below)
        } else {
            run.binary_search(&key).ok().map(|i| lo + i)
        }
    }

    /// The keys (`number - KZ_MIN`), ascending.
    pub(crate) fn keys(&self) -> &[u32] {
        &self.keys
    }

    /// Distinct numbers held.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Heap and inline bytes used.
    pub(crate) fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.keys.capacity() * 4 + self.dir.capacity() * 4
    }

    /// The numbers, ascending, as E.164 digits.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.keys.iter().map(|&k| KZ_MIN + u64::from(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn index(numbers: &[u64]) -> NumberIndex {
        NumberIndex::from_unsorted(numbers.iter().filter_map(|&n| key_of(n)).collect())
    }

    #[test]
    fn an_empty_index_contains_nothing() {
        let i = index(&[]);
        assert_eq!(i.len(), 0);
        assert_eq!(i.position(77011234567), None);
    }

    #[test]
    fn finds_members_and_rejects_neighbours_and_out_of_range() {
        let i = index(&[
            77011234567,
            77011234569,
            77770000000,
            76000000000,
            77999999999,
        ]);
        assert_eq!(i.len(), 5);
        for n in [
            77011234567,
            77011234569,
            77770000000,
            76000000000,
            77999999999,
        ] {
            assert!(i.position(n).is_some(), "{n}");
        }
        for n in [
            77011234568,
            77011234566,
            77020000000,
            75999999999,
            78000000000,
            0,
            u64::MAX,
        ] {
            assert_eq!(i.position(n), None, "{n}");
        }
    }

    #[test]
    fn duplicates_are_stored_once() {
        let i = index(&[77011234567, 77011234567, 77011234567]);
        assert_eq!(i.len(), 1);
        assert_eq!(i.iter().collect::<Vec<_>>(), vec![77011234567]);
    }

    #[test]
    fn a_clustered_million_costs_under_eight_bytes_a_number() {
        let mut x = 0x2545F4914F6CDD1Du64;
        let defs = [701u64, 705, 707, 747, 771, 777];
        let nums: Vec<u64> = (0..1_000_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                70_000_000_000 + defs[(x % 6) as usize] * SUBSCRIBER + (x >> 20) % SUBSCRIBER
            })
            .collect();
        let i = index(&nums);
        assert!(i.memory_bytes() < 8 * i.len(), "{} bytes", i.memory_bytes());
        for &n in nums.iter().take(10_000) {
            assert!(i.position(n).is_some());
        }
    }

    proptest! {
        #[test]
        fn agrees_with_a_plain_sorted_vec(
            members in proptest::collection::vec(76_000_000_000u64..78_000_000_000, 0..300),
            probes in proptest::collection::vec(75_900_000_000u64..78_100_000_000, 0..300),
            near in proptest::collection::vec((0usize..300, -3i64..4), 0..100),
        ) {
            let i = index(&members);
            let mut sorted = members.clone();
            sorted.sort_unstable();
            sorted.dedup();
            prop_assert_eq!(i.len(), sorted.len());
            let mut all = probes.clone();
            all.extend(members.iter());
            for (at, d) in near {
                if let Some(&m) = members.get(at) {
                    all.push(m.saturating_add_signed(d));
                }
            }
            for p in all {
                let want = sorted.binary_search(&p).ok();
                prop_assert_eq!(i.position(p), want, "probe {}", p);
            }
        }
    }
}

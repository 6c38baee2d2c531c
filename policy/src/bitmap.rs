//! One bitmap per DEF code that holds many numbers: 10^7 bits (1.25 MB) answer "is this
//! number in the set" with a single memory access.
//!
//! A DEF code gets a bitmap only when it holds at least [`DENSE_MIN`] numbers, where the
//! bitmap is no bigger than their sorted `u32` keys (4 bytes each). A blacklist of 10 million
//! numbers over the dozen DEF codes in use is then about 1.6 bytes per number.

/// Subscriber numbers per DEF code.
pub(crate) const PER_DEF: u32 = 10_000_000;
const WORDS: usize = (PER_DEF as usize).div_ceil(64);
/// Numbers in a DEF code from which a bitmap is no bigger than sorted keys.
pub(crate) const DENSE_MIN: usize = WORDS * 8 / 4;
const DEFS: usize = 200;

/// Bitmaps of the dense DEF codes of a key set (keys as in `index.rs`: `number - 76·10^9`).
#[derive(Debug, Clone)]
pub(crate) struct DefBitmaps {
    /// Indexed by DEF code - 600.
    bits: Vec<Option<Box<[u64]>>>,
    len: usize,
}

impl DefBitmaps {
    /// Bitmaps for the DEF codes holding at least [`DENSE_MIN`] of `keys` (any order,
    /// duplicates allowed; every key below 2·10^9).
    pub(crate) fn build(keys: &[u32]) -> DefBitmaps {
        let mut counts = [0usize; DEFS];
        for &k in keys {
            if let Some(c) = counts.get_mut((k / PER_DEF) as usize) {
                *c += 1;
            }
        }
        let mut bits: Vec<Option<Box<[u64]>>> = counts
            .iter()
            .map(|&c| (c >= DENSE_MIN).then(|| vec![0u64; WORDS].into_boxed_slice()))
            .collect();
        for &k in keys {
            if let Some(Some(b)) = bits.get_mut((k / PER_DEF) as usize) {
                let s = (k % PER_DEF) as usize;
                // s < PER_DEF, so s / 64 < WORDS.
                b[s / 64] |= 1 << (s % 64);
            }
        }
        let len = bits
            .iter()
            .flatten()
            .map(|b| b.iter().map(|w| w.count_ones() as usize).sum::<usize>())
            .sum();
        DefBitmaps { bits, len }
    }

    /// `Some(member)` if the key's DEF code has a bitmap; `None` if it has none.
    #[inline]
    pub(crate) fn get(&self, key: u32) -> Option<bool> {
        let b = self.bits.get((key / PER_DEF) as usize)?.as_ref()?;
        let s = (key % PER_DEF) as usize;
        Some(b.get(s / 64).is_some_and(|w| w >> (s % 64) & 1 == 1))
    }

    /// Whether the key's DEF code has a bitmap.
    #[inline]
    pub(crate) fn covers(&self, key: u32) -> bool {
        matches!(self.bits.get((key / PER_DEF) as usize), Some(Some(_)))
    }

    /// Keys set in the bitmaps.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.bits.iter().flatten().count() * WORDS * 8 + self.bits.capacity() * 16
    }

    /// The keys of DEF index `d` (0..200) if it has a bitmap, ascending.
    pub(crate) fn keys_of(&self, d: u32) -> Option<impl Iterator<Item = u32> + '_> {
        let b = self.bits.get(d as usize)?.as_ref()?;
        Some(
            (0..PER_DEF)
                .filter(move |&s| b[(s / 64) as usize] >> (s % 64) & 1 == 1)
                .map(move |s| d * PER_DEF + s),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dense_def_codes_get_a_bitmap() {
        let mut keys: Vec<u32> = (0..DENSE_MIN as u32)
            .map(|i| 101 * PER_DEF + i * 3)
            .collect();
        keys.push(177 * PER_DEF + 5);
        keys.push(101 * PER_DEF); // duplicate
        let b = DefBitmaps::build(&keys);
        assert_eq!(b.len(), DENSE_MIN);
        assert_eq!(b.get(101 * PER_DEF + 3), Some(true));
        assert_eq!(b.get(101 * PER_DEF + 4), Some(false));
        assert_eq!(b.get(177 * PER_DEF + 5), None);
        assert!(b.covers(101 * PER_DEF + 9_999_999));
        assert!(!b.covers(177 * PER_DEF));
        assert_eq!(b.get(u32::MAX), None);
        assert_eq!(
            b.keys_of(101).map(|k| k.take(2).collect::<Vec<_>>()),
            Some(vec![101 * PER_DEF, 101 * PER_DEF + 3])
        );
        assert!(b.keys_of(177).is_none());
    }
}

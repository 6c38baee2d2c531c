//! The MP4 edit list of the sound track: how many priming samples to drop and how long the
//! audio really is.
//!
//! AAC encoders prepend priming samples (1024 for ffmpeg, 2112 for Apple) and pad the last
//! frame; MP4 files record the valid range in `moov/trak/edts/elst`. symphonia 0.6.1 parses but
//! does not apply it, so an M4A would come out ~45 ms long; we read it ourselves.

use std::io::{Read, Seek, SeekFrom};

/// Largest `moov` box read into memory (sample tables of a multi-hour file fit easily).
const MAX_MOOV: u64 = 32 * 1024 * 1024;

/// The valid range of the sound track, in its media time scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Edit {
    /// Media time units to drop at the start (priming).
    pub skip: u64,
    /// Media time units to keep after that, if the edit says.
    pub keep: Option<u64>,
    /// The track's media time scale (normally its sample rate).
    pub timescale: u32,
}

fn be32(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u32::from_be_bytes(
        b.get(at..at + 4)?.try_into().ok()?,
    )))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Iterates `(type, payload)` of the boxes in `b`.
fn boxes(mut b: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        let size = be32(b, 0)? as usize;
        let kind: [u8; 4] = b.get(4..8)?.try_into().ok()?;
        let (head, size) = match size {
            1 => (16, usize::try_from(be64(b, 8)?).ok()?),
            0 => (8, b.len()),
            n => (8, n),
        };
        if size < head || size > b.len() {
            return None;
        }
        let payload = &b[head..size];
        b = &b[size..];
        Some((kind, payload))
    })
}

fn child<'a>(b: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(b).find(|(k, _)| k == kind).map(|(_, p)| p)
}

/// Time scale of an `mvhd` or `mdhd` payload.
fn timescale(full_box: &[u8]) -> Option<u32> {
    let at = if *full_box.first()? == 1 { 20 } else { 12 };
    u32::try_from(be32(full_box, at)?).ok()
}

/// Reads the sound track's edit from an MP4/M4A; `None` if not MP4 or no usable edit list.
/// Leaves the reader at an unspecified position.
pub(crate) fn sound_edit<R: Read + Seek>(r: &mut R) -> Option<Edit> {
    r.seek(SeekFrom::Start(0)).ok()?;
    let mut pos = 0u64;
    let moov = loop {
        let mut h = [0u8; 16];
        r.seek(SeekFrom::Start(pos)).ok()?;
        r.read_exact(&mut h[..8]).ok()?;
        let mut size = be32(&h, 0)?;
        let mut head = 8;
        if size == 1 {
            r.read_exact(&mut h[8..16]).ok()?;
            size = be64(&h, 8)?;
            head = 16;
        }
        if size < head {
            return None;
        }
        if &h[4..8] == b"moov" {
            if size > MAX_MOOV {
                return None;
            }
            let mut buf = vec![0u8; (size - head) as usize];
            r.read_exact(&mut buf).ok()?;
            break buf;
        }
        pos = pos.checked_add(size)?;
    };
    let movie_scale = timescale(child(&moov, b"mvhd")?)?;
    for (kind, trak) in boxes(&moov) {
        if &kind != b"trak" {
            continue;
        }
        let mdia = child(trak, b"mdia")?;
        let is_sound = child(mdia, b"hdlr").and_then(|h| h.get(8..12)) == Some(b"soun");
        if !is_sound {
            continue;
        }
        let media_scale = timescale(child(mdia, b"mdhd")?)?;
        let elst = child(child(trak, b"edts")?, b"elst")?;
        let v1 = *elst.first()? == 1;
        let count = be32(elst, 4)?;
        // Skip leading empty edits (media_time = -1), take the first real one.
        let entry = if v1 { 20 } else { 12 };
        for i in 0..count.min(8) as usize {
            let at = 8 + i * entry;
            let (dur, time) = if v1 {
                (be64(elst, at)?, be64(elst, at + 8)? as i64)
            } else {
                (
                    be32(elst, at)?,
                    i64::from(be32(elst, at + 4)? as u32 as i32),
                )
            };
            if time < 0 {
                continue;
            }
            let keep = (dur > 0 && movie_scale > 0)
                .then(|| dur.saturating_mul(u64::from(media_scale)) / u64::from(movie_scale));
            return Some(Edit {
                skip: time as u64,
                keep,
                timescale: media_scale,
            });
        }
        return None;
    }
    None
}

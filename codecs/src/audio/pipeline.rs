//! The transcode driver: limits, pass 1 (decode, resample, measure), pass 2 when needed.
//!
//! Which pass strategy: pass 1 always runs and measures peak/RMS/silence on the exact 8 kHz
//! signal that will be encoded, so normalisation is peak-safe by construction. While the
//! audio fits in `single_pass_limit` the 8 kHz samples are kept and encoded straight away (one
//! decode: the fast path for typical prompts); past it they are dropped and the file is decoded
//! again, encoding on the fly, so memory is bounded by the G.711 output (8 KB/s) plus a
//! constant.

use std::io::{Read, Seek, SeekFrom};

use symphonia::core::io::{MediaSource, MediaSourceStream};

use super::decode::{End, Source};
use super::level::{Encoder, Stats};
use super::resample::{OUT_RATE, Resample};
use super::{AudioError, AudioFacts, Progress, Prompt, TranscodeOptions};

/// Output samples between progress reports (5 s).
const PROGRESS_EVERY: u64 = 5 * OUT_RATE as u64;

/// Transcodes an upload held in memory. See the module docs for what it does.
pub fn transcode(
    name: &str,
    bytes: &[u8],
    opts: &TranscodeOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Prompt, AudioError> {
    transcode_reader(name, &mut std::io::Cursor::new(bytes), opts, progress)
}

/// Transcodes an upload read from a seekable source (e.g. a `File`), without loading it whole.
pub fn transcode_reader<R: Read + Seek + Send + Sync>(
    name: &str,
    reader: &mut R,
    opts: &TranscodeOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Prompt, AudioError> {
    let io = |source| AudioError::Io {
        name: name.into(),
        source,
    };
    let size = reader.seek(SeekFrom::End(0)).map_err(io)?;
    if size == 0 {
        return Err(AudioError::Empty { name: name.into() });
    }
    if size > opts.max_bytes {
        return Err(AudioError::TooLarge {
            name: name.into(),
            size,
            max: opts.max_bytes,
        });
    }
    reader.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut head = [0u8; 64];
    let head_len = read_up_to(reader, &mut head).map_err(io)?;
    let head = &head[..head_len];

    let max_out = opts.max_duration.as_millis() as u64 * u64::from(OUT_RATE) / 1000;
    let keep_cap = (opts.single_pass_limit.as_millis() as u64 * u64::from(OUT_RATE) / 1000)
        .min(max_out) as usize;

    // === pass 1: decode, resample, measure (and keep while it fits) ===
    let mut src = open(name, reader, size, head)?;
    let info = src.info.clone();
    let total_ms = info
        .expected_frames
        .map(|f| f * 1000 / u64::from(info.decode_rate));
    let mut rs = Resample::new(name, info.decode_rate)?;
    let mut stats = Stats::default();
    let mut kept: Option<Vec<f32>> = Some(Vec::new());
    let mut next_report = PROGRESS_EVERY;
    let mut sink = |chunk: &[f32]| -> Result<(), AudioError> {
        stats.add(chunk);
        if stats.n > max_out {
            return Err(AudioError::TooLong {
                name: name.into(),
                max: opts.max_duration,
            });
        }
        if let Some(k) = kept.as_mut() {
            if k.len() + chunk.len() <= keep_cap {
                if k.capacity() == 0 {
                    // Reserve the whole budget once: pages never touched cost no memory, and
                    // no doubling realloc ever holds two copies.
                    k.reserve_exact(keep_cap);
                }
                k.extend_from_slice(chunk);
            } else {
                kept = None;
            }
        }
        if stats.n >= next_report {
            next_report += PROGRESS_EVERY;
            progress(Progress {
                pass: 1,
                done_ms: stats.n / 8,
                total_ms,
            });
        }
        Ok(())
    };
    let (in_frames, end) = src.run(&mut |mono| rs.push(mono, &mut sink))?;
    rs.finish(&mut sink)?;
    drop(src);
    stats.finish();
    let n = stats.n;
    progress(Progress {
        pass: 1,
        done_ms: n / 8,
        total_ms,
    });

    let input_duration_ms = in_frames * 1000 / u64::from(info.decode_rate);
    let truncated = end == End::Truncated;
    if truncated && !opts.accept_truncated {
        let expected_ms = total_ms.filter(|t| *t > input_duration_ms);
        return Err(AudioError::Truncated {
            name: name.into(),
            at_ms: input_duration_ms,
            expected_ms,
        });
    }
    if n == 0 {
        return Err(AudioError::NoSamples {
            name: name.into(),
            after_trim: false,
        });
    }
    let (start, stop) = if opts.trim_silence {
        stats.trim_range()
    } else {
        (0, n)
    };
    if start >= stop {
        return Err(AudioError::NoSamples {
            name: name.into(),
            after_trim: true,
        });
    }
    let gain_db = opts.normalize.map_or(0.0, |t| stats.gain_db(t));
    let mut enc = Encoder::new(opts.law, gain_db);
    let mut out = Vec::with_capacity((stop - start) as usize);

    let passes = if let Some(k) = kept.take() {
        enc.encode(&k[start as usize..stop as usize], &mut out);
        1
    } else {
        // === pass 2: decode again, encode the kept range on the fly ===
        reader.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut src = open(name, reader, size, head)?;
        let mut rs = Resample::new(name, info.decode_rate)?;
        let mut pos = 0u64;
        let mut next_report = PROGRESS_EVERY;
        let mut sink = |chunk: &[f32]| -> Result<(), AudioError> {
            let (a, b) = (pos, pos + chunk.len() as u64);
            pos = b;
            let (lo, hi) = (a.max(start), b.min(stop));
            if lo < hi {
                enc.encode(&chunk[(lo - a) as usize..(hi - a) as usize], &mut out);
            }
            if pos >= next_report {
                next_report += PROGRESS_EVERY;
                progress(Progress {
                    pass: 2,
                    done_ms: pos / 8,
                    total_ms,
                });
            }
            Ok(())
        };
        src.run(&mut |mono| rs.push(mono, &mut sink))?;
        rs.finish(&mut sink)?;
        if pos != n {
            return Err(AudioError::Corrupt {
                name: name.into(),
                detail: format!("second decode gave {pos} samples, first gave {n}"),
            });
        }
        2
    };

    let ms = |s: u64| s / 8;
    let facts = AudioFacts {
        format: info.label,
        input_rate: info.rate,
        input_channels: info.channels,
        input_duration_ms,
        duration_ms: ms(out.len() as u64),
        peak_dbfs_in: stats.peak_dbfs(),
        rms_dbfs_in: stats.rms_dbfs(),
        gain_db_applied: gain_db,
        clipped_samples: enc.clipped,
        trimmed_ms: (ms(start), ms(n - stop)),
        truncated,
        passes,
    };
    Ok(Prompt {
        samples: out,
        law: opts.law,
        facts,
    })
}

fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Opens a fresh demuxer over `reader` from its start.
fn open<'a, R: Read + Seek + Send + Sync>(
    name: &str,
    reader: &'a mut R,
    size: u64,
    head: &[u8],
) -> Result<Source<'a>, AudioError> {
    let edit = if head.get(4..8) == Some(b"ftyp") {
        super::mp4::sound_edit(reader)
    } else {
        None
    };
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|source| AudioError::Io {
            name: name.into(),
            source,
        })?;
    let mss = MediaSourceStream::new(
        Box::new(Borrowed {
            inner: reader,
            size,
        }),
        Default::default(),
    );
    Source::open(name, mss, head, edit)
}

/// A borrowed seekable reader as a symphonia media source.
struct Borrowed<'a, R> {
    inner: &'a mut R,
    size: u64,
}

impl<R: Read> Read for Borrowed<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: Seek> Seek for Borrowed<'_, R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

impl<R: Read + Seek + Send + Sync> MediaSource for Borrowed<'_, R> {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.size)
    }
}

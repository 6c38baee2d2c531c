//! Audio transcode speed: any upload → 8 kHz A-law, per input format.
//!
//! Throughput is in input-audio **milliseconds**, so criterion's "elem/s" divided by 1000 is the
//! speed in times real time. The one-second fixtures are timed in wall time; the 60-second WAVs
//! and the long MP3 in the bench thread's CPU time ([`ThreadCpuTime`]: the target is "times real
//! time on one core", and the dev machine is shared; the kernel's per-thread CPU clock is too
//! coarse for millisecond iterations). Set `SENDBOX_BENCH_MP3=/path/long.mp3` to also time a long file
//! (e.g. 10 minutes of 44.1 kHz stereo made with `ffmpeg ... -c:a libmp3lame -b:a 128k`).
//!
//! `cargo bench -p sendbox-benches --features audio --bench audio -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sendbox_benches::ThreadCpuTime;
use sendbox_codecs::audio::{self, TranscodeOptions};

const FIXTURES: &[(&str, &str)] = &[
    ("mp3", "sine1k.mp3"),
    ("ogg_vorbis", "sine1k.ogg"),
    ("ogg_opus", "sine1k.opus"),
    ("flac", "sine1k.flac"),
    ("aiff", "sine1k.aiff"),
    ("m4a_aac", "sine1k_aac.m4a"),
    ("m4a_alac", "sine1k_alac.m4a"),
    ("adts_aac", "sine1k.aac"),
];

fn fixture(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/../codecs/tests/fixtures/audio/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// A 16-bit stereo WAV of `secs` seconds of a 440 Hz tone at `rate`.
fn wav(rate: u32, secs: u32) -> Vec<u8> {
    let frames = rate * secs;
    let data_len = frames * 4;
    let mut w = Vec::with_capacity(44 + data_len as usize);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data_len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0\x02\0");
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * 4).to_le_bytes());
    w.extend_from_slice(b"\x04\0\x10\0data");
    w.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        let s = ((i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin() * 8000.0) as i16;
        w.extend_from_slice(&s.to_le_bytes());
        w.extend_from_slice(&s.to_le_bytes());
    }
    w
}

fn bench_one<M: criterion::measurement::Measurement>(
    c: &mut Criterion<M>,
    group: &str,
    id: &str,
    name: &str,
    bytes: &[u8],
) {
    let opts = TranscodeOptions {
        max_bytes: u64::MAX,
        ..TranscodeOptions::default()
    };
    let probe = audio::transcode(name, bytes, &opts, &mut |_| {}).expect("bench input decodes");
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(probe.facts.input_duration_ms));
    if probe.facts.input_duration_ms > 60_000 {
        g.sample_size(10);
    }
    g.bench_function(id, |b| {
        b.iter(|| audio::transcode(name, black_box(bytes), &opts, &mut |_| {}).expect("decodes"))
    });
    g.finish();
}

fn formats(c: &mut Criterion) {
    for (id, file) in FIXTURES {
        bench_one(c, "audio_to_alaw_ms", id, file, &fixture(file));
    }
}

fn long_files(c: &mut Criterion<ThreadCpuTime>) {
    bench_one(
        c,
        "audio_to_alaw_ms_cpu",
        "wav_44k1_stereo_60s",
        "a.wav",
        &wav(44_100, 60),
    );
    bench_one(
        c,
        "audio_to_alaw_ms_cpu",
        "wav_48k_stereo_60s",
        "a.wav",
        &wav(48_000, 60),
    );
    if let Some(path) = std::env::var("SENDBOX_BENCH_MP3")
        .ok()
        .filter(|p| !p.is_empty())
    {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        bench_one(c, "audio_to_alaw_ms_cpu", "long_mp3", "long.mp3", &bytes);
    }
}

criterion_group! {
    name = wall;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = formats
}
criterion_group! {
    name = cpu;
    config = Criterion::default()
        .with_measurement(ThreadCpuTime)
        .measurement_time(Duration::from_secs(3));
    targets = long_files
}
criterion_main!(wall, cpu);

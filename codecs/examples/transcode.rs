//! Transcodes one file to 8 kHz G.711 and prints the report; used to measure speed and peak RSS.
//!
//! `cargo run --release -p sendbox-codecs --example transcode -- IN [OUT.wav] [--ulaw] [--trim]`
//! (`/usr/bin/time -v` around it gives the peak RSS of a long file).

use std::fs::File;
use std::process::ExitCode;

use sendbox_codecs::audio::{self, Law, TranscodeOptions, TranscodeReport};

#[allow(clippy::disallowed_methods)] // a CLI tool timing itself, not library code
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let files: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let Some(input) = files.first() else {
        eprintln!("usage: transcode IN [OUT.wav] [--ulaw] [--trim]");
        return ExitCode::from(64);
    };
    let opts = TranscodeOptions {
        law: if args.iter().any(|a| a == "--ulaw") {
            Law::MuLaw
        } else {
            Law::ALaw
        },
        trim_silence: args.iter().any(|a| a == "--trim"),
        max_bytes: u64::MAX,
        max_duration: std::time::Duration::from_secs(6 * 3600),
        ..TranscodeOptions::default()
    };
    let mut file = match File::open(input) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{input}: {e}");
            return ExitCode::from(66);
        }
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let t0 = std::time::Instant::now();
    let result = audio::transcode_reader(input, &mut file, &opts, &mut |_| {});
    let elapsed = t0.elapsed();
    match result {
        Ok(prompt) => {
            println!("{}", TranscodeReport::new(input, size, &prompt, elapsed));
            println!("{:?}", prompt.facts);
            if let Some(out) = files.get(1) {
                // Stream the WAV out rather than building a second copy in memory.
                let written = File::create(out).and_then(|f| {
                    let mut w = std::io::BufWriter::new(f);
                    audio::wav::write_g711(prompt.law, &prompt.samples, &mut w)?;
                    std::io::Write::flush(&mut w)
                });
                if let Err(e) = written {
                    eprintln!("{out}: {e}");
                    return ExitCode::from(73);
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error ({}): {e}", e.class());
            ExitCode::from(65)
        }
    }
}

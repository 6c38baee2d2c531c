//! `sendbox transcode IN OUT [--law a|mu] [--format raw|wav]`: an upload to telephone audio,
//! with a progress bar on long files and a one-line report.

use clap::{Args, ValueEnum};
use sendbox_codecs::audio::{Law, TranscodeOptions, transcode_reader};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// G.711 law.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LawArg {
    /// A-law (PCMA, RTP payload type 8): the norm on Kazakhstan trunks.
    A,
    /// μ-law (PCMU, RTP payload type 0).
    Mu,
}

/// Output container.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Bare G.711 bytes, 8000 per second.
    Raw,
    /// WAV with format tag 6 (A-law) or 7 (μ-law).
    Wav,
}

/// Arguments of `sendbox transcode`.
#[derive(Debug, Args)]
pub struct TranscodeArgs {
    /// The upload: WAV, MP3, Ogg (Vorbis or Opus), FLAC, M4A (AAC-LC, ALAC), AIFF.
    pub input: PathBuf,
    /// Where to write the telephone audio.
    pub output: PathBuf,
    /// G.711 law.
    #[arg(long, value_enum, default_value = "a")]
    pub law: LawArg,
    /// Output container.
    #[arg(long, value_enum, default_value = "wav")]
    pub format: FormatArg,
    /// Peak level to normalise to, in dBFS; `off` keeps the level.
    #[arg(long, default_value = "-3")]
    pub normalize: String,
    /// Drop leading and trailing silence.
    #[arg(long)]
    pub trim_silence: bool,
}

/// Run the command.
#[allow(clippy::disallowed_methods)] // wall time of a CLI run, for its speed report
pub fn run(args: TranscodeArgs) -> ExitCode {
    let name = args.input.display().to_string();
    let normalize = if args.normalize == "off" {
        None
    } else {
        match args.normalize.parse::<f32>() {
            Ok(v) if v <= 0.0 => Some(v),
            _ => {
                eprintln!(
                    "--normalize: expected a level in dBFS (<= 0) or `off`, got {:?}",
                    args.normalize
                );
                return ExitCode::from(2);
            }
        }
    };
    let opts = TranscodeOptions {
        law: match args.law {
            LawArg::A => Law::ALaw,
            LawArg::Mu => Law::MuLaw,
        },
        normalize,
        trim_silence: args.trim_silence,
        ..TranscodeOptions::default()
    };
    let mut file = match std::fs::File::open(&args.input) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{name}: cannot open: {e}");
            return ExitCode::FAILURE;
        }
    };
    let input_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let started = std::time::Instant::now();
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut progress = |p: sendbox_codecs::audio::Progress| {
        if !tty {
            return;
        }
        let done = p.done_ms as f64 / 1000.0;
        match p.total_ms {
            Some(t) if t > 0 => {
                let frac = (p.done_ms as f64 / t as f64).min(1.0);
                let bar = (frac * 30.0) as usize;
                eprint!(
                    "\r pass {} [{}{}] {:5.1}% {:.0} s",
                    p.pass,
                    "#".repeat(bar),
                    " ".repeat(30 - bar),
                    frac * 100.0,
                    done
                );
            }
            _ => eprint!("\r pass {} {:.0} s decoded", p.pass, done),
        }
    };
    let prompt = match transcode_reader(&name, &mut file, &opts, &mut progress) {
        Ok(p) => p,
        Err(e) => {
            if tty {
                eprintln!();
            }
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if tty {
        eprint!("\r{}\r", " ".repeat(60));
    }
    let bytes = match args.format {
        FormatArg::Raw => Ok(prompt.samples.clone()),
        FormatArg::Wav => prompt.to_wav(),
    };
    let written = bytes.and_then(|b| {
        let mut f = std::fs::File::create(&args.output)?;
        f.write_all(&b)
    });
    if let Err(e) = written {
        eprintln!("{}: cannot write: {e}", args.output.display());
        return ExitCode::FAILURE;
    }
    let report =
        sendbox_codecs::audio::TranscodeReport::new(&name, input_bytes, &prompt, started.elapsed());
    println!("{report}");
    ExitCode::SUCCESS
}

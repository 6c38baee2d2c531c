//! Loads a config and prints its summary, or every error and exit code 64 — what
//! `sendbox check-config` does, without the engine:
//! `cargo run -p sendbox-config --example check -- config/examples/sendbox.toml`.

fn main() {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: check FILE");
        std::process::exit(sendbox_config::EXIT_CODE);
    };
    match sendbox_config::load(std::path::Path::new(&path)) {
        Ok(config) => print!("{}", config.summary()),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(e.exit_code());
        }
    }
}

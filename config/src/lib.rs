//! Typed configuration of the sendbox engine, its validation, and the shipped example files.
//!
//! One TOML file describes the API and metrics listeners, the store, the operators (DEF prefixes,
//! SMPP binds, SIP trunk), tariffs, calling-window rules, accounts and blacklists. The
//! commented reference is `config/examples/sendbox.toml`; `config/examples/minimal.toml` is the
//! smallest useful file.
//!
//! [`load`] parses and validates the file before the engine binds any port:
//! - unknown keys are rejected, and a syntax or type error names its key path
//!   ([`LoadError::Parse`]);
//! - then every semantic problem is collected in one pass ([`LoadError::Invalid`]), each
//!   printed as `FILE: path: message`, e.g.
//!   `sendbox.toml: operators.kcell.smpp.binds[0].window: must be 1..=1024, got 0`;
//! - the engine exits with [`EXIT_CODE`] (64) on any [`LoadError`].
//!
//! Secrets (bind and trunk passwords, the store URL's password, token hashes) never appear in
//! Debug output, errors or [`Config::summary`].
//!
//! ```no_run
//! let config = match sendbox_config::load(std::path::Path::new("/etc/sendbox/sendbox.toml")) {
//!     Ok(c) => c,
//!     Err(e) => {
//!         eprintln!("{e}");
//!         std::process::exit(e.exit_code());
//!     }
//! };
//! println!("{}", config.summary());
//! ```

mod account;
mod config;
mod duration;
mod error;
mod operator;
mod paths;
mod rule;
mod secret;
mod settings;
mod sip;
mod store;
mod summary;
mod validate;
mod validate_operator;
mod window;

pub use account::{AccountConfig, Tariff, kzt};
pub use config::{Config, from_str, load};
pub use error::{ConfigError, EXIT_CODE, LoadError};
pub use operator::{
    BindConfig, BindMode, Concatenation, IdBase, InterfaceVersion, OperatorConfig, SmppConfig,
};
pub use rule::{TimeOfDay, Weekdays, WindowRule};
pub use secret::{Secret, TokenHash};
pub use settings::{
    ApiConfig, AudioConfig, BlacklistConfig, LogFormat, LoggingConfig, MetricsConfig, QueuesConfig,
    VoiceConfig,
};
pub use sip::{Codec, SipConfig, SipTransport};
pub use store::{StoreConfig, StoreUrl};
pub use window::{Class, DEFAULT_TIMEZONE, WindowClasses, WindowConfig, lookup_timezone};

//! Shared by the integration tests: a small valid config to break on purpose.

#![allow(dead_code)]

use sendbox_config::{Config, ConfigError, LoadError, from_str};
use std::path::Path;

/// A valid config with one SMPP + SIP operator and one account. Tests append or replace text.
pub const BASE: &str = r#"
[operators.kcell]
name = "Kcell"
prefixes = ["701", "702"]

[operators.kcell.smpp]
[[operators.kcell.smpp.binds]]
host = "127.0.0.1"
system_id = "sendbox"
password = "Pw0rd!x9"

[operators.kcell.sip]
host = "127.0.0.1"
from_uri = "sip:sendbox@127.0.0.1"
auth_user = "sb"
auth_password = "TrunkSecret-77"

[tariffs.kcell]
sms_segment_tiyn = 1200
call_attempt_tiyn = 500
call_second_tiyn = 30

[accounts.acme]
name = "ACME"
token_sha256 = "28daa606f54b368209e11244fd3d5612b41212e822258df22e55afe06a7bdae1"
"#;

/// Parses `text` as `test.toml` with paths relative to the current directory.
pub fn parse(text: &str) -> Result<Config, LoadError> {
    from_str(text, "test.toml", Path::new("."))
}

/// The semantic errors of `text`; panics if it loads or fails to parse.
pub fn invalid(text: &str) -> Vec<ConfigError> {
    match parse(text) {
        Err(LoadError::Invalid(errors)) => errors,
        Err(other) => panic!("expected semantic errors, got: {other}"),
        Ok(_) => panic!("expected semantic errors, but the config loaded"),
    }
}

/// `(path, message)` of a parse error; panics otherwise.
pub fn parse_error(text: &str) -> (String, String) {
    match parse(text) {
        Err(LoadError::Parse {
            file,
            path,
            message,
        }) => {
            assert_eq!(file, "test.toml");
            (path, message)
        }
        Err(other) => panic!("expected a parse error, got: {other}"),
        Ok(_) => panic!("expected a parse error, but the config loaded"),
    }
}

/// Whether some error is at `path` and its message contains `fragment`.
pub fn has(errors: &[ConfigError], path: &str, fragment: &str) -> bool {
    errors
        .iter()
        .any(|e| e.path == path && e.message.contains(fragment))
}

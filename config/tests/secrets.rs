//! Passwords and tokens never show up in Debug output, errors or the summary.

mod common;
use common::{BASE, parse, parse_error};
use sendbox_config::LoadError;

const BIND_PW: &str = "Pw0rd!x9";
const TRUNK_PW: &str = "TrunkSecret-77";

fn all_output(result: &Result<sendbox_config::Config, LoadError>) -> String {
    match result {
        Ok(c) => format!("{c:?}\n{}", c.summary()),
        Err(e) => format!("{e}\n{e:?}\n{}", e.lines().join("\n")),
    }
}

#[test]
fn passwords_are_absent_from_debug_and_summary() {
    let out = all_output(&parse(BASE));
    assert!(!out.contains(BIND_PW) && !out.contains(TRUNK_PW), "{out}");
    assert!(out.contains("password set"));
}

#[test]
fn passwords_are_absent_from_semantic_errors() {
    // Too long for SMPP, and the config has other errors too.
    let long = "VeryLongSecretPassword";
    let text = BASE.replace(BIND_PW, long).replace(
        "from_uri = \"sip:sendbox@127.0.0.1\"",
        "from_uri = \"tel:1\"",
    );
    let result = parse(&text);
    let out = all_output(&result);
    assert!(matches!(result, Err(LoadError::Invalid(_))));
    assert!(
        out.contains("operators.kcell.smpp.binds[0].password: must be at most 8 ASCII characters"),
        "{out}"
    );
    assert!(!out.contains(long) && !out.contains(TRUNK_PW), "{out}");
}

#[test]
fn a_password_of_the_wrong_type_is_not_quoted() {
    let text = BASE.replace("password = \"Pw0rd!x9\"", "password = 73519246");
    let (path, message) = parse_error(&text);
    assert_eq!(path, "operators.kcell.smpp.binds[0].password");
    assert!(!message.contains("73519246"), "{message}");
    let out = all_output(&parse(&text));
    assert!(!out.contains("73519246"), "{out}");
}

#[test]
fn a_syntax_error_on_a_password_line_does_not_quote_the_line() {
    let text = BASE.replace("password = \"Pw0rd!x9\"", "password = \"Pw0rd!x9");
    let out = all_output(&parse(&text));
    assert!(!out.contains("Pw0rd!x9"), "{out}");
    assert!(out.contains("line "), "{out}");
}

#[test]
fn a_raw_token_pasted_instead_of_its_hash_is_not_quoted() {
    let text = BASE.replace(
        "28daa606f54b368209e11244fd3d5612b41212e822258df22e55afe06a7bdae1",
        "live-token-abc123",
    );
    let out = all_output(&parse(&text));
    assert!(out.contains("accounts.acme.token_sha256"), "{out}");
    assert!(!out.contains("live-token-abc123"), "{out}");
}

#[test]
fn postgres_password_is_absent_from_debug_and_summary() {
    let c = parse(&format!(
        "{BASE}\n[store]\nurl = \"postgres://sb:DbPass-42@db/sendbox\"\n"
    ))
    .unwrap();
    let out = format!("{c:?}\n{}", c.summary());
    assert!(!out.contains("DbPass-42"), "{out}");
    assert!(out.contains("postgres://sb:***@db/sendbox"));
}

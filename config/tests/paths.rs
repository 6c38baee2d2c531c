//! Relative paths are resolved against the config file's directory, and referenced files must
//! exist.

mod common;
use common::{BASE, has, invalid};
use sendbox_config::{StoreUrl, load};

#[test]
fn relative_paths_are_resolved_against_the_config_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("lists")).unwrap();
    std::fs::write(dir.path().join("lists/global.txt"), "77011234567\n").unwrap();
    std::fs::write(dir.path().join("ported.csv"), "77051234567,kcell\n").unwrap();
    let text = BASE
        .replace(
            "prefixes = [\"701\", \"702\"]",
            "prefixes = [\"701\", \"702\"]\nportability_csv = \"ported.csv\"",
        )
        .replace(
            "name = \"ACME\"",
            "name = \"ACME\"\nblacklist = \"lists/global.txt\"",
        );
    let text = format!(
        "{text}\n[blacklist]\nfiles = [\"lists/global.txt\"]\n[store]\nurl = \"sqlite:lists/sb.db\"\n"
    );
    let file = dir.path().join("sendbox.toml");
    std::fs::write(&file, text).unwrap();
    let c = load(&file).unwrap();
    assert_eq!(c.blacklist.files, [dir.path().join("lists/global.txt")]);
    assert_eq!(
        c.accounts["acme"].blacklist.as_deref(),
        Some(dir.path().join("lists/global.txt").as_path())
    );
    assert_eq!(
        c.operators["kcell"].portability_csv.as_deref(),
        Some(dir.path().join("ported.csv").as_path())
    );
    assert_eq!(
        c.store.url,
        StoreUrl::Sqlite(dir.path().join("lists/sb.db"))
    );
    assert_eq!(c.file, file.display().to_string());
}

#[test]
fn absolute_paths_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("bl.txt");
    std::fs::write(&list, "").unwrap();
    let c = common::parse(&format!(
        "{BASE}\n[blacklist]\nfiles = [{:?}]\n",
        list.display().to_string()
    ))
    .unwrap();
    assert_eq!(c.blacklist.files, [list]);
}

#[test]
fn missing_referenced_files_are_all_reported() {
    let text = BASE
        .replace(
            "prefixes = [\"701\", \"702\"]",
            "prefixes = [\"701\", \"702\"]\nportability_csv = \"nope.csv\"",
        )
        .replace(
            "name = \"ACME\"",
            "name = \"ACME\"\nblacklist = \"nope-acme.txt\"",
        );
    let errors = invalid(&format!(
        "{text}\n[blacklist]\nfiles = [\"a.txt\", \"nope.txt\"]\n"
    ));
    assert!(
        has(&errors, "operators.kcell.portability_csv", "nope.csv"),
        "{errors:#?}"
    );
    assert!(has(&errors, "accounts.acme.blacklist", "nope-acme.txt"));
    assert!(has(&errors, "blacklist.files[0]", "a.txt"));
    assert!(has(&errors, "blacklist.files[1]", "nope.txt"));
}

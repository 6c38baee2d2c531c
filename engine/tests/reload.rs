//! Live reload: a new blacklist takes effect without dropping binds; a bad configuration is
//! refused with an error naming the key, and the old one stays in force.

mod common;

use common::{ACME, ADMIN, Engine, Opts};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_swaps_the_lists_and_a_bad_file_keeps_the_old_ones() {
    let e = Engine::start(Opts::default()).await;
    let r = e.sms(ACME, &["+77011234567"], "before").await;
    assert_eq!(r["results"][0]["status"], "queued");

    let bl = e.dir.path().join("blacklist.txt");
    std::fs::write(&bl, "+7 701 000 00 01\n8 701 123 45 67\nnot a number\n").unwrap();
    let (s, body) = e.post("/v1/admin/blacklist/reload", ADMIN, json!({})).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["entries"], 2);
    assert_eq!(
        body["bad_lines"], 1,
        "the bad line is reported, not fatal: {body}"
    );
    let r = e.sms(ACME, &["+77011234567"], "after").await;
    assert_eq!(r["results"][0]["reason"], "blacklisted", "{r}");

    // A config with an error: refused, naming the key; the lists and binds stay.
    let cfg = e.dir.path().join("sendbox.toml");
    let good = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, good.replace("window = 64", "window = 0")).unwrap();
    std::fs::write(&bl, "").unwrap();
    let (s, body) = e.post("/v1/admin/reload", ADMIN, json!({})).await;
    assert_eq!(s, 422, "{body}");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("operators.kcell.smpp.binds[0].window"),
        "{msg}"
    );
    assert!(msg.contains("old configuration stays"), "{msg}");
    let r = e.sms(ACME, &["+77011234567"], "still blocked").await;
    assert_eq!(
        r["results"][0]["reason"], "blacklisted",
        "old lists in force: {r}"
    );
    assert!(e.app.links.ready(), "binds stayed up");

    // Fixed: the reload applies (and the emptied blacklist with it).
    std::fs::write(&cfg, good).unwrap();
    let (s, body) = e.post("/v1/admin/reload", ADMIN, json!({})).await;
    assert_eq!(s, 200, "{body}");
    let r = e.sms(ACME, &["+77011234567"], "unblocked").await;
    assert_eq!(r["results"][0]["status"], "queued", "{r}");
    e.stop().await;
}

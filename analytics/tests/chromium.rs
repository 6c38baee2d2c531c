//! The HTML report in a real headless browser (Debian's chromium): it loads, renders its
//! charts, and a screenshot is taken. Skipped loudly if chromium is missing, unless
//! `SENDBOX_REQUIRE_CHROMIUM=1`.

use sendbox_analytics::generate::{Generator, GeneratorConfig};
use sendbox_analytics::html::{CHART_IDS, render};
use sendbox_analytics::report::{CampaignData, CampaignReport};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH")?
                .to_str()?
                .split(':')
                .map(|d| Path::new(d).join(name))
                .find(|p| p.is_file())
        })
}

fn run(bin: &Path, profile: &Path, args: &[&str]) -> std::process::Output {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-extensions",
            "--mute-audio",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    // Bounded: a hung browser fails the test instead of hanging CI.
    let deadline = 60;
    for _ in 0..deadline * 10 {
        if child.try_wait().expect("wait chromium").is_some() {
            return child.wait_with_output().expect("chromium output");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("chromium did not finish in {deadline} s");
}

#[test]
fn html_report_loads_in_headless_chromium_with_its_charts() {
    let Some(bin) = chromium() else {
        if std::env::var("SENDBOX_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
            panic!(
                "chromium is required (SENDBOX_REQUIRE_CHROMIUM=1) but not installed: apt-get install -y chromium"
            );
        }
        eprintln!(
            "\n!!! SKIPPED: chromium not installed; the HTML report was NOT checked in a browser !!!\n"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let g = Generator::new(GeneratorConfig {
        recipients: 300,
        ..Default::default()
    })
    .generate();
    let report = CampaignReport::build(
        &CampaignData::from_rows(1, g.receipts, g.feedback),
        None,
        Some(&[10, 50, 90]),
    );
    let page = dir.path().join("report.html");
    std::fs::write(&page, render(&report)).unwrap();
    let url = format!("file://{}", page.display());

    let out = run(&bin, &dir.path().join("p1"), &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dom.contains("Campaign 1 report"),
        "page did not load: {dom:.500}"
    );
    for id in CHART_IDS {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "chart {id} missing from the rendered DOM"
        );
    }
    assert!(dom.matches("<rect").count() > 50, "charts have bars");

    let shot = dir.path().join("shot.png");
    let out = run(
        &bin,
        &dir.path().join("p2"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1024,3000",
            &url,
        ],
    );
    assert!(
        out.status.success(),
        "screenshot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot is a real image ({} bytes)",
        png.len()
    );
    if let Ok(keep) = std::env::var("SENDBOX_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}

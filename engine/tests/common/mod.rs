//! A real engine on loopback: SQLite in a temp dir, SMSC simulators for two operators, the HTTP
//! API on a free port, and a manual wall clock the tests move.
#![allow(dead_code)]

pub mod voice;

use sendbox_dispatch::clock::ManualClock;
use sendbox_engine::app::App;
use sendbox_engine::auth::hash_hex;
use sendbox_smsc_sim::{SimHandle, SmscSim, Stat};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

pub const ACME: &str = "acme-token";
pub const SHOP: &str = "shop-token";
pub const ADMIN: &str = "admin-token";

/// Options of a test engine.
pub struct Opts {
    pub start: &'static str,
    pub shop_balance: u64,
    pub queue_capacity: usize,
    pub extra: &'static str,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            // 10:00 Almaty (UTC+5).
            start: "2026-11-25T05:00:00Z",
            shop_balance: 100_000,
            queue_capacity: 100_000,
            extra: "",
        }
    }
}

pub struct Engine {
    pub app: Arc<App>,
    pub api: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub smsc: Vec<SimHandle>,
    pub dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

pub async fn smsc() -> SimHandle {
    SmscSim::builder()
        .credentials("sb", "pw")
        .receipt_delay(Duration::from_millis(5))
        .status_mix(&[(Stat::Delivrd, 1)])
        .capture(100_000)
        .spawn()
        .await
        .unwrap()
}

pub fn config_text(dir: &std::path::Path, smsc: &[SimHandle], opts: &Opts) -> String {
    format!(
        r#"
[api]
admin_token_sha256 = "{admin}"
[store]
url = "sqlite:{db}"
[queues]
capacity_per_operator = {cap}
[blacklist]
files = ["blacklist.txt"]
[operators.kcell]
name = "Kcell"
prefixes = ["701", "702", "775", "778"]
[operators.kcell.smpp]
response_timeout = "2s"
dlr_timeout = "30s"
reconnect_min = "50ms"
reconnect_max = "500ms"
[[operators.kcell.smpp.binds]]
host = "127.0.0.1"
port = {p0}
system_id = "sb"
password = "pw"
count = 2
window = 64
max_tps = 5000
[operators.beeline]
name = "Beeline"
prefixes = ["705", "706", "771", "776", "777"]
[operators.beeline.smpp]
response_timeout = "2s"
dlr_timeout = "30s"
reconnect_min = "50ms"
reconnect_max = "500ms"
[[operators.beeline.smpp.binds]]
host = "127.0.0.1"
port = {p1}
system_id = "sb"
password = "pw"
window = 64
max_tps = 5000
[tariffs.kcell]
sms_segment_tiyn = 1200
[tariffs.beeline]
sms_segment_tiyn = 1100
[accounts.acme]
name = "Acme"
token_sha256 = "{acme}"
opening_balance_tiyn = 100000000
senders = ["ACME"]
[accounts.shop]
name = "Shop"
token_sha256 = "{shop}"
opening_balance_tiyn = {shop_balance}
{extra}
"#,
        admin = hash_hex(ADMIN),
        db = dir.join("sendbox.db").display(),
        cap = opts.queue_capacity,
        p0 = smsc[0].addr().port(),
        p1 = smsc[1].addr().port(),
        acme = hash_hex(ACME),
        shop = hash_hex(SHOP),
        shop_balance = opts.shop_balance,
        extra = opts.extra,
    )
}

impl Engine {
    pub async fn start(opts: Opts) -> Engine {
        let dir = tempfile::tempdir().unwrap();
        let smsc = vec![smsc().await, smsc().await];
        Engine::start_in(dir, smsc, opts).await
    }

    pub async fn start_in(dir: tempfile::TempDir, smsc: Vec<SimHandle>, opts: Opts) -> Engine {
        std::fs::write(dir.path().join("blacklist.txt"), "+7 701 000 00 01\n").unwrap();
        let path = dir.path().join("sendbox.toml");
        std::fs::write(&path, config_text(dir.path(), &smsc, &opts)).unwrap();
        let config = sendbox_config::load(&path).unwrap();
        let clock = Arc::new(ManualClock::new(opts.start.parse().unwrap()));
        let app = App::build(config, clock.clone()).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = format!("http://{}", listener.local_addr().unwrap());
        let router = sendbox_engine::api::router(app.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        let e = Engine {
            app,
            api,
            client: reqwest::Client::new(),
            clock,
            smsc,
            dir,
            server,
        };
        e.wait(|| e.app.links.ready(), "binds up").await;
        e
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.api))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.api))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn sms(&self, token: &str, to: &[&str], text: &str) -> Value {
        let msgs: Vec<Value> = to
            .iter()
            .map(|t| json!({"to": t, "text": text, "sender": if token == ACME {"ACME"} else {"SHOP"}}))
            .collect();
        let (status, body) = self
            .post("/v1/sms", token, json!({ "messages": msgs }))
            .await;
        assert_eq!(status, 202, "{body}");
        body
    }

    /// All receipts, paging with the cursor.
    pub async fn receipts(&self, token: &str) -> Vec<Value> {
        self.app.core.sink.drained().await;
        let mut out = Vec::new();
        let mut cursor = 0;
        loop {
            let (s, body) = self
                .get(&format!("/v1/receipts?after={cursor}&limit=500"), token)
                .await;
            assert_eq!(s, 200, "{body}");
            let page = body["receipts"].as_array().unwrap().clone();
            if page.is_empty() {
                return out;
            }
            cursor = body["next_cursor"].as_i64().unwrap();
            out.extend(page);
        }
    }

    /// Wait (up to 10 s of real time) for `cond`.
    pub async fn wait(&self, cond: impl Fn() -> bool, what: &str) {
        for _ in 0..1000 {
            if cond() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("timed out waiting for {what}");
    }

    /// Final outcomes counted by the core so far (refusals included).
    pub fn finals(&self) -> u64 {
        self.app.core.stats.finals_total()
    }

    pub async fn stop(self) -> (tempfile::TempDir, Vec<SimHandle>) {
        self.app.stop(Duration::from_secs(5)).await;
        self.server.abort();
        (self.dir, self.smsc)
    }
}

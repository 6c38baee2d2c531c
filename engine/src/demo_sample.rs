//! The demo's sample: realistic Kazakhstan numbers, texts in Kazakh, Russian and English
//! (some long), a few invalid and blacklisted numbers, and a voice campaign.

use anyhow::Context;
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

const DEFS: [&str; 13] = [
    "701", "702", "775", "778", "705", "706", "771", "776", "777", "707", "747", "700", "708",
];

const TEXTS: [&str; 8] = [
    "Сәлеметсіз бе! Сіздің тапсырысыңыз дайын. Ақша-Маркет",
    "Здравствуйте! Ваш заказ №48213 готов к выдаче до 20:00.",
    "Your code is 482913. Do not share it with anyone.",
    "Acme: 20% off everything this weekend in Almaty & Astana stores. Reply STOP to opt out.",
    "Құрметті клиент! Біздің дүкендерде жаңа жылдық жеңілдіктер басталды: барлық тауарларға 30% дейін жеңілдік. Толығырақ сайтта.",
    "Уважаемый клиент! С 1 декабря меняется график работы отделений: пн-пт с 9:00 до 19:00, сб с 10:00 до 16:00. Воскресенье — выходной. Спасибо, что вы с нами!",
    "Dear customer, your parcel KZ4402318 has arrived at the pick-up point on Abay Ave 52. It will be kept for 7 days. Bring an ID document. Questions? Call 7575 or write to help@acme.kz",
    "Напоминаем: запись к врачу завтра в 10:30. Подтвердите ответом 1.",
];

/// SMS to send per account.
#[derive(Debug, Default)]
pub struct SmsSample {
    /// A big retailer.
    pub acme: Vec<Value>,
    /// A small shop whose balance runs out.
    pub bazar: Vec<Value>,
    /// An account whose window is closed at the demo's start.
    pub nightowl: Vec<Value>,
}

impl SmsSample {
    /// Messages in all.
    pub fn total(&self) -> usize {
        self.acme.len() + self.bazar.len() + self.nightowl.len()
    }
}

/// Numbers on the demo's blacklist.
pub fn blacklisted() -> impl Iterator<Item = u64> {
    (0..300u64).map(|i| 77_010_000_000 + i * 7)
}

/// Numbers ported from Beeline's range to Kcell.
pub fn ported() -> impl Iterator<Item = (u64, &'static str)> {
    (0..500u64).map(|i| (77_050_000_000 + i * 13, "kcell"))
}

fn number(rng: &mut StdRng) -> String {
    let roll: u32 = rng.random_range(0..1000);
    let def = DEFS[rng.random_range(0..DEFS.len())];
    let rest: u32 = rng.random_range(1_000_000..10_000_000);
    match roll {
        0..=4 => format!("+7 916 {rest}"), // Russia: not a Kazakhstan number
        5..=7 => format!("8 727 {rest}"),  // Almaty fixed line: no SMS
        8..=10 => format!("+7 {def} {}", rest / 10), // a digit short
        11..=20 => {
            let b: Vec<u64> = blacklisted().collect();
            format!("+{}", b[rng.random_range(0..b.len())])
        }
        21..=25 => {
            let p: Vec<(u64, &str)> = ported().collect();
            format!("{}", p[rng.random_range(0..p.len())].0)
        }
        // The formats people actually type.
        26..=400 => format!(
            "+7 ({def}) {}-{:02}-{:02}",
            rest / 10_000,
            rest / 100 % 100,
            rest % 100
        ),
        401..=700 => format!("8{def}{rest}"),
        _ => format!("7{def}{rest}"),
    }
}

/// `n` SMS: 78 % from acme, 20 % from bazar, 2 % (at most 1,000) from nightowl.
pub fn sms_sample(rng: &mut StdRng, n: usize) -> SmsSample {
    let nightowl = (n / 50).min(1000);
    let bazar = n / 5;
    let acme = n - nightowl - bazar;
    let mut s = SmsSample::default();
    for (list, count, sender) in [
        (&mut s.acme, acme, "ACME"),
        (&mut s.bazar, bazar, "BAZAR"),
        (&mut s.nightowl, nightowl, "NIGHTOWL"),
    ] {
        for _ in 0..count {
            let text = TEXTS[rng.random_range(0..TEXTS.len())];
            list.push(json!({"to": number(rng), "text": text, "sender": sender}));
        }
    }
    s
}

/// A 4-second prompt as a 44.1 kHz stereo WAV: the kind of file a customer uploads.
pub fn prompt_wav() -> Vec<u8> {
    let rate = 44_100u32;
    let secs = 4.0f32;
    let n = (rate as f32 * secs) as usize;
    let mut data = Vec::with_capacity(n * 4);
    for i in 0..n {
        let t = i as f32 / rate as f32;
        // A three-note chime, then a steady tone.
        let f = match (t * 4.0) as u32 {
            0 => 523.25,
            1 => 659.25,
            2 => 783.99,
            _ => 440.0,
        };
        let env = (1.0 - (t * 4.0).fract()).max(0.3);
        let v = (std::f32::consts::TAU * f * t).sin() * 0.4 * env;
        let s = (v * i16::MAX as f32) as i16;
        data.extend_from_slice(&s.to_le_bytes());
        data.extend_from_slice(&s.to_le_bytes());
    }
    let mut w = Vec::with_capacity(44 + data.len());
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * 4).to_le_bytes());
    w.extend_from_slice(&4u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&(data.len() as u32).to_le_bytes());
    w.extend_from_slice(&data);
    w
}

/// Upload the prompt and start a voice campaign of `n` calls; returns the campaign id.
pub async fn voice_campaign(
    client: &reqwest::Client,
    api: &str,
    token: &str,
    rng: &mut StdRng,
    n: usize,
) -> anyhow::Result<String> {
    let resp = client
        .post(format!("{api}/v1/audio?name=chime.wav"))
        .bearer_auth(token)
        .body(prompt_wav())
        .send()
        .await
        .context("POST /v1/audio")?;
    let status = resp.status();
    let audio: Value = resp.json().await.context("POST /v1/audio answer")?;
    if !status.is_success() {
        anyhow::bail!("POST /v1/audio answered {status}: {audio}");
    }
    let audio_id = audio["audio_id"].as_str().unwrap_or_default().to_owned();
    println!(
        "Uploaded a 44.1 kHz stereo WAV prompt: audio {audio_id}, {} ms of 8 kHz A-law, gain {:.1} dB",
        audio["duration_ms"],
        audio["gain_db_applied"].as_f64().unwrap_or(0.0)
    );
    let recipients: Vec<String> = (0..n)
        .map(|_| {
            let def = DEFS[rng.random_range(0..DEFS.len())];
            format!("7{def}{}", rng.random_range(1_000_000..10_000_000u32))
        })
        .collect();
    let resp = client
        .post(format!("{api}/v1/campaigns"))
        .bearer_auth(token)
        .json(&json!({"channel": "voice", "audio_id": audio_id, "class": "service", "recipients": recipients}))
        .send()
        .await
        .context("POST /v1/campaigns")?;
    let status = resp.status();
    let body: Value = resp.json().await.context("POST /v1/campaigns answer")?;
    if !status.is_success() {
        anyhow::bail!("POST /v1/campaigns answered {status}: {body}");
    }
    println!(
        "Placing {n} calls (voice campaign {}).",
        body["campaign_id"].as_str().unwrap_or("?")
    );
    Ok(body["campaign_id"].as_str().unwrap_or_default().to_owned())
}

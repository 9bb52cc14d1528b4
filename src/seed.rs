//! Deterministic demo data: people named the way they are in Uzbekistan and its
//! neighbours, in Latin and Cyrillic, with the apostrophe variants real keyboards produce,
//! and a skewed event history. Rows go in with COPY, generated on a blocking thread while
//! the database ingests the previous chunk.

use crate::model::{Platform, Region, Role};
use chrono::{Duration, NaiveDateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub users: u64,
    pub events: u64,
    pub seed: u64,
    pub progress: bool,
}

#[derive(Debug)]
pub struct SeedReport {
    pub users: u64,
    pub events: u64,
    pub sessions: u64,
    pub seconds: f64,
}

impl std::fmt::Display for SeedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seeded {} users, {} events, {} sessions in {:.1} s",
            self.users, self.events, self.sessions, self.seconds
        )
    }
}

// Apostrophe-like marks people type for the Uzbek oʻ and gʻ.
const APOSTROPHES: [&str; 3] = ["\u{02BB}", "\u{2018}", "'"];

// Names carry a placeholder ` for the Uzbek apostrophe, replaced per person.
const UZ_MALE: &[&str] = &[
    "Shahzod", "Shaxzod", "Jasur", "Otabek", "Sardor", "Bekzod", "Jahongir", "Doniyor", "Sherzod",
    "Ulug`bek", "O`tkir", "G`ulom", "Akmal", "Bobur", "Dilshod", "Farrux", "Islom", "Javohir",
    "Mirzo", "Nodir", "Rustam", "Sanjar", "Temur", "Zafar", "Xurshid", "Anvar", "Elyor", "Husan",
    "Ravshan", "Shoxruh",
];
const UZ_FEMALE: &[&str] = &[
    "Dilnoza",
    "Gulnora",
    "Madina",
    "Nilufar",
    "Shahnoza",
    "Zarina",
    "Malika",
    "Sevara",
    "Feruza",
    "Kamola",
    "Mohira",
    "Nodira",
    "O`g`iloy",
    "Gulchehra",
    "Dildora",
    "Laylo",
    "Munisa",
    "Sabina",
    "Yulduz",
    "Zilola",
];
const UZ_LAST: &[&str] = &[
    "Qodirov",
    "Karimov",
    "Rahimov",
    "Yusupov",
    "Toshmatov",
    "Abdullayev",
    "Ismoilov",
    "Xolmatov",
    "Ergashev",
    "Sobirov",
    "Nazarov",
    "Yo`ldoshev",
    "G`aniyev",
    "To`xtayev",
    "Jo`rayev",
    "O`rinboyev",
    "Mirzayev",
    "Saidov",
    "Umarov",
    "Hamidov",
    "Yoqubov",
    "Tursunov",
    "Alimov",
    "Usmonov",
];
const UZ_CYR_MALE: &[&str] = &[
    "Шахзод",
    "Жасур",
    "Отабек",
    "Сардор",
    "Бекзод",
    "Жаҳонгир",
    "Ўткир",
    "Ғулом",
    "Улуғбек",
    "Шерзод",
    "Тимур",
    "Дилшод",
    "Фаррух",
];
const UZ_CYR_FEMALE: &[&str] = &[
    "Дилноза",
    "Гулнора",
    "Мадина",
    "Нилуфар",
    "Шаҳноза",
    "Севара",
    "Ёқутой",
    "Ўғилой",
];
const UZ_CYR_LAST: &[&str] = &[
    "Қодиров",
    "Каримов",
    "Раҳимов",
    "Юсупов",
    "Тошматов",
    "Ёқубов",
    "Ғаниев",
    "Тўхтаев",
    "Жўраев",
    "Холматов",
];
const RU_MALE: &[&str] = &[
    "Алексей",
    "Дмитрий",
    "Сергей",
    "Андрей",
    "Максим",
    "Иван",
    "Артём",
    "Никита",
    "Михаил",
    "Виктор",
];
const RU_FEMALE: &[&str] = &[
    "Анна",
    "Мария",
    "Екатерина",
    "Ольга",
    "Наталья",
    "Елена",
    "Юлия",
    "Татьяна",
    "Дарья",
];
const RU_LAST_M: &[&str] = &[
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Ким",
    "Цой",
    "Пак",
    "Соколов",
    "Морозов",
    "Волков",
];
const KZ_MALE: &[&str] = &[
    "Нұрлан",
    "Ерлан",
    "Асқар",
    "Бауыржан",
    "Дәурен",
    "Қайрат",
    "Nurlan",
    "Yerlan",
    "Askar",
    "Daulet",
];
const KZ_FEMALE: &[&str] = &[
    "Айгүл",
    "Гүлнар",
    "Әсел",
    "Жанар",
    "Aigerim",
    "Dana",
    "Aruzhan",
    "Zhanar",
];
const KZ_LAST: &[&str] = &[
    "Нұрланов",
    "Сейітов",
    "Әбенов",
    "Жұмабаев",
    "Nurlanov",
    "Zhumabayev",
    "Seitov",
    "Abenov",
];
const KK_MALE: &[&str] = &[
    "Ажинияз",
    "Бердақ",
    "Ájiniyaz",
    "Berdaq",
    "Qudaybergen",
    "Ernazar",
];
const KK_FEMALE: &[&str] = &["Гүлзийра", "Айсулыў", "Gúlziyra", "Aysuliw"];
const KK_LAST: &[&str] = &[
    "Қудайбергенов",
    "Ембергенов",
    "Qudaybergenov",
    "Embergenov",
    "Seytmuratov",
];

const EVENT_TYPES: &[(&str, u32)] = &[
    ("LESSON_VIEW", 33),
    ("LOGIN", 14),
    ("COURSE_START", 9),
    ("PAGE_VIEW", 10),
    ("COURSE_COMPLETE", 4),
    ("PURCHASE", 5),
    ("PAYMENT_FAILED", 2),
    ("PROFILE_UPDATE", 3),
    ("LOGOUT", 5),
    ("QUIZ_SUBMIT", 8),
    ("SEARCH", 5),
    ("SUBSCRIPTION_RENEW", 2),
];

const WEB_UAS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 YaBrowser/24.12.0.0 Safari/537.36",
];
const TG_UAS: &[&str] = &[
    "Mozilla/5.0 (Linux; Android 13; Redmi Note 12) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 Telegram-Android/11.5.3",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Telegram-iOS/11.4",
    "TelegramBot (like TwitterBot)",
];
const APP_UAS: &[&str] = &[
    "UnifiedApp/2.4.1 (Android 14; Samsung SM-A546E) okhttp/4.12.0",
    "UnifiedApp/2.4.0 (iOS 17.5; iPhone14,5) CFNetwork/1496.0.7",
    "UnifiedApp/2.3.9 (Android 12; Xiaomi Redmi 10C) okhttp/4.11.0",
];
const IP_PREFIXES: &[&str] = &[
    "84.54", "213.230", "195.158", "185.139", "188.113", "37.110", "95.46", "91.196",
];
// Demo phones never use the 20 prefix: the scripts give their staff accounts +99820… numbers.
const PHONE_PREFIXES: &[&str] = &[
    "90", "91", "93", "94", "95", "97", "98", "99", "33", "88", "77", "50",
];

struct GenUser {
    id: String,
    source: Platform,
    created: NaiveDateTime,
}

fn pick<'a, T: ?Sized>(rng: &mut StdRng, xs: &'a [&'a T]) -> &'a T {
    xs[rng.gen_range(0..xs.len())]
}

fn uuid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.gen())
        .into_uuid()
        .to_string()
}

/// COPY text format: backslash, tab, newline and carriage return are escaped; NULL is \N.
fn field(out: &mut String, v: Option<&str>) {
    match v {
        None => out.push_str("\\N"),
        Some(s) => {
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

fn row(out: &mut String, fields: &[Option<&str>]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        field(out, *f);
    }
    out.push('\n');
}

fn ts(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

fn latin_handle(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

struct Person {
    first: String,
    last: String,
    region: Region,
    language: &'static str,
}

fn person(rng: &mut StdRng) -> Person {
    let female = rng.gen_bool(0.45);
    let apos = APOSTROPHES[rng.gen_range(0..3)];
    let roll = rng.gen_range(0..100);
    let (first, last, region, language) = if roll < 50 {
        let f = if female {
            pick(rng, UZ_FEMALE)
        } else {
            pick(rng, UZ_MALE)
        };
        let mut l = pick(rng, UZ_LAST).to_string();
        if female {
            l.push('a');
        }
        (
            f.replace('`', apos),
            l.replace('`', apos),
            Region::Uz,
            if rng.gen_bool(0.8) { "uz" } else { "ru" },
        )
    } else if roll < 65 {
        let f = if female {
            pick(rng, UZ_CYR_FEMALE)
        } else {
            pick(rng, UZ_CYR_MALE)
        };
        let mut l = pick(rng, UZ_CYR_LAST).to_string();
        if female {
            l.push('а');
        }
        (f.to_string(), l, Region::Uz, "uz")
    } else if roll < 83 {
        let f = if female {
            pick(rng, RU_FEMALE)
        } else {
            pick(rng, RU_MALE)
        };
        let mut l = pick(rng, RU_LAST_M).to_string();
        if female && l.ends_with('в') {
            l.push('а');
        }
        let region = if rng.gen_bool(0.7) {
            Region::Uz
        } else {
            Region::Ru
        };
        (
            f.to_string(),
            l,
            region,
            if rng.gen_bool(0.85) { "ru" } else { "en" },
        )
    } else if roll < 93 {
        let f = if female {
            pick(rng, KZ_FEMALE)
        } else {
            pick(rng, KZ_MALE)
        };
        let mut l = pick(rng, KZ_LAST).to_string();
        if female {
            l.push(if l.is_ascii() { 'a' } else { 'а' });
        }
        let region = if rng.gen_bool(0.8) {
            Region::Kz
        } else {
            Region::Uz
        };
        (f.to_string(), l, region, "ru")
    } else {
        let f = if female {
            pick(rng, KK_FEMALE)
        } else {
            pick(rng, KK_MALE)
        };
        let l = pick(rng, KK_LAST).to_string();
        (f.to_string(), l, Region::Uz, "uz")
    };
    // A few from the other neighbours and beyond.
    let region = match rng.gen_range(0..100) {
        0..=2 => Region::Kg,
        3..=5 => Region::Tj,
        6 => Region::Tm,
        7 => Region::Other,
        _ => region,
    };
    let language = if rng.gen_bool(0.05) { "en" } else { language };
    Person {
        first,
        last,
        region,
        language,
    }
}

fn users_chunk(
    rng: &mut StdRng,
    from: u64,
    to: u64,
    anchor: NaiveDateTime,
    out: &mut Vec<GenUser>,
) -> String {
    let mut buf = String::with_capacity(((to - from) * 320) as usize);
    for i in from..to {
        let id = uuid(rng);
        let p = person(rng);
        let source = match rng.gen_range(0..100) {
            0..=44 => Platform::Telegram,
            45..=84 => Platform::Web,
            _ => Platform::MobileApp,
        };
        let has_phone = match source {
            Platform::Web => true,
            Platform::MobileApp => rng.gen_bool(0.9),
            Platform::Telegram => rng.gen_bool(0.35),
        };
        let phone = has_phone.then(|| {
            let prefix = PHONE_PREFIXES[(i % PHONE_PREFIXES.len() as u64) as usize];
            // A bijection of the counter onto seven digits keeps phones unique but scattered.
            let n = ((i / PHONE_PREFIXES.len() as u64) * 7_654_321 + 1_234_567) % 10_000_000;
            format!("+998{prefix}{n:07}")
        });
        let has_tg = source == Platform::Telegram || rng.gen_bool(0.2);
        let tg_id = has_tg.then(|| 100_000_000 + (i * 48_271 + 12_345) % 9_000_000_000);
        let handle = tg_id.and_then(|_| {
            rng.gen_bool(0.8).then(|| {
                let base = latin_handle(&p.first);
                let base = if base.is_empty() {
                    "user".to_string()
                } else {
                    base
                };
                format!("{base}_{}", i % 100_000)
            })
        });
        let photo = handle.as_ref().and_then(|h| {
            rng.gen_bool(0.7)
                .then(|| format!("https://t.me/i/userpic/320/{h}.jpg"))
        });
        let age_secs = rng.gen_range(0..730 * 86_400);
        let created = anchor - Duration::seconds(age_secs);
        let updated = created + Duration::seconds(rng.gen_range(0..86_400 * 30).min(age_secs));
        let role = match i {
            0 => Role::Admin,
            1..=3 => Role::Support,
            _ => Role::User,
        };
        let tg_s = tg_id.map(|t| t.to_string());
        row(
            &mut buf,
            &[
                Some(&id),
                Some(&p.first),
                Some(&p.last),
                phone.as_deref(),
                Some(role.as_str()),
                tg_s.as_deref(),
                handle.as_deref(),
                photo.as_deref(),
                Some(source.as_str()),
                Some(p.region.as_str()),
                Some(p.language),
                Some(&ts(created)),
                Some(&ts(updated)),
            ],
        );
        out.push(GenUser {
            id,
            source,
            created,
        });
    }
    buf
}

fn metadata(rng: &mut StdRng, kind: &str) -> Option<String> {
    let course = rng.gen_range(1..=240);
    let mut s = String::new();
    match kind {
        "LESSON_VIEW" => write!(
            s,
            r#"{{"courseId":"c-{course}","lessonId":"l-{course}-{}","seconds":{}}}"#,
            rng.gen_range(1..40),
            rng.gen_range(5..3600)
        ),
        "COURSE_START" | "COURSE_COMPLETE" => write!(s, r#"{{"courseId":"c-{course}"}}"#),
        "PURCHASE" | "SUBSCRIPTION_RENEW" => write!(
            s,
            r#"{{"courseId":"c-{course}","amount":{},"currency":"UZS","method":"{}"}}"#,
            rng.gen_range(5..200) * 10_000,
            ["payme", "click", "uzcard", "humo"][rng.gen_range(0..4)]
        ),
        "PAYMENT_FAILED" => write!(
            s,
            r#"{{"courseId":"c-{course}","amount":{},"currency":"UZS","reason":"{}"}}"#,
            rng.gen_range(5..200) * 10_000,
            ["insufficient_funds", "card_expired", "timeout"][rng.gen_range(0..3)]
        ),
        "QUIZ_SUBMIT" => write!(
            s,
            r#"{{"courseId":"c-{course}","score":{},"max":100}}"#,
            rng.gen_range(0..=100)
        ),
        "SEARCH" => write!(
            s,
            r#"{{"query":"{}"}}"#,
            ["python", "ingliz tili", "matematika", "математика", "IELTS"][rng.gen_range(0..5)]
        ),
        "PAGE_VIEW" => write!(s, r#"{{"path":"/courses/c-{course}"}}"#),
        "PROFILE_UPDATE" => write!(s, r#"{{"fields":["language"]}}"#),
        "LOGIN" => write!(
            s,
            r#"{{"method":"{}"}}"#,
            ["password", "telegram", "otp"][rng.gen_range(0..3)]
        ),
        _ => return None,
    }
    .ok()?;
    Some(s)
}

fn events_chunk(
    rng: &mut StdRng,
    n: u64,
    users: &[GenUser],
    heavy: usize,
    anchor: NaiveDateTime,
) -> String {
    let total_weight: u32 = EVENT_TYPES.iter().map(|(_, w)| w).sum();
    let mut buf = String::with_capacity((n * 300) as usize);
    for _ in 0..n {
        // A third of all activity comes from a handful of very active people.
        let u = if heavy > 0 && rng.gen_bool(0.3) {
            &users[rng.gen_range(0..heavy)]
        } else {
            &users[rng.gen_range(0..users.len())]
        };
        let mut w = rng.gen_range(0..total_weight);
        let kind = EVENT_TYPES
            .iter()
            .find(|(_, wt)| {
                if w < *wt {
                    true
                } else {
                    w -= wt;
                    false
                }
            })
            .map(|(k, _)| *k)
            .unwrap_or("PAGE_VIEW");
        let platform = if rng.gen_bool(0.8) {
            u.source
        } else {
            Platform::ALL[rng.gen_range(0..3)]
        };
        let span = (anchor - u.created).num_seconds().max(1);
        // Recent days are busier: square the uniform draw towards the anchor.
        let f: f64 = rng.gen::<f64>();
        let at = anchor - Duration::seconds(((f * f) * span as f64) as i64);
        let ua = match platform {
            Platform::Web => pick(rng, WEB_UAS),
            Platform::Telegram => pick(rng, TG_UAS),
            Platform::MobileApp => pick(rng, APP_UAS),
        };
        let ip = format!(
            "{}.{}.{}",
            pick(rng, IP_PREFIXES),
            rng.gen_range(0..256),
            rng.gen_range(1..255)
        );
        let id = uuid(rng);
        let meta = metadata(rng, kind);
        row(
            &mut buf,
            &[
                Some(&id),
                Some(&u.id),
                Some(kind),
                Some(platform.as_str()),
                meta.as_deref(),
                Some(&ip),
                Some(ua),
                Some(&ts(at)),
            ],
        );
    }
    buf
}

fn progress(enabled: bool, what: &str, done: u64, total: u64, started: Instant) {
    if !enabled || total == 0 {
        return;
    }
    let width = 30;
    let filled = (done * width / total) as usize;
    eprint!(
        "\r{what:<8} [{}{}] {done}/{total} {:.1}s",
        "#".repeat(filled),
        "-".repeat(width as usize - filled),
        started.elapsed().as_secs_f64()
    );
    if done == total {
        eprintln!();
    }
    let _ = std::io::stderr().flush();
}

const USER_COLUMNS: &str = r#"COPY "User" ("id", "firstName", "lastName", "phone", "role", "telegramId", "telegramUsername", "telegramPhotoUrl", "registrationSource", "region", "language", "createdAt", "updatedAt") FROM STDIN"#;
const EVENT_COLUMNS: &str = r#"COPY "EventLog" ("id", "userId", "eventType", "platform", "metadata", "ipAddress", "userAgent", "createdAt") FROM STDIN"#;
const SESSION_COLUMNS: &str = r#"COPY "Session" ("id", "userId", "token", "platform", "deviceInfo", "expiresAt", "createdAt") FROM STDIN"#;

/// Fills an empty database. Refuses one that has users, so it never mixes with real data.
pub async fn run(pool: &PgPool, opts: SeedOptions) -> Result<SeedReport, String> {
    let started = Instant::now();
    let existing = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM "User""#)
        .fetch_one(pool)
        .await
        .map_err(|e| e.to_string())?;
    if existing > 0 {
        return Err(format!(
            "seed: the database already holds {existing} users; seed fills only an empty database"
        ));
    }
    let mut rng = StdRng::seed_from_u64(opts.seed);
    // Anchored to now, so the data looks recent and nothing lies in the future (the ingestion
    // API refuses future times too).
    let anchor = Utc::now().naive_utc() - Duration::seconds(1);
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    // Building an index once over sorted data is far cheaper than a million random
    // insertions into it, so the secondary indexes are set aside during the load and
    // rebuilt from their own catalogued definitions (nothing here restates the schema).
    sqlx::query("SET LOCAL maintenance_work_mem = '256MB'")
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    let set_aside: Vec<(String, String)> = sqlx::query_as(
        r#"SELECT i.indexname, i.indexdef FROM pg_indexes i
           JOIN pg_class c ON c.relname = i.indexname
           JOIN pg_index x ON x.indexrelid = c.oid
           WHERE i.schemaname = current_schema() AND i.tablename IN ('User', 'EventLog', 'Session')
             AND NOT x.indisunique"#,
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(|e| e.to_string())?;
    for (name, _) in &set_aside {
        sqlx::query(&format!("DROP INDEX \"{}\"", name.replace('"', "")))
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
    }

    let mut users: Vec<GenUser> = Vec::with_capacity(opts.users as usize);
    let chunk = 20_000u64;
    let mut copy = tx
        .copy_in_raw(USER_COLUMNS)
        .await
        .map_err(|e| e.to_string())?;
    let mut from = 0;
    while from < opts.users {
        let to = (from + chunk).min(opts.users);
        let buf = users_chunk(&mut rng, from, to, anchor, &mut users);
        copy.send(buf.into_bytes())
            .await
            .map_err(|e| e.to_string())?;
        from = to;
        progress(opts.progress, "users", from, opts.users, started);
    }
    copy.finish().await.map_err(|e| e.to_string())?;

    // Events are generated on a blocking thread, one chunk ahead of the COPY.
    let users = std::sync::Arc::new(users);
    let heavy = users.len().min(5);
    let (txc, mut rxc) = tokio::sync::mpsc::channel::<String>(2);
    let gen_users = users.clone();
    let total_events = opts.events;
    let mut ev_rng = StdRng::seed_from_u64(opts.seed ^ 0x5eed_e4e7);
    let generator = tokio::task::spawn_blocking(move || {
        let mut left = total_events;
        while left > 0 {
            let n = left.min(25_000);
            let buf = events_chunk(&mut ev_rng, n, &gen_users, heavy, anchor);
            if txc.blocking_send(buf).is_err() {
                break;
            }
            left -= n;
        }
    });
    let mut copy = tx
        .copy_in_raw(EVENT_COLUMNS)
        .await
        .map_err(|e| e.to_string())?;
    let mut done = 0u64;
    while let Some(buf) = rxc.recv().await {
        done += buf.bytes().filter(|b| *b == b'\n').count() as u64;
        copy.send(buf.into_bytes())
            .await
            .map_err(|e| e.to_string())?;
        progress(opts.progress, "events", done, total_events, started);
    }
    generator.await.map_err(|e| e.to_string())?;
    copy.finish().await.map_err(|e| e.to_string())?;

    // A session for about one user in ten, as if they were signed in somewhere.
    let mut buf = String::new();
    let mut sessions = 0u64;
    for u in users.iter() {
        if rng.gen_bool(0.1) {
            let created = anchor - Duration::seconds(rng.gen_range(0..6 * 86_400));
            let device = crate::auth::ssr::device_info(Some(match u.source {
                Platform::Web => pick(&mut rng, WEB_UAS),
                Platform::Telegram => pick(&mut rng, TG_UAS),
                Platform::MobileApp => pick(&mut rng, APP_UAS),
            }));
            // Seeded sessions hold a digest of nothing anyone has: they cannot be used.
            let token = crate::auth::ssr::token_digest(&uuid(&mut rng));
            row(
                &mut buf,
                &[
                    Some(&uuid(&mut rng)),
                    Some(&u.id),
                    Some(&token),
                    Some(u.source.as_str()),
                    device.as_deref(),
                    Some(&ts(created + Duration::days(7))),
                    Some(&ts(created)),
                ],
            );
            sessions += 1;
        }
    }
    let mut copy = tx
        .copy_in_raw(SESSION_COLUMNS)
        .await
        .map_err(|e| e.to_string())?;
    copy.send(buf.into_bytes())
        .await
        .map_err(|e| e.to_string())?;
    copy.finish().await.map_err(|e| e.to_string())?;
    if opts.progress && !set_aside.is_empty() {
        eprintln!(
            "indexes  rebuilding {} … {:.1}s",
            set_aside.len(),
            started.elapsed().as_secs_f64()
        );
    }
    for (_, def) in &set_aside {
        sqlx::query(def)
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    sqlx::query!(r#"ANALYZE "User", "EventLog", "Session""#)
        .execute(pool)
        .await
        .map_err(|e| e.to_string())?;
    Ok(SeedReport {
        users: opts.users,
        events: opts.events,
        sessions,
        seconds: started.elapsed().as_secs_f64(),
    })
}

//! The dashboard and the events explorer against SQL ground truth on a seeded database:
//! every figure and every chart series, across local-day boundaries in PORTAL_TIMEZONE, and
//! after other writers changed "User" and "EventLog" directly.

mod common;

use axum::http::StatusCode;
use common::*;
use sqlx::PgPool;
use std::collections::BTreeMap;
use unified_portal::model::Role;
use unified_portal::seed::{run, SeedOptions};

const ZONE: &str = "Asia/Tashkent";
const COUNTED: &str = r#"NOT (left("eventType", 6) = 'ADMIN_' OR "eventType" IN ('SESSION_REVOKED', 'LOGIN_FAILED'))"#;

async fn seeded(pool: &PgPool) -> (TestApp, String) {
    run(
        pool,
        SeedOptions {
            users: 400,
            events: 3_000,
            seed: 11,
            progress: false,
        },
    )
    .await
    .unwrap();
    signed_in(pool).await
}

async fn signed_in(pool: &PgPool) -> (TestApp, String) {
    let app = app(pool.clone());
    create_user(pool, Role::Support, "+998901119999").await;
    let cookie = app.login("+998901119999", PASSWORD).await.unwrap();
    (app, cookie)
}

/// Every `data-cell="key">number<` of a page, in document order.
fn cells(body: &str) -> Vec<(String, i64)> {
    let body = body.replace("<!---->", "").replace("<!>", "");
    let mut out = Vec::new();
    for part in body.split("data-cell=\"").skip(1) {
        let key = part.split('"').next().unwrap().replace("&amp;", "&");
        let after = &part[part.find('>').unwrap() + 1..];
        let text = after.split('<').next().unwrap().trim();
        let n: i64 = text
            .parse()
            .unwrap_or_else(|_| panic!("cell {key}: {text:?}"));
        out.push((key, n));
    }
    out
}

fn cell_map(body: &str, prefix: &str) -> BTreeMap<String, i64> {
    cells(body)
        .into_iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .collect()
}

/// The figure of one chart, for counting its series.
fn figure<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let rest = &body[start..];
    &rest[..rest.find("</figure>").unwrap()]
}

fn series_count(body: &str, id: &str) -> usize {
    let fig = figure(body, id);
    let svg = &fig[fig.find("<svg").unwrap()..fig.find("</svg>").unwrap()];
    svg.matches("class=\"series ").count()
}

async fn today(pool: &PgPool) -> chrono::NaiveDate {
    sqlx::query_scalar(&format!("SELECT (now() AT TIME ZONE '{ZONE}')::date"))
        .fetch_one(pool)
        .await
        .unwrap()
}

fn local_day(col: &str) -> String {
    format!(r#"(({col} AT TIME ZONE 'UTC') AT TIME ZONE '{ZONE}')::date"#)
}

/// What every cell of the dashboard should hold for `period`, computed from the base tables.
async fn ground_truth(pool: &PgPool, period: i64) -> BTreeMap<String, i64> {
    let today = today(pool).await;
    let start = today - chrono::Duration::days(period - 1);
    let mut want = BTreeMap::new();
    let sources = ["WEB", "TELEGRAM", "MOBILE_APP"];
    let regions = ["UZ", "KZ", "KG", "TJ", "TM", "RU", "OTHER"];

    // Users: totals and new users today / 7 / 30 days by source.
    let day = local_day(r#""createdAt""#);
    let rows: Vec<(String, i64, i64, i64, i64)> = sqlx::query_as(&format!(
        r#"SELECT "registrationSource"::text, count(*),
                  count(*) FILTER (WHERE {day} = $1),
                  count(*) FILTER (WHERE {day} BETWEEN $1 - 6 AND $1),
                  count(*) FILTER (WHERE {day} BETWEEN $1 - 29 AND $1)
           FROM "User" GROUP BY 1"#
    ))
    .bind(today)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut total = 0;
    for s in sources {
        let r = rows.iter().find(|r| r.0 == s);
        let get = |f: fn(&(String, i64, i64, i64, i64)) -> i64| r.map(f).unwrap_or(0);
        want.insert(format!("users|{s}|total"), get(|r| r.1));
        want.insert(format!("users|{s}|today"), get(|r| r.2));
        want.insert(format!("users|{s}|7"), get(|r| r.3));
        want.insert(format!("users|{s}|30"), get(|r| r.4));
        total += get(|r| r.1);
    }
    want.insert("users|ALL|total".into(), total);

    // Active users: distinct people with a (non-staff) event on or after the window's
    // first local day.
    let eday = local_day(r#""createdAt""#);
    let active: Vec<(String, i64, i64, i64)> = sqlx::query_as(&format!(
        r#"WITH a AS (SELECT "userId", "platform"::text AS p, {eday} AS d FROM "EventLog" WHERE {COUNTED})
           SELECT p, count(DISTINCT "userId") FILTER (WHERE d >= $1),
                     count(DISTINCT "userId") FILTER (WHERE d >= $1 - 6),
                     count(DISTINCT "userId") FILTER (WHERE d >= $1 - 29)
           FROM a GROUP BY 1
           UNION ALL
           SELECT 'ALL', count(DISTINCT "userId") FILTER (WHERE d >= $1),
                     count(DISTINCT "userId") FILTER (WHERE d >= $1 - 6),
                     count(DISTINCT "userId") FILTER (WHERE d >= $1 - 29)
           FROM a"#
    ))
    .bind(today)
    .fetch_all(pool)
    .await
    .unwrap();
    for s in ["WEB", "TELEGRAM", "MOBILE_APP", "ALL"] {
        let r = active.iter().find(|r| r.0 == s);
        for (i, w) in ["DAU", "WAU", "MAU"].iter().enumerate() {
            let v = r.map(|r| [r.1, r.2, r.3][i]).unwrap_or(0);
            want.insert(format!("chart-active|{s}|{w}"), v);
        }
    }

    // Sign-ups and events per local day of the period.
    let signups: Vec<(chrono::NaiveDate, String, i64)> = sqlx::query_as(&format!(
        r#"SELECT {day}, "registrationSource"::text, count(*) FROM "User"
           WHERE {day} BETWEEN $1 AND $2 GROUP BY 1, 2"#
    ))
    .bind(start)
    .bind(today)
    .fetch_all(pool)
    .await
    .unwrap();
    let events: Vec<(chrono::NaiveDate, String, i64)> = sqlx::query_as(&format!(
        r#"SELECT {eday}, "platform"::text, count(*) FROM "EventLog"
           WHERE {COUNTED} AND {eday} BETWEEN $1 AND $2 GROUP BY 1, 2"#
    ))
    .bind(start)
    .bind(today)
    .fetch_all(pool)
    .await
    .unwrap();
    for k in 0..period {
        let d = start + chrono::Duration::days(k);
        for s in sources {
            let find = |rows: &[(chrono::NaiveDate, String, i64)]| {
                rows.iter()
                    .find(|r| r.0 == d && r.1 == s)
                    .map(|r| r.2)
                    .unwrap_or(0)
            };
            want.insert(format!("chart-signups|{s}|{d}"), find(&signups));
            want.insert(format!("chart-events|{s}|{d}"), find(&events));
        }
    }

    // Top event types of the period.
    let top: Vec<(String, i64)> = sqlx::query_as(&format!(
        r#"SELECT "eventType", count(*) FROM "EventLog"
           WHERE {COUNTED} AND {eday} BETWEEN $1 AND $2
           GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10"#
    ))
    .bind(start)
    .bind(today)
    .fetch_all(pool)
    .await
    .unwrap();
    for (t, n) in top {
        want.insert(format!("chart-top-types|events|{t}"), n);
    }

    // Source x region, all users.
    let split: Vec<(String, String, i64)> = sqlx::query_as(
        r#"SELECT "registrationSource"::text, "region"::text, count(*) FROM "User" GROUP BY 1, 2"#,
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for s in sources {
        for r in regions {
            let n = split
                .iter()
                .find(|c| c.0 == s && c.1 == r)
                .map(|c| c.2)
                .unwrap_or(0);
            want.insert(format!("chart-split|{s}|{r}"), n);
        }
    }
    want
}

async fn top_types_order(pool: &PgPool, period: i64) -> Vec<String> {
    let today = today(pool).await;
    let eday = local_day(r#""createdAt""#);
    sqlx::query_scalar(&format!(
        r#"SELECT "eventType" FROM "EventLog"
           WHERE {COUNTED} AND {eday} BETWEEN $1 - ($2::int - 1) AND $1
           GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 10"#
    ))
    .bind(today)
    .bind(period as i32)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn check_dashboard(app: &TestApp, cookie: &str, pool: &PgPool, what: &str) {
    for period in [7i64, 30, 90] {
        let r = app.get(&format!("/admin?period={period}"), &[cookie]).await;
        assert_eq!(r.status, StatusCode::OK, "{what}: period {period}");
        let got: BTreeMap<String, i64> = cells(&r.body).into_iter().collect();
        let want = ground_truth(pool, period).await;
        for (k, v) in &want {
            assert_eq!(got.get(k), Some(v), "{what}: period {period}: cell {k}");
        }
        for k in got.keys() {
            assert!(
                want.contains_key(k),
                "{what}: period {period}: unexpected cell {k}"
            );
        }
        // The top types come in their order, most frequent first.
        let order: Vec<String> = cells(&r.body)
            .into_iter()
            .filter_map(|(k, _)| k.strip_prefix("chart-top-types|events|").map(String::from))
            .collect();
        assert_eq!(
            order,
            top_types_order(pool, period).await,
            "{what}: top types order"
        );
        // Charts are pictures with their series.
        for (id, n) in [
            ("chart-signups", 3),
            ("chart-events", 3),
            ("chart-active", 4),
            ("chart-top-types", 1),
            ("chart-split", 3),
        ] {
            assert_eq!(series_count(&r.body, id), n, "{what}: series of {id}");
            let fig = figure(&r.body, id);
            assert!(fig.contains("<details"), "{id} has a table of its numbers");
            assert!(fig.contains("chart-title"), "{id} has a title");
            assert!(fig.contains("legend-item"), "{id} has a legend");
        }
        // One bar group / day column per day of the period.
        let days = cell_map(&r.body, "chart-signups|WEB|").len() as i64;
        assert_eq!(days, period);
    }
}

#[sqlx::test]
async fn dashboard_matches_sql_ground_truth(pool: PgPool) {
    let (app, cookie) = seeded(&pool).await;
    check_dashboard(&app, &cookie, &pool, "after seeding").await;

    // Other services write "User" and "EventLog" directly, after the rollups were built:
    // late events with an older createdAt, staff actions, a new user, edits and deletions.
    let ids: Vec<String> = sqlx::query_scalar(
        r#"SELECT "id" FROM "User" WHERE "role" = 'USER' ORDER BY "createdAt" LIMIT 5"#,
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    sqlx::query(
        r#"INSERT INTO "EventLog" ("id", "userId", "eventType", "platform", "createdAt")
           SELECT gen_random_uuid()::text, u, t, p::"RegistrationSource", (now() AT TIME ZONE 'UTC') - make_interval(days => d)
           FROM unnest($1::text[]) AS u,
                (VALUES ('LATE_EVENT', 'WEB', 20), ('LATE_EVENT', 'MOBILE_APP', 3),
                        ('ADMIN_BLOCK', 'TELEGRAM', 0), ('SESSION_REVOKED', 'WEB', 0),
                        ('FRESH', 'TELEGRAM', 0)) AS v(t, p, d)"#,
    )
    .bind(&ids)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        r#"INSERT INTO "User" ("id", "registrationSource", "region", "createdAt", "updatedAt")
           VALUES ('direct-1', 'MOBILE_APP', 'KG', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'),
                  ('direct-2', 'TELEGRAM', 'RU', (now() AT TIME ZONE 'UTC') - interval '8 days', now() AT TIME ZONE 'UTC')"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        r#"UPDATE "User" SET "registrationSource" = 'WEB', "region" = 'TJ' WHERE "id" = $1"#,
    )
    .bind(&ids[0])
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        r#"UPDATE "EventLog" SET "platform" = 'MOBILE_APP', "createdAt" = "createdAt" - interval '2 days'
           WHERE "id" IN (SELECT "id" FROM "EventLog" WHERE "eventType" = 'LESSON_VIEW' ORDER BY "id" LIMIT 40)"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        r#"DELETE FROM "EventLog" WHERE "id" IN (SELECT "id" FROM "EventLog" WHERE "eventType" = 'LOGIN' ORDER BY "id" DESC LIMIT 60)"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    // A person's events move to another (a merge) and the person goes.
    sqlx::query(r#"UPDATE "EventLog" SET "userId" = $1 WHERE "userId" = $2"#)
        .bind(&ids[1])
        .bind(&ids[2])
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(r#"DELETE FROM "Session" WHERE "userId" = $1"#)
        .bind(&ids[2])
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(r#"DELETE FROM "User" WHERE "id" = $1"#)
        .bind(&ids[2])
        .execute(&pool)
        .await
        .unwrap();
    check_dashboard(&app, &cookie, &pool, "after direct writes").await;

    // Folding the appended deltas changes no figure.
    unified_portal::dashboard::ssr::compact(&pool)
        .await
        .unwrap();
    check_dashboard(&app, &cookie, &pool, "after compaction").await;
    let rows = count(&pool, r#"SELECT count(*) FROM "EventCountDelta""#).await;
    let cells = count(
        &pool,
        r#"SELECT count(*) FROM (SELECT DISTINCT "day", "platform", "eventType" FROM "EventCountDelta") c"#,
    )
    .await;
    assert_eq!(rows, cells, "one row per cell after compaction");
}

#[sqlx::test]
async fn days_are_local_days_of_the_portal_timezone(pool: PgPool) {
    let (app, cookie) = signed_in(&pool).await;
    let today = today(&pool).await;
    // Local midnight of today in Tashkent (UTC+5) is 19:00 UTC the day before.
    let midnight_utc = (today - chrono::Duration::days(1))
        .and_hms_opt(19, 0, 0)
        .unwrap();
    let just_before = midnight_utc - chrono::Duration::milliseconds(1);
    for (id, created) in [("early", just_before), ("late", midnight_utc)] {
        sqlx::query(
            r#"INSERT INTO "User" ("id", "registrationSource", "createdAt", "updatedAt")
               VALUES ($1, 'TELEGRAM', $2, $2)"#,
        )
        .bind(id)
        .bind(created)
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            r#"INSERT INTO "EventLog" ("id", "userId", "eventType", "platform", "createdAt")
               VALUES ($1, $1, 'BOUNDARY', 'TELEGRAM', $2)"#,
        )
        .bind(id)
        .bind(created)
        .execute(&pool)
        .await
        .unwrap();
    }
    let r = app.get("/admin?period=7", &[&cookie]).await;
    assert_eq!(r.status, StatusCode::OK);
    let got: BTreeMap<String, i64> = cells(&r.body).into_iter().collect();
    let yesterday = today - chrono::Duration::days(1);
    assert_eq!(got[&format!("chart-events|TELEGRAM|{yesterday}")], 1);
    assert_eq!(got[&format!("chart-events|TELEGRAM|{today}")], 1);
    assert_eq!(got[&format!("chart-signups|TELEGRAM|{yesterday}")], 1);
    assert_eq!(got[&format!("chart-signups|TELEGRAM|{today}")], 1);
    assert_eq!(got["users|TELEGRAM|today"], 1);
    assert_eq!(got["chart-active|TELEGRAM|DAU"], 1);
    assert_eq!(got["chart-active|TELEGRAM|WAU"], 2);
    // The staff member's own sign-in (a LOGIN on the web) is activity too; staff actions
    // are not.
    assert_eq!(got["chart-active|ALL|DAU"], 2);
    assert_eq!(got["chart-active|WEB|DAU"], 1);
    check_dashboard(&app, &cookie, &pool, "boundaries").await;

    // Another PORTAL_TIMEZONE: the rollups are rebuilt once, in that zone (UTC: both
    // events fall on the previous UTC day, the one of 19:00).
    let mut config = config();
    config.timezone = chrono_tz::UTC;
    let utc_app = app_with(pool.clone(), config);
    let cookie = utc_app.login("+998901119999", PASSWORD).await.unwrap();
    let r = utc_app.get("/admin?period=7", &[&cookie]).await;
    assert_eq!(r.status, StatusCode::OK);
    let got: BTreeMap<String, i64> = cells(&r.body).into_iter().collect();
    let zone: String = sqlx::query_scalar(r#"SELECT "timeZone" FROM "ActivityRollupState""#)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(zone, "UTC");
    let utc_today: chrono::NaiveDate =
        sqlx::query_scalar("SELECT (now() AT TIME ZONE 'UTC')::date")
            .fetch_one(&pool)
            .await
            .unwrap();
    let day = midnight_utc.date();
    if day >= utc_today - chrono::Duration::days(6) {
        assert_eq!(got[&format!("chart-events|TELEGRAM|{day}")], 2);
    }
}

#[sqlx::test]
async fn a_bad_period_is_a_400_naming_it(pool: PgPool) {
    let (app, cookie) = signed_in(&pool).await;
    for bad in [
        "14",
        "abc",
        "-7",
        "7.0",
        "0",
        "999999999999999999999",
        "%00",
        "30%20days",
    ] {
        let r = app.get(&format!("/admin?period={bad}"), &[&cookie]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "period={bad}");
        assert!(
            r.body.contains("period"),
            "period={bad}: names the parameter"
        );
    }
    let r = app.get("/admin?period=", &[&cookie]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Sign-ups per day by source, last 30 days"));
    let r = app.get("/admin?period=90&utm=x", &[&cookie]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("last 90 days"));
    // An empty database still draws every chart.
    for id in [
        "chart-signups",
        "chart-events",
        "chart-top-types",
        "chart-active",
        "chart-split",
    ] {
        assert!(r.body.contains(&format!("id=\"{id}\"")), "{id}");
    }
}

// ---------------------------------------------------------------------------------------
// The events explorer

fn event_ids(body: &str) -> Vec<String> {
    body.split("data-event-id=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

fn next_link(body: &str) -> Option<String> {
    let i = body.find("id=\"next-page\"")?;
    Some(
        body[..i]
            .rsplit("href=\"")
            .next()
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .replace("&amp;", "&"),
    )
}

async fn walk(app: &TestApp, cookie: &str, first: &str) -> Vec<String> {
    let mut got = Vec::new();
    let mut url = first.to_string();
    for _ in 0..200 {
        let r = app.get(&url, &[cookie]).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{url}: {}",
            &r.body[..r.body.len().min(300)]
        );
        let ids = event_ids(&r.body);
        assert!(ids.len() <= 50);
        got.extend(ids);
        match next_link(&r.body) {
            Some(n) => url = n,
            None => return got,
        }
    }
    panic!("too many pages");
}

#[sqlx::test]
async fn the_explorer_matches_sql_ground_truth(pool: PgPool) {
    let (app, cookie) = seeded(&pool).await;
    let (heavy, telegram_id): (String, i64) = sqlx::query_as(
        r#"SELECT u."id", u."telegramId" FROM "User" u JOIN "EventLog" e ON e."userId" = u."id"
           WHERE u."telegramId" IS NOT NULL GROUP BY 1, 2 ORDER BY count(*) DESC, 1 LIMIT 1"#,
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let today = today(&pool).await;
    let from = today - chrono::Duration::days(10);
    let to = today - chrono::Duration::days(2);
    let eday = local_day(r#""createdAt""#);
    let cases: Vec<(String, String)> = vec![
        ("".into(), "TRUE".into()),
        ("type=PURCHASE".into(), r#""eventType" = 'PURCHASE'"#.into()),
        (
            "platform=TELEGRAM".into(),
            r#""platform" = 'TELEGRAM'"#.into(),
        ),
        (format!("from={from}"), format!("{eday} >= '{from}'")),
        (format!("to={to}"), format!("{eday} <= '{to}'")),
        (
            format!("from={from}&to={to}&platform=WEB"),
            format!(r#"{eday} BETWEEN '{from}' AND '{to}' AND "platform" = 'WEB'"#),
        ),
        (format!("user={heavy}"), format!(r#""userId" = '{heavy}'"#)),
        (
            format!("user={telegram_id}&type=LESSON_VIEW"),
            format!(r#""userId" = '{heavy}' AND "eventType" = 'LESSON_VIEW'"#),
        ),
        ("type=NO_SUCH_TYPE".into(), "FALSE".into()),
    ];
    for (qs, cond) in cases {
        let expected: Vec<String> = sqlx::query_scalar(&format!(
            r#"SELECT "id" FROM "EventLog" WHERE {cond} ORDER BY "createdAt" DESC, "id" DESC"#
        ))
        .fetch_all(&pool)
        .await
        .unwrap();
        let got = walk(&app, &cookie, &format!("/admin/events?{qs}")).await;
        assert_eq!(got.len(), expected.len(), "{qs}");
        assert_eq!(got, expected, "{qs}");
    }

    // Each row links to its owner's timeline at that event, and that page holds it.
    let r = app.get("/admin/events?type=PURCHASE", &[&cookie]).await;
    let (id, user): (String, String) = sqlx::query_as(
        r#"SELECT "id", "userId" FROM "EventLog" WHERE "eventType" = 'PURCHASE' ORDER BY "createdAt" DESC, "id" DESC LIMIT 1"#,
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let href = format!("/admin/users/{}?at={}", enc(&user), enc(&id));
    // With the fragment that scrolls to the event.
    assert!(
        r.body
            .contains(&format!("href=\"{href}#event-{}\"", enc(&id))),
        "row links to {href}#event-…"
    );
    let r = app.get(&href, &[&cookie]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains(&id));

    // A user filter that names nobody says so.
    let r = app.get("/admin/events?user=nobody-here", &[&cookie]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("empty-no-user"));

    // A page stays put while new events arrive.
    let first = app.get("/admin/events", &[&cookie]).await;
    let next = next_link(&first.body).unwrap();
    sqlx::query(
        r#"INSERT INTO "EventLog" ("id", "userId", "eventType", "platform", "createdAt")
           VALUES ('brand-new', $1, 'FRESH', 'WEB', now() AT TIME ZONE 'UTC' + interval '1 day')"#,
    )
    .bind(&heavy)
    .execute(&pool)
    .await
    .unwrap();
    let second = event_ids(&app.get(&next, &[&cookie]).await.body);
    let expected: Vec<String> = sqlx::query_scalar(
        r#"SELECT "id" FROM "EventLog" WHERE "id" <> 'brand-new' ORDER BY "createdAt" DESC, "id" DESC LIMIT 50 OFFSET 50"#,
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(second, expected);
}

#[sqlx::test]
async fn explorer_bad_values_are_400s_naming_the_parameter(pool: PgPool) {
    let (app, cookie) = signed_in(&pool).await;
    let long = "X".repeat(65);
    for (qs, name) in [
        ("platform=FAX", "platform"),
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2026-02-10&to=2026-02-01", "from"),
        ("from=0001-01-01", "from"),
        ("to=99999-01-01", "to"),
        ("before=garbage", "before"),
        (
            "before=eyJ0IjoiMjAyNi0wMS0wMVQwMDowMDowMCIsImlkIjoieCJ9.AAAA",
            "before",
        ),
        (&format!("type={long}"), "type"),
        ("type=%00", "type"),
        ("user=%01x", "user"),
    ] {
        let r = app.get(&format!("/admin/events?{qs}"), &[&cookie]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{qs}");
        assert!(r.body.contains(name), "{qs}: names {name}");
    }
    // Nothing a client sends gives a 5xx.
    for qs in [
        "user=99999999999999999999999",
        "user=-1",
        "user=%27%3B--",
        "type=%27%20OR%201%3D1",
        "type=%F0%9F%98%80",
        "from=1900-01-01&to=9999-12-31",
        "platform=&type=&from=&to=&user=&before=",
        "before=.",
        "before=a.b.c",
    ] {
        let r = app.get(&format!("/admin/events?{qs}"), &[&cookie]).await;
        assert!(r.status.as_u16() < 500, "{qs}: {}", r.status);
    }
}

#[sqlx::test]
async fn explorer_escapes_what_platforms_send(pool: PgPool) {
    let (app, cookie) = signed_in(&pool).await;
    sqlx::query(
        r#"INSERT INTO "User" ("id", "firstName", "updatedAt") VALUES ('x', '<b>bold</b>', now() AT TIME ZONE 'UTC')"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        r#"INSERT INTO "EventLog" ("id", "userId", "eventType", "platform", "metadata")
           VALUES ('ev', 'x', '<script>alert(1)</script>', 'WEB', '{"q": "<img src=x onerror=alert(1)>"}')"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    for path in ["/admin/events", "/admin?period=7"] {
        let r = app.get(path, &[&cookie]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.body.contains("<script>alert(1)</script>"), "{path}");
        assert!(!r.body.contains("<img src=x"), "{path}");
        assert!(!r.body.contains("<b>bold</b>"), "{path}");
    }
}

// ---------------------------------------------------------------------------------------
// Speed at scale (run by hand against a big database):
//   PORTAL_BENCH_DATABASE_URL=postgres://…/big cargo test --features ssr --test dashboard -- --ignored
#[tokio::test]
#[ignore]
async fn speed_at_scale() {
    let Ok(url) = std::env::var("PORTAL_BENCH_DATABASE_URL") else {
        eprintln!("PORTAL_BENCH_DATABASE_URL is not set; skipped");
        return;
    };
    let pool = unified_portal::db::connect(&url, 4).await.unwrap();
    let phone = "+998209999998";
    let exists = count(
        &pool,
        &format!(r#"SELECT count(*) FROM "User" WHERE "phone" = '{phone}'"#),
    )
    .await;
    if exists == 0 {
        create_user(&pool, Role::Support, phone).await;
    }
    let app = app(pool.clone());
    let cookie = app.login(phone, PASSWORD).await.unwrap();
    let (heavy, tg): (String, Option<i64>) = sqlx::query_as(
        r#"SELECT "id", "telegramId" FROM "User" WHERE "telegramId" IS NOT NULL ORDER BY "createdAt" DESC LIMIT 1"#,
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let tg = tg.unwrap();
    let mut paths: Vec<String> = ["/admin?period=7", "/admin?period=30", "/admin?period=90"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for qs in [
        "".to_string(),
        "type=PURCHASE".into(),
        "type=PAYMENT_FAILED".into(),
        "type=NO_SUCH_TYPE".into(),
        "platform=MOBILE_APP".into(),
        "from=2026-11-01".into(),
        "to=2025-06-01".into(),
        "from=2025-01-01&to=2025-01-01".into(),
        format!("user={heavy}"),
        format!("user={tg}"),
    ] {
        paths.push(format!("/admin/events?{qs}"));
    }
    for path in paths {
        // Warm once, then the best of five.
        let r = app.get(&path, &[&cookie]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        let mut best = std::time::Duration::MAX;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            let r = app.get(&path, &[&cookie]).await;
            best = best.min(t.elapsed());
            assert_eq!(r.status, StatusCode::OK, "{path}");
        }
        if let Ok(dir) = std::env::var("PORTAL_DUMP_HTML") {
            let name = path.replace(['/', '?', '=', '&'], "_");
            std::fs::write(format!("{dir}/{name}.html"), &r.body).unwrap();
        }
        eprintln!(
            "{path}: {:.1} ms (whole request, in-process)",
            best.as_secs_f64() * 1e3
        );
        let tz = chrono_tz::Asia::Tashkent;
        if let Some(p) = path.strip_prefix("/admin?period=") {
            let t = std::time::Instant::now();
            unified_portal::dashboard::ssr::load_at(
                &pool,
                tz,
                unified_portal::dashboard::ssr::today_in(tz),
                p.parse().unwrap(),
            )
            .await
            .unwrap();
            eprintln!("  queries alone: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
        }
    }
}

/// A bulk change of "EventLog" over many people (another service's clean-up, say) goes
/// through: recomputing each person's last active day once took a lock per person and ran
/// out of lock memory (40,000 people failed; 12,000 fitted the slack).
#[sqlx::test]
async fn a_bulk_delete_over_thousands_of_people_keeps_the_rollups(pool: PgPool) {
    run(
        &pool,
        SeedOptions {
            users: 40_000,
            events: 100_000,
            seed: 5,
            progress: false,
        },
    )
    .await
    .unwrap();
    let people = count(&pool, r#"SELECT count(DISTINCT "userId") FROM "EventLog""#).await;
    assert!(people > 30_000, "{people} people with events");
    sqlx::query(r#"DELETE FROM "EventLog" WHERE "platform" <> 'WEB'"#)
        .execute(&pool)
        .await
        .expect("the bulk delete goes through");
    // What stays agrees with the events left.
    let stale = count(
        &pool,
        r#"SELECT count(*) FROM "UserLastActive" WHERE "scope" <> 'ALL' AND "scope" <> 'WEB'"#,
    )
    .await;
    assert_eq!(stale, 0);
    let with_web = count(
        &pool,
        &format!(r#"SELECT count(DISTINCT "userId") FROM "EventLog" WHERE {COUNTED}"#),
    )
    .await;
    let all_scope = count(
        &pool,
        r#"SELECT count(*) FROM "UserLastActive" WHERE "scope" = 'ALL'"#,
    )
    .await;
    assert_eq!(all_scope, with_web);
}

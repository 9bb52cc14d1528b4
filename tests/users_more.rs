//! The users list's wider filters, search, sorting, export, and one user's page.

mod common;

use axum::http::StatusCode;
use common::*;
use sqlx::PgPool;
use unified_portal::model::Role;
use unified_portal::seed::{run, SeedOptions};

fn ids_in(body: &str) -> Vec<String> {
    body.split("data-user-id=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

fn matching(body: &str) -> String {
    let i = body.find("id=\"matching-count\"").expect("count shown");
    let rest = &body[i..];
    let a = rest.find('>').unwrap() + 1;
    let end = rest[a..].find('<').unwrap();
    rest[a..a + end].to_string()
}

async fn staff(app: &TestApp, pool: &PgPool, role: Role, phone: &str) -> String {
    create_user(pool, role, phone).await;
    app.login(phone, PASSWORD).await.unwrap()
}

async fn person(pool: &PgPool, first: &str, last: Option<&str>, phone: Option<&str>) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        r#"INSERT INTO "User" ("id", "firstName", "lastName", "phone", "updatedAt") VALUES ($1, $2, $3, $4, now())"#,
    )
    .bind(&id)
    .bind(first)
    .bind(last)
    .bind(phone)
    .execute(pool)
    .await
    .unwrap();
    id
}

/// Every id the list shows for `qs`, walking all pages.
async fn walk(app: &TestApp, cookie: &str, qs: &str) -> Vec<String> {
    let mut got = Vec::new();
    let mut url = format!("/admin/users?{qs}");
    for _ in 0..100 {
        let r = app.get(&url, &[cookie]).await;
        assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.body);
        got.extend(ids_in(&r.body));
        let Some(i) = r.body.find("id=\"next-page\"") else {
            break;
        };
        let before = &r.body[..i];
        let href = before.rsplit("href=\"").next().unwrap();
        url = href.split('"').next().unwrap().replace("&amp;", "&");
    }
    got
}

#[sqlx::test]
async fn every_filter_matches_sql_ground_truth(pool: PgPool) {
    run(
        &pool,
        SeedOptions {
            users: 500,
            events: 1_000,
            seed: 3,
            progress: false,
        },
    )
    .await
    .unwrap();
    let app = app(pool.clone());
    let cookie = staff(&app, &pool, Role::Support, "+998901119999").await;
    let day: String = sqlx::query_scalar(
        r#"SELECT to_char(("createdAt" AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Tashkent')::date, 'YYYY-MM-DD')
           FROM "User" ORDER BY "createdAt" LIMIT 1 OFFSET 250"#,
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let local_day = r#"("createdAt" AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Tashkent')::date"#;
    let cases: Vec<(String, String)> = vec![
        ("role=SUPPORT".into(), r#""role" = 'SUPPORT'"#.into()),
        ("lang=ru".into(), r#""language" = 'ru'"#.into()),
        (
            "has_telegram=true".into(),
            r#""telegramId" IS NOT NULL"#.into(),
        ),
        ("has_phone=false".into(), r#""phone" IS NULL"#.into()),
        (
            "source=TELEGRAM&has_phone=true&lang=uz".into(),
            r#""registrationSource" = 'TELEGRAM' AND "phone" IS NOT NULL AND "language" = 'uz'"#
                .into(),
        ),
        (
            format!("created_from={day}&created_to={day}"),
            format!("{local_day} = '{day}'::date"),
        ),
        (
            format!("created_from={day}&region=UZ"),
            format!(r#"{local_day} >= '{day}'::date AND "region" = 'UZ'"#),
        ),
    ];
    for (qs, cond) in cases {
        let expected: Vec<String> = sqlx::query_scalar(&format!(
            r#"SELECT "id" FROM "User" WHERE {cond} ORDER BY "createdAt" DESC, "id" DESC"#
        ))
        .fetch_all(&pool)
        .await
        .unwrap();
        let got = walk(&app, &cookie, &format!("{qs}&per_page=37")).await;
        assert_eq!(got, expected, "{qs}");
        let r = app.get(&format!("/admin/users?{qs}"), &[&cookie]).await;
        let n = expected.len();
        assert_eq!(
            matching(&r.body),
            format!("{n} matching user{}", if n == 1 { "" } else { "s" }),
            "{qs}"
        );
    }

    // Sorting by name walks the folded names in order, with no row lost or repeated.
    let expected: Vec<String> =
        sqlx::query_scalar(r#"SELECT "id" FROM "User" ORDER BY "searchText", "id""#)
            .fetch_all(&pool)
            .await
            .unwrap();
    let got = walk(&app, &cookie, "sort=name&per_page=200").await;
    assert_eq!(got, expected);
}

#[sqlx::test]
async fn search_folds_apostrophes_scripts_and_spellings(pool: PgPool) {
    let app = app(pool.clone());
    let cookie = staff(&app, &pool, Role::Support, "+998901119999").await;
    let shahzod = person(&pool, "Shahzod", Some("Karimov"), None).await;
    let shaxzod = person(&pool, "Shaxzod", None, None).await;
    let cyr = person(&pool, "Шахзод", Some("Тошматов"), None).await;
    let gulomov = person(&pool, "Alisher", Some("Gʻulomov"), None).await;
    let kodirov = person(&pool, "Bek", Some("Қодиров"), None).await;
    let tsoy = person(&pool, "Viktor", Some("Tsoy"), Some("+998901234567")).await;
    let percent = person(&pool, "100%_real", None, None).await;
    let under = person(&pool, "a_b", None, None).await;
    let plain = person(&pool, "ab", Some("Zed"), None).await;
    // ´ (U+00B4), which NFKC turns into a space and a combining accent.
    let acute = person(&pool, "O´tkirjon", Some("G´ulomova"), None).await;
    let otkirbek = person(&pool, "Oʻtkirbek", None, None).await;
    person(&pool, "axb", None, None).await;
    person(&pool, "100x_real", None, None).await;
    sqlx::query(r#"UPDATE "User" SET "telegramUsername" = 'jasur_uz', "telegramId" = 5000000123 WHERE "id" = $1"#)
        .bind(&plain)
        .execute(&pool)
        .await
        .unwrap();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "Шахзод",
            vec![shahzod.clone(), shaxzod.clone(), cyr.clone()],
        ),
        (
            "shakhzod",
            vec![shahzod.clone(), shaxzod.clone(), cyr.clone()],
        ),
        ("ahzo", vec![shahzod.clone(), shaxzod.clone(), cyr.clone()]),
        // Typed letter by letter: "Shak" is on its way to Shakhzod, kept as "shahzod".
        ("Shak", vec![shahzod.clone(), shaxzod.clone(), cyr.clone()]),
        ("Шак", vec![shahzod.clone(), shaxzod.clone(), cyr.clone()]),
        // G´ulomova too: ´ is an apostrophe like the others.
        ("g'ulomov", vec![gulomov.clone(), acute.clone()]),
        ("Ғуломов", vec![gulomov.clone(), acute.clone()]),
        ("qodirov", vec![kodirov.clone()]),
        ("kodirov", vec![kodirov.clone()]),
        ("Цой", vec![tsoy.clone()]),
        ("shahzod karimov", vec![shahzod.clone()]),
        ("0%_r", vec![percent.clone()]),
        ("a_b", vec![under.clone()]),
        ("+998 (90) 123-45-67", vec![tsoy.clone()]),
        ("901234567", vec![tsoy.clone()]),
        ("@jasur_uz", vec![plain.clone()]),
        ("5000000123", vec![plain.clone()]),
        (&tsoy, vec![tsoy.clone()]),
        ("zzzz", vec![]),
        ("Otkirjon", vec![acute.clone()]),
        ("Oʻtkirjon gulomova", vec![acute.clone()]),
        ("Ўткиржон", vec![acute.clone()]),
        ("O´tkirbek", vec![otkirbek.clone()]),
        // A short word beside a longer one starts a word of the name, wherever it stands.
        ("shahzod k", vec![shahzod.clone()]),
        ("k shahzod", vec![shahzod.clone()]),
        ("shahzod a", vec![]),
        // A phone beside a name matches on its digits, however it is written.
        ("Viktor +998901234567", vec![tsoy.clone()]),
        ("Tsoy 90-123-45-67", vec![tsoy.clone()]),
    ];
    for (q, want) in cases {
        let r = app
            .get(&format!("/admin/users?q={}", enc(q)), &[&cookie])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{q}");
        let got = sorted(ids_in(&r.body));
        let want = sorted(want);
        assert_eq!(got, want, "search {q:?}");
        if want.is_empty() {
            assert!(r.body.contains("id=\"empty-no-matches\""));
            assert!(r.body.contains("id=\"clear-filters\""));
        }
    }
}

#[sqlx::test]
async fn the_csv_export_is_complete_neutralised_and_audited(pool: PgPool) {
    let app = app(pool.clone());
    let admin = staff(&app, &pool, Role::Admin, "+998901110001").await;
    let support = staff(&app, &pool, Role::Support, "+998901110002").await;
    person(
        &pool,
        "=HYPERLINK(\"http://x\")",
        Some("Ok"),
        Some("+998901234567"),
    )
    .await;
    person(&pool, "@risky", Some("-2+3"), None).await;
    person(&pool, "Ўлмас", Some("\"quoted\""), None).await;
    let other_admin = create_user(&pool, Role::Admin, "+998901110003").await;

    let r = app
        .get("/admin/users/export.csv?has_phone=false", &[&support])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = app.get("/admin/users/export.csv", &[&admin]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(r.body.starts_with('\u{feff}'), "UTF-8 BOM");
    let lines: Vec<&str> = r.body.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("\"id\",\"firstName\""));
    assert!(r.body.contains("\"'=HYPERLINK(\"\"http://x\"\")\""));
    assert!(
        r.body.contains("\"+998901234567\""),
        "a phone stays as it is"
    );
    assert!(r.body.contains("\"'@risky\",\"'-2+3\""));
    assert!(r.body.contains("\"Ўлмас\",\"\"\"quoted\"\"\""));
    // An ADMIN's export holds only USER and SUPPORT rows.
    assert!(!r.body.contains(&other_admin));
    let expected_rows = count(
        &pool,
        r#"SELECT count(*) FROM "User" WHERE "role" IN ('USER', 'SUPPORT')"#,
    )
    .await;
    assert_eq!(lines.len() as i64 - 1, expected_rows);
    // The export is logged once the stream ends.
    let mut logged = None;
    for _ in 0..50 {
        logged = sqlx::query_scalar::<_, serde_json::Value>(
            r#"SELECT "metadata" FROM "EventLog" WHERE "eventType" = 'ADMIN_EXPORT'"#,
        )
        .fetch_optional(&pool)
        .await
        .unwrap();
        if logged.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let logged = logged.expect("ADMIN_EXPORT event");
    assert_eq!(logged["rows"], expected_rows);

    let r = app
        .get("/admin/users/export.csv?source=NOPE", &[&admin])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("source"));
}

#[sqlx::test]
async fn bad_parameters_are_400_and_unknown_users_404(pool: PgPool) {
    let app = app(pool.clone());
    let cookie = staff(&app, &pool, Role::Support, "+998901119999").await;
    let id = person(&pool, "Some", None, None).await;
    for (url, param) in [
        ("/admin/users?role=KING", "role"),
        ("/admin/users?lang=Russian!", "lang"),
        ("/admin/users?created_from=2026-13-01", "created_from"),
        ("/admin/users?created_from=2026-1-1", "created_from"),
        ("/admin/users?created_to=-2024-01-01", "created_to"),
        (
            "/admin/users?created_from=2026-02-01&created_to=2026-01-01",
            "created_to",
        ),
        ("/admin/users?has_telegram=yes", "has_telegram"),
        ("/admin/users?sort=age", "sort"),
        ("/admin/users?q=a+b+c+d+e+f", "q"),
    ] {
        let r = app.get(url, &[&cookie]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}");
        assert!(r.body.contains(param), "{url} names {param}");
    }
    // A cursor of the created sort is no position in the name sort.
    let r = app.get("/admin/users?per_page=1", &[&cookie]).await;
    let i = r.body.find("id=\"next-page\"").unwrap();
    let href = r.body[..i].rsplit("href=\"").next().unwrap();
    let next = href.split('"').next().unwrap().replace("&amp;", "&");
    let r = app.get(&format!("{next}&sort=name"), &[&cookie]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    for url in [
        format!("/admin/users/{id}?platform=FAX"),
        format!("/admin/users/{id}?date=yesterday"),
        format!("/admin/users/{id}?before=forged.cursor"),
        format!("/admin/users/{id}?at=no-such-event"),
    ] {
        let r = app.get(&url, &[&cookie]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}");
    }
    // A name in the document's title is escaped like everywhere else on the page.
    let odd = person(&pool, "</title><meta http-equiv=\"refresh\">", None, None).await;
    let r = app.get(&format!("/admin/users/{odd}"), &[&cookie]).await;
    assert_eq!(r.status, StatusCode::OK);
    let title = &r.body[r.body.find("<title>").unwrap()..r.body.find("</title>").unwrap()];
    assert!(
        title.starts_with("<title>&lt;/title&gt;&lt;meta"),
        "{title}"
    );
    assert!(!r.body.contains("<meta http-equiv=\"refresh\">"));
    // The slashed form of a page is a redirect to the page, never to another site.
    let r = app
        .get(&format!("/admin/users/{id}/?platform=WEB"), &[&cookie])
        .await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        r.location(),
        Some(format!("/admin/users/{id}?platform=WEB").as_str())
    );
    let r = app.get("//evil.example/", &[&cookie]).await;
    assert_ne!(r.location(), Some("//evil.example"));
    // The event lookup runs beside the user's: a user who is not there is still a 404.
    let r = app
        .get("/admin/users/no-such-user?at=no-such-event", &[&cookie])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .get(&format!("/admin/users/{id}?at=no-such-event"), &[&cookie])
        .await;
    assert!(
        r.body.contains("at: this user has no such event"),
        "{}",
        r.body
    );
    for url in ["/admin/users/no-such-user", "/admin/users/%00%01"] {
        let r = app.get(url, &[&cookie]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{url}");
    }
    let long = format!("/admin/users/{}", "x".repeat(300));
    assert_eq!(
        app.get(&long, &[&cookie]).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn first_page_body(app: &TestApp, id: &str, cookie: &str) -> String {
    app.get(&format!("/admin/users/{id}"), &[cookie]).await.body
}

#[sqlx::test]
async fn the_timeline_pages_filters_and_opens_at_an_event(pool: PgPool) {
    let app = app(pool.clone());
    let cookie = staff(&app, &pool, Role::Support, "+998901119999").await;
    let id = person(&pool, "Timeline", Some("Owner"), None).await;
    // 120 events a minute apart, every third on TELEGRAM, ending 2026-03-01 12:00 UTC.
    sqlx::query(
        r#"INSERT INTO "EventLog" ("id", "userId", "eventType", "platform", "metadata", "userAgent", "createdAt")
           SELECT 'ev-' || lpad(g::text, 3, '0'), $1,
                  CASE WHEN g % 2 = 0 THEN 'COURSE_START' ELSE 'PAGE_VIEW' END,
                  CASE WHEN g % 3 = 0 THEN 'TELEGRAM' ELSE 'WEB' END::"RegistrationSource",
                  jsonb_build_object('title', 'Дарс ' || g, 'nested', jsonb_build_object('k', g)),
                  repeat('Mozilla/5.0 ', 40),
                  timestamp '2026-03-01 12:00:00' - (120 - g) * interval '1 minute'
           FROM generate_series(1, 120) g"#,
    )
    .bind(&id)
    .execute(&pool)
    .await
    .unwrap();
    let events = |body: &str| -> Vec<String> {
        body.split("data-event-id=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_string())
            .collect()
    };
    let r = app.get(&format!("/admin/users/{id}"), &[&cookie]).await;
    assert_eq!(r.status, StatusCode::OK);
    let first = events(&r.body);
    assert_eq!(first.len(), 50);
    assert_eq!(first[0], "ev-120");
    assert!(r.body.contains("Дарс 120"), "non-ASCII metadata as text");
    assert!(!r.body.contains("\\u0414"));
    // Walk the rest through the signed cursor.
    let i = r.body.find("id=\"timeline-older\"").unwrap();
    let href = r.body[..i].rsplit("href=\"").next().unwrap();
    let older = href.split('"').next().unwrap().replace("&amp;", "&");
    let r = app.get(&older, &[&cookie]).await;
    assert_eq!(events(&r.body)[0], "ev-070");
    let link = |body: &str, id: &str| -> Option<String> {
        let i = body.find(&format!("id=\"{id}\""))?;
        let href = body[..i].rsplit("href=\"").next().unwrap();
        Some(href.split('"').next().unwrap().replace("&amp;", "&"))
    };
    assert!(
        link(&first_page_body(&app, &id, &cookie).await, "timeline-newer").is_none(),
        "the newest page has nothing newer"
    );
    // And back up: the newer page is the first page again, with nothing newer above it.
    let newer = link(&r.body, "timeline-newer").expect("a page down has newer events");
    let up = app.get(&newer, &[&cookie]).await;
    assert_eq!(events(&up.body), first);
    assert!(link(&up.body, "timeline-newer").is_none());
    assert!(link(&up.body, "timeline-older").is_some());
    // Two pages down and back by one: the page in between, whole.
    let third = app
        .get(&link(&r.body, "timeline-older").unwrap(), &[&cookie])
        .await;
    assert_eq!(events(&third.body)[0], "ev-020");
    let back_one = app
        .get(&link(&third.body, "timeline-newer").unwrap(), &[&cookie])
        .await;
    assert_eq!(events(&back_one.body), events(&r.body));
    let bad = app.get(&format!("{newer}&before=x"), &[&cookie]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let r = app
        .get(
            &format!("/admin/users/{id}?platform=TELEGRAM&type=COURSE_START"),
            &[&cookie],
        )
        .await;
    let got = events(&r.body);
    assert_eq!(got.len(), 20, "every sixth event");
    assert!(got.iter().all(|e| {
        let n: i32 = e[3..].parse().unwrap();
        n % 6 == 0
    }));

    let r = app
        .get(&format!("/admin/users/{id}?at=ev-042"), &[&cookie])
        .await;
    let got = events(&r.body);
    assert_eq!(got[0], "ev-042");
    let newer = link(&r.body, "timeline-newer").expect("newer events above ev-042");
    let up = app.get(&newer, &[&cookie]).await;
    assert_eq!(events(&up.body)[49], "ev-043");
    let at = r.body.find("data-event-id=\"ev-042\"").unwrap();
    let start = r.body[..at].rfind("<li").unwrap();
    let end = at + r.body[at..].find('>').unwrap();
    assert!(
        r.body[start..end].contains("event highlight"),
        "{}",
        &r.body[start..end]
    );

    // 2026-03-01 in Tashkent ends at 19:00 UTC; the day before ends at 2026-02-28 19:00 UTC.
    let r = app
        .get(&format!("/admin/users/{id}?date=2026-02-28"), &[&cookie])
        .await;
    assert!(events(&r.body).is_empty(), "no events before that day ends");
    let r = app
        .get(&format!("/admin/users/{id}?date=2026-03-01"), &[&cookie])
        .await;
    assert_eq!(events(&r.body)[0], "ev-120");
}

#[sqlx::test]
async fn role_changes_follow_the_matrix_and_are_audited(pool: PgPool) {
    let app = app(pool.clone());
    let admin = staff(&app, &pool, Role::Admin, "+998901110001").await;
    let root = staff(&app, &pool, Role::SuperAdmin, "+998901110009").await;
    let root_id: String =
        sqlx::query_scalar(r#"SELECT "id" FROM "User" WHERE "phone" = '+998901110009'"#)
            .fetch_one(&pool)
            .await
            .unwrap();
    let target = person(&pool, "Target", None, None).await;
    let other_admin = create_user(&pool, Role::Admin, "+998901110002").await;

    let r = app
        .post_form(
            "/fn/users/set_role",
            &format!("user_id={target}&role=SUPPORT"),
            &[&admin],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let role: String = sqlx::query_scalar(r#"SELECT "role"::text FROM "User" WHERE "id" = $1"#)
        .bind(&target)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(role, "SUPPORT");
    let meta: serde_json::Value = sqlx::query_scalar(
        r#"SELECT "metadata" FROM "EventLog" WHERE "eventType" = 'ADMIN_ROLE_CHANGE'"#,
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(meta["targetUserId"], target.as_str());
    assert_eq!(meta["oldRole"], "USER");
    assert_eq!(meta["newRole"], "SUPPORT");
    // The action shows on the target's page as a staff action, not as their activity.
    let page = app.get(&format!("/admin/users/{target}"), &[&admin]).await;
    let staff_part = &page.body[page.body.find("id=\"staff-actions\"").unwrap()..];
    let (staff_part, rest) = staff_part.split_at(staff_part.find("id=\"timeline\"").unwrap());
    let timeline = &rest[..rest.find("class=\"pager\"").unwrap()];
    assert!(staff_part.contains("ADMIN_ROLE_CHANGE"));
    assert!(!timeline.contains("ADMIN_ROLE_CHANGE"));

    for (who, body) in [
        (&admin, format!("user_id={target}&role=ADMIN")),
        (&admin, format!("user_id={other_admin}&role=USER")),
    ] {
        let r = app.post_form("/fn/users/set_role", &body, &[who]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{body}");
    }
    let r = app
        .post_form(
            "/fn/users/set_role",
            &format!("user_id={root_id}&role=ADMIN"),
            &[&root],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "the last SUPER_ADMIN keeps it"
    );
    // Without JavaScript the same refusal comes back to the page as a one-time message.
    let page = format!("/admin/users/{root_id}");
    let r = app
        .send(
            axum::http::Request::post("/fn/users/set_role")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "text/html")
                .header("origin", ORIGIN)
                .header("referer", format!("{ORIGIN}{page}"))
                .header("host", "127.0.0.1:3000")
                .header("cookie", &root)
                .body(axum::body::Body::from(format!(
                    "user_id={root_id}&role=ADMIN"
                )))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), Some(page.as_str()));
    let flash = r.cookie("portal_flash").expect("a one-time message");
    let shown = app.get(&page, &[&root, &flash]).await;
    assert!(
        shown.body.contains("the last SUPER_ADMIN keeps the role"),
        "{}",
        shown.body
    );
    let r = app
        .post_form(
            "/fn/users/set_role",
            &format!("user_id={target}&role=KING"),
            &[&root],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        count(
            &pool,
            r#"SELECT count(*) FROM "EventLog" WHERE "eventType" = 'ADMIN_ROLE_CHANGE'"#
        )
        .await,
        1
    );
}

#[sqlx::test]
async fn staff_revoke_sessions_within_the_matrix(pool: PgPool) {
    let app = app(pool.clone());
    let admin = staff(&app, &pool, Role::Admin, "+998901110001").await;
    let victim_id = create_user(&pool, Role::User, "+998901110005").await;
    let victim = app.login("+998901110005", PASSWORD).await.unwrap();
    let peer_id = create_user(&pool, Role::Admin, "+998901110006").await;
    app.login("+998901110006", PASSWORD).await.unwrap();
    let sid = |uid: String| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(r#"SELECT "id" FROM "Session" WHERE "userId" = $1"#)
                .bind(uid)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let peer_session = sid(peer_id.clone()).await;
    let r = app
        .post_form(
            "/fn/users/revoke_session",
            &format!("user_id={peer_id}&session_id={peer_session}"),
            &[&admin],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let victim_session = sid(victim_id.clone()).await;
    let r = app
        .post_form(
            "/fn/users/revoke_session",
            &format!("user_id={victim_id}&session_id={victim_session}"),
            &[&admin],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The revoked browser is signed out at its next request.
    let r = app.get("/account", &[&victim]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let by: String = sqlx::query_scalar(
        r#"SELECT "metadata"->>'targetUserId' FROM "EventLog" WHERE "eventType" = 'SESSION_REVOKED'"#,
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(by, victim_id);
}

/// leptos_server suppresses resource loads with one process-wide flag while any thread
/// generates a route list (leptos-rs/leptos#4773): a resource first polled meanwhile awaits
/// forever. Building a router, as every test does, must not open that window.
#[sqlx::test]
async fn pages_answer_while_another_thread_builds_routers(pool: PgPool) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    use tower::ServiceExt;

    let app = app(pool.clone());
    create_user(&pool, Role::SuperAdmin, "+998901112233").await;
    let cookie = app.login("+998901112233", PASSWORD).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let builder = {
        let (stop, state) = (stop.clone(), app.state.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let _enter = rt.enter();
            while !stop.load(Ordering::Relaxed) {
                drop(unified_portal::server::router(state.clone()));
            }
        })
    };
    let (mut sent, mut hung) = (0, 0);
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        let req = axum::http::Request::get("/admin/users")
            .header(axum::http::header::COOKIE, &cookie)
            .extension(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                [127, 0, 0, 1],
                40000,
            ))))
            .body(axum::body::Body::empty())
            .unwrap();
        sent += 1;
        let answer = app.router.clone().oneshot(req);
        if tokio::time::timeout(Duration::from_secs(2), answer)
            .await
            .is_err()
        {
            hung += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    builder.join().unwrap();
    assert_eq!(hung, 0, "{hung} of {sent} requests never answered");
}

/// Rows other services wrote, with metadata nested past serde_json's 128 levels or holding
/// quotes, and bodies past the server functions' limit: pages answer, nothing is a 500.
#[sqlx::test]
async fn odd_metadata_and_oversized_bodies_get_answers_not_500s(pool: PgPool) {
    let app = app(pool.clone());
    let admin = create_user(&pool, Role::Admin, "+998901119990").await;
    let cookie = app.login("+998901119990", PASSWORD).await.unwrap();
    let target = person(&pool, "Deep", None, None).await;
    let nested = |n: usize| format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n));
    let (deep, mid) = (nested(200), nested(40));
    let deep_target = format!(r#"{{"targetUserId":"{target}","x":{deep}}}"#);
    for (id, user, meta) in [
        ("ev-deep", target.as_str(), deep.as_str()),
        ("ev-mid", target.as_str(), mid.as_str()),
        ("ev-quote", target.as_str(), r#"{"quote":"a\", \"b"}"#),
        ("ev-mine", admin.as_str(), deep.as_str()),
        ("ev-staff", admin.as_str(), deep_target.as_str()),
    ] {
        sqlx::query(
            r#"INSERT INTO "EventLog" ("id", "userId", "eventType", "platform", "metadata")
               VALUES ($1, $2, 'ADMIN_NOTE', 'WEB', $3::jsonb)"#,
        )
        .bind(id)
        .bind(user)
        .bind(meta)
        .execute(&pool)
        .await
        .unwrap();
    }
    for path in [
        format!("/admin/users/{target}"),
        format!("/admin/users/{target}?at=ev-deep"),
        format!("/admin/users/{admin}"),
        format!("/admin/events?user={target}"),
        "/admin/events".to_string(),
        "/admin/audit".to_string(),
        "/account".to_string(),
    ] {
        let r = app.get(&path, &[&cookie]).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{path}: {}",
            &r.body[..r.body.len().min(300)]
        );
    }
    let r = app.get(&format!("/admin/users/{target}"), &[&cookie]).await;
    // Past 128 levels the value is shown as the text PostgreSQL keeps; past 16 the tree
    // stops and the rest is its JSON text; the quotes inside a value stay escaped.
    let text_of = |t: &str| r.body.contains(t) || r.body.contains(&t.replace('"', "&quot;"));
    assert!(
        text_of(r#"{\"a\": {\"a\": 1}}"#),
        "past 128 levels, as text"
    );
    assert!(
        text_of(r#""{\"a\":{\"a\":"#) && text_of(r#"{\"a\":1}}"#),
        "past 16 levels, as text"
    );
    assert!(
        r.body.contains(r#""a\", \"b""#) || r.body.contains("&quot;a\\&quot;, \\&quot;b&quot;"),
        "a quote inside a value is escaped"
    );

    // A server function's body over its limit is a 413, signed in or not.
    let big = format!("query[q]={}", "a".repeat(2_100_000));
    let r = app.post_form("/fn/users/list", &big, &[&cookie]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(r.body.contains("256 KiB"), "{}", r.body);
    let r = app
        .post_form(
            "/fn/users/list",
            &format!("query[q]={}", "a".repeat(300_000)),
            &[&cookie],
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = app.post_form("/fn/users/set_role", &big, &[]).await;
    assert!(r.status.is_client_error(), "{}", r.status);
    // Bytes that are not UTF-8 are a 400, not a failed decode (a 500).
    let req = axum::http::Request::post("/fn/auth/whoami")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", ORIGIN)
        .header("host", "127.0.0.1:3000")
        .body(axum::body::Body::from(vec![0xffu8, 0xfe]))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("not UTF-8"), "{}", r.body);
    // Within the limit the function itself answers.
    let r = app
        .post_form(
            "/fn/users/list",
            &format!("query[q]={}", "a".repeat(2_000)),
            &[&cookie],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
}

/// A repeated parameter means the same thing to the page and to its export: the last one.
#[sqlx::test]
async fn a_repeated_filter_reads_the_same_on_the_page_and_in_the_export(pool: PgPool) {
    run(
        &pool,
        SeedOptions {
            users: 300,
            events: 0,
            seed: 4,
            progress: false,
        },
    )
    .await
    .unwrap();
    let app = app(pool.clone());
    let cookie = staff(&app, &pool, Role::Admin, "+998901119991").await;
    let kz = count(
        &pool,
        r#"SELECT count(*) FROM "User" WHERE "region" = 'KZ' AND "role" IN ('USER', 'SUPPORT')"#,
    )
    .await;
    let uz = count(
        &pool,
        r#"SELECT count(*) FROM "User" WHERE "region" = 'UZ' AND "role" IN ('USER', 'SUPPORT')"#,
    )
    .await;
    assert_ne!(kz, uz);
    let page = app
        .get("/admin/users?region=UZ&region=KZ", &[&cookie])
        .await;
    let shown = count(
        &pool,
        r#"SELECT count(*) FROM "User" WHERE "region" = 'KZ'"#,
    )
    .await;
    assert_eq!(
        matching(&page.body),
        format!("{shown} matching user{}", if shown == 1 { "" } else { "s" })
    );
    let csv = app
        .get("/admin/users/export.csv?region=UZ&region=KZ", &[&cookie])
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(
        csv.body.lines().count() as i64 - 1,
        kz,
        "the export reads region=KZ"
    );
    // An empty last value clears the filter, on both.
    let csv = app
        .get("/admin/users/export.csv?region=UZ&region=", &[&cookie])
        .await;
    let all = count(
        &pool,
        r#"SELECT count(*) FROM "User" WHERE "role" IN ('USER', 'SUPPORT')"#,
    )
    .await;
    assert_eq!(csv.body.lines().count() as i64 - 1, all);
}

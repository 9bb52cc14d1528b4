//! `POST /api/v1/events`, API keys (page, server functions, CLI) and the OpenAPI document.
mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;
use unified_portal::ingest::ssr as keys;
use unified_portal::model::{Platform, Role};

async fn post_events(
    app: &TestApp,
    token: Option<&str>,
    body: impl Into<Body>,
) -> (StatusCode, Value) {
    let mut b = Request::post("/api/v1/events").header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let r = app.send(b.body(body.into()).unwrap()).await;
    let v = serde_json::from_str(&r.body)
        .unwrap_or_else(|e| panic!("JSON answer expected ({e}): {} {}", r.status, r.body));
    (r.status, v)
}

async fn post_json(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    post_events(app, Some(token), body.to_string()).await
}

async fn key(pool: &PgPool, platform: Platform) -> String {
    keys::create_key(pool, "test key", platform)
        .await
        .unwrap()
        .key
}

async fn events(pool: &PgPool) -> i64 {
    count(pool, r#"SELECT count(*) FROM "EventLog""#).await
}

/// A bearer session token, as `POST /api/v1/auth/telegram` would give.
async fn session_token(app: &TestApp, user_id: &str, platform: Platform) -> String {
    let mut conn = app.pool.acquire().await.unwrap();
    unified_portal::auth::ssr::open_session_row(
        &mut conn,
        &app.state.config,
        user_id,
        platform,
        None,
        unified_portal::auth::ssr::new_bearer_secret(),
    )
    .await
    .unwrap()
    .secret
}

fn items(v: &Value) -> Vec<(u64, String)> {
    v["error"]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items expected: {v}"))
        .iter()
        .map(|i| {
            (
                i["index"].as_u64().unwrap(),
                i["field"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[sqlx::test]
async fn a_batch_is_accepted_once_and_retries_count_as_duplicates(pool: PgPool) {
    let app = app(pool.clone());
    let user = create_user(&pool, Role::User, "+998901110001").await;
    sqlx::query(r#"UPDATE "User" SET "telegramId" = 777 WHERE "id" = $1"#)
        .bind(&user)
        .execute(&pool)
        .await
        .unwrap();
    let k = key(&pool, Platform::MobileApp).await;
    let a = uuid::Uuid::new_v4().to_string();
    let b = uuid::Uuid::new_v4().to_string();
    let batch = json!({"events": [
        {"id": a, "userId": user, "eventType": "COURSE_START", "metadata": {"course": "math", "name": "Алгебра"},
         "createdAt": "2026-01-02T03:04:05.678+05:00", "ipAddress": "10.0.0.1", "userAgent": "app/1.0"},
        {"id": b, "telegramId": 777, "eventType": "LESSON_DONE"},
        // The same id twice in one batch is one event.
        {"id": b, "telegramId": 777, "eventType": "LESSON_DONE"},
    ]});
    let (s, v) = post_json(&app, &k, batch.clone()).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v, json!({"accepted": 2, "duplicates": 1}));
    let (s, v) = post_json(&app, &k, batch).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(v, json!({"accepted": 0, "duplicates": 3}));
    assert_eq!(events(&pool).await, 2);
    // The same id spelt in capitals is still the same event.
    let (_, v) = post_json(
        &app,
        &k,
        json!({"events": [{"id": a.to_uppercase(), "userId": user, "eventType": "COURSE_START"}]}),
    )
    .await;
    assert_eq!(v, json!({"accepted": 0, "duplicates": 1}));
    // Without an id every post is a new event.
    for _ in 0..2 {
        let (_, v) = post_json(
            &app,
            &k,
            json!({"events": [{"userId": user, "eventType": "PING"}]}),
        )
        .await;
        assert_eq!(v, json!({"accepted": 1, "duplicates": 0}));
    }
    let row: (String, String, String, Value, String, String, String) = sqlx::query_as(
        r#"SELECT "userId", "eventType", "platform"::text, "metadata", "ipAddress", "userAgent",
                  to_char("createdAt", 'YYYY-MM-DD HH24:MI:SS.MS')
           FROM "EventLog" WHERE "id" = $1"#,
    )
    .bind(&a)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(row.0, user);
    assert_eq!(row.1, "COURSE_START");
    assert_eq!(row.2, "MOBILE_APP", "the platform is the key's");
    assert_eq!(row.3["name"], "Алгебра");
    assert_eq!((row.4.as_str(), row.5.as_str()), ("10.0.0.1", "app/1.0"));
    assert_eq!(row.6, "2026-01-01 22:04:05.678", "stored in UTC");
    let tg: String = sqlx::query_scalar(r#"SELECT "userId" FROM "EventLog" WHERE "id" = $1"#)
        .bind(&b)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(tg, user, "telegramId resolves to the person");
    // The key's last use is recorded (off the request's path).
    let mut used = false;
    for _ in 0..50 {
        used = count(
            &pool,
            r#"SELECT count(*) FROM "ApiKey" WHERE "lastUsedAt" IS NOT NULL"#,
        )
        .await
            == 1;
        if used {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(used, "lastUsedAt is set");
    // And the events are on the person's own timeline.
    let cookie = app.login("+998901110001", PASSWORD).await.unwrap();
    let page = app.get("/account", &[&cookie]).await;
    assert!(page.body.contains("COURSE_START") && page.body.contains("LESSON_DONE"));
}

#[sqlx::test]
async fn one_bad_item_rejects_the_batch_and_every_bad_item_is_listed(pool: PgPool) {
    let app = app(pool.clone());
    let user = create_user(&pool, Role::User, "+998901110001").await;
    let k = key(&pool, Platform::Telegram).await;
    let future = (chrono::Utc::now() + chrono::Duration::minutes(10)).to_rfc3339();
    let big = "x".repeat(16 * 1024);
    let batch = json!({"events": [
        {"userId": user, "eventType": "OK_ONE"},
        {"userId": user, "eventType": "LOGIN"},
        {"userId": user, "eventType": "OK_TWO"},
        {"userId": "no-such-user", "eventType": "X"},
        {"telegramId": 424242, "eventType": "X"},
        {"userId": user, "eventType": "X", "createdAt": future},
        {"userId": user, "eventType": "X", "metadata": {"blob": big}},
        {"id": "not-a-uuid", "eventType": "lower", "metadata": "text", "ipAddress": "300.1.1.1"},
        {"userId": user, "eventType": "ADMIN_MERGE", "userAgent": "u".repeat(1025)},
        "not an object",
        {"userId": user, "telegramId": 1, "eventType": "X"},
        {"userId": user, "eventType": "X", "createdAt": "yesterday", "extra": 1},
        {"userId": user, "eventType": "E".repeat(65)},
    ]});
    let (s, v) = post_json(&app, &k, batch).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["code"], "invalid_events");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("11 events"),
        "{v}"
    );
    let mut got = items(&v);
    got.sort();
    let mut want: Vec<(u64, String)> = [
        (1, "eventType"),
        (3, "userId"),
        (4, "telegramId"),
        (5, "createdAt"),
        (6, "metadata"),
        (7, "eventType"),
        (7, "id"),
        (7, "ipAddress"),
        (7, "metadata"),
        (7, "userId"),
        (8, "eventType"),
        (8, "userAgent"),
        (9, "item"),
        (10, "userId"),
        (11, "createdAt"),
        (11, "extra"),
        (12, "eventType"),
    ]
    .iter()
    .map(|(i, f)| (*i, f.to_string()))
    .collect();
    want.sort();
    assert_eq!(got, want, "{v}");
    assert_eq!(events(&pool).await, 0, "nothing is written");
}

#[sqlx::test]
async fn each_rule_names_its_field(pool: PgPool) {
    let app = app(pool.clone());
    let user = create_user(&pool, Role::User, "+998901110001").await;
    let k = key(&pool, Platform::Web).await;
    let soon = (chrono::Utc::now() + chrono::Duration::minutes(4)).to_rfc3339();
    let cases = [
        (
            json!({"userId": "nobody", "eventType": "X"}),
            "userId",
            "no such user",
        ),
        (
            json!({"telegramId": 99, "eventType": "X"}),
            "telegramId",
            "no such user",
        ),
        (
            json!({"userId": user, "eventType": "SESSION_REVOKED"}),
            "eventType",
            "reserved",
        ),
        (
            json!({"userId": user, "eventType": "ADMIN_BLOCK"}),
            "eventType",
            "reserved",
        ),
        (
            json!({"userId": user, "eventType": "X", "createdAt": "2999-01-01T00:00:00Z"}),
            "createdAt",
            "future",
        ),
        (
            json!({"userId": user, "eventType": "X", "metadata": {"a": "y".repeat(16400)}}),
            "metadata",
            "16 KiB",
        ),
        (
            json!({"userId": user, "eventType": "X", "metadata": [1, 2]}),
            "metadata",
            "object",
        ),
        (
            json!({"userId": user, "eventType": "X", "metadata": {"k": "a\u{0}b"}}),
            "metadata",
            "NUL",
        ),
        (
            json!({"userId": user, "eventType": "X\u{0}"}),
            "eventType",
            "upper snake",
        ),
        (json!({"eventType": "X"}), "userId", "exactly one"),
    ];
    for (item, field, words) in cases {
        let (s, v) = post_json(&app, &k, json!({ "events": [item.clone()] })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{item}: {v}");
        let its = v["error"]["items"].as_array().unwrap();
        assert_eq!(its.len(), 1, "{v}");
        assert_eq!(its[0]["index"], 0);
        assert_eq!(its[0]["field"], field, "{item}: {v}");
        assert!(
            its[0]["message"].as_str().unwrap().contains(words),
            "{item}: {v}"
        );
    }
    assert_eq!(events(&pool).await, 0);
    // Just within the rules is fine.
    let ok = json!({"events": [{"userId": user, "eventType": "X", "createdAt": soon,
        "metadata": {"a": "y".repeat(16000)}, "userAgent": "u".repeat(1024), "ipAddress": "2001:db8::1"}]});
    let (s, v) = post_json(&app, &k, ok).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
}

#[sqlx::test]
async fn credentials_are_required_and_revoked_keys_refused(pool: PgPool) {
    let app = app(pool.clone());
    let user = create_user(&pool, Role::User, "+998901110001").await;
    let body = json!({"events": [{"userId": user, "eventType": "X"}]});
    let (s, v) = post_events(&app, None, body.to_string()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["error"]["code"], "unauthorized");
    for bad in ["upk_nope", "not-a-session"] {
        let (s, v) = post_json(&app, bad, body.clone()).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{bad}: {v}");
    }
    let created = keys::create_key(&pool, "bot", Platform::Telegram)
        .await
        .unwrap();
    let (s, _) = post_json(&app, &created.key, body.clone()).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    keys::revoke_key(&pool, &created.id).await.unwrap();
    let (s, v) = post_json(&app, &created.key, body.clone()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("revoked"),
        "{v}"
    );
    // An expired session token is no credential either.
    let t = session_token(&app, &user, Platform::Telegram).await;
    sqlx::query(
        r#"UPDATE "Session" SET "expiresAt" = now() AT TIME ZONE 'UTC' - interval '1 second'"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    let (s, _) = post_json(&app, &t, body).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(events(&pool).await, 1);
}

#[sqlx::test]
async fn bodies_over_1_mib_get_a_json_413_and_bad_json_a_400(pool: PgPool) {
    let app = app(pool.clone());
    let user = create_user(&pool, Role::User, "+998901110001").await;
    let k = key(&pool, Platform::Web).await;
    // Just under the limit is read (and here fails on its contents), just over is a 413.
    let filler = |n: usize| {
        let head = format!(
            "{{\"events\": [{{\"userId\": \"{user}\", \"eventType\": \"X\"}}], \"pad\": \""
        );
        let tail = "\"}";
        format!("{head}{}{tail}", "p".repeat(n - head.len() - tail.len()))
    };
    let (s, v) = post_events(&app, Some(&k), filler(1024 * 1024)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = post_events(&app, Some(&k), filler(1024 * 1024 + 1)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert_eq!(v["error"]["code"], "payload_too_large");
    for (body, words) in [
        ("{\"events\": [", "not valid JSON"),
        ("[]", "JSON object"),
        ("{\"events\": {}}", "array"),
        ("{\"events\": []}", "1 to 1000"),
        ("{\"evnts\": []}", "unknown field"),
        ("", "not valid JSON"),
    ] {
        let (s, v) = post_events(&app, Some(&k), body.to_string()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(words),
            "{body}: {v}"
        );
    }
    let many: Vec<Value> = (0..1001)
        .map(|_| json!({"userId": user, "eventType": "X"}))
        .collect();
    let (s, _) = post_json(&app, &k, json!({ "events": many })).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let thousand: Vec<Value> = (0..1000)
        .map(|_| json!({"userId": user, "eventType": "X"}))
        .collect();
    let (s, v) = post_json(&app, &k, json!({ "events": thousand })).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(events(&pool).await, 1000);
    // The sign-in route keeps its small limit.
    let big = format!("{{\"initData\": \"{}\"}}", "a".repeat(70 * 1024));
    let r = app
        .send(
            Request::post("/api/v1/auth/telegram")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(big))
                .unwrap(),
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
}

#[sqlx::test]
async fn a_session_token_posts_for_its_own_user_only(pool: PgPool) {
    let app = app(pool.clone());
    let me = create_user(&pool, Role::User, "+998901110001").await;
    let other = create_user(&pool, Role::User, "+998901110002").await;
    sqlx::query(r#"UPDATE "User" SET "telegramId" = 555 WHERE "id" = $1"#)
        .bind(&other)
        .execute(&pool)
        .await
        .unwrap();
    let t = session_token(&app, &me, Platform::Telegram).await;
    let (s, v) = post_json(
        &app,
        &t,
        json!({"events": [{"eventType": "APP_OPEN"}, {"userId": me, "eventType": "APP_CLOSE"}]}),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["accepted"], 2);
    let platforms: Vec<String> = sqlx::query_scalar(
        r#"SELECT DISTINCT "platform"::text FROM "EventLog" WHERE "userId" = $1"#,
    )
    .bind(&me)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        platforms,
        vec!["TELEGRAM".to_string()],
        "the session's platform"
    );
    let (s, v) = post_json(
        &app,
        &t,
        json!({"events": [
            {"eventType": "APP_OPEN"},
            {"userId": other, "eventType": "APP_OPEN"},
            {"telegramId": 555, "eventType": "APP_OPEN"},
        ]}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        items(&v),
        vec![(1, "userId".to_string()), (2, "telegramId".to_string())]
    );
    assert_eq!(events(&pool).await, 2);
}

#[sqlx::test]
async fn the_openapi_document_lists_the_api(pool: PgPool) {
    let app = app(pool);
    let r = app.get("/api/v1/openapi.json", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert!(v["openapi"].as_str().unwrap().starts_with("3.0"));
    assert!(v["paths"]["/api/v1/events"]["post"].is_object());
    assert!(v["paths"]["/api/v1/auth/telegram"]["post"].is_object());
    assert!(v["paths"]["/api/v1/session"]["get"].is_object());
    for code in ["202", "400", "401", "413", "422"] {
        assert!(
            v["paths"]["/api/v1/events"]["post"]["responses"][code].is_object(),
            "{code}"
        );
    }
    for code in ["200", "400", "401", "409"] {
        assert!(
            v["paths"]["/api/v1/auth/telegram"]["post"]["responses"][code].is_object(),
            "{code}"
        );
    }
}

#[sqlx::test]
async fn the_api_keys_page_creates_shows_once_and_revokes_without_javascript(pool: PgPool) {
    let app = app(pool.clone());
    create_user(&pool, Role::SuperAdmin, "+998901110009").await;
    let user = create_user(&pool, Role::User, "+998901110001").await;
    let c = app.login("+998901110009", PASSWORD).await.unwrap();
    let page = app.get("/admin/api-keys", &[&c]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No API keys yet."));
    assert!(
        page.body.contains("href=\"/admin/api-keys\""),
        "the nav links the page"
    );
    // A plain HTML form post: the server function answers with a redirect back.
    let form = |path: &str, body: &str| {
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .header(header::ORIGIN, ORIGIN)
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::REFERER, format!("{ORIGIN}/admin/api-keys"))
            .header(header::COOKIE, &c)
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let r = app
        .send(form(
            "/fn/api_keys/create",
            "name=Telegram+bot&platform=TELEGRAM",
        ))
        .await;
    assert!(r.status.is_redirection(), "{} {}", r.status, r.body);
    assert!(
        r.location().unwrap().contains("/admin/api-keys"),
        "{:?}",
        r.location()
    );
    let page = app.get("/admin/api-keys", &[&c]).await;
    let shown = page
        .body
        .split("upk_")
        .nth(1)
        .expect("the new key is shown");
    let secret: String = shown
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let k = format!("upk_{secret}");
    assert!(page.body.contains("Telegram bot"));
    let again = app.get("/admin/api-keys", &[&c]).await;
    assert!(!again.body.contains("upk_"), "shown only once");
    assert!(again.body.contains("Telegram bot") && again.body.contains("active"));
    let stored: String = sqlx::query_scalar(r#"SELECT "keyHash" FROM "ApiKey""#)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, keys::key_digest(&k));
    assert!(!stored.contains(&secret));
    let body = json!({"events": [{"userId": user, "eventType": "BOT_START"}]});
    assert_eq!(
        post_json(&app, &k, body.clone()).await.0,
        StatusCode::ACCEPTED
    );
    let id: String = sqlx::query_scalar(r#"SELECT "id" FROM "ApiKey""#)
        .fetch_one(&pool)
        .await
        .unwrap();
    let r = app
        .send(form("/fn/api_keys/revoke", &format!("id={id}")))
        .await;
    assert!(r.status.is_redirection(), "{} {}", r.status, r.body);
    assert_eq!(post_json(&app, &k, body).await.0, StatusCode::UNAUTHORIZED);
    let page = app.get("/admin/api-keys", &[&c]).await;
    assert!(page.body.contains("revoked "));
    // Both changes are the super admin's logged actions.
    let logged: Vec<String> = sqlx::query_scalar(
        r#"SELECT "eventType" FROM "EventLog" WHERE "eventType" LIKE 'ADMIN_API_KEY%' ORDER BY "createdAt""#,
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        logged,
        vec!["ADMIN_API_KEY_CREATED", "ADMIN_API_KEY_REVOKED"]
    );
    // A bad platform names the value.
    let r = app
        .post_form("/fn/api_keys/create", "name=x&platform=FAX", &[&c])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("FAX"), "{}", r.body);
}

// ---------------------------------------------------------------------------------------
// The CLI

fn db_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let db = pool.connect_options().get_database().unwrap().to_string();
    let mut u = url::Url::parse(&base).unwrap();
    u.set_path(&db);
    u.to_string()
}

fn cli(url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_unified-portal"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "error")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("binary runs")
}

#[sqlx::test]
async fn the_cli_creates_lists_and_revokes_keys(pool: PgPool) {
    let app = app(pool.clone());
    let user = create_user(&pool, Role::User, "+998901110001").await;
    let url = db_url(&pool);
    let o = cli(
        &url,
        &[
            "api-key",
            "create",
            "--platform",
            "MOBILE_APP",
            "--name",
            "Mobile app",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let id = lines[0].strip_prefix("id: ").unwrap().to_string();
    let k = lines[1].strip_prefix("key: ").unwrap().to_string();
    assert!(k.starts_with("upk_"));
    let body = json!({"events": [{"userId": user, "eventType": "APP_OPEN"}]});
    assert_eq!(
        post_json(&app, &k, body.clone()).await.0,
        StatusCode::ACCEPTED
    );
    let platform: String = sqlx::query_scalar(r#"SELECT "platform"::text FROM "EventLog""#)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(platform, "MOBILE_APP");

    let o = cli(&url, &["api-key", "list"]);
    assert!(o.status.success());
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.contains(&id) && out.contains("Mobile app") && out.contains("MOBILE_APP"),
        "{out}"
    );
    assert!(!out.contains(&k), "the key is never listed");

    let o = cli(&url, &["api-key", "revoke", &id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(post_json(&app, &k, body).await.0, StatusCode::UNAUTHORIZED);
    let out = String::from_utf8(cli(&url, &["api-key", "list"]).stdout).unwrap();
    assert!(
        !out.contains("\t-\n") && !out.trim_end().ends_with('-'),
        "{out}"
    );

    let o = cli(&url, &["api-key", "revoke", "no-such-id"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("no-such-id"), "{err}");

    let o = cli(
        &url,
        &["api-key", "create", "--platform", "FAX", "--name", "x"],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("FAX"), "{err}");
}

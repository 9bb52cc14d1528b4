//! Managing one user: block and unblock, erase, edit, Telegram link and unlink, each
//! checked against the rows it writes and the permission matrix.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use serde_json::Value;
use sqlx::PgPool;
use unified_portal::config::{Config, Secret};
use unified_portal::model::Role;
use unified_portal::telegram::verify::{sign_mini_app, sign_widget};
use url::form_urlencoded::Serializer;

const TOKEN: &str = "7000000001:AAF-integration_test_token-0123456789";

fn tg_config() -> Config {
    let mut c = config();
    c.telegram_bot_token = Some(Secret::new(TOKEN));
    c.telegram_bot_username = Some("portal_test_bot".into());
    c
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn widget_query(fields: &[(&str, &str)]) -> String {
    let hash = sign_widget(fields, TOKEN);
    let mut s = Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.append_pair("hash", &hash);
    s.finish()
}

fn mini_app_init_data(user_json: &str, auth_date: i64) -> String {
    let auth_date = auth_date.to_string();
    let fields = [
        ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
        ("user", user_json),
        ("auth_date", auth_date.as_str()),
    ];
    let hash = sign_mini_app(&fields, TOKEN);
    let mut s = Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.append_pair("hash", &hash);
    s.finish()
}

async fn post_json(app: &TestApp, path: &str, body: &Value) -> Res {
    app.send(
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn bearer_get(app: &TestApp, path: &str, token: &str) -> Res {
    app.send(
        Request::get(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// A form post as a browser without JavaScript sends it.
async fn plain_post(app: &TestApp, path: &str, body: &str, cookie: &str, referer: &str) -> Res {
    app.send(
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .header(header::ORIGIN, ORIGIN)
            .header(header::REFERER, format!("{ORIGIN}{referer}"))
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::COOKIE, cookie)
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn staff(app: &TestApp, pool: &PgPool, role: Role, phone: &str) -> (String, String) {
    let id = create_user(pool, role, phone).await;
    (
        id,
        app.login(phone, PASSWORD).await.expect("staff signs in"),
    )
}

async fn set_telegram(pool: &PgPool, id: &str, tg: i64, username: Option<&str>) {
    sqlx::query(
        r#"UPDATE "User" SET "telegramId" = $2, "telegramUsername" = $3, "telegramPhotoUrl" = 'https://t.me/i/userpic/320/x.svg' WHERE "id" = $1"#,
    )
    .bind(id)
    .bind(tg)
    .bind(username)
    .execute(pool)
    .await
    .unwrap();
}

/// The whole row, to show an action changed nothing.
async fn row(pool: &PgPool, id: &str) -> Value {
    sqlx::query_scalar(r#"SELECT to_jsonb(u) FROM "User" u WHERE "id" = $1"#)
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn events(pool: &PgPool, event_type: &str) -> Vec<(String, Value)> {
    sqlx::query_as::<_, (String, Value)>(
        r#"SELECT "userId", "metadata" FROM "EventLog" WHERE "eventType" = $1 ORDER BY "createdAt", "id""#,
    )
    .bind(event_type)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn sessions_of(pool: &PgPool, id: &str) -> i64 {
    sqlx::query_scalar(r#"SELECT count(*) FROM "Session" WHERE "userId" = $1"#)
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_block_ends_every_session_and_refuses_every_sign_in(pool: PgPool) {
    let app = app_with(pool.clone(), tg_config());
    let (_, admin) = staff(&app, &pool, Role::Admin, "+998901110001").await;
    let victim = create_user(&pool, Role::User, "+998901110005").await;
    set_telegram(&pool, &victim, 7_001, Some("victim")).await;
    let cookie = app.login("+998901110005", PASSWORD).await.unwrap();
    let init = mini_app_init_data(r#"{"id":7001,"first_name":"Test"}"#, now());
    let res = post_json(
        &app,
        "/api/v1/auth/telegram",
        &serde_json::json!({ "initData": init }),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let token = serde_json::from_str::<Value>(&res.body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        bearer_get(&app, "/api/v1/session", &token).await.status,
        StatusCode::OK
    );
    assert_eq!(app.get("/account", &[&cookie]).await.status, StatusCode::OK);

    let res = app
        .post_form(
            "/fn/users/block",
            &format!("user_id={victim}&reason={}", enc("  spam & abuse ")),
            &[&admin],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body.contains("2 sessions ended"), "{}", res.body);
    let (blocked, reason): (bool, Option<String>) = sqlx::query_as(
        r#"SELECT "blockedAt" IS NOT NULL, "blockedReason" FROM "User" WHERE "id" = $1"#,
    )
    .bind(&victim)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(blocked);
    assert_eq!(reason.as_deref(), Some("spam & abuse"));
    assert_eq!(sessions_of(&pool, &victim).await, 0);
    let audit = events(&pool, "ADMIN_BLOCK").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].1["targetUserId"], victim.as_str());
    assert_eq!(audit[0].1["reason"], "spam & abuse");
    assert_eq!(audit[0].1["sessionsEnded"], 2);

    // The open browser session and the bearer token are dead at once.
    let res = app.get("/account", &[&cookie]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), Some("/login"));
    assert_eq!(
        bearer_get(&app, "/api/v1/session", &token).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Password: no session, and the login page says why.
    let res = app
        .post_form(
            "/login",
            &format!("phone={}&password={PASSWORD}", enc("+998901110005")),
            &[],
        )
        .await;
    assert!(res.cookie("portal_session").is_none());
    let state = res
        .cookie("portal_state")
        .expect("a flash for the login page");
    let page = app.get("/login", &[&state]).await;
    assert!(page.body.contains("blocked"), "{}", page.body);
    // The widget's redirect, the Mini App and the mobile app's widget data.
    let ad = now().to_string();
    let res = app
        .get(
            &format!(
                "/auth/telegram/callback?{}",
                widget_query(&[("id", "7001"), ("first_name", "Test"), ("auth_date", &ad)])
            ),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    assert!(res.cookie("portal_session").is_none());
    let res = post_json(
        &app,
        "/api/v1/auth/telegram",
        &serde_json::json!({ "initData": mini_app_init_data(r#"{"id":7001,"first_name":"Test"}"#, now()) }),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    let ad2 = now();
    let ad2s = ad2.to_string();
    let hash = sign_widget(
        &[("id", "7001"), ("first_name", "Test"), ("auth_date", &ad2s)],
        TOKEN,
    );
    let widget = serde_json::json!({ "widget": {
        "id": 7001, "first_name": "Test", "auth_date": ad2, "hash": hash } });
    let res = post_json(&app, "/api/v1/auth/telegram", &widget).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    assert_eq!(sessions_of(&pool, &victim).await, 0);

    // Blocking twice is refused; unblocking lets them in by every route again.
    let res = app
        .post_form(
            "/fn/users/block",
            &format!("user_id={victim}&reason=again"),
            &[&admin],
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let res = app
        .post_form("/fn/users/unblock", &format!("user_id={victim}"), &[&admin])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let (blocked, reason): (bool, Option<String>) = sqlx::query_as(
        r#"SELECT "blockedAt" IS NOT NULL, "blockedReason" FROM "User" WHERE "id" = $1"#,
    )
    .bind(&victim)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!blocked && reason.is_none());
    assert_eq!(events(&pool, "ADMIN_UNBLOCK").await.len(), 1);
    let cookie = app
        .login("+998901110005", PASSWORD)
        .await
        .expect("signs in");
    assert_eq!(app.get("/account", &[&cookie]).await.status, StatusCode::OK);
    let res = post_json(&app, "/api/v1/auth/telegram", &widget).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

#[sqlx::test]
async fn erase_leaves_no_personal_data(pool: PgPool) {
    let app = app_with(pool.clone(), tg_config());
    let (_, admin) = staff(&app, &pool, Role::Admin, "+998901110001").await;
    let victim = create_user(&pool, Role::Support, "+998907770011").await;
    sqlx::query(
        r#"UPDATE "User" SET "firstName" = 'Zulfiya', "lastName" = 'Karimova' WHERE "id" = $1"#,
    )
    .bind(&victim)
    .execute(&pool)
    .await
    .unwrap();
    set_telegram(&pool, &victim, 8_123_456, Some("zulfiya_k")).await;
    let cookie = app.login("+998907770011", PASSWORD).await.unwrap();
    // Events another platform sent about them, with personal keys and an address.
    sqlx::query(
        r#"INSERT INTO "EventLog" ("id", "userId", "eventType", "platform", "metadata", "ipAddress", "userAgent")
           VALUES (gen_random_uuid()::text, $1, 'COURSE_START', 'TELEGRAM',
                   '{"course": "A1", "phone": "+998907770011", "first_name": "Zulfiya", "username": "zulfiya_k", "telegramId": 8123456}',
                   '10.1.2.3', 'TelegramBot/1.0'),
                  (gen_random_uuid()::text, $1, 'PAYMENT', 'WEB', NULL, '10.1.2.4', NULL),
                  (gen_random_uuid()::text, $1, 'ODD', 'WEB', '[1, "x"]', NULL, NULL)"#,
    )
    .bind(&victim)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        r#"INSERT INTO "TelegramLoginReplay" ("digest", "userId", "expiresAt") VALUES ('d1', $1, now() + interval '1 day')"#,
    )
    .bind(&victim)
    .execute(&pool)
    .await
    .unwrap();
    // Their own edit and staff actions that recorded personal values.
    let res = app
        .post_form(
            "/fn/account/edit",
            "first_name=Zulfiyahon&last_name=Karimova&language=ru",
            &[&cookie],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = app
        .post_form(
            "/fn/users/edit",
            &format!("user_id={victim}&last_name=Karimova-Ali&phone=%2B998907770012"),
            &[&admin],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = app
        .post_form(
            "/fn/users/block",
            &format!("user_id={victim}&reason=Zulfiya+asked+by+phone"),
            &[&admin],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let cookie = {
        app.post_form("/fn/users/unblock", &format!("user_id={victim}"), &[&admin])
            .await;
        app.login("+998907770012", PASSWORD).await.unwrap()
    };
    let own_count = |pool: PgPool, id: String| async move {
        sqlx::query_scalar::<_, i64>(r#"SELECT count(*) FROM "EventLog" WHERE "userId" = $1"#)
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let before_events = own_count(pool.clone(), victim.clone()).await;
    let before_row = row(&pool, &victim).await;

    // A wrong confirmation is a 400 naming it, and changes nothing.
    for confirm in ["", "yes", &victim.to_uppercase(), &format!(" {victim}")] {
        let res = app
            .post_form(
                "/fn/users/erase",
                &format!("user_id={victim}&confirm={}", enc(confirm)),
                &[&admin],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{confirm:?}");
        assert!(res.body.contains("confirm"), "{}", res.body);
    }
    assert_eq!(row(&pool, &victim).await, before_row);
    assert_eq!(own_count(pool.clone(), victim.clone()).await, before_events);
    assert!(events(&pool, "ADMIN_ERASE").await.is_empty());

    let res = app
        .post_form(
            "/fn/users/erase",
            &format!("user_id={victim}&confirm={victim}"),
            &[&admin],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);

    let u = row(&pool, &victim).await;
    for col in [
        "firstName",
        "lastName",
        "phone",
        "telegramId",
        "telegramUsername",
        "telegramPhotoUrl",
        "passwordHash",
        "blockedReason",
    ] {
        assert!(u[col].is_null(), "{col} = {}", u[col]);
    }
    assert!(!u["erasedAt"].is_null());
    assert_eq!(u["role"], "USER");
    assert_eq!(u["passwordChangeRequired"], false);
    assert_eq!(sessions_of(&pool, &victim).await, 0);
    assert_eq!(
        count(
            &pool,
            &format!(r#"SELECT count(*) FROM "TelegramLoginReplay" WHERE "userId" = '{victim}'"#)
        )
        .await,
        0
    );
    // Every event of theirs is still there, without address, device or personal keys.
    assert_eq!(own_count(pool.clone(), victim.clone()).await, before_events);
    let own: Vec<(Option<String>, Option<String>, Option<Value>)> = sqlx::query_as(
        r#"SELECT "ipAddress", "userAgent", "metadata" FROM "EventLog" WHERE "userId" = $1"#,
    )
    .bind(&victim)
    .fetch_all(&pool)
    .await
    .unwrap();
    let personal = [
        "telegramId",
        "telegramUsername",
        "username",
        "phone",
        "firstName",
        "lastName",
        "first_name",
        "last_name",
        "name",
        "email",
        "photoUrl",
        "photo_url",
    ];
    for (ip, ua, meta) in &own {
        assert!(ip.is_none() && ua.is_none(), "{ip:?} {ua:?}");
        if let Some(Value::Object(m)) = meta {
            for k in personal {
                assert!(!m.contains_key(k), "{k} left in {m:?}");
            }
            if let Some(Value::Object(changes)) = m.get("changes") {
                assert!(
                    changes.values().all(|v| v == &serde_json::json!({})),
                    "{m:?}"
                );
            }
        }
    }
    let course: Value = sqlx::query_scalar(
        r#"SELECT "metadata" FROM "EventLog" WHERE "userId" = $1 AND "eventType" = 'COURSE_START'"#,
    )
    .bind(&victim)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(course, serde_json::json!({ "course": "A1" }));
    // Staff actions naming them keep what was done, not the values.
    let edit = &events(&pool, "ADMIN_EDIT").await[0].1;
    assert_eq!(
        edit["changes"],
        serde_json::json!({ "lastName": {}, "phone": {} })
    );
    assert!(events(&pool, "ADMIN_BLOCK").await[0]
        .1
        .get("reason")
        .is_none());
    // Nothing anywhere in the log still spells them.
    for needle in [
        "Zulfiya",
        "Karimova",
        "7770011",
        "7770012",
        "8123456",
        "zulfiya_k",
        "10.1.2",
    ] {
        let n = count(
            &pool,
            &format!(
                r#"SELECT count(*) FROM "EventLog" WHERE "metadata"::text LIKE '%{needle}%' OR "ipAddress" LIKE '%{needle}%'"#
            ),
        )
        .await;
        assert_eq!(n, 0, "{needle} is still in the log");
    }
    let erase = events(&pool, "ADMIN_ERASE").await;
    assert_eq!(erase.len(), 1);
    let keys: Vec<&String> = erase[0].1.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!(erase[0].1["targetUserId"], victim.as_str());
    assert_eq!(erase[0].1["sessionsEnded"], 1);
    assert!(erase[0].1["eventsScrubbed"].as_u64().unwrap() >= 3);

    // Signed out, shown as erased, and erasing twice is refused.
    assert_eq!(
        app.get("/account", &[&cookie]).await.status,
        StatusCode::SEE_OTHER
    );
    assert!(app.login("+998907770012", PASSWORD).await.is_none());
    let page = app.get(&format!("/admin/users/{victim}"), &[&admin]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"user-erased\""));
    let res = app
        .post_form(
            "/fn/users/erase",
            &format!("user_id={victim}&confirm={victim}"),
            &[&admin],
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let res = app
        .post_form(
            "/fn/users/edit",
            &format!("user_id={victim}&first_name=Back"),
            &[&admin],
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
}

#[sqlx::test]
async fn edits_write_only_what_changed_and_log_old_and_new(pool: PgPool) {
    let app = app(pool.clone());
    let (_, admin) = staff(&app, &pool, Role::Admin, "+998901110001").await;
    let target = create_user(&pool, Role::User, "+998901110005").await;
    create_user(&pool, Role::User, "+998901112233").await;
    let before = row(&pool, &target).await;

    let res = app
        .post_form(
            "/fn/users/edit",
            &format!(
                "user_id={target}&first_name={}&last_name=&phone={}&region=KZ&language=ru",
                enc("  Ali  "),
                enc("(90) 111-22-44")
            ),
            &[&admin],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let after = row(&pool, &target).await;
    assert_eq!(after["firstName"], "Ali");
    assert_eq!(after["phone"], "+998901112244");
    assert_eq!(after["region"], "KZ");
    assert_eq!(after["language"], "ru");
    assert_ne!(after["updatedAt"], before["updatedAt"]);
    let audit = events(&pool, "ADMIN_EDIT").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(
        audit[0].1["changes"],
        serde_json::json!({
            "firstName": { "old": "Test", "new": "Ali" },
            "phone": { "old": "+998901110005", "new": "+998901112244" },
            "region": { "old": "UZ", "new": "KZ" },
            "language": { "old": "uz", "new": "ru" },
        })
    );
    assert_eq!(audit[0].1["targetUserId"], target.as_str());

    // The same values again: a message, no event.
    let res = app
        .post_form(
            "/fn/users/edit",
            &format!("user_id={target}&first_name=Ali&phone=%2B998901112244&region=KZ&language=ru"),
            &[&admin],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.contains("Nothing changed"), "{}", res.body);
    assert_eq!(events(&pool, "ADMIN_EDIT").await.len(), 1);

    // A phone someone else has, a bad region, a bad language, a long name: refused,
    // naming the field, and nothing written.
    let now_row = row(&pool, &target).await;
    for (body, status, field) in [
        (
            "first_name=Bob&phone=%2B998+90+111+22+33",
            StatusCode::CONFLICT,
            "phone: +998901112233 already belongs to another user",
        ),
        ("phone=12", StatusCode::BAD_REQUEST, "phone:"),
        (
            "phone=",
            StatusCode::CONFLICT,
            "phone: without it the user would have no way to sign in",
        ),
        ("region=MARS", StatusCode::BAD_REQUEST, "region:"),
        ("language=de", StatusCode::BAD_REQUEST, "language:"),
        (
            &format!("last_name={}", "x".repeat(201)),
            StatusCode::BAD_REQUEST,
            "last_name:",
        ),
    ] {
        let res = app
            .post_form(
                "/fn/users/edit",
                &format!("user_id={target}&{body}"),
                &[&admin],
            )
            .await;
        assert_eq!(res.status, status, "{body}: {}", res.body);
        assert!(res.body.contains(field), "{body}: {}", res.body);
    }
    assert_eq!(row(&pool, &target).await, now_row);
    assert_eq!(events(&pool, "ADMIN_EDIT").await.len(), 1);

    // A field not sent stays as it is.
    let res = app
        .post_form(
            "/fn/users/edit",
            &format!("user_id={target}&language=en"),
            &[&admin],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let r = row(&pool, &target).await;
    assert_eq!(
        (r["firstName"].as_str(), r["language"].as_str()),
        (Some("Ali"), Some("en"))
    );
    assert_eq!(
        events(&pool, "ADMIN_EDIT").await[1].1["changes"],
        serde_json::json!({ "language": { "old": "ru", "new": "en" } })
    );
    // An empty field clears it.
    for (v, want) in [("Khan", serde_json::json!("Khan")), ("", Value::Null)] {
        let res = app
            .post_form(
                "/fn/users/edit",
                &format!("user_id={target}&last_name={v}"),
                &[&admin],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(row(&pool, &target).await["lastName"], want);
    }
    let res = app
        .post_form(
            "/fn/users/edit",
            "user_id=no-such-user&language=en",
            &[&admin],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // Without JavaScript: a 303 back to the form's page with a one-time message, for
    // success and refusal alike.
    let page = format!("/admin/users/{target}/manage");
    let res = plain_post(
        &app,
        "/fn/users/edit",
        &format!("user_id={target}&first_name=Alisher"),
        &admin,
        &page,
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), Some(page.as_str()));
    let flash = res.cookie("portal_flash").expect("flash");
    let shown = app.get(&page, &[&admin, &flash]).await;
    assert!(shown.body.contains("Saved: first name."), "{}", shown.body);
    let res = plain_post(
        &app,
        "/fn/users/edit",
        &format!("user_id={target}&phone=%2B998901112233"),
        &admin,
        &page,
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let flash = res.cookie("portal_flash").expect("flash");
    let shown = app.get(&page, &[&admin, &flash]).await;
    assert!(
        shown.body.contains("already belongs to another user"),
        "{}",
        shown.body
    );
    assert_eq!(row(&pool, &target).await["phone"], "+998901112244");
}

#[sqlx::test]
async fn people_edit_their_own_names_and_language(pool: PgPool) {
    let app = app(pool.clone());
    let me = create_user(&pool, Role::User, "+998901110005").await;
    let cookie = app.login("+998901110005", PASSWORD).await.unwrap();
    let page = app.get("/account", &[&cookie]).await;
    assert!(page.body.contains("id=\"account-edit-form\""));
    let res = app
        .post_form(
            "/fn/account/edit",
            "first_name=Dilnoza&last_name=Rahimova&language=en&phone=%2B998909999999&region=KZ",
            &[&cookie],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let r = row(&pool, &me).await;
    assert_eq!(r["firstName"], "Dilnoza");
    assert_eq!(r["lastName"], "Rahimova");
    assert_eq!(r["language"], "en");
    // Phone and region are staff's to change.
    assert_eq!(r["phone"], "+998901110005");
    assert_eq!(r["region"], "UZ");
    let ev = events(&pool, "PROFILE_UPDATE").await;
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].0, me);
    assert_eq!(ev[0].1["changes"]["firstName"]["old"], "Test");
    assert_eq!(ev[0].1["changes"]["firstName"]["new"], "Dilnoza");
    assert!(ev[0].1["changes"].get("phone").is_none());
    let res = app
        .post_form("/fn/account/edit", "language=xx", &[&cookie])
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res = app.post_form("/fn/account/edit", "first_name=X", &[]).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    let res = plain_post(
        &app,
        "/fn/account/edit",
        "first_name=Dina",
        &cookie,
        "/account",
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), Some("/account"));
    assert!(res.cookie("portal_flash").is_some());
}

#[sqlx::test]
async fn telegram_is_linked_by_staff_and_unlinked_only_when_another_way_remains(pool: PgPool) {
    let app = app_with(pool.clone(), tg_config());
    let (_, admin) = staff(&app, &pool, Role::Admin, "+998901110001").await;
    let target = create_user(&pool, Role::User, "+998901110005").await;
    let holder = create_user(&pool, Role::User, "+998901110006").await;
    set_telegram(&pool, &holder, 555, None).await;

    for (body, status, text) in [
        ("telegram_id=abc", StatusCode::BAD_REQUEST, "telegram_id:"),
        ("telegram_id=0", StatusCode::BAD_REQUEST, "telegram_id:"),
        (
            "telegram_id=9&telegram_username=a+b",
            StatusCode::BAD_REQUEST,
            "telegram_username:",
        ),
        ("telegram_id=555", StatusCode::CONFLICT, "/merge?other="),
    ] {
        let res = app
            .post_form(
                "/fn/users/link_telegram",
                &format!("user_id={target}&{body}"),
                &[&admin],
            )
            .await;
        assert_eq!(res.status, status, "{body}: {}", res.body);
        assert!(res.body.contains(text), "{body}: {}", res.body);
    }
    let res = app
        .post_form(
            "/fn/users/link_telegram",
            &format!("user_id={target}&telegram_id=555"),
            &[&admin],
        )
        .await;
    assert!(
        res.body.contains(&holder),
        "the holder is named: {}",
        res.body
    );
    assert!(res
        .body
        .contains(&format!("/admin/users/{target}/merge?other={holder}")));

    let res = app
        .post_form(
            "/fn/users/link_telegram",
            &format!("user_id={target}&telegram_id=6000000007&telegram_username=%40new_name"),
            &[&admin],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let r = row(&pool, &target).await;
    assert_eq!(r["telegramId"], 6_000_000_007_i64);
    assert_eq!(r["telegramUsername"], "new_name");
    let linked = events(&pool, "TELEGRAM_LINKED").await;
    assert_eq!(linked.len(), 1);
    assert_ne!(linked[0].0, target, "a staff action is the actor's row");
    assert_eq!(linked[0].1["by"], "staff");
    assert_eq!(linked[0].1["targetUserId"], target.as_str());
    assert_eq!(linked[0].1["telegramId"], 6_000_000_007_i64);

    // Phone and password remain: unlinking is allowed.
    let res = app
        .post_form(
            "/fn/users/unlink_telegram",
            &format!("user_id={target}"),
            &[&admin],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let r = row(&pool, &target).await;
    assert!(
        r["telegramId"].is_null()
            && r["telegramUsername"].is_null()
            && r["telegramPhotoUrl"].is_null()
    );
    let unlinked = events(&pool, "TELEGRAM_UNLINKED").await;
    assert_eq!(unlinked.len(), 1);
    assert_eq!(unlinked[0].1["by"], "staff");

    // A Telegram-only user keeps Telegram, whoever asks.
    let ad = now().to_string();
    let res = app
        .get(
            &format!(
                "/auth/telegram/callback?{}",
                widget_query(&[("id", "4242"), ("first_name", "Only"), ("auth_date", &ad)])
            ),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let tg_cookie = res.cookie("portal_session").unwrap();
    let tg_user: String =
        sqlx::query_scalar(r#"SELECT "id" FROM "User" WHERE "telegramId" = 4242"#)
            .fetch_one(&pool)
            .await
            .unwrap();
    let before = row(&pool, &tg_user).await;
    let res = app
        .post_form(
            "/fn/users/unlink_telegram",
            &format!("user_id={tg_user}"),
            &[&admin],
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(res.body.contains("no way to sign in"), "{}", res.body);
    let page = app.get("/account", &[&tg_cookie]).await;
    assert!(page.body.contains("id=\"account-unlink-telegram\""));
    let res = app
        .post_form("/fn/account/unlink_telegram", "", &[&tg_cookie])
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert_eq!(row(&pool, &tg_user).await, before);
    // A person with a phone and a password may unlink their own.
    let own = create_user(&pool, Role::User, "+998901110007").await;
    set_telegram(&pool, &own, 777, Some("own")).await;
    let own_cookie = app.login("+998901110007", PASSWORD).await.unwrap();
    let res = app
        .post_form("/fn/account/unlink_telegram", "", &[&own_cookie])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(row(&pool, &own).await["telegramId"].is_null());
    let unlinked = events(&pool, "TELEGRAM_UNLINKED").await;
    assert_eq!(unlinked.len(), 2);
    assert_eq!(unlinked[1].0, own);
    assert_eq!(unlinked[1].1["by"], "self");
    assert_eq!(unlinked[1].1["telegramId"], 777);
}

#[sqlx::test]
async fn every_action_follows_the_permission_matrix(pool: PgPool) {
    let app = app(pool.clone());
    let (_, support) = staff(&app, &pool, Role::Support, "+998901110002").await;
    let (_, admin) = staff(&app, &pool, Role::Admin, "+998901110003").await;
    let (root_id, root) = staff(&app, &pool, Role::SuperAdmin, "+998901110004").await;
    create_user(&pool, Role::SuperAdmin, "+998901110009").await;
    let peer = create_user(&pool, Role::Admin, "+998901110010").await;
    set_telegram(&pool, &peer, 31, None).await;
    let plain = create_user(&pool, Role::User, "+998901110011").await;
    set_telegram(&pool, &plain, 32, None).await;
    let body = |action: &str, id: &str, n: i64| match action {
        "edit" => format!("user_id={id}&first_name=Changed{n}"),
        "link_telegram" => format!("user_id={id}&telegram_id={}", 1000 + n),
        "block" => format!("user_id={id}&reason=test"),
        "erase" => format!("user_id={id}&confirm={id}"),
        _ => format!("user_id={id}"),
    };
    let actions = [
        "edit",
        "unlink_telegram",
        "link_telegram",
        "block",
        "unblock",
        "erase",
    ];
    for (n, action) in actions.iter().enumerate() {
        let n = n as i64;
        let path = format!("/fn/users/{action}");
        let before = row(&pool, &peer).await;
        let res = app.post_form(&path, &body(action, &peer, n), &[]).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{action} anonymous");
        let res = app
            .post_form(&path, &body(action, &plain, n), &[&support])
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{action} by SUPPORT");
        let res = app
            .post_form(&path, &body(action, &peer, n), &[&admin])
            .await;
        assert_eq!(
            res.status,
            StatusCode::FORBIDDEN,
            "{action} by ADMIN on ADMIN"
        );
        assert_eq!(row(&pool, &peer).await, before, "{action}: nothing changed");
        let res = app
            .post_form(&path, &body(action, &peer, n), &[&root])
            .await;
        assert!(
            res.status.is_success(),
            "{action} by SUPER_ADMIN: {} {}",
            res.status,
            res.body
        );
        let res = app
            .post_form(&path, &body(action, &plain, n + 10), &[&admin])
            .await;
        assert!(
            res.status.is_success(),
            "{action} by ADMIN on USER: {} {}",
            res.status,
            res.body
        );
    }
    assert!(!row(&pool, &peer).await["erasedAt"].is_null());
    // Nobody blocks or erases themself.
    for action in ["block", "erase"] {
        let res = app
            .post_form(
                &format!("/fn/users/{action}"),
                &body(action, &root_id, 0),
                &[&root],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{action} self");
    }
    // The page follows the same matrix.
    let fresh = create_user(&pool, Role::User, "+998901110012").await;
    let other_admin = create_user(&pool, Role::Admin, "+998901110013").await;
    let url = |id: &str| format!("/admin/users/{id}/manage");
    assert_eq!(
        app.get(&url(&fresh), &[&support]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&url(&other_admin), &[&admin]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&url("no-such-user"), &[&admin]).await.status,
        StatusCode::NOT_FOUND
    );
    let page = app.get(&url(&fresh), &[&admin]).await;
    assert_eq!(page.status, StatusCode::OK);
    for id in [
        "edit-form",
        "link-telegram-form",
        "block-form",
        "erase-form",
        "edit-phone",
    ] {
        assert!(page.body.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert_eq!(
        app.get(&url(&other_admin), &[&root]).await.status,
        StatusCode::OK
    );
}

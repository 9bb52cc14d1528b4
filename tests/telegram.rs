//! Telegram sign-in through HTTP: the widget's redirect and its confirmation, the
//! JavaScript callback (link), and the JSON API, checked against the rows they write.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use sqlx::PgPool;
use unified_portal::auth::ssr::token_digest;
use unified_portal::config::{Config, Secret};
use unified_portal::model::Role;
use unified_portal::telegram::verify::{sign_mini_app, sign_widget};
use url::form_urlencoded::Serializer;

const TOKEN: &str = "7000000001:AAF-integration_test_token-0123456789";
const BIG_ID: i64 = 5_000_000_001; // above 2^32

fn tg_config() -> Config {
    let mut c = config();
    c.telegram_bot_token = Some(Secret::new(TOKEN));
    c.telegram_bot_username = Some("portal_test_bot".into());
    c
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A widget query string as Telegram's redirect would carry it.
fn widget_query(fields: &[(&str, &str)]) -> String {
    let hash = sign_widget(fields, TOKEN);
    let mut s = Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.append_pair("hash", &hash);
    s.finish()
}

fn callback_url(fields: &[(&str, &str)]) -> String {
    format!("/auth/telegram/callback?{}", widget_query(fields))
}

async fn counts(pool: &PgPool) -> [i64; 4] {
    [
        count(pool, r#"SELECT count(*) FROM "User""#).await,
        count(pool, r#"SELECT count(*) FROM "Session""#).await,
        count(pool, r#"SELECT count(*) FROM "EventLog""#).await,
        count(pool, r#"SELECT count(*) FROM "TelegramLoginReplay""#).await,
    ]
}

async fn post_json(app: &TestApp, path: &str, body: &serde_json::Value) -> Res {
    app.send(
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

#[sqlx::test]
async fn a_new_user_signs_in_through_the_redirect(pool: PgPool) {
    let app = app_with(pool.clone(), tg_config());
    let auth_date = now().to_string();
    let id = BIG_ID.to_string();
    let url = callback_url(&[
        ("id", &id),
        ("first_name", "Ulugʻbek O'Neil"),
        ("last_name", "Тошматов & Co"),
        ("username", "ulugbek"),
        ("photo_url", "https://cdn4.telesco.pe/file/abc.jpg"),
        ("auth_date", &auth_date),
    ]);
    let res = app.get(&url, &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), Some("/account"));
    let cookie = res.cookie("portal_session").expect("session cookie");
    let header = res.set_cookie_header("portal_session").unwrap();
    assert!(header.contains("HttpOnly") && header.contains("SameSite=Lax"));

    let user = sqlx::query!(
        r#"SELECT "id", "firstName" AS first, "lastName" AS last, "telegramUsername" AS tg,
                  "telegramPhotoUrl" AS photo, "registrationSource"::text AS "source!", "language", "role"::text AS "role!"
           FROM "User" WHERE "telegramId" = $1"#,
        BIG_ID
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(user.first.as_deref(), Some("Ulugʻbek O'Neil"));
    assert_eq!(user.last.as_deref(), Some("Тошматов & Co"));
    assert_eq!(user.tg.as_deref(), Some("ulugbek"));
    assert_eq!(
        user.photo.as_deref(),
        Some("https://cdn4.telesco.pe/file/abc.jpg")
    );
    assert_eq!(user.source, "TELEGRAM");
    assert_eq!(user.language, "uz");
    assert_eq!(user.role, "USER");

    let secret = cookie.trim_start_matches("portal_session=");
    let session = sqlx::query!(
        r#"SELECT "id", "platform"::text AS "platform!", "userId" AS user_id FROM "Session" WHERE "token" = $1"#,
        token_digest(secret)
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(session.platform, "TELEGRAM");
    assert_eq!(session.user_id, user.id);

    let ev = sqlx::query!(
        r#"SELECT "platform"::text AS "platform!", "metadata" AS "metadata!" FROM "EventLog"
           WHERE "userId" = $1 AND "eventType" = 'LOGIN'"#,
        user.id
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(ev.platform, "TELEGRAM");
    assert_eq!(ev.metadata["method"], "telegram_widget_redirect");
    assert_eq!(ev.metadata["isNewUser"], true);
    assert_eq!(ev.metadata["sessionId"], session.id.as_str());

    // The cookie works, and the page shows the name escaped.
    let page = app.get("/account", &[&cookie]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Тошматов &amp; Co"), "{}", page.body);
}

#[sqlx::test]
async fn a_returning_user_is_refreshed_not_duplicated(pool: PgPool) {
    let app = app_with(pool.clone(), tg_config());
    sqlx::query(
        r#"INSERT INTO "User" ("id", "telegramId", "firstName", "lastName", "telegramUsername", "telegramPhotoUrl",
                               "registrationSource", "updatedAt")
           VALUES ('u-1', $1, '', 'Kept', 'old_name', 'https://t.me/i/userpic/1.jpg', 'WEB', now())"#,
    )
    .bind(BIG_ID)
    .execute(&pool)
    .await
    .unwrap();
    let id = BIG_ID.to_string();
    let auth_date = now().to_string();
    let res = app
        .get(
            &callback_url(&[
                ("id", &id),
                ("first_name", "Shahzod"),
                ("last_name", "New"),
                ("photo_url", "https://evil.example/p.jpg"),
                ("auth_date", &auth_date),
            ]),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let u = sqlx::query!(
        r#"SELECT "firstName" AS first, "lastName" AS last, "telegramUsername" AS tg, "telegramPhotoUrl" AS photo,
                  "registrationSource"::text AS "source!"
           FROM "User" WHERE "id" = 'u-1'"#
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        u.first.as_deref(),
        Some("Shahzod"),
        "an empty name is filled"
    );
    assert_eq!(u.last.as_deref(), Some("Kept"), "a known name is kept");
    assert_eq!(u.tg, None, "a removed username becomes NULL");
    assert_eq!(u.photo, None, "a photo off Telegram's hosts is not stored");
    assert_eq!(u.source, "WEB");
    assert_eq!(count(&pool, r#"SELECT count(*) FROM "User""#).await, 1);
    let is_new: serde_json::Value = sqlx::query_scalar(
        r#"SELECT "metadata"->'isNewUser' FROM "EventLog" WHERE "userId" = 'u-1' AND "eventType" = 'LOGIN'"#,
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(is_new, false);
}

#[sqlx::test]
async fn staff_land_on_the_dashboard_and_next_is_honoured(pool: PgPool) {
    let app = app_with(pool.clone(), tg_config());
    let staff = create_user(&pool, Role::Admin, "+998901110000").await;
    sqlx::query(r#"UPDATE "User" SET "telegramId" = 77 WHERE "id" = $1"#)
        .bind(&staff)
        .execute(&pool)
        .await
        .unwrap();
    let auth_date = now().to_string();
    let res = app
        .get(
            &callback_url(&[("id", "77"), ("first_name", "S"), ("auth_date", &auth_date)]),
            &[],
        )
        .await;
    assert_eq!(res.location(), Some("/admin"));

    // The page asked for before sign-in travels in the state cookie, not the widget URL.
    let asked = app.get("/admin/users?source=WEB", &[]).await;
    let state = asked.cookie("portal_state").unwrap();
    let auth_date = (now() - 1).to_string();
    let res = app
        .get(
            &callback_url(&[("id", "77"), ("first_name", "S"), ("auth_date", &auth_date)]),
            &[&state],
        )
        .await;
    assert_eq!(res.location(), Some("/admin/users?source=WEB"));
}

#[sqlx::test]
async fn every_failure_names_the_reason_and_writes_nothing(pool: PgPool) {
    let app = app_with(pool.clone(), tg_config());
    let before = counts(&pool).await;
    let fresh = now().to_string();
    let stale = (now() - 90_000).to_string();
    let future = (now() + 3_600).to_string();
    let good = widget_query(&[("id", "42"), ("first_name", "A"), ("auth_date", &fresh)]);
    let tampered = good.replace("first_name=A", "first_name=B");
    let no_hash = "id=42&first_name=A&auth_date=1700000000".to_string();
    let dup = format!("{good}&id=43");
    let bad_hex = format!("id=42&auth_date={fresh}&hash=zz");
    let short_hash = format!("id=42&auth_date={fresh}&hash=abcd");
    let bad_id = widget_query(&[("id", "-5"), ("auth_date", &fresh)]);
    let no_id = widget_query(&[("first_name", "A"), ("auth_date", &fresh)]);
    let cases: Vec<(String, StatusCode, &str)> = vec![
        (tampered, StatusCode::UNAUTHORIZED, "signature"),
        (no_hash, StatusCode::BAD_REQUEST, "hash"),
        (dup, StatusCode::BAD_REQUEST, "id"),
        (bad_hex, StatusCode::BAD_REQUEST, "hash"),
        (short_hash, StatusCode::BAD_REQUEST, "hash"),
        (bad_id, StatusCode::BAD_REQUEST, "id"),
        (no_id, StatusCode::BAD_REQUEST, "id"),
        (
            widget_query(&[("id", "42"), ("auth_date", &stale)]),
            StatusCode::UNAUTHORIZED,
            "expired",
        ),
        (
            widget_query(&[("id", "42"), ("auth_date", &future)]),
            StatusCode::UNAUTHORIZED,
            "future",
        ),
        (
            widget_query(&[("id", "42"), ("auth_date", "soon")]),
            StatusCode::BAD_REQUEST,
            "auth_date",
        ),
        (String::new(), StatusCode::BAD_REQUEST, "hash"),
    ];
    for (query, status, reason) in cases {
        let res = app
            .get(&format!("/auth/telegram/callback?{query}"), &[])
            .await;
        assert_eq!(res.status, status, "{query}: {}", res.body);
        assert!(
            res.body.contains(reason),
            "{query}: {} should name {reason}",
            res.body
        );
        assert!(res.cookie("portal_session").is_none());
    }
    // The API answers the same failures as JSON.
    let res = post_json(
        &app,
        "/api/v1/auth/telegram",
        &serde_json::json!({ "widget": { "id": 42, "auth_date": now(), "hash": "00".repeat(32) } }),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    for bad in [
        "not json",
        r#"{"initData": 5}"#,
        r#"{}"#,
        r#"{"initData": "a=b", "widget": {}}"#,
        r#"{"initData": "auth_date=1&hash=00", "extra": 1}"#,
    ] {
        let res = app
            .send(
                Request::post("/api/v1/auth/telegram")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(bad))
                    .unwrap(),
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}: {}", res.body);
        let body: serde_json::Value = serde_json::from_str(&res.body).unwrap();
        assert_eq!(body["error"]["code"], "bad_request");
    }
    assert_eq!(counts(&pool).await, before, "nothing may be written");

    // Without a bot token the feature says it is off.
    let off = app_with(pool.clone(), config());
    let res = off
        .get(&format!("/auth/telegram/callback?{good}"), &[])
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(res.body.contains("not configured"));
    assert_eq!(counts(&pool).await, before);

    // Every API answer is the JSON envelope, even those axum would give on its own.
    let envelope = |res: &Res| -> String {
        let v: serde_json::Value =
            serde_json::from_str(&res.body).unwrap_or_else(|_| panic!("not JSON: {}", res.body));
        v["error"]["code"].as_str().unwrap_or_default().to_string()
    };
    let res = post_json(
        &off,
        "/api/v1/auth/telegram",
        &serde_json::json!({"initData": "a=b"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(envelope(&res), "not_configured");
    assert!(res.body.contains("TELEGRAM_BOT_TOKEN"), "{}", res.body);
    let huge = serde_json::json!({ "initData": "x".repeat(100 * 1024) });
    let res = post_json(&app, "/api/v1/auth/telegram", &huge).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(envelope(&res), "too_large");
    let res = app.get("/api/v1/auth/telegram", &[]).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(envelope(&res), "method_not_allowed");
    let res = app.get("/api/v1/no-such-route", &[]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(envelope(&res), "not_found");
    assert_eq!(counts(&pool).await, before);
}

#[sqlx::test]
async fn widget_data_opens_at_most_one_session(pool: PgPool) {
    let app = app_with(pool.clone(), tg_config());
    let auth_date = now().to_string();
    let url = callback_url(&[("id", "99"), ("first_name", "R"), ("auth_date", &auth_date)]);
    let first = app.get(&url, &[]).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let cookie = first.cookie("portal_session").unwrap();
    let before = counts(&pool).await;

    // Another browser replaying the link is refused and nothing is written.
    let replay = app.get(&url, &[]).await;
    assert_eq!(replay.status, StatusCode::CONFLICT);
    assert!(replay.body.contains("already used"));
    // The browser that used it is simply sent on.
    let again = app.get(&url, &[&cookie]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(again.location(), Some("/account"));
    // Re-encoding the same data (%20 vs +, hex case) is still the same data.
    let upper = url.replace(
        &url[url.find("hash=").unwrap() + 5..],
        &url[url.find("hash=").unwrap() + 5..].to_uppercase(),
    );
    assert_eq!(app.get(&upper, &[]).await.status, StatusCode::CONFLICT);
    assert_eq!(counts(&pool).await, before);
}

#[sqlx::test]
async fn a_signed_in_browser_is_asked_before_switching(pool: PgPool) {
    let app = app_with(pool.clone(), tg_config());
    create_user(&pool, Role::User, "+998901234567").await;
    let mine = app.login("+998901234567", PASSWORD).await.unwrap();
    let auth_date = now().to_string();
    let query = widget_query(&[
        ("id", "555"),
        ("first_name", "<b>Mallory</b>"),
        ("auth_date", &auth_date),
    ]);
    let before = counts(&pool).await;
    let ask = app
        .get(&format!("/auth/telegram/callback?{query}"), &[&mine])
        .await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.body.contains("id=\"switch-form\""));
    assert!(ask.body.contains("&lt;b&gt;Mallory&lt;/b&gt;"));
    assert!(!ask.body.contains("<b>Mallory"));
    assert_eq!(counts(&pool).await, before, "asking writes nothing");

    // A cross-site POST of the confirmation is refused.
    let forged = app
        .send(
            Request::post("/auth/telegram/callback")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ORIGIN, "https://evil.example")
                .header(header::COOKIE, &mine)
                .body(Body::from(format!("payload={}", enc(&query))))
                .unwrap(),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let yes = app
        .post_form(
            "/auth/telegram/callback",
            &format!("payload={}", enc(&query)),
            &[&mine],
        )
        .await;
    assert_eq!(yes.status, StatusCode::SEE_OTHER, "{}", yes.body);
    assert!(yes.cookie("portal_session").is_some());
    let old_secret = mine.trim_start_matches("portal_session=");
    assert_eq!(
        count(
            &pool,
            &format!(
                r#"SELECT count(*) FROM "Session" WHERE "token" = '{}'"#,
                token_digest(old_secret)
            )
        )
        .await,
        0,
        "the replaced session ends"
    );
    assert_eq!(
        count(
            &pool,
            r#"SELECT count(*) FROM "User" WHERE "telegramId" = 555 AND "phone" IS NULL"#
        )
        .await,
        1
    );
}

fn mini_app_init_data(user_json: &str, auth_date: i64) -> String {
    let auth_date = auth_date.to_string();
    let fields = [
        ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
        ("user", user_json),
        ("auth_date", auth_date.as_str()),
        ("signature", "6fbdaab833d39f54518bd5c3eb3f511d035e68cb"),
    ];
    let hash = sign_mini_app(&fields, TOKEN);
    let mut s = Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.append_pair("hash", &hash);
    s.finish()
}

#[sqlx::test]
async fn the_mini_app_and_the_mobile_app_get_bearer_tokens(pool: PgPool) {
    let app = app_with(pool.clone(), tg_config());
    let init = mini_app_init_data(
        r#"{"id":6000000002,"first_name":"Дилноза","last_name":"","username":"dilnoza","language_code":"ru","photo_url":"https:\/\/t.me\/i\/userpic\/320\/x.svg"}"#,
        now(),
    );
    let res = post_json(
        &app,
        "/api/v1/auth/telegram",
        &serde_json::json!({ "initData": init }),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let body: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let token = body["token"].as_str().unwrap().to_string();
    assert_eq!(body["user"]["telegramId"], 6_000_000_002_i64);
    assert_eq!(body["user"]["language"], "ru");
    assert_eq!(body["user"]["isNew"], true);
    assert!(body["expiresAt"].as_str().unwrap().ends_with('Z'));
    let platform: String =
        sqlx::query_scalar(r#"SELECT "platform"::text FROM "Session" WHERE "token" = $1"#)
            .bind(token_digest(&token))
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(platform, "TELEGRAM");
    let photo: Option<String> = sqlx::query_scalar(
        r#"SELECT "telegramPhotoUrl" FROM "User" WHERE "telegramId" = 6000000002"#,
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(photo.as_deref(), Some("https://t.me/i/userpic/320/x.svg"));

    // The token is a bearer credential for the API.
    let me = app
        .send(
            Request::get("/api/v1/session")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(me.body.contains(body["user"]["id"].as_str().unwrap()));
    let nobody = app
        .send(
            Request::get("/api/v1/session")
                .header(header::AUTHORIZATION, "Bearer nope")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);

    // initData is reusable: every reload of the Mini App signs in again.
    let again = post_json(
        &app,
        "/api/v1/auth/telegram",
        &serde_json::json!({ "initData": init }),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        count(
            &pool,
            r#"SELECT count(*) FROM "User" WHERE "telegramId" = 6000000002"#
        )
        .await,
        1
    );

    // The mobile app posts widget data, numbers as JSON numbers; it is single-use.
    let auth_date = now();
    let ad = auth_date.to_string();
    let hash = sign_widget(
        &[
            ("id", "6000000003"),
            ("first_name", "Ali"),
            ("auth_date", &ad),
        ],
        TOKEN,
    );
    let widget = serde_json::json!({ "widget": {
        "id": 6_000_000_003_i64, "first_name": "Ali", "auth_date": auth_date, "hash": hash } });
    let res = post_json(&app, "/api/v1/auth/telegram", &widget).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let body: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let platform: String =
        sqlx::query_scalar(r#"SELECT "platform"::text FROM "Session" WHERE "token" = $1"#)
            .bind(token_digest(body["token"].as_str().unwrap()))
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(platform, "MOBILE_APP");
    let before = counts(&pool).await;
    let replay = post_json(&app, "/api/v1/auth/telegram", &widget).await;
    assert_eq!(replay.status, StatusCode::CONFLICT);
    assert!(replay.body.contains("already used"));
    assert_eq!(counts(&pool).await, before);
}

#[sqlx::test]
async fn linking_is_a_post_from_the_account_page(pool: PgPool) {
    let app = app_with(pool.clone(), tg_config());
    let me = create_user(&pool, Role::User, "+998907654321").await;
    sqlx::query(
        r#"INSERT INTO "User" ("id", "telegramId", "registrationSource", "updatedAt") VALUES ('other', 888, 'TELEGRAM', now())"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    let cookie = app.login("+998907654321", PASSWORD).await.unwrap();
    let payload = |id: i64| {
        let ad = now();
        let ads = ad.to_string();
        let ids = id.to_string();
        let hash = sign_widget(
            &[("id", &ids), ("username", "linked_me"), ("auth_date", &ads)],
            TOKEN,
        );
        serde_json::json!({ "id": id, "username": "linked_me", "auth_date": ad, "hash": hash })
            .to_string()
    };

    // Someone else's Telegram id: refused, nothing changes.
    let before = counts(&pool).await;
    let res = app
        .post_form(
            "/fn/telegram/widget",
            &format!("payload={}&link=true", enc(&payload(888))),
            &[&cookie],
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(res.body.contains("another user"));
    assert_eq!(counts(&pool).await, before);

    // Anonymous callers cannot link.
    let res = app
        .post_form(
            "/fn/telegram/widget",
            &format!("payload={}&link=true", enc(&payload(999))),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);

    let res = app
        .post_form(
            "/fn/telegram/widget",
            &format!("payload={}&link=true", enc(&payload(999))),
            &[&cookie],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let linked: Option<i64> =
        sqlx::query_scalar(r#"SELECT "telegramId" FROM "User" WHERE "id" = $1"#)
            .bind(&me)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(linked, Some(999));
    assert_eq!(
        count(
            &pool,
            &format!(
                r#"SELECT count(*) FROM "EventLog" WHERE "userId" = '{me}' AND "eventType" = 'TELEGRAM_LINKED'"#
            )
        )
        .await,
        1
    );
    // The GET callback never links: it signs in as the Telegram user after asking.
    let ad = now().to_string();
    let ask = app
        .get(
            &callback_url(&[("id", "1234"), ("first_name", "X"), ("auth_date", &ad)]),
            &[&cookie],
        )
        .await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.body.contains("switch-form"));
    let still: Option<i64> =
        sqlx::query_scalar(r#"SELECT "telegramId" FROM "User" WHERE "id" = $1"#)
            .bind(&me)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(still, Some(999));
}

//! Possible duplicates and merging two users, through HTTP, checked against the rows.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use sqlx::PgPool;
use unified_portal::config::{Config, Secret};
use unified_portal::model::Role;
use unified_portal::telegram::verify::sign_mini_app;
use url::form_urlencoded::Serializer;

const TOKEN: &str = "7000000001:AAF-integration_test_token-0123456789";

fn tg_config() -> Config {
    let mut c = config();
    c.telegram_bot_token = Some(Secret::new(TOKEN));
    c.telegram_bot_username = Some("portal_test_bot".into());
    c
}

async fn staff(app: &TestApp, pool: &PgPool, role: Role, phone: &str) -> (String, String) {
    let id = create_user(pool, role, phone).await;
    (id, app.login(phone, PASSWORD).await.unwrap())
}

#[derive(Default)]
struct P<'a> {
    first: Option<&'a str>,
    last: Option<&'a str>,
    phone: Option<&'a str>,
    tg: Option<i64>,
    handle: Option<&'a str>,
    region: &'a str,
    source: &'a str,
    role: &'a str,
}

async fn person(pool: &PgPool, p: P<'_>) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        r#"INSERT INTO "User" ("id", "firstName", "lastName", "phone", "telegramId", "telegramUsername",
                               "region", "registrationSource", "role", "updatedAt")
           VALUES ($1, $2, $3, $4, $5, $6, COALESCE(NULLIF($7, ''), 'UZ')::"Region",
                   COALESCE(NULLIF($8, ''), 'WEB')::"RegistrationSource",
                   COALESCE(NULLIF($9, ''), 'USER')::"UserRole", now() AT TIME ZONE 'UTC')"#,
    )
    .bind(&id)
    .bind(p.first)
    .bind(p.last)
    .bind(p.phone)
    .bind(p.tg)
    .bind(p.handle)
    .bind(p.region)
    .bind(p.source)
    .bind(p.role)
    .execute(pool)
    .await
    .unwrap();
    id
}

/// An event of `user`, `minutes_ago` minutes before now.
async fn event(pool: &PgPool, user: &str, kind: &str, minutes_ago: i64) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        r#"INSERT INTO "EventLog" ("id", "userId", "eventType", "platform", "createdAt")
           VALUES ($1, $2, $3, 'WEB', (now() AT TIME ZONE 'UTC') - make_interval(mins => $4::int))"#,
    )
    .bind(&id)
    .bind(user)
    .bind(kind)
    .bind(minutes_ago as i32)
    .execute(pool)
    .await
    .unwrap();
    id
}

async fn session_row(pool: &PgPool, user: &str) {
    sqlx::query(
        r#"INSERT INTO "Session" ("id", "userId", "token", "platform", "expiresAt")
           VALUES ($1, $2, $3, 'TELEGRAM', (now() AT TIME ZONE 'UTC') + interval '1 day')"#,
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(user)
    .bind(uuid::Uuid::new_v4().to_string())
    .execute(pool)
    .await
    .unwrap();
}

async fn totals(pool: &PgPool) -> [i64; 3] {
    [
        count(pool, r#"SELECT count(*) FROM "User""#).await,
        count(pool, r#"SELECT count(*) FROM "Session""#).await,
        count(pool, r#"SELECT count(*) FROM "EventLog""#).await,
    ]
}

async fn merge(app: &TestApp, cookie: &str, survivor: &str, merged: &str, extra: &str) -> Res {
    let mut body = format!("survivor_id={survivor}&merged_id={merged}");
    if !extra.is_empty() {
        body.push('&');
        body.push_str(extra);
    }
    let cookies: Vec<&str> = if cookie.is_empty() {
        vec![]
    } else {
        vec![cookie]
    };
    app.post_form("/fn/merge/merge", &body, &cookies).await
}

async fn exists(pool: &PgPool, id: &str) -> bool {
    count(
        pool,
        &format!(r#"SELECT count(*) FROM "User" WHERE "id" = '{id}'"#),
    )
    .await
        == 1
}

/// The event ids of a rendered timeline, in page order.
fn timeline_ids(body: &str) -> Vec<String> {
    let start = body.find("id=\"timeline\"").expect("timeline");
    let part = &body[start..];
    let part = &part[..part.find("class=\"pager\"").unwrap_or(part.len())];
    part.split("data-event-id=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

#[sqlx::test]
async fn a_web_user_and_a_telegram_user_become_one(pool: PgPool) {
    let app = app(pool.clone());
    let (admin_id, admin) = staff(&app, &pool, Role::Admin, "+998901110001").await;
    // The web user: phone and password, a session and a LOGIN from the real sign-in.
    let web = create_user(&pool, Role::User, "+998901230001").await;
    app.login("+998901230001", PASSWORD).await.unwrap();
    let tg = person(
        &pool,
        P {
            first: Some("Test"),
            last: Some("Telegramov"),
            tg: Some(5_000_000_777),
            handle: Some("testgram"),
            source: "TELEGRAM",
            ..Default::default()
        },
    )
    .await;
    session_row(&pool, &tg).await;
    // Interleaved in time, so the merged timeline must really be sorted.
    for (i, who) in [&web, &tg, &web, &tg, &tg].iter().enumerate() {
        event(&pool, who, "COURSE_START", 100 - i as i64 * 10).await;
    }
    // A staff action on the Telegram user: it must follow them to the survivor.
    sqlx::query(
        r#"INSERT INTO "EventLog" ("id", "userId", "eventType", "platform", "metadata")
           VALUES ($1, $2, 'ADMIN_EDIT', 'WEB', jsonb_build_object('targetUserId', $3::text))"#,
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&admin_id)
    .bind(&tg)
    .execute(&pool)
    .await
    .unwrap();
    let ev_web = count(
        &pool,
        &format!(r#"SELECT count(*) FROM "EventLog" WHERE "userId" = '{web}'"#),
    )
    .await;
    let ev_tg = count(
        &pool,
        &format!(r#"SELECT count(*) FROM "EventLog" WHERE "userId" = '{tg}'"#),
    )
    .await;
    assert_eq!((ev_web, ev_tg), (2 + 1, 3));
    let before = totals(&pool).await;

    // The preview shows both and what would be filled.
    let page = app
        .get(&format!("/admin/users/{web}/merge?other={tg}"), &[&admin])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"merge-form\""));
    assert!(
        !page.body.contains("id=\"keep-phone\""),
        "no phone conflict"
    );
    assert!(page.body.contains(&format!("data-events=\"{ev_tg}\"")));

    let r = merge(&app, &admin, &web, &tg, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let done: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        done["redirect"].as_str(),
        Some(format!("/admin/users/{web}").as_str())
    );

    let after = totals(&pool).await;
    assert_eq!(after[0], before[0] - 1, "one user fewer");
    assert_eq!(after[1], before[1], "no session lost");
    assert_eq!(
        after[2],
        before[2] + 1,
        "no event lost; one ADMIN_MERGE more"
    );
    assert!(!exists(&pool, &tg).await);
    let (phone, tgid, handle, hash): (Option<String>, Option<i64>, Option<String>, Option<String>) =
        sqlx::query_as(
            r#"SELECT "phone", "telegramId", "telegramUsername", "passwordHash" FROM "User" WHERE "id" = $1"#,
        )
        .bind(&web)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(phone.as_deref(), Some("+998901230001"));
    assert_eq!(tgid, Some(5_000_000_777));
    assert_eq!(handle.as_deref(), Some("testgram"));
    assert!(hash.is_some(), "the password stays");
    assert_eq!(
        count(
            &pool,
            &format!(r#"SELECT count(*) FROM "EventLog" WHERE "userId" = '{web}'"#)
        )
        .await,
        ev_web + ev_tg
    );
    assert_eq!(
        count(
            &pool,
            &format!(r#"SELECT count(*) FROM "Session" WHERE "userId" = '{web}'"#)
        )
        .await,
        2
    );
    // The staff action now names the survivor and remembers whom it named.
    let edit: serde_json::Value =
        sqlx::query_scalar(r#"SELECT "metadata" FROM "EventLog" WHERE "eventType" = 'ADMIN_EDIT'"#)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(edit["targetUserId"], web.as_str());
    assert_eq!(edit["mergedFromUserId"], tg.as_str());

    let (owner, meta): (String, serde_json::Value) = sqlx::query_as(
        r#"SELECT "userId", "metadata" FROM "EventLog" WHERE "eventType" = 'ADMIN_MERGE'"#,
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(owner, admin_id);
    assert_eq!(meta["targetUserId"], web.as_str());
    assert_eq!(meta["mergedUserId"], tg.as_str());
    assert_eq!(meta["moved"]["events"], ev_tg);
    assert_eq!(meta["moved"]["sessions"], 1);
    assert_eq!(meta["moved"]["staffActionsRetargeted"], 1);
    assert!(meta["filled"]
        .as_array()
        .unwrap()
        .contains(&"telegramId".into()));
    assert!(!meta.to_string().contains("argon2"), "no password hash");

    // The survivor's timeline: every event of both, newest first by createdAt.
    let page = app.get(&format!("/admin/users/{web}"), &[&admin]).await;
    assert_eq!(page.status, StatusCode::OK);
    let shown = timeline_ids(&page.body);
    let expected: Vec<String> = sqlx::query_scalar(
        r#"SELECT "id" FROM "EventLog" WHERE "userId" = $1 ORDER BY "createdAt" DESC, "id" DESC"#,
    )
    .bind(&web)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(shown, expected);
    assert_eq!(shown.len() as i64, ev_web + ev_tg);
    assert!(page.body.contains("ADMIN_MERGE"), "shown as a staff action");

    let gone = app.get(&format!("/admin/users/{tg}"), &[&admin]).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let again = merge(&app, &admin, &web, &tg, "").await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn a_conflict_blocks_until_resolved(pool: PgPool) {
    let app = app(pool.clone());
    let (_, admin) = staff(&app, &pool, Role::Admin, "+998901110001").await;
    let a = person(
        &pool,
        P {
            first: Some("Aziz"),
            phone: Some("+998901111111"),
            tg: Some(111),
            ..Default::default()
        },
    )
    .await;
    let b = person(
        &pool,
        P {
            last: Some("Karimov"),
            phone: Some("+998 90 222-22-22"),
            tg: Some(222),
            handle: Some("aziz222"),
            ..Default::default()
        },
    )
    .await;
    event(&pool, &b, "X", 5).await;
    let snapshot = |pool: PgPool| async move {
        let users: Vec<(String, Option<String>, Option<i64>)> =
            sqlx::query_as(r#"SELECT "id", "phone", "telegramId" FROM "User" ORDER BY "id""#)
                .fetch_all(&pool)
                .await
                .unwrap();
        (users, totals(&pool).await)
    };
    let before = snapshot(pool.clone()).await;

    let page = app
        .get(&format!("/admin/users/{a}/merge?other={b}"), &[&admin])
        .await;
    assert!(page.body.contains("id=\"keep-phone\""));
    assert!(page.body.contains("id=\"keep-telegram\""));

    let r = merge(&app, &admin, &a, &b, "").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("keep_phone"), "{}", r.body);
    assert!(r.body.contains("+998901111111") && r.body.contains("+998 90 222-22-22"));
    let r = merge(&app, &admin, &a, &b, "keep_phone=merged").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("keep_telegram"), "{}", r.body);
    assert!(r.body.contains("111") && r.body.contains("222"));
    let r = merge(&app, &admin, &a, &b, "keep_phone=both&keep_telegram=merged").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("keep_phone"));
    assert_eq!(snapshot(pool.clone()).await, before, "nothing changed");

    let r = merge(
        &app,
        &admin,
        &a,
        &b,
        "keep_phone=merged&keep_telegram=survivor",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    type Identity = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<String>,
    );
    let (first, last, phone, tg, handle): Identity = sqlx::query_as(
        r#"SELECT "firstName", "lastName", "phone", "telegramId", "telegramUsername" FROM "User" WHERE "id" = $1"#,
    )
    .bind(&a)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(first.as_deref(), Some("Aziz"));
    assert_eq!(last.as_deref(), Some("Karimov"), "a missing name is filled");
    assert_eq!(phone.as_deref(), Some("+998 90 222-22-22"));
    assert_eq!(tg, Some(111));
    assert_eq!(handle, None, "the dropped account's handle does not follow");
    let meta: serde_json::Value = sqlx::query_scalar(
        r#"SELECT "metadata" FROM "EventLog" WHERE "eventType" = 'ADMIN_MERGE'"#,
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(meta["conflicts"]["phone"]["kept"], "merged");
    assert_eq!(meta["conflicts"]["telegram"]["kept"], "survivor");
    assert_eq!(meta["conflicts"]["telegram"]["merged"], 222);
}

fn mini_app_init_data(tg_id: i64) -> String {
    let auth_date = chrono::Utc::now().timestamp().to_string();
    let user = format!(r#"{{"id":{tg_id},"first_name":"Racer","username":"racer{tg_id}"}}"#);
    let fields = [
        ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
        ("user", user.as_str()),
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

#[sqlx::test]
async fn a_sign_in_racing_the_merge_lands_on_the_survivor(pool: PgPool) {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let app = app_with(pool.clone(), tg_config());
    let (_, admin) = staff(&app, &pool, Role::Admin, "+998901110001").await;
    let mut before_merge = 0;
    for round in 0..15i64 {
        let tg_id = 7_000_000_000 + round;
        let web = person(
            &pool,
            P {
                first: Some("Racer"),
                phone: Some(&format!("+99890555{round:04}")),
                ..Default::default()
            },
        )
        .await;
        let tg = person(
            &pool,
            P {
                first: Some("Racer"),
                tg: Some(tg_id),
                source: "TELEGRAM",
                ..Default::default()
            },
        )
        .await;
        event(&pool, &tg, "COURSE_START", 1).await;
        let users_before = count(&pool, r#"SELECT count(*) FROM "User""#).await;
        let init = mini_app_init_data(tg_id);
        let sign_in = async {
            // Different head starts, so the sign-in lands before, during and after the
            // merge's transaction over the rounds.
            tokio::time::sleep(std::time::Duration::from_millis((round % 3) as u64 * 3)).await;
            app.send(
                Request::post("/api/v1/auth/telegram")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(
                        serde_json::json!({ "initData": init }).to_string(),
                    ))
                    .unwrap(),
            )
            .await
        };
        let merging = async {
            tokio::time::sleep(std::time::Duration::from_millis(
                ((round + 1) % 3) as u64 * 3,
            ))
            .await;
            merge(&app, &admin, &web, &tg, "").await
        };
        let (signed, merged) = tokio::join!(sign_in, merging);
        assert_eq!(
            merged.status,
            StatusCode::OK,
            "round {round}: {}",
            merged.body
        );
        assert_eq!(
            signed.status,
            StatusCode::OK,
            "round {round}: {}",
            signed.body
        );
        let body: serde_json::Value = serde_json::from_str(&signed.body).unwrap();
        let signed_as = body["user"]["id"].as_str().unwrap().to_string();
        assert!(signed_as == web || signed_as == tg, "round {round}");
        if signed_as == tg {
            before_merge += 1;
        }

        // Not resurrected: the merged id is gone and the Telegram id has one holder.
        assert!(!exists(&pool, &tg).await, "round {round}");
        let holders: Vec<String> =
            sqlx::query_scalar(r#"SELECT "id" FROM "User" WHERE "telegramId" = $1"#)
                .bind(tg_id)
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(holders, vec![web.clone()], "round {round}");
        assert_eq!(
            count(&pool, r#"SELECT count(*) FROM "User""#).await,
            users_before - 1,
            "round {round}"
        );
        // Not lost: its LOGIN and its session are the survivor's.
        let logins = count(
            &pool,
            &format!(
                r#"SELECT count(*) FROM "EventLog" WHERE "userId" = '{web}' AND "eventType" = 'LOGIN'"#
            ),
        )
        .await;
        assert_eq!(logins, 1, "round {round}");
        assert_eq!(
            count(
                &pool,
                &format!(r#"SELECT count(*) FROM "EventLog" WHERE "userId" = '{web}'"#)
            )
            .await,
            2,
            "round {round}"
        );
        assert_eq!(
            count(
                &pool,
                &format!(r#"SELECT count(*) FROM "Session" WHERE "userId" = '{web}'"#)
            )
            .await,
            1,
            "round {round}"
        );
        // The token works, as the survivor.
        let token = body["token"].as_str().unwrap();
        let me = app
            .send(
                Request::get("/api/v1/session")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(me.status, StatusCode::OK, "round {round}");
        assert!(me.body.contains(&web), "round {round}: {}", me.body);
    }
    assert_eq!(
        count(&pool, r#"SELECT count(*) FROM "EventLog" WHERE "eventType" = 'LOGIN' AND "userId" NOT IN (SELECT "id" FROM "User" WHERE "role" = 'ADMIN')"#).await,
        15
    );
    eprintln!("sign-ins answered before the merge committed: {before_merge} of 15");
}

#[sqlx::test]
async fn the_permission_matrix_for_merge(pool: PgPool) {
    let app = app(pool.clone());
    let (_, user) = staff(&app, &pool, Role::User, "+998901110000").await;
    let (_, support) = staff(&app, &pool, Role::Support, "+998901110001").await;
    let (_, admin) = staff(&app, &pool, Role::Admin, "+998901110002").await;
    let (root_id, root) = staff(&app, &pool, Role::SuperAdmin, "+998901110003").await;
    let p = |role: &'static str| {
        let pool = pool.clone();
        async move {
            person(
                &pool,
                P {
                    role,
                    ..Default::default()
                },
            )
            .await
        }
    };
    let (u1, u2, u3, u4) = (
        p("USER").await,
        p("USER").await,
        p("USER").await,
        p("USER").await,
    );
    let sup = p("SUPPORT").await;
    let adm = p("ADMIN").await;

    let r = merge(&app, "", &u1, &u2, "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    for who in [&user, &support] {
        let r = merge(&app, who, &u1, &u2, "").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let page = app
            .get(&format!("/admin/users/{u1}/merge?other={u2}"), &[who])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
    }
    // ADMIN: USERs only; a staff member on either side needs SUPER_ADMIN.
    for (s, m) in [(&sup, &u3), (&u3, &sup), (&adm, &u3), (&u3, &adm)] {
        let r = merge(&app, &admin, s, m, "").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{s} {m}");
        let page = app
            .get(&format!("/admin/users/{s}/merge?other={m}"), &[&admin])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
    }
    assert!(exists(&pool, &sup).await && exists(&pool, &adm).await);
    let r = merge(&app, &admin, &u1, &u2, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Ids: the same one twice is a 400, an unknown one a 404.
    let r = merge(&app, &admin, &u3, &u3, "").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("merged_id"));
    let r = merge(&app, &admin, &u3, "no-such-user", "").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let page = app
        .get(&format!("/admin/users/{u3}/merge?other={u3}"), &[&admin])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let page = app
        .get(&format!("/admin/users/{u3}/merge?other=nobody"), &[&admin])
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let page = app
        .get(&format!("/admin/users/{u3}/merge"), &[&admin])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);

    // SUPER_ADMIN: anyone, but never themself away.
    let r = merge(&app, &root, &u3, &root_id, "").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(exists(&pool, &root_id).await);
    let r = merge(&app, &root, &u3, &sup, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let role: String = sqlx::query_scalar(r#"SELECT "role"::text FROM "User" WHERE "id" = $1"#)
        .bind(&u3)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(role, "SUPPORT", "the higher role is kept");
    // A session opened as a USER does not become an ADMIN's by the merge: it ends.
    sqlx::query(
        r#"INSERT INTO "Session" ("id", "userId", "token", "platform", "expiresAt")
           VALUES ('s-u4', $1, 'tok-u4', 'WEB', now() + interval '1 day')"#,
    )
    .bind(&u4)
    .execute(&pool)
    .await
    .unwrap();
    let r = merge(&app, &root, &adm, &u4, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        count(
            &pool,
            r#"SELECT count(*) FROM "Session" WHERE "id" = 's-u4'"#
        )
        .await,
        0,
        "the USER's session must not turn into an ADMIN session"
    );
    assert_eq!(
        count(
            &pool,
            r#"SELECT count(*) FROM "EventLog" WHERE "eventType" = 'ADMIN_MERGE'"#
        )
        .await,
        3
    );

    // The read side: SUPPORT may look, USER may not.
    let r = app
        .post_form(
            "/fn/merge/candidates",
            &format!("user_id={u3}"),
            &[&support],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post_form("/fn/merge/candidates", &format!("user_id={u3}"), &[&user])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post_form("/fn/merge/candidates", &format!("user_id={u3}"), &[])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .post_form("/fn/merge/candidates", "user_id=nobody", &[&support])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let page = app.get("/admin/users/duplicates", &[&support]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Merge…"), "SUPPORT gets no merge links");
    let page = app.get("/admin/users/duplicates", &[&user]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[sqlx::test]
async fn a_blocked_record_keeps_the_survivor_blocked(pool: PgPool) {
    let app = app(pool.clone());
    let (_, admin) = staff(&app, &pool, Role::Admin, "+998901110002").await;
    let a = person(&pool, P::default()).await;
    let b = person(&pool, P::default()).await;
    sqlx::query(
        r#"UPDATE "User" SET "blockedAt" = now(), "blockedReason" = 'spam' WHERE "id" = $1"#,
    )
    .bind(&b)
    .execute(&pool)
    .await
    .unwrap();
    let r = merge(&app, &admin, &a, &b, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let reason: Option<String> = sqlx::query_scalar(
        r#"SELECT "blockedReason" FROM "User" WHERE "id" = $1 AND "blockedAt" IS NOT NULL"#,
    )
    .bind(&a)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(reason.as_deref(), Some("spam"));
}

async fn candidates_of(app: &TestApp, cookie: &str, id: &str) -> serde_json::Value {
    let r = app
        .post_form("/fn/merge/candidates", &format!("user_id={id}"), &[cookie])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

fn reasons_for(c: &serde_json::Value, id: &str) -> Option<Vec<String>> {
    c["candidates"].as_array().unwrap().iter().find_map(|x| {
        (x["person"]["id"] == id).then(|| {
            x["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_string())
                .collect()
        })
    })
}

#[sqlx::test]
async fn candidates_by_phone_digits_folded_name_and_handle(pool: PgPool) {
    let app = app(pool.clone());
    let (_, support) = staff(&app, &pool, Role::Support, "+998901110001").await;
    let (_, admin) = staff(&app, &pool, Role::Admin, "+998901110002").await;
    let me = person(
        &pool,
        P {
            first: Some("Gʻulomov"),
            last: Some("Aziz"),
            phone: Some("+998901234567"),
            handle: Some("Aziz_G"),
            ..Default::default()
        },
    )
    .await;
    let phone_twin = person(
        &pool,
        P {
            first: Some("Someone"),
            phone: Some("+998 90 123-45-67"),
            ..Default::default()
        },
    )
    .await;
    let apostrophe = person(
        &pool,
        P {
            first: Some("G'ulomov"),
            last: Some("Aziz"),
            ..Default::default()
        },
    )
    .await;
    let cyrillic = person(
        &pool,
        P {
            first: Some("Ғуломов"),
            last: Some("  Азиз "),
            tg: Some(99),
            handle: Some("aziz_g"),
            source: "TELEGRAM",
            ..Default::default()
        },
    )
    .await;
    let elsewhere = person(
        &pool,
        P {
            first: Some("Gulomov"),
            last: Some("Aziz"),
            region: "KZ",
            ..Default::default()
        },
    )
    .await;
    let erased = person(
        &pool,
        P {
            first: Some("Gulomov"),
            last: Some("Aziz"),
            ..Default::default()
        },
    )
    .await;
    sqlx::query(r#"UPDATE "User" SET "erasedAt" = now() WHERE "id" = $1"#)
        .bind(&erased)
        .execute(&pool)
        .await
        .unwrap();
    let stranger = person(
        &pool,
        P {
            first: Some("Other"),
            phone: Some("+998901234568"),
            ..Default::default()
        },
    )
    .await;

    let c = candidates_of(&app, &support, &me).await;
    assert_eq!(c["can_merge"], false);
    assert_eq!(reasons_for(&c, &phone_twin), Some(vec!["phone".into()]));
    assert_eq!(reasons_for(&c, &apostrophe), Some(vec!["name".into()]));
    assert_eq!(
        reasons_for(&c, &cyrillic),
        Some(vec!["name".into(), "telegram".into()])
    );
    // Strongest evidence first.
    assert_eq!(c["candidates"][0]["person"]["id"], cyrillic.as_str());
    for not in [&elsewhere, &erased, &stranger, &me] {
        assert_eq!(reasons_for(&c, not), None, "{not}");
    }
    assert_eq!(c["candidates"].as_array().unwrap().len(), 3);

    // The user's page shows them, with merge links for ADMIN+ only.
    let page = app.get(&format!("/admin/users/{me}"), &[&admin]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"possible-duplicates\""));
    assert!(page
        .body
        .contains(&format!("/admin/users/{me}/merge?other={cyrillic}")));
    let page = app.get(&format!("/admin/users/{me}"), &[&support]).await;
    assert!(page
        .body
        .contains(&format!("data-user-id=\"{apostrophe}\"")));
    assert!(!page.body.contains("/merge?other="));
}

#[sqlx::test]
async fn the_duplicates_page_groups_and_pages(pool: PgPool) {
    let app = app(pool.clone());
    let (_, admin) = staff(&app, &pool, Role::Admin, "+998801110002").await;
    // 30 pairs sharing phone digits, written two ways.
    for i in 0..30 {
        person(
            &pool,
            P {
                phone: Some(&format!("+99890700{i:04}")),
                ..Default::default()
            },
        )
        .await;
        person(
            &pool,
            P {
                phone: Some(&format!("+998 90 700-{i:04}")),
                ..Default::default()
            },
        )
        .await;
    }
    // Eleven namesakes in one region are not one person; three are.
    for _ in 0..11 {
        person(
            &pool,
            P {
                first: Some("Shahzod"),
                last: Some("Karimov"),
                ..Default::default()
            },
        )
        .await;
    }
    for name in ["Shakhzod", "Shaxzod", "Шахзод"] {
        person(
            &pool,
            P {
                first: Some(name),
                last: Some("Tursunov"),
                region: "KG",
                ..Default::default()
            },
        )
        .await;
    }

    let page = app.get("/admin/users/duplicates", &[&admin]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body.matches("class=\"card merge-group\"").count(), 25);
    let next = page
        .body
        .split("id=\"duplicates-next\"")
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .map(|s| s[..s.find('"').unwrap()].replace("&amp;", "&"))
        .expect("a next page");
    assert!(next.contains("after="), "{next}");
    let page2 = app.get(&next, &[&admin]).await;
    assert_eq!(page2.status, StatusCode::OK);
    assert_eq!(page2.body.matches("class=\"card merge-group\"").count(), 5);
    assert!(!page2.body.contains("id=\"duplicates-next\""));
    assert!(page2.body.contains("data-key=\"998907000029\""));
    assert!(!page2.body.contains("data-key=\"998907000000\""));

    let tampered = next.replace("after=", "after=x");
    let r = app.get(&tampered, &[&admin]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // A phone cursor is no name cursor.
    let r = app
        .get(&next.replace("reason=phone", "reason=name"), &[&admin])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .get("/admin/users/duplicates?reason=shoe", &[&admin])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("reason"));

    let names = app
        .get("/admin/users/duplicates?reason=name", &[&admin])
        .await;
    assert_eq!(names.status, StatusCode::OK);
    assert_eq!(names.body.matches("class=\"card merge-group\"").count(), 1);
    assert!(names.body.contains("data-key=\"shahzod tursunov\""));
    assert!(names.body.contains("id=\"namesakes-note\""));
    assert_eq!(
        names
            .body
            .matches("class=\"button small merge-pair\"")
            .count(),
        2
    );
}

#[sqlx::test]
async fn telegram_handles_pair_up_on_the_duplicates_page(pool: PgPool) {
    let app = app(pool.clone());
    let (_, admin) = staff(&app, &pool, Role::Admin, "+998801110002").await;
    let web = person(
        &pool,
        P {
            handle: Some("Madina_UZ"),
            ..Default::default()
        },
    )
    .await;
    let tg = person(
        &pool,
        P {
            handle: Some("madina_uz"),
            tg: Some(1234),
            source: "TELEGRAM",
            ..Default::default()
        },
    )
    .await;
    let page = app
        .get("/admin/users/duplicates?reason=telegram", &[&admin])
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("@madina_uz"));
    assert!(page.body.contains(&format!("data-user-id=\"{web}\"")));
    assert!(page.body.contains(&format!("data-user-id=\"{tg}\"")));
}

#[sqlx::test]
async fn without_javascript_the_merge_answers_303_to_the_survivor(pool: PgPool) {
    let app = app(pool.clone());
    let (_, admin) = staff(&app, &pool, Role::Admin, "+998901110002").await;
    let a = person(&pool, P::default()).await;
    let b = person(&pool, P::default()).await;
    let post = |body: String| {
        Request::post("/fn/merge/merge")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .header(header::ORIGIN, ORIGIN)
            .header(header::HOST, "127.0.0.1:3000")
            .header(
                header::REFERER,
                format!("{ORIGIN}/admin/users/{a}/merge?other={b}"),
            )
            .header(header::COOKIE, &admin)
            .body(Body::from(body))
            .unwrap()
    };
    // Refused: back to the form, with the reason.
    let r = app
        .send(post(format!("survivor_id={a}&merged_id={a}")))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location(),
        Some(format!("/admin/users/{a}/merge?other={b}").as_str())
    );
    assert!(r.cookie("portal_flash").is_some());

    let r = app
        .send(post(format!("survivor_id={a}&merged_id={b}")))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), Some(format!("/admin/users/{a}").as_str()));
    let flash = r.cookie("portal_flash").expect("a flash");
    assert!(!exists(&pool, &b).await);
    let page = app
        .get(&format!("/admin/users/{a}"), &[&admin, &flash])
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Merged"), "the flash is shown");
}

#[sqlx::test]
async fn a_name_held_by_more_than_a_group_is_not_a_duplicate(pool: PgPool) {
    let app = app(pool.clone());
    let (_, admin) = staff(&app, &pool, Role::Admin, "+998901119001").await;
    let named = |first: &'static str| {
        let pool = pool.clone();
        async move {
            person(
                &pool,
                P {
                    first: Some(first),
                    last: Some("Joraev"),
                    ..Default::default()
                },
            )
            .await
        }
    };
    // Ten holders of one name are a group of ten: each is offered the other nine.
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(named("Jahongir").await);
    }
    let c = candidates_of(&app, &admin, &ids[0]).await;
    assert_eq!(c["candidates"].as_array().unwrap().len(), 9, "{c}");
    // An eleventh makes them namesakes: none is suggested by name any more.
    ids.push(named("Jahongir").await);
    let c = candidates_of(&app, &admin, &ids[0]).await;
    assert!(c["candidates"].as_array().unwrap().is_empty(), "{c}");
}

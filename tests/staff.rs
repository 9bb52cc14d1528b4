//! Staff: changing one's own password, one-time passwords, the staff page, the audit log.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use sqlx::PgPool;
use unified_portal::model::Role;

const SUPER: &str = "+998901240001";
const ADMIN: &str = "+998901240002";
const SUPPORT: &str = "+998901240003";
const USER: &str = "+998901240004";
const NEW_PASSWORD: &str = "a-brand-new-passphrase";

async fn person(app: &TestApp, pool: &PgPool, role: Role, phone: &str) -> (String, String) {
    let id = create_user(pool, role, phone).await;
    let cookie = app.login(phone, PASSWORD).await.expect("signs in");
    (id, cookie)
}

/// The form post a browser makes with JavaScript off.
async fn plain_post(app: &TestApp, path: &str, body: &str, cookie: &str, from: &str) -> Res {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header(header::ORIGIN, ORIGIN)
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::REFERER, format!("{ORIGIN}{from}"))
        .header(header::COOKIE, cookie)
        .body(Body::from(body.to_string()))
        .unwrap();
    app.send(req).await
}

fn change_body(current: &str, new: &str, confirm: &str) -> String {
    format!(
        "current_password={}&new_password={}&confirm={}",
        enc(current),
        enc(new),
        enc(confirm)
    )
}

async fn hash_of(pool: &PgPool, id: &str) -> String {
    sqlx::query_scalar(r#"SELECT "passwordHash" FROM "User" WHERE "id" = $1"#)
        .bind(id)
        .fetch_one(pool)
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

async fn must_change(pool: &PgPool, id: &str) -> bool {
    sqlx::query_scalar(r#"SELECT "passwordChangeRequired" FROM "User" WHERE "id" = $1"#)
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn changing_ones_password_checks_everything_then_ends_the_other_sessions(pool: PgPool) {
    let app = app(pool.clone());
    let (id, here) = person(&app, &pool, Role::User, USER).await;
    let elsewhere = app.login(USER, PASSWORD).await.unwrap();
    let before = hash_of(&pool, &id).await;

    let cases = [
        (
            change_body("wrong-password-123", NEW_PASSWORD, NEW_PASSWORD),
            "current_password",
        ),
        (
            change_body("", NEW_PASSWORD, NEW_PASSWORD),
            "current_password",
        ),
        (
            change_body(PASSWORD, NEW_PASSWORD, "a-different-passphrase"),
            "confirm",
        ),
        (change_body(PASSWORD, "short", "short"), "new_password"),
        (
            change_body(PASSWORD, &"x".repeat(257), &"x".repeat(257)),
            "new_password",
        ),
        (change_body(PASSWORD, PASSWORD, PASSWORD), "new_password"),
    ];
    for (body, field) in &cases {
        let r = app
            .post_form("/fn/account/change_password", body, &[&here])
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}: {}", r.body);
        assert!(
            r.body.contains(&format!("{field}: ")),
            "{field}: {}",
            r.body
        );
        assert!(!r.body.contains(PASSWORD), "no password echoed: {}", r.body);
    }
    assert_eq!(hash_of(&pool, &id).await, before, "nothing changed");
    assert_eq!(sessions_of(&pool, &id).await, 2);

    let r = app
        .post_form(
            "/fn/account/change_password",
            &change_body(PASSWORD, NEW_PASSWORD, NEW_PASSWORD),
            &[&here],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let done: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(done["redirect"], "/account");
    assert_ne!(hash_of(&pool, &id).await, before);
    assert_eq!(
        sessions_of(&pool, &id).await,
        1,
        "only this session is left"
    );
    assert_eq!(app.get("/account", &[&here]).await.status, StatusCode::OK);
    let gone = app.get("/account", &[&elsewhere]).await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert_eq!(gone.location(), Some("/login"));

    let ev: (serde_json::Value, String) = sqlx::query_as(
        r#"SELECT "metadata", "metadata"::text FROM "EventLog" WHERE "userId" = $1 AND "eventType" = 'PASSWORD_CHANGED'"#,
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(ev.0["otherSessionsEnded"], 1);
    assert!(!ev.1.contains(NEW_PASSWORD) && !ev.1.contains(PASSWORD));
    assert!(!ev.1.contains("argon2"), "no hash in the log");

    assert!(app.login(USER, PASSWORD).await.is_none(), "old password");
    assert!(
        app.login(USER, NEW_PASSWORD).await.is_some(),
        "new password"
    );
}

#[sqlx::test]
async fn guessing_the_current_password_is_slowed_down(pool: PgPool) {
    let app = app(pool.clone());
    let (id, c) = person(&app, &pool, Role::Support, SUPPORT).await;
    for i in 0..5 {
        let r = app
            .post_form(
                "/fn/account/change_password",
                &change_body(&format!("guess-number-{i}"), NEW_PASSWORD, NEW_PASSWORD),
                &[&c],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    }
    // Locked now, even for the right password.
    let r = app
        .post_form(
            "/fn/account/change_password",
            &change_body(PASSWORD, NEW_PASSWORD, NEW_PASSWORD),
            &[&c],
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.headers.contains_key(header::RETRY_AFTER));
    assert!(app.login(SUPPORT, PASSWORD).await.is_some(), "unchanged");
    assert!(!must_change(&pool, &id).await);
    // The sign-in form keeps its own counters: signing in still works from here.
}

#[sqlx::test]
async fn an_account_without_a_password_is_told_so(pool: PgPool) {
    let app = app(pool.clone());
    let (id, c) = person(&app, &pool, Role::User, USER).await;
    sqlx::query(r#"UPDATE "User" SET "passwordHash" = NULL WHERE "id" = $1"#)
        .bind(&id)
        .execute(&pool)
        .await
        .unwrap();
    let r = app
        .post_form(
            "/fn/account/change_password",
            &change_body(PASSWORD, NEW_PASSWORD, NEW_PASSWORD),
            &[&c],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("no password"), "{}", r.body);
    let page = app.get("/account/password", &[&c]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"no-password\""), "{}", page.body);
    assert!(!page.body.contains("id=\"password-form\""));
    let anon = app.get("/account/password", &[]).await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    assert_eq!(anon.location(), Some("/login"));
}

#[sqlx::test]
async fn a_one_time_password_must_be_replaced_before_anything_else(pool: PgPool) {
    let app = app(pool.clone());
    let (super_id, s) = person(&app, &pool, Role::SuperAdmin, SUPER).await;
    let (_, a) = person(&app, &pool, Role::Admin, ADMIN).await;
    let (target, t1) = person(&app, &pool, Role::Support, SUPPORT).await;
    let (plain, _) = person(&app, &pool, Role::User, USER).await;
    let one_time = "one-time-passphrase-42";
    let body = |id: &str, p: &str| format!("user_id={id}&password={}", enc(p));
    let path = "/fn/staff/set_temporary_password";

    // Who may, and on whom.
    let r = app.post_form(path, &body(&target, one_time), &[&a]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "ADMIN: {}", r.body);
    let r = app.post_form(path, &body(&plain, one_time), &[&s]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "non-staff: {}", r.body);
    assert!(r.body.contains("user_id: "), "{}", r.body);
    let r = app.post_form(path, &body(&super_id, one_time), &[&s]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "self: {}", r.body);
    let r = app.post_form(path, &body(&target, "short"), &[&s]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("password: "), "{}", r.body);
    let r = app.post_form(path, &body("nobody", one_time), &[&s]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert!(!must_change(&pool, &target).await && !must_change(&pool, &plain).await);

    let r = app.post_form(path, &body(&target, one_time), &[&s]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(must_change(&pool, &target).await);
    assert_eq!(sessions_of(&pool, &target).await, 0, "their sessions end");
    assert_eq!(app.get("/admin", &[&t1]).await.location(), Some("/login"));
    let ev: (String, serde_json::Value, String) = sqlx::query_as(
        r#"SELECT "userId", "metadata", "metadata"::text FROM "EventLog" WHERE "eventType" = 'ADMIN_SET_PASSWORD'"#,
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(ev.0, super_id, "the actor's row");
    assert_eq!(ev.1["targetUserId"], target.as_str());
    assert_eq!(ev.1["sessionsEnded"], 1);
    assert!(
        !ev.2.contains(one_time) && !ev.2.contains("argon2"),
        "{}",
        ev.2
    );
    assert!(
        app.login(SUPPORT, PASSWORD).await.is_none(),
        "old one is gone"
    );

    // Signing in with it leads only to the password page.
    let r = app
        .post_form(
            "/login",
            &format!("phone={}&password={}", enc(SUPPORT), enc(one_time)),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some("/account/password"));
    let t2 = r.cookie("portal_session").unwrap();
    for page in ["/admin", "/admin/users", "/account", "/admin/audit"] {
        let r = app.get(page, &[&t2]).await;
        assert!(r.status.is_redirection(), "{page}: {}", r.status);
        assert_eq!(r.location(), Some("/account/password"), "{page}");
    }
    let r = app.post_form("/fn/users/list", "", &[&t2]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = app.post_form("/fn/account/get", "", &[&t2]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let page = app.get("/account/password", &[&t2]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("id=\"password-pending\""),
        "{}",
        page.body
    );

    let r = app
        .post_form(
            "/fn/account/change_password",
            &change_body(one_time, NEW_PASSWORD, NEW_PASSWORD),
            &[&t2],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let done: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(done["redirect"], "/admin", "staff land on the dashboard");
    assert!(!must_change(&pool, &target).await);
    assert_eq!(app.get("/admin", &[&t2]).await.status, StatusCode::OK);
    assert_eq!(
        app.post_form("/fn/users/list", "", &[&t2]).await.status,
        StatusCode::OK
    );
    assert!(app.login(SUPPORT, NEW_PASSWORD).await.is_some());
}

#[sqlx::test]
async fn the_staff_page_is_for_super_admins_and_lists_staff_with_last_sign_in(pool: PgPool) {
    let app = app(pool.clone());
    let (super_id, s) = person(&app, &pool, Role::SuperAdmin, SUPER).await;
    let (admin_id, a) = person(&app, &pool, Role::Admin, ADMIN).await;
    let (_, sup) = person(&app, &pool, Role::Support, SUPPORT).await;
    let (plain, u) = person(&app, &pool, Role::User, USER).await;
    // Staff who never signed in.
    let quiet = create_user(&pool, Role::Support, "+998901240009").await;

    for c in [&a, &sup, &u] {
        let r = app.get("/admin/staff", &[c]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = app.post_form("/fn/staff/list", "", &[c]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    let anon = app.get("/admin/staff", &[]).await;
    assert_eq!(anon.location(), Some("/login"));

    let r = app.get("/admin/staff", &[&s]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let row = |id: &str| {
        let marker = format!("data-user-id=\"{id}\"");
        r.body
            .find(&marker)
            .map(|i| r.body[i..].split("</tr>").next().unwrap().to_string())
    };
    for id in [&super_id, &admin_id, &quiet] {
        assert!(row(id).is_some(), "{id} listed");
    }
    assert!(row(&plain).is_none(), "not staff, not listed");
    let admin_row = row(&admin_id).unwrap();
    assert!(admin_row.contains("Admin"));
    assert!(
        admin_row.contains("+05:00"),
        "a local sign-in time: {admin_row}"
    );
    assert!(row(&quiet).unwrap().contains("never"));
    assert!(row(&super_id).unwrap().contains(">you<"));
    // Super admins come first.
    assert!(r.body.find(&super_id).unwrap() < r.body.find(&admin_id).unwrap());
}

#[sqlx::test]
async fn staff_roles_are_granted_by_phone_or_telegram_id(pool: PgPool) {
    let app = app(pool.clone());
    let (_, s) = person(&app, &pool, Role::SuperAdmin, SUPER).await;
    let (_, a) = person(&app, &pool, Role::Admin, ADMIN).await;
    let by_phone = create_user(&pool, Role::User, USER).await;
    let by_tg = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        r#"INSERT INTO "User" ("id", "firstName", "telegramId", "updatedAt") VALUES ($1, 'Tg', 777001, now())"#,
    )
    .bind(&by_tg)
    .execute(&pool)
    .await
    .unwrap();
    let role_of = |id: String| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(r#"SELECT "role"::text FROM "User" WHERE "id" = $1"#)
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };

    let r = app
        .post_form("/fn/staff/grant", "phone=%2B998901240004&role=ADMIN", &[&a])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "ADMIN cannot: {}", r.body);

    let r = app
        .post_form(
            "/fn/staff/grant",
            &format!("phone={}&telegram_id=&role=ADMIN", enc("90 124 00 04")),
            &[&s],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(role_of(by_phone.clone()).await, "ADMIN");
    let r = app
        .post_form(
            "/fn/staff/grant",
            "phone=&telegram_id=777001&role=SUPPORT",
            &[&s],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(role_of(by_tg.clone()).await, "SUPPORT");
    let audited: i64 = sqlx::query_scalar(
        r#"SELECT count(*) FROM "EventLog" WHERE "eventType" = 'ADMIN_ROLE_CHANGE' AND "metadata" ->> 'targetUserId' IN ($1, $2)"#,
    )
    .bind(&by_phone)
    .bind(&by_tg)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 2);

    let bad: &[(&str, StatusCode, &str)] = &[
        (
            "phone=%2B998909999999&role=ADMIN",
            StatusCode::NOT_FOUND,
            "phone: ",
        ),
        (
            "telegram_id=123456&role=ADMIN",
            StatusCode::NOT_FOUND,
            "telegram_id: ",
        ),
        (
            "telegram_id=abc&role=ADMIN",
            StatusCode::BAD_REQUEST,
            "telegram_id: ",
        ),
        ("phone=hello&role=ADMIN", StatusCode::BAD_REQUEST, "phone: "),
        ("role=ADMIN", StatusCode::BAD_REQUEST, "phone: "),
        (
            "phone=%2B998901240004&telegram_id=777001&role=ADMIN",
            StatusCode::BAD_REQUEST,
            "telegram_id: ",
        ),
        (
            "phone=%2B998901240004&role=USER",
            StatusCode::BAD_REQUEST,
            "role: ",
        ),
        (
            "phone=%2B998901240004&role=KING",
            StatusCode::BAD_REQUEST,
            "role: ",
        ),
    ];
    for (body, status, field) in bad {
        let r = app.post_form("/fn/staff/grant", body, &[&s]).await;
        assert_eq!(r.status, *status, "{body}: {}", r.body);
        assert!(r.body.contains(field), "{body}: {}", r.body);
    }
    assert_eq!(role_of(by_phone.clone()).await, "ADMIN", "unchanged");

    // Taking the role away from the list.
    let r = app
        .post_form(
            "/fn/staff/set_role",
            &format!("user_id={by_tg}&role=USER"),
            &[&s],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(role_of(by_tg).await, "USER");
}

#[sqlx::test]
async fn the_last_super_admin_keeps_the_role(pool: PgPool) {
    let app = app(pool.clone());
    let (me, s) = person(&app, &pool, Role::SuperAdmin, SUPER).await;
    let r = app
        .post_form(
            "/fn/staff/set_role",
            &format!("user_id={me}&role=ADMIN"),
            &[&s],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("last SUPER_ADMIN"), "{}", r.body);
    let role: String = sqlx::query_scalar(r#"SELECT "role"::text FROM "User" WHERE "id" = $1"#)
        .bind(&me)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(role, "SUPER_ADMIN");
    // With a second one, either may step down.
    let r = app
        .post_form(
            "/fn/staff/grant",
            "phone=%2B998901240002&role=SUPER_ADMIN",
            &[&s],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "no such person yet");
    create_user(&pool, Role::Admin, ADMIN).await;
    let r = app
        .post_form(
            "/fn/staff/grant",
            "phone=%2B998901240002&role=SUPER_ADMIN",
            &[&s],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post_form(
            "/fn/staff/set_role",
            &format!("user_id={me}&role=ADMIN"),
            &[&s],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[sqlx::test]
async fn plain_form_posts_get_a_redirect_and_a_flash(pool: PgPool) {
    let app = app(pool.clone());
    let (_, s) = person(&app, &pool, Role::SuperAdmin, SUPER).await;
    let (uid, u) = person(&app, &pool, Role::User, USER).await;

    let r = plain_post(
        &app,
        "/fn/account/change_password",
        &change_body("wrong-password-123", NEW_PASSWORD, NEW_PASSWORD),
        &u,
        "/account/password",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), Some("/account/password"), "back to the form");
    let flash = r.cookie("portal_flash").expect("flash");
    let page = app.get("/account/password", &[&u, &flash]).await;
    assert!(page.body.contains("wrong password"), "{}", page.body);

    let r = plain_post(
        &app,
        "/fn/account/change_password",
        &change_body(PASSWORD, NEW_PASSWORD, NEW_PASSWORD),
        &u,
        "/account/password",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), Some("/account"), "on to the landing page");
    assert!(r.cookie("portal_flash").is_some());
    assert!(app.login(USER, NEW_PASSWORD).await.is_some());
    assert!(!must_change(&pool, &uid).await);

    let r = plain_post(
        &app,
        "/fn/staff/grant",
        "phone=%2B998901240004&telegram_id=&role=SUPPORT",
        &s,
        "/admin/staff",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), Some("/admin/staff"));
    let flash = r.cookie("portal_flash").expect("flash");
    let page = app.get("/admin/staff", &[&s, &flash]).await;
    assert!(page.body.contains("is now Support"), "{}", page.body);
    assert!(page.body.contains(&format!("data-user-id=\"{uid}\"")));

    let r = plain_post(
        &app,
        "/fn/staff/set_temporary_password",
        &format!("user_id={uid}&password=short"),
        &s,
        "/admin/staff",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), Some("/admin/staff"));
    assert!(r.cookie("portal_flash").is_some());
    assert!(!must_change(&pool, &uid).await);
}

// ---------------------------------------------------------------------------------------
// The audit log

/// The rendered table only: the page also carries its data for hydration.
fn audit_table(body: &str) -> &str {
    match body.find("id=\"audit-table\"") {
        Some(i) => body[i..].split("</table>").next().unwrap(),
        None => "",
    }
}

fn audit_ids(body: &str) -> Vec<String> {
    audit_table(body)
        .split("data-event-id=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

/// Every row the log shows for `qs`, walking all pages.
async fn walk(app: &TestApp, cookie: &str, qs: &str) -> Vec<String> {
    let mut got = Vec::new();
    let mut url = format!("/admin/audit?{qs}");
    for _ in 0..100 {
        let r = app.get(&url, &[cookie]).await;
        assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.body);
        got.extend(audit_ids(&r.body));
        let Some(i) = r.body.find("id=\"audit-next\"") else {
            break;
        };
        let href = r.body[..i].rsplit("href=\"").next().unwrap();
        url = href.split('"').next().unwrap().replace("&amp;", "&");
    }
    got
}

async fn expected(pool: &PgPool, cond: &str) -> Vec<String> {
    sqlx::query_scalar(&format!(
        r#"SELECT "id" FROM "EventLog"
           WHERE (starts_with("eventType", 'ADMIN_') OR "eventType" = 'SESSION_REVOKED')
             AND {cond}
           ORDER BY "createdAt" DESC, "id" DESC"#
    ))
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn the_audit_log_lists_staff_actions_filters_and_pages(pool: PgPool) {
    let app = app(pool.clone());
    let (super_id, s) = person(&app, &pool, Role::SuperAdmin, SUPER).await;
    let (admin_id, a) = person(&app, &pool, Role::Admin, ADMIN).await;
    let (_, sup) = person(&app, &pool, Role::Support, SUPPORT).await;
    let (target, u) = person(&app, &pool, Role::User, USER).await;
    let target_session: String =
        sqlx::query_scalar(r#"SELECT "id" FROM "Session" WHERE "userId" = $1"#)
            .bind(&target)
            .fetch_one(&pool)
            .await
            .unwrap();

    // Real actions: a role change, a revoked session, an export.
    let r = app
        .post_form(
            "/fn/users/set_role",
            &format!("user_id={target}&role=SUPPORT"),
            &[&a],
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = app
        .post_form(
            "/fn/users/revoke_session",
            &format!("user_id={target}&session_id={target_session}"),
            &[&s],
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = app.get("/admin/users/export.csv", &[&a]).await;
    assert_eq!(r.status, StatusCode::OK);
    drop(u);

    // Many more, spread over days, by both staff on several targets; and ordinary events
    // that are no staff actions. An erased target and a target without a record.
    let erased = create_user(&pool, Role::User, "+998901240005").await;
    sqlx::query(r#"UPDATE "User" SET "erasedAt" = now(), "firstName" = NULL, "phone" = NULL WHERE "id" = $1"#)
        .bind(&erased)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        r#"INSERT INTO "EventLog" ("id", "userId", "eventType", "platform", "metadata", "createdAt")
           SELECT gen_random_uuid()::text,
                  CASE WHEN i % 2 = 0 THEN $1 ELSE $2 END,
                  CASE WHEN i % 3 = 0 THEN 'ADMIN_BLOCK' ELSE 'ADMIN_EDIT' END,
                  'WEB',
                  jsonb_build_object('targetUserId', CASE i % 4 WHEN 0 THEN $3 WHEN 1 THEN $4 WHEN 2 THEN 'gone-user' ELSE $3 END,
                                     'note', '<script>x</script>', 'n', i),
                  (now() AT TIME ZONE 'UTC') - make_interval(hours => i * 5)
           FROM generate_series(1, 130) i"#,
    )
    .bind(&super_id)
    .bind(&admin_id)
    .bind(&target)
    .bind(&erased)
    .execute(&pool)
    .await
    .unwrap();
    // Any writer of "EventLog" (the events API too) may name a targetUserId: that alone
    // does not make an event a staff action, in the log or on the target's page.
    sqlx::query(
        r#"INSERT INTO "EventLog" ("id", "userId", "eventType", "platform", "metadata")
           VALUES ('forged-1', $1, 'APP_OPEN', 'MOBILE_APP', jsonb_build_object('targetUserId', $2::text, 'changes', 'role ADMIN -> USER'))"#,
    )
    .bind(&admin_id)
    .bind(&target)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        r#"INSERT INTO "EventLog" ("id", "userId", "eventType", "platform", "createdAt")
           SELECT gen_random_uuid()::text, $1, 'PAGE_VIEW', 'WEB', now() AT TIME ZONE 'UTC' FROM generate_series(1, 20)"#,
    )
    .bind(&target)
    .execute(&pool)
    .await
    .unwrap();

    // Every staff role reads it; nobody else.
    for c in [&s, &a, &sup] {
        assert_eq!(app.get("/admin/audit", &[c]).await.status, StatusCode::OK);
    }
    create_user(&pool, Role::User, "+998901240006").await;
    let plain = app.login("+998901240006", PASSWORD).await.unwrap();
    assert_eq!(
        app.get("/admin/audit", &[&plain]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post_form("/fn/audit/list", "", &[&plain]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post_form("/fn/audit/list", "", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/admin/audit", &[]).await.location(),
        Some("/login")
    );

    let first = app.get("/admin/audit", &[&sup]).await;
    assert_eq!(audit_ids(&first.body).len(), 50);
    for t in ["ADMIN_ROLE_CHANGE", "SESSION_REVOKED", "ADMIN_EXPORT"] {
        assert!(
            first.body.contains(&format!("data-event-type=\"{t}\"")),
            "{t} listed"
        );
    }
    let role_row = {
        let i = first
            .body
            .find("data-event-type=\"ADMIN_ROLE_CHANGE\"")
            .unwrap();
        first.body[i..].split("</tr>").next().unwrap().to_string()
    };
    assert!(role_row.contains(&format!("data-actor-id=\"{admin_id}\"")));
    assert!(role_row.contains(&format!("data-target-id=\"{target}\"")));
    assert!(role_row.contains(&format!("href=\"/admin/users/{target}\"")));
    assert!(role_row.contains("oldRole") && role_row.contains("SUPPORT"));
    assert!(
        !role_row.contains("targetUserId"),
        "the target has its column"
    );
    assert!(role_row.contains("+05:00"), "local time with offset");
    let table = audit_table(&first.body);
    assert!(!table.contains("<script>x</script>"), "escaped");
    assert!(
        !first.body.contains("forged-1"),
        "an APP_OPEN naming a target is not a staff action"
    );
    let target_page = app.get(&format!("/admin/users/{target}"), &[&s]).await;
    assert_eq!(target_page.status, StatusCode::OK);
    assert!(
        !target_page.body.contains("forged-1"),
        "nor on the target's page"
    );
    assert!(table.contains("&lt;script&gt;"));
    assert!(!table.contains("PAGE_VIEW"));

    // Each filter narrows to the rows SQL says, every row once across the pages.
    let day: String = sqlx::query_scalar(
        r#"SELECT to_char((((now() AT TIME ZONE 'UTC') - interval '10 days') AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Tashkent')::date, 'YYYY-MM-DD')"#,
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let local_day = r#"("createdAt" AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Tashkent')::date"#;
    let cases: Vec<(String, String)> = vec![
        (String::new(), "true".into()),
        (
            format!("actor={admin_id}"),
            format!(r#""userId" = '{admin_id}'"#),
        ),
        (
            format!("target={target}"),
            format!(r#""metadata" ->> 'targetUserId' = '{target}'"#),
        ),
        (
            "type=ADMIN_BLOCK".into(),
            r#""eventType" = 'ADMIN_BLOCK'"#.into(),
        ),
        (
            format!("from={day}&to={day}"),
            format!("{local_day} = '{day}'::date"),
        ),
        (
            format!("to={day}&type=ADMIN_EDIT&actor={super_id}"),
            format!(
                r#"{local_day} <= '{day}'::date AND "eventType" = 'ADMIN_EDIT' AND "userId" = '{super_id}'"#
            ),
        ),
        (
            format!("from={day}"),
            format!("{local_day} >= '{day}'::date"),
        ),
    ];
    for (qs, cond) in cases {
        let want = expected(&pool, &cond).await;
        assert!(!want.is_empty(), "{qs}: the case has rows");
        let got = walk(&app, &sup, &qs).await;
        assert_eq!(got, want, "{qs}");
    }
    assert!(expected(&pool, "true").await.len() > 100, "several pages");

    // Erased and missing targets are shown by id.
    let r = app
        .get(&format!("/admin/audit?target={erased}"), &[&sup])
        .await;
    let table = audit_table(&r.body);
    assert!(
        table.contains(&format!(
            "data-user-id=\"{erased}\" class=\"target mono gone\">{erased}<"
        )),
        "{table}"
    );
    assert!(!table.contains(&format!("href=\"/admin/users/{erased}\"")));
    let r = app.get("/admin/audit?target=gone-user", &[&sup]).await;
    assert!(audit_table(&r.body)
        .contains("data-user-id=\"gone-user\" class=\"target mono gone\">gone-user<"));

    // Staff actions are the actors' rows, never the target's own activity.
    let own: i64 = sqlx::query_scalar(
        r#"SELECT count(*) FROM "EventLog" WHERE "userId" = $1
           AND (starts_with("eventType", 'ADMIN_') OR "eventType" = 'SESSION_REVOKED')"#,
    )
    .bind(&target)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(own, 0);
    let page = app.get(&format!("/admin/users/{target}"), &[&sup]).await;
    assert_eq!(page.status, StatusCode::OK);
    let timeline = page.body.split("id=\"timeline\"").nth(1).unwrap();
    let timeline = timeline.split("class=\"pager\"").next().unwrap();
    assert!(!timeline.contains("ADMIN_"), "not in the timeline");
    assert!(!timeline.contains("SESSION_REVOKED"));
    assert!(timeline.contains("PAGE_VIEW"));
}

#[sqlx::test]
async fn bad_audit_parameters_get_a_400_naming_them(pool: PgPool) {
    let app = app(pool.clone());
    let (_, sup) = person(&app, &pool, Role::Support, SUPPORT).await;
    let long = "X".repeat(65);
    let cases = [
        ("from=2024-1-1".to_string(), "from"),
        ("to=yesterday".to_string(), "to"),
        ("from=2024-05-02&to=2024-05-01".to_string(), "from, to"),
        ("before=not-a-cursor".to_string(), "before"),
        (format!("type={long}"), "type"),
        (format!("actor={}", "a".repeat(201)), "actor"),
        ("target=%01".to_string(), "target"),
    ];
    for (qs, name) in cases {
        let r = app.get(&format!("/admin/audit?{qs}"), &[&sup]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{qs}");
        assert!(r.body.contains(&format!("{name}: ")), "{qs}: {}", r.body);
    }
    let r = app.get("/admin/audit?type=&actor=", &[&sup]).await;
    assert_eq!(r.status, StatusCode::OK, "empty means absent");
    assert!(r.body.contains("id=\"audit-empty\""));
}

#[sqlx::test]
async fn every_new_action_and_page_checks_the_role(pool: PgPool) {
    use StatusCode as S;
    let app = app(pool.clone());
    let mut cookies: Vec<Option<String>> = vec![None];
    for (role, phone) in [
        (Role::User, USER),
        (Role::Support, SUPPORT),
        (Role::Admin, ADMIN),
        (Role::SuperAdmin, SUPER),
    ] {
        cookies.push(Some(person(&app, &pool, role, phone).await.1));
    }
    let roles = ["anonymous", "USER", "SUPPORT", "ADMIN", "SUPER_ADMIN"];
    // Each call is well-formed but names nobody (or changes nothing), so the answer of an
    // allowed caller is the same for every role.
    let fns: &[(&str, &str, [S; 5])] = &[
        (
            "/fn/account/password_info",
            "",
            [S::UNAUTHORIZED, S::OK, S::OK, S::OK, S::OK],
        ),
        (
            "/fn/account/change_password",
            "current_password=&new_password=&confirm=",
            [
                S::UNAUTHORIZED,
                S::BAD_REQUEST,
                S::BAD_REQUEST,
                S::BAD_REQUEST,
                S::BAD_REQUEST,
            ],
        ),
        (
            "/fn/staff/list",
            "",
            [
                S::UNAUTHORIZED,
                S::FORBIDDEN,
                S::FORBIDDEN,
                S::FORBIDDEN,
                S::OK,
            ],
        ),
        (
            "/fn/staff/grant",
            "phone=%2B998909999999&role=ADMIN",
            [
                S::UNAUTHORIZED,
                S::FORBIDDEN,
                S::FORBIDDEN,
                S::FORBIDDEN,
                S::NOT_FOUND,
            ],
        ),
        (
            "/fn/staff/set_role",
            "user_id=nobody&role=USER",
            [
                S::UNAUTHORIZED,
                S::FORBIDDEN,
                S::FORBIDDEN,
                S::FORBIDDEN,
                S::NOT_FOUND,
            ],
        ),
        (
            "/fn/staff/set_temporary_password",
            "user_id=nobody&password=long-enough-password",
            [
                S::UNAUTHORIZED,
                S::FORBIDDEN,
                S::FORBIDDEN,
                S::FORBIDDEN,
                S::NOT_FOUND,
            ],
        ),
        (
            "/fn/audit/list",
            "",
            [S::UNAUTHORIZED, S::FORBIDDEN, S::OK, S::OK, S::OK],
        ),
    ];
    for (path, args, want) in fns {
        for (i, c) in cookies.iter().enumerate() {
            let cs: Vec<&str> = c.iter().map(String::as_str).collect();
            let r = app.post_form(path, args, &cs).await;
            assert_eq!(r.status, want[i], "{path} as {}: {}", roles[i], r.body);
        }
    }
    let pages: &[(&str, [S; 5])] = &[
        (
            "/account/password",
            [S::SEE_OTHER, S::OK, S::OK, S::OK, S::OK],
        ),
        (
            "/admin/staff",
            [
                S::SEE_OTHER,
                S::FORBIDDEN,
                S::FORBIDDEN,
                S::FORBIDDEN,
                S::OK,
            ],
        ),
        (
            "/admin/audit",
            [S::SEE_OTHER, S::FORBIDDEN, S::OK, S::OK, S::OK],
        ),
    ];
    for (path, want) in pages {
        for (i, c) in cookies.iter().enumerate() {
            let cs: Vec<&str> = c.iter().map(String::as_str).collect();
            let r = app.get(path, &cs).await;
            assert_eq!(r.status, want[i], "{path} as {}", roles[i]);
            if i == 0 {
                assert_eq!(r.location(), Some("/login"), "{path}");
            }
        }
    }
    assert_eq!(
        count(
            &pool,
            r#"SELECT count(*) FROM "EventLog" WHERE starts_with("eventType", 'ADMIN_')"#
        )
        .await,
        0,
        "nothing was done"
    );
}

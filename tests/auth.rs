mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use sqlx::PgPool;
use unified_portal::model::Role;

const ADMIN: &str = "+998901110001";

#[sqlx::test]
async fn password_sign_in_opens_a_session_row_and_logs_it(pool: PgPool) {
    let app = app(pool.clone());
    let id = create_user(&pool, Role::Admin, ADMIN).await;
    // Any formatting of the number is the same phone.
    let res = app
        .post_form(
            "/login",
            &format!("phone={}&password={PASSWORD}", enc("998 (90) 111-00-01")),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), Some("/admin"));
    let set = res
        .set_cookie_header("portal_session")
        .expect("session cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let cookie = res.cookie("portal_session").unwrap();
    let secret = cookie.trim_start_matches("portal_session=");

    let row: (String, String, String) =
        sqlx::query_as(r#"SELECT "userId", "token", "platform"::text FROM "Session""#)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(row.0, id);
    assert_ne!(row.1, secret, "the row holds a digest, never the secret");
    assert_eq!(row.1.len(), 64);
    assert_eq!(row.2, "WEB");
    let ev: (String, String, serde_json::Value) = sqlx::query_as(
        r#"SELECT "eventType", "ipAddress", "metadata" FROM "EventLog" WHERE "userId" = $1"#,
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(ev.0, "LOGIN");
    assert_eq!(ev.1, "127.0.0.1");
    assert_eq!(ev.2["method"], "password");

    let page = app.get("/admin", &[&cookie]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Dashboard"));
}

#[sqlx::test]
async fn wrong_password_and_unknown_phone_get_the_same_answer(pool: PgPool) {
    let app = app(pool.clone());
    let id = create_user(&pool, Role::Admin, ADMIN).await;
    let wrong = app
        .post_form(
            "/login",
            &format!("phone={}&password=nope-nope-nope", enc(ADMIN)),
            &[],
        )
        .await;
    let unknown = app
        .post_form(
            "/login",
            &format!("phone={}&password=nope-nope-nope", enc("+998907770000")),
            &[],
        )
        .await;
    for r in [&wrong, &unknown] {
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location(), Some("/login"));
        assert!(r.cookie("portal_session").is_none());
    }
    // The message travels in the signed state cookie and is shown once on /login.
    let flash = wrong.cookie("portal_state").unwrap();
    let page = app.get("/login", &[&flash]).await;
    assert!(page.body.contains("Wrong phone number or password."));
    let page2 = app
        .get("/login", &[&unknown.cookie("portal_state").unwrap()])
        .await;
    assert!(page2.body.contains("Wrong phone number or password."));
    assert_eq!(count(&pool, r#"SELECT count(*) FROM "Session""#).await, 0);
    // A failed attempt on a real account is on its record; an unknown phone writes nothing.
    let failed: Vec<String> =
        sqlx::query_scalar(r#"SELECT "eventType" FROM "EventLog" WHERE "userId" = $1"#)
            .bind(&id)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(failed, vec!["LOGIN_FAILED".to_string()]);
    assert_eq!(count(&pool, r#"SELECT count(*) FROM "EventLog""#).await, 1);
}

#[sqlx::test]
async fn failed_attempts_are_limited_per_phone_and_address_then_reset(pool: PgPool) {
    let app = app(pool.clone());
    create_user(&pool, Role::Admin, ADMIN).await;
    let bad = format!("phone={}&password=wrong-wrong-wrong", enc(ADMIN));
    for _ in 0..5 {
        let r = app.post_form("/login", &bad, &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
    let r = app.post_form("/login", &bad, &[]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    assert!(r.body.contains("Try again in"));
    // Even the right password waits: the limit is checked before the password.
    let good = format!("phone={}&password={PASSWORD}", enc(ADMIN));
    assert_eq!(
        app.post_form("/login", &good, &[]).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client address is not locked out: no one can lock staff out from afar.
    let mut req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(good.clone()))
        .unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [10, 1, 2, 3],
            5555,
        ))));
    let other = app.send(req).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
    assert!(other.cookie("portal_session").is_some());
    // When the lock has passed, a success resets the counter.
    sqlx::query(r#"UPDATE "LoginAttempt" SET "lockedUntil" = now() AT TIME ZONE 'UTC' - interval '1 second'"#)
        .execute(&pool)
        .await
        .unwrap();
    let ok = app.post_form("/login", &good, &[]).await;
    assert!(ok.cookie("portal_session").is_some());
    assert_eq!(
        count(&pool, r#"SELECT count(*) FROM "LoginAttempt""#).await,
        0
    );
}

#[sqlx::test]
async fn expired_and_revoked_sessions_sign_the_client_out(pool: PgPool) {
    let app = app(pool.clone());
    create_user(&pool, Role::Admin, ADMIN).await;
    let c1 = app.login(ADMIN, PASSWORD).await.unwrap();
    let c2 = app.login(ADMIN, PASSWORD).await.unwrap();
    assert_eq!(app.get("/admin", &[&c1]).await.status, StatusCode::OK);
    sqlx::query(
        r#"UPDATE "Session" SET "expiresAt" = now() AT TIME ZONE 'UTC' - interval '1 second'
                   WHERE "createdAt" = (SELECT min("createdAt") FROM "Session")"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    // Which row was first is not guaranteed at millisecond resolution; expire both ways.
    let r1 = app.get("/admin", &[&c1]).await;
    let r2 = app.get("/admin", &[&c2]).await;
    let expired = [&r1, &r2]
        .iter()
        .filter(|r| r.status == StatusCode::SEE_OTHER)
        .count();
    assert!(expired >= 1);
    // Deleting the row (revocation) signs the other out at its next request.
    sqlx::query(r#"DELETE FROM "Session""#)
        .execute(&pool)
        .await
        .unwrap();
    for c in [&c1, &c2] {
        let r = app.get("/admin/users", &[c]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location(), Some("/login"));
    }
}

#[sqlx::test]
async fn revoking_from_the_account_page_ends_that_session_and_logs_it(pool: PgPool) {
    let app = app(pool.clone());
    let id = create_user(&pool, Role::User, "+998901110002").await;
    let a = app.login("+998901110002", PASSWORD).await.unwrap();
    let b = app.login("+998901110002", PASSWORD).await.unwrap();
    let sessions: Vec<String> =
        sqlx::query_scalar(r#"SELECT "id" FROM "Session" ORDER BY "createdAt""#)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(sessions.len(), 2);
    // Whichever row belongs to `a`, revoke it from `b`: find it through b's own page.
    let page = app.get("/account", &[&b]).await;
    assert_eq!(page.status, StatusCode::OK);
    let other = sessions
        .iter()
        .find(|s| {
            let marker = format!("data-session-id=\"{s}\"");
            let i = page.body.find(&marker).unwrap();
            !page.body[i..]
                .split("</tr>")
                .next()
                .unwrap()
                .contains("this device")
        })
        .unwrap()
        .clone();
    let r = app
        .post_form(
            "/fn/account/revoke_session",
            &format!("session_id={other}"),
            &[&b],
        )
        .await;
    assert!(
        r.status.is_success() || r.status.is_redirection(),
        "{} {}",
        r.status,
        r.body
    );
    assert_eq!(count(&pool, r#"SELECT count(*) FROM "Session""#).await, 1);
    assert_eq!(
        app.get("/account", &[&a]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.get("/account", &[&b]).await.status, StatusCode::OK);
    let ev: serde_json::Value = sqlx::query_scalar(
        r#"SELECT "metadata" FROM "EventLog" WHERE "eventType" = 'SESSION_REVOKED' AND "userId" = $1"#,
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(ev["sessionId"], other);
    // Someone else's session id is not found, and nothing is deleted.
    let r = app
        .post_form("/fn/account/revoke_session", "session_id=not-mine", &[&b])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn sign_out_deletes_the_row_and_logs_it(pool: PgPool) {
    let app = app(pool.clone());
    create_user(&pool, Role::Support, ADMIN).await;
    let c = app.login(ADMIN, PASSWORD).await.unwrap();
    let r = app.post_form("/logout", "", &[&c]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&pool, r#"SELECT count(*) FROM "Session""#).await, 0);
    assert_eq!(
        count(
            &pool,
            r#"SELECT count(*) FROM "EventLog" WHERE "eventType" = 'LOGOUT'"#
        )
        .await,
        1
    );
    assert_eq!(app.get("/admin", &[&c]).await.status, StatusCode::SEE_OTHER);
}

#[sqlx::test]
async fn a_cookie_planted_before_sign_in_is_worthless_after_it(pool: PgPool) {
    let app = app(pool.clone());
    create_user(&pool, Role::Admin, ADMIN).await;
    let planted = "portal_session=AAAAAAAAAAAAAAAAAAAAAA";
    let res = app
        .post_form(
            "/login",
            &format!("phone={}&password={PASSWORD}", enc(ADMIN)),
            &[planted],
        )
        .await;
    let issued = res.cookie("portal_session").unwrap();
    assert_ne!(issued, planted);
    assert_eq!(
        app.get("/admin", &[planted]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.get("/admin", &[&issued]).await.status, StatusCode::OK);
    // And the session id changes at every sign-in, even from a signed-in browser.
    let again = app
        .post_form(
            "/login",
            &format!("phone={}&password={PASSWORD}", enc(ADMIN)),
            &[&issued],
        )
        .await
        .cookie("portal_session")
        .unwrap();
    assert_ne!(again, issued);
    assert_eq!(
        app.get("/admin", &[&issued]).await.status,
        StatusCode::SEE_OTHER
    );
}

#[sqlx::test]
async fn sign_in_returns_only_to_local_paths(pool: PgPool) {
    let app = app(pool.clone());
    create_user(&pool, Role::Admin, ADMIN).await;
    // The guard remembers where an anonymous visitor was going…
    let r = app.get("/admin/users?source=WEB", &[]).await;
    assert_eq!(r.location(), Some("/login"));
    let state = r.cookie("portal_state").unwrap();
    let back = app
        .post_form(
            "/login",
            &format!("phone={}&password={PASSWORD}", enc(ADMIN)),
            &[&state],
        )
        .await;
    assert_eq!(back.location(), Some("/admin/users?source=WEB"));
    // …and nothing else: a forged or foreign `next` never leaves the site.
    for evil in [
        "//evil.example/x",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
    ] {
        assert_eq!(unified_portal::auth::ssr::safe_next(evil), None, "{evil}");
    }
    let forged = "portal_state=eyJuZXh0IjoiLy9ldmlsLmV4YW1wbGUiLCJleHAiOjk5OTk5OTk5OTl9.AAAA";
    let r = app
        .post_form(
            "/login",
            &format!("phone={}&password={PASSWORD}", enc(ADMIN)),
            &[forged],
        )
        .await;
    assert_eq!(r.location(), Some("/admin"));
}

#[sqlx::test]
async fn cross_site_posts_with_cookies_are_refused(pool: PgPool) {
    let app = app(pool.clone());
    create_user(&pool, Role::User, ADMIN).await;
    let c = app.login(ADMIN, PASSWORD).await.unwrap();
    for (name, value) in [
        ("origin", "https://evil.example"),
        // A sandboxed frame or a data: page of any site.
        ("origin", "null"),
        ("referer", "https://evil.example/page"),
    ] {
        let req = Request::post("/logout")
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::COOKIE, &c)
            .header(name, value)
            .body(Body::empty())
            .unwrap();
        let r = app.send(req).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {value}");
    }
    assert_eq!(count(&pool, r#"SELECT count(*) FROM "Session""#).await, 1);
    // The same post from the portal's own pages works.
    assert_eq!(
        app.post_form("/logout", "", &[&c]).await.status,
        StatusCode::SEE_OTHER
    );
}

#[sqlx::test]
async fn every_server_function_and_route_checks_the_role(pool: PgPool) {
    let app = app(pool.clone());
    let mut cookies = vec![None];
    for (role, phone) in [
        (Role::User, "+998901230001"),
        (Role::Support, "+998901230002"),
        (Role::Admin, "+998901230003"),
        (Role::SuperAdmin, "+998901230004"),
    ] {
        create_user(&pool, role, phone).await;
        cookies.push(Some(app.login(phone, PASSWORD).await.unwrap()));
    }
    let roles = ["anonymous", "USER", "SUPPORT", "ADMIN", "SUPER_ADMIN"];
    // The least role each server function needs; a function missing here fails the test,
    // so every new one must be added with its rule.
    // Each call is well-formed, so only the caller decides the answer.
    let fns: &[(&str, &str, Option<Role>)] = &[
        ("/fn/auth/whoami", "", None),
        ("/fn/auth/login_state", "", None),
        ("/fn/app/header", "", None),
        ("/fn/account/get", "", Some(Role::User)),
        (
            "/fn/account/revoke_session",
            "session_id=x",
            Some(Role::User),
        ),
        ("/fn/users/list", "query[per_page]=5", Some(Role::Support)),
        ("/fn/dashboard/get", "", Some(Role::Support)),
        (
            "/fn/events/list",
            "query[platform]=WEB",
            Some(Role::Support),
        ),
        (
            "/fn/users/detail",
            "id=nobody&query[at]=",
            Some(Role::Support),
        ),
        (
            "/fn/users/set_role",
            "user_id=nobody&role=USER",
            Some(Role::Admin),
        ),
        (
            "/fn/users/revoke_session",
            "user_id=nobody&session_id=x",
            Some(Role::Admin),
        ),
        // Linking needs a person; this portal has no bot token, so a signed-in caller
        // then learns that Telegram is not configured.
        (
            "/fn/telegram/widget",
            "payload=%7B%7D&link=true",
            Some(Role::User),
        ),
        ("/fn/account/edit", "", Some(Role::User)),
        ("/fn/account/unlink_telegram", "", Some(Role::User)),
        ("/fn/users/manage", "id=nobody", Some(Role::Admin)),
        ("/fn/users/edit", "user_id=nobody", Some(Role::Admin)),
        (
            "/fn/users/link_telegram",
            "user_id=nobody&telegram_id=5",
            Some(Role::Admin),
        ),
        (
            "/fn/users/unlink_telegram",
            "user_id=nobody",
            Some(Role::Admin),
        ),
        (
            "/fn/users/block",
            "user_id=nobody&reason=x",
            Some(Role::Admin),
        ),
        ("/fn/users/unblock", "user_id=nobody", Some(Role::Admin)),
        (
            "/fn/users/erase",
            "user_id=nobody&confirm=nobody",
            Some(Role::Admin),
        ),
        ("/fn/account/password_info", "", Some(Role::User)),
        // Empty fields: a signed-in caller is told what is missing, and nothing changes.
        (
            "/fn/account/change_password",
            "current_password=&new_password=&confirm=",
            Some(Role::User),
        ),
        ("/fn/staff/list", "", Some(Role::SuperAdmin)),
        (
            "/fn/staff/grant",
            "phone=%2B998909999999&role=ADMIN",
            Some(Role::SuperAdmin),
        ),
        (
            "/fn/staff/set_role",
            "user_id=nobody&role=USER",
            Some(Role::SuperAdmin),
        ),
        (
            "/fn/staff/set_temporary_password",
            "user_id=nobody&password=long-enough-password",
            Some(Role::SuperAdmin),
        ),
        ("/fn/audit/list", "", Some(Role::Support)),
        ("/fn/api_keys/list", "", Some(Role::SuperAdmin)),
        (
            "/fn/api_keys/create",
            "name=matrix&platform=WEB",
            Some(Role::SuperAdmin),
        ),
        ("/fn/api_keys/revoke", "id=x", Some(Role::SuperAdmin)),
        (
            "/fn/merge/candidates",
            "user_id=nobody",
            Some(Role::Support),
        ),
        ("/fn/merge/duplicates", "", Some(Role::Support)),
        (
            "/fn/merge/preview",
            "user_id=nobody&other=nobody2",
            Some(Role::Admin),
        ),
        (
            "/fn/merge/merge",
            "survivor_id=nobody&merged_id=nobody2",
            Some(Role::Admin),
        ),
    ];
    let registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p.to_string())
        .collect();
    for p in &registered {
        assert!(
            fns.iter().any(|(f, _, _)| f == p),
            "server function {p} has no rule in this test"
        );
    }
    for (path, args, min) in fns {
        for (i, c) in cookies.iter().enumerate() {
            let cs: Vec<&str> = c.iter().map(String::as_str).collect();
            let r = app.post_form(path, args, &cs).await;
            let expected = match (min, i) {
                (None, _) => StatusCode::OK,
                (Some(_), 0) => StatusCode::UNAUTHORIZED,
                (Some(m), i) if (i as u8) > (*m as u8) => {
                    if *path == "/fn/account/change_password" {
                        StatusCode::BAD_REQUEST
                    } else if [
                        "/fn/account/revoke_session",
                        "/fn/telegram/widget",
                        "/fn/users/detail",
                        "/fn/users/set_role",
                        "/fn/users/revoke_session",
                        "/fn/api_keys/revoke",
                        "/fn/users/manage",
                        "/fn/users/edit",
                        "/fn/users/link_telegram",
                        "/fn/users/unlink_telegram",
                        "/fn/users/block",
                        "/fn/users/unblock",
                        "/fn/users/erase",
                        "/fn/staff/grant",
                        "/fn/staff/set_role",
                        "/fn/staff/set_temporary_password",
                        "/fn/merge/candidates",
                        "/fn/merge/preview",
                        "/fn/merge/merge",
                    ]
                    .contains(path)
                    {
                        StatusCode::NOT_FOUND
                    } else {
                        StatusCode::OK
                    }
                }
                _ => StatusCode::FORBIDDEN,
            };
            assert_eq!(r.status, expected, "{path} as {}: {}", roles[i], r.body);
        }
    }
    let pages: &[(&str, Option<Role>)] = &[
        ("/login", None),
        ("/healthz", None),
        ("/account", Some(Role::User)),
        ("/admin", Some(Role::Support)),
        ("/admin/users", Some(Role::Support)),
        ("/admin/users/duplicates", Some(Role::Support)),
        ("/admin/events", Some(Role::Support)),
        ("/admin/api-keys", Some(Role::SuperAdmin)),
        ("/account/password", Some(Role::User)),
        ("/admin/staff", Some(Role::SuperAdmin)),
        ("/admin/audit", Some(Role::Support)),
    ];
    for (path, min) in pages {
        for (i, c) in cookies.iter().enumerate() {
            let cs: Vec<&str> = c.iter().map(String::as_str).collect();
            let r = app.get(path, &cs).await;
            let expected = match (min, i) {
                (None, _) => StatusCode::OK,
                (Some(_), 0) => StatusCode::SEE_OTHER,
                (Some(m), i) if (i as u8) > (*m as u8) => StatusCode::OK,
                _ => StatusCode::FORBIDDEN,
            };
            assert_eq!(r.status, expected, "GET {path} as {}", roles[i]);
        }
    }
}

#[sqlx::test]
async fn security_headers_are_set(pool: PgPool) {
    let app = app(pool);
    let r = app.get("/login", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("'wasm-unsafe-eval'") && csp.contains("'nonce-"),
        "{csp}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(
        r.body.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the nonce"
    );
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert_eq!(
        r.headers["referrer-policy"],
        "strict-origin-when-cross-origin"
    );
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
}

/// The real listener, not the in-process router: what a client on a socket sees.
#[sqlx::test]
async fn the_server_drops_a_request_head_that_never_ends(pool: PgPool) {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = app(pool);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(unified_portal::server::serve(
        listener,
        app.router.clone(),
        Duration::from_secs(1),
        async {
            let _ = stopped.await;
        },
    ));

    // A whole request is answered, with the peer's address known to the handlers.
    let mut whole = tokio::net::TcpStream::connect(addr).await.unwrap();
    whole
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    whole.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok"), "{answer}");

    // Half a head: the server closes the connection once the timeout passes, instead of
    // holding it (and a task) for as long as the client likes.
    let mut half = tokio::net::TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /admin/users HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), half.read_to_end(&mut rest))
        .await
        .expect("the server closed the half-sent request within 10 s")
        .ok();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900),
        "closed after {waited:?}, before the timeout"
    );
    assert!(
        !String::from_utf8_lossy(&rest).contains("200 OK"),
        "a half-sent request was answered"
    );

    // Shutting down ends `serve`.
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("serve returned after the shutdown signal")
        .unwrap()
        .unwrap();
}

mod common;

use axum::http::StatusCode;
use common::*;
use sqlx::PgPool;
use unified_portal::model::Role;
use unified_portal::seed::{run, SeedOptions};

async fn seeded(pool: &PgPool) -> (TestApp, String) {
    run(
        pool,
        SeedOptions {
            users: 400,
            events: 3_000,
            seed: 7,
            progress: false,
        },
    )
    .await
    .unwrap();
    let app = app(pool.clone());
    create_user(pool, Role::Support, "+998901119999").await;
    let cookie = app.login("+998901119999", PASSWORD).await.unwrap();
    (app, cookie)
}

fn ids_in(body: &str) -> Vec<String> {
    body.split("data-user-id=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

fn pivot_cell(body: &str, source: &str, region: &str) -> i64 {
    let marker = format!("data-source=\"{source}\" data-region=\"{region}\"");
    let i = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no cell {marker}"));
    let rest = &body[i..];
    let a = rest.find('>').unwrap() + 1;
    let rest = &rest[a..];
    let a = rest.find('>').unwrap() + 1;
    let end = rest[a..].find('<').unwrap();
    rest[a..a + end].trim().parse().unwrap()
}

#[sqlx::test]
async fn filters_match_sql_ground_truth(pool: PgPool) {
    let (app, cookie) = seeded(&pool).await;
    for (source, region) in [
        (None, None),
        (Some("TELEGRAM"), None),
        (None, Some("UZ")),
        (Some("WEB"), Some("UZ")),
        (Some("MOBILE_APP"), Some("KZ")),
    ] {
        let mut qs = vec!["per_page=200".to_string()];
        if let Some(s) = source {
            qs.push(format!("source={s}"));
        }
        if let Some(r) = region {
            qs.push(format!("region={r}"));
        }
        let expected: Vec<String> = sqlx::query_scalar(
            r#"SELECT "id" FROM "User"
               WHERE ($1::text IS NULL OR "registrationSource"::text = $1) AND ($2::text IS NULL OR "region"::text = $2)
               ORDER BY "createdAt" DESC, "id" DESC"#,
        )
        .bind(source)
        .bind(region)
        .fetch_all(&pool)
        .await
        .unwrap();
        // Walk every page and compare the whole list, in order.
        let mut got = Vec::new();
        let mut url = format!("/admin/users?{}", qs.join("&"));
        loop {
            let r = app.get(&url, &[&cookie]).await;
            assert_eq!(r.status, StatusCode::OK, "{url}");
            let n = expected.len();
            assert!(
                r.body.contains(&format!(
                    "{n} matching user{}",
                    if n == 1 { "" } else { "s" }
                )),
                "count for {url}"
            );
            got.extend(ids_in(&r.body));
            let Some(i) = r.body.find("id=\"next-page\"") else {
                break;
            };
            let before = &r.body[..i];
            let href = before
                .rsplit("href=\"")
                .next()
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            url = href.replace("&amp;", "&");
        }
        assert_eq!(got, expected, "{source:?} {region:?}");
    }
    // The pivot's cells are exact.
    let r = app.get("/admin/users", &[&cookie]).await;
    let truth: Vec<(String, String, i64)> = sqlx::query_as(
        r#"SELECT "registrationSource"::text, "region"::text, count(*) FROM "User" GROUP BY 1, 2"#,
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for (s, g, n) in truth {
        assert_eq!(pivot_cell(&r.body, &s, &g), n, "{s} {g}");
    }
}

#[sqlx::test]
async fn pages_stay_stable_while_users_arrive(pool: PgPool) {
    let (app, cookie) = seeded(&pool).await;
    let first = app.get("/admin/users?per_page=20", &[&cookie]).await;
    let page1 = ids_in(&first.body);
    let i = first.body.find("id=\"next-page\"").unwrap();
    let next = first.body[..i]
        .rsplit("href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    // Newer users arrive between the two requests.
    for k in 0..5 {
        sqlx::query(
            r#"INSERT INTO "User" ("id", "updatedAt") VALUES ($1, now() AT TIME ZONE 'UTC')"#,
        )
        .bind(format!("late-{k}"))
        .execute(&pool)
        .await
        .unwrap();
    }
    let page2 = ids_in(&app.get(&next, &[&cookie]).await.body);
    let expected: Vec<String> = sqlx::query_scalar(
        r#"SELECT "id" FROM "User" WHERE "id" NOT LIKE 'late-%' ORDER BY "createdAt" DESC, "id" DESC LIMIT 20 OFFSET 20"#,
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(page2, expected);
    assert!(page1.iter().all(|id| !page2.contains(id)));
}

#[sqlx::test]
async fn bad_parameters_get_400_naming_them(pool: PgPool) {
    let (app, cookie) = seeded(&pool).await;
    for (qs, name) in [
        ("source=FAX", "source"),
        ("region=Mars", "region"),
        ("per_page=0", "per_page"),
        ("per_page=100000", "per_page"),
        ("per_page=ten", "per_page"),
        ("after=garbage", "after"),
        (
            "after=eyJ0IjoiMjAyNi0wMS0wMVQwMDowMDowMCIsImlkIjoieCJ9.AAAA",
            "after",
        ),
    ] {
        let r = app.get(&format!("/admin/users?{qs}"), &[&cookie]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{qs}");
        assert!(r.body.contains(name), "{qs}: the message names {name}");
    }
    // Empty values are absent, as plain forms send them; unknown parameters are ignored.
    let r = app
        .get("/admin/users?source=&region=&utm=x", &[&cookie])
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[sqlx::test]
async fn the_three_empty_states(pool: PgPool) {
    let app = app(pool.clone());
    create_user(&pool, Role::Support, "+998901119999").await;
    let cookie = app.login("+998901119999", PASSWORD).await.unwrap();
    sqlx::query(r#"UPDATE "User" SET "region" = 'KZ'"#)
        .execute(&pool)
        .await
        .unwrap();
    let r = app.get("/admin/users?region=TM", &[&cookie]).await;
    assert!(r.body.contains("empty-no-matches") && r.body.contains("Clear filters"));
    let r = app.get("/admin/users", &[&cookie]).await;
    assert!(
        !r.body.contains("empty-no-users"),
        "the staff member is a user"
    );
}

#[sqlx::test]
async fn user_text_is_escaped(pool: PgPool) {
    let app = app(pool.clone());
    create_user(&pool, Role::Support, "+998901119999").await;
    let cookie = app.login("+998901119999", PASSWORD).await.unwrap();
    sqlx::query(r#"INSERT INTO "User" ("id", "firstName", "updatedAt") VALUES ('x', '<script>alert(1)</script>', now() AT TIME ZONE 'UTC')"#)
        .execute(&pool)
        .await
        .unwrap();
    let r = app.get("/admin/users", &[&cookie]).await;
    assert!(!r.body.contains("<script>alert(1)</script>"));
    assert!(r.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[sqlx::test]
async fn healthz_answers_ok(pool: PgPool) {
    let app = app(pool);
    let r = app.get("/healthz", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, "ok");
}

#[sqlx::test]
async fn unknown_pages_are_404(pool: PgPool) {
    let app = app(pool);
    let r = app.get("/no/such/page", &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("Page not found"));
}

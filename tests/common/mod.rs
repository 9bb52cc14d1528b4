//! The test harness: the real router over a fresh database (one per test, from
//! `#[sqlx::test]`), called in-process.
#![allow(dead_code)]

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use sqlx::PgPool;
use std::net::SocketAddr;
use tower::ServiceExt;
use unified_portal::config::{Config, Secret};
use unified_portal::model::Role;
use unified_portal::state::AppState;

pub const PASSWORD: &str = "correct-horse-battery";
pub const ORIGIN: &str = "http://127.0.0.1:3000";

pub struct TestApp {
    pub router: Router,
    pub pool: PgPool,
    pub state: AppState,
}

pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Res {
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }
    /// The `name=value` of a Set-Cookie for `name`, if the response sets one.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap().to_string())
    }
    pub fn set_cookie_header(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(String::from)
    }
}

pub fn config() -> Config {
    Config::for_tests("postgres://unused")
}

pub fn app_with(pool: PgPool, config: Config) -> TestApp {
    // The portal gets a pool of its own on the test's database, set up like production's
    // (UTC, custom plans, an acquire timeout), rather than sqlx's small per-test pool,
    // whose permits are borrowed from one parent pool shared by all tests.
    let opts = (*pool.connect_options()).clone().options([
        ("timezone", "UTC"),
        ("plan_cache_mode", "force_custom_plan"),
    ]);
    let portal_pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect_lazy_with(opts);
    let state = unified_portal::server::app_state(portal_pool, config);
    TestApp {
        router: unified_portal::server::router(state.clone()),
        pool,
        state,
    }
}

pub fn app(pool: PgPool) -> TestApp {
    app_with(pool, config())
}

impl TestApp {
    pub async fn send(&self, mut req: Request<Body>) -> Res {
        if req.extensions().get::<ConnectInfo<SocketAddr>>().is_none() {
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        }
        // A request that never answers fails its test instead of hanging the suite.
        let res = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            self.router.clone().oneshot(req),
        )
        .await
        .unwrap_or_else(|_| panic!("the router did not answer within 60 s"))
        .expect("router answers");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        Res {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, cookies: &[&str]) -> Res {
        let mut b = Request::get(path);
        if !cookies.is_empty() {
            b = b.header(header::COOKIE, cookies.join("; "));
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    pub async fn post_form(&self, path: &str, body: &str, cookies: &[&str]) -> Res {
        let mut b = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, ORIGIN)
            .header(header::HOST, "127.0.0.1:3000");
        if !cookies.is_empty() {
            b = b.header(header::COOKIE, cookies.join("; "));
        }
        self.send(b.body(Body::from(body.to_string())).unwrap())
            .await
    }

    /// Signs in through the real form; returns the session cookie (`portal_session=…`).
    pub async fn login(&self, phone: &str, password: &str) -> Option<String> {
        let body = format!("phone={}&password={}", enc(phone), enc(password));
        let res = self.post_form("/login", &body, &[]).await;
        res.cookie("portal_session")
    }
}

pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A user with a password, as `admin create` makes them.
pub async fn create_user(pool: &PgPool, role: Role, phone: &str) -> String {
    let hash = unified_portal::auth::ssr::hash_password(Secret::new(PASSWORD))
        .await
        .unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        r#"INSERT INTO "User" ("id", "firstName", "phone", "role", "passwordHash", "updatedAt")
           VALUES ($1, 'Test', $2, $3::text::"UserRole", $4, now() AT TIME ZONE 'UTC')"#,
    )
    .bind(&id)
    .bind(phone)
    .bind(role.as_str())
    .bind(hash)
    .execute(pool)
    .await
    .unwrap();
    id
}

pub async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(pool)
        .await
        .unwrap()
}

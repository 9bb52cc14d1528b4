//! The HTTP application: one function builds the router, so `serve` and the tests run the
//! very same stack.

use crate::app::{shell, App};
use crate::auth::ssr::{csrf_guard, page_guard, resolve_user, PgSessionStore, SESSION_COOKIE};
use crate::config::Config;
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use sqlx::PgPool;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::SessionManagerLayer;

pub fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("unified-portal")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.site_addr)
        .env(Env::PROD)
        .build()
}

pub fn app_state(pool: PgPool, config: Config) -> AppState {
    let leptos_options = leptos_options(&config);
    AppState {
        pool,
        config: Arc::new(config),
        leptos_options,
    }
}

/// `/admin/users/{id}/` is the page without the slash: the client-side router matches both,
/// so the server answers the slashed form with a redirect rather than a page under a 404.
async fn without_trailing_slash(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = req.uri().path();
    let trimmed = path.trim_end_matches('/');
    // "//host/" trimmed would be a link to another site: left alone (it is a 404).
    if matches!(*req.method(), http::Method::GET | http::Method::HEAD)
        && trimmed.len() > 1
        && trimmed.len() < path.len()
        && !trimmed.starts_with("//")
        && !path.starts_with("/api/")
    {
        let to = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_string(),
        };
        return Redirect::permanent(&to).into_response();
    }
    next.run(req).await
}

/// Server functions take forms of a few KiB.
pub const FN_BODY_LIMIT: usize = 256 * 1024;

/// Server functions read their own bodies, and one over axum's 2 MiB limit reached them as
/// a failed read, answered 500. Bodies for `/fn/` are read here, after the guards have
/// had their say: one over [`FN_BODY_LIMIT`] is answered 413, one that is not UTF-8 400,
/// before any function runs.
async fn limit_fn_bodies(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !req.uri().path().starts_with("/fn/") {
        return next.run(req).await;
    }
    let too_large = || {
        crate::error::AppError::TooLarge(format!(
            "request body: at most {} KiB",
            FN_BODY_LIMIT / 1024
        ))
        .into_response()
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > FN_BODY_LIMIT as u64) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    // A body cut off half-way fails here too; its client is gone and sees no answer.
    match axum::body::to_bytes(body, FN_BODY_LIMIT).await {
        // Every server function takes URL-encoded text; leptos answered other bytes with a
        // 500 ("invalid utf-8 sequence").
        Ok(bytes) if std::str::from_utf8(&bytes).is_err() => {
            crate::error::AppError::bad("request body: not UTF-8 text").into_response()
        }
        Ok(bytes) => {
            next.run(axum::extract::Request::from_parts(parts, bytes.into()))
                .await
        }
        Err(_) => too_large(),
    }
}

/// The route list of [`App`], generated once per process.
///
/// Generating it renders the app with resource loading suppressed, and leptos_server keeps
/// that switch in one process-wide flag (`IS_SUPPRESSING_RESOURCE_LOAD`), not per thread: a
/// resource first polled on another thread meanwhile awaits `pending()` forever, so a page
/// being rendered there never answers. That is what hung a test's request now and then
/// (each test built a router while other tests' requests rendered). Generated once, before
/// any router exists, it can no longer overlap a render.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = route_list();
    let sessions = SessionManagerLayer::new(PgSessionStore::new(state.pool.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.cookie_secure)
        .with_path("/");
    let ctx_state = state.clone();
    Router::new()
        .route("/", get(|| async { Redirect::to("/admin") }))
        .route("/healthz", get(healthz))
        .route("/login", post(crate::auth::handlers::login_post))
        .route("/logout", post(crate::auth::handlers::logout_post))
        .route(
            "/auth/telegram/callback",
            get(crate::telegram::handlers::callback_get)
                .post(crate::telegram::handlers::callback_confirm),
        )
        .route(
            "/admin/users/export.csv",
            get(crate::users::ssr::export_csv),
        )
        .nest("/api/v1", api_router(&state))
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(ctx_state.clone());
                leptos::nonce::provide_nonce();
            },
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(limit_fn_bodies))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            page_guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf_guard,
        ))
        .layer(axum::middleware::from_fn(resolve_user))
        .layer(sessions)
        .layer(axum::middleware::from_fn(without_trailing_slash))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .with_state(state)
}

/// Sign-in bodies are a few hundred bytes; anything near this is not Telegram's.
pub const SIGN_IN_BODY_LIMIT: usize = 64 * 1024;

/// The JSON API of the other platforms: bearer tokens only, CORS only for the configured
/// origins (a Mini App's), small bodies.
fn api_router(state: &AppState) -> Router<AppState> {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins: Vec<HeaderValue> = state
        .config
        .cors_allowed_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([http::Method::GET, http::Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600));
    // Each route has its own body limit: sign-in bodies are small; event batches may be up
    // to 1 MiB, and the ingestion handler answers a larger one with the JSON 413 itself.
    let sign_in = Router::new()
        .route(
            "/auth/telegram",
            post(crate::telegram::handlers::api_sign_in),
        )
        .route("/session", get(crate::telegram::handlers::api_session))
        .layer(DefaultBodyLimit::max(SIGN_IN_BODY_LIMIT));
    let ingest = Router::new()
        .route("/events", post(crate::ingest::handlers::post_events))
        .layer(DefaultBodyLimit::max(
            crate::ingest::handlers::MAX_BODY_BYTES,
        ));
    Router::new()
        .merge(sign_in)
        .merge(ingest)
        .route("/openapi.json", get(crate::ingest::handlers::openapi))
        .method_not_allowed_fallback(|method: http::Method| async move {
            crate::error::AppError::MethodNotAllowed(method.to_string())
        })
        .fallback(|| async { crate::error::AppError::NotFound("API route".into()) })
        .layer(cors)
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let ok = tokio::time::timeout(
        Duration::from_secs(2),
        sqlx::query_scalar!("SELECT 1").fetch_one(&state.pool),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    if ok {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

/// Sweeps expired sessions and old rate-limit counters every few minutes.
pub fn spawn_housekeeping(pool: PgPool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(300));
        loop {
            tick.tick().await;
            match PgSessionStore::purge_expired(&pool).await {
                Ok(n) if n > 0 => tracing::info!(purged = n, "expired sessions removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "session purge failed"),
            }
            let _ = sqlx::query!(
                r#"DELETE FROM "LoginAttempt" WHERE "updatedAt" < (now() AT TIME ZONE 'UTC') - interval '1 day'"#
            )
            .execute(&pool)
            .await;
            if let Err(e) = crate::users::ssr::compact_counts(&pool).await {
                tracing::warn!(error = %e, "user count compaction failed");
            }
            if let Err(e) = crate::dashboard::ssr::compact(&pool).await {
                tracing::warn!(error = %e, "activity rollup compaction failed");
            }
            let _ = sqlx::query!(
                r#"DELETE FROM "TelegramLoginReplay" WHERE "expiresAt" < (now() AT TIME ZONE 'UTC')"#
            )
            .execute(&pool)
            .await;
        }
    });
}

/// A client has this long to send a request's head (and an idle keep-alive connection this
/// long before its next one). `axum::serve` sets no timer, so hyper never timed a head out:
/// a client that sent half a request line held its connection, and a task, for ever.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(15);

/// Serves `app` on `listener` until `shutdown` completes, then lets the requests in flight
/// finish. What `axum::serve` does, plus [`HEADER_READ_TIMEOUT`], which it cannot set.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    header_read_timeout: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use axum::extract::ConnectInfo;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    // HTTP/1.1 only, as `axum::serve` speaks it with axum's default features.
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // Out of file descriptors and the like: the listener is fine, the moment is
                // not. Spinning on the error would only burn the core that could free one.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = tower::service_fn(move |req: http::Request<hyper::body::Incoming>| {
            let mut req = req.map(axum::body::Body::new);
            req.extensions_mut().insert(ConnectInfo(remote));
            app.clone().oneshot(req)
        });
        let conn =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

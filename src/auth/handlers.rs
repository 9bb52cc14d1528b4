//! The plain form posts of sign-in and sign-out. They are ordinary HTTP handlers rather than
//! server functions so that they work the same with JavaScript off, and answer with 303s.

use super::ssr::*;
use crate::config::Secret;
use crate::error::AppError;
use crate::model::{Platform, Role};
use crate::state::AppState;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Utc;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;

/// Who is on the other end of a request, as far as the portal can tell.
#[derive(Debug, Clone)]
pub struct ClientMeta {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl FromRequestParts<AppState> for ClientMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientMeta {
            ip: client_ip(&state.config, peer, &parts.headers),
            user_agent: user_agent(&parts.headers),
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub password: String,
}

const FAILED: &str = "Wrong phone number or password.";
pub const BLOCKED: &str =
    "This account is blocked. Contact support if you think this is a mistake.";
const FREE_FAILURES: i32 = 5;
const MAX_LOCK_SECS: i64 = 15 * 60;

/// Seconds an address must wait after `failures` failed attempts: nothing for the first
/// few, then doubling from 30 s, capped, so a person who mistypes is never locked out
/// for long and a guesser gets a handful of tries an hour.
pub fn backoff_secs(failures: i32) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let exp = (failures - FREE_FAILURES).min(10) as u32;
    (30_i64 << exp).min(MAX_LOCK_SECS)
}

fn attempt_key(phone: &str, ip: Option<IpAddr>) -> String {
    token_digest(&format!(
        "{phone}|{}",
        ip.map(|i| i.to_string()).unwrap_or_default()
    ))
}

fn redirect_with_state(state: &AppState, to: &str, anon: AnonState) -> Response {
    (
        [(header::SET_COOKIE, state_cookie(&state.config, anon))],
        Redirect::to(to),
    )
        .into_response()
}

fn back_to_login(state: &AppState, headers: &HeaderMap, flash: &str) -> Response {
    let mut anon = read_state(&state.config, headers);
    anon.flash = Some(flash.to_string());
    redirect_with_state(state, "/login", anon)
}

pub async fn login_post(
    State(state): State<AppState>,
    session: Session,
    meta: ClientMeta,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    match try_login(&state, &session, &meta, &headers, form).await {
        Ok(resp) => resp,
        Err(AppError::TooManyRequests(secs)) => too_many(secs),
        Err(e) => e.into_response(),
    }
}

async fn try_login(
    state: &AppState,
    session: &Session,
    meta: &ClientMeta,
    headers: &HeaderMap,
    form: LoginForm,
) -> Result<Response, AppError> {
    let phone = match normalize_phone(&form.phone) {
        Ok(p) => p,
        Err(msg) => return Ok(back_to_login(state, headers, &msg)),
    };
    if form.password.is_empty() {
        return Ok(back_to_login(
            state,
            headers,
            "password: enter your password",
        ));
    }
    let password = Secret::new(form.password);
    let key = attempt_key(&phone, meta.ip);
    let locked = sqlx::query_scalar!(
        r#"SELECT GREATEST(0, CEIL(EXTRACT(EPOCH FROM ("lockedUntil" - (now() AT TIME ZONE 'UTC')))))::BIGINT AS "secs!"
           FROM "LoginAttempt" WHERE "key" = $1 AND "lockedUntil" > (now() AT TIME ZONE 'UTC')"#,
        key
    )
    .fetch_optional(&state.pool)
    .await?;
    if let Some(secs) = locked {
        return Err(AppError::TooManyRequests(secs.max(1) as u64));
    }

    let user = sqlx::query!(
        r#"SELECT "id", "role" AS "role: Role", "passwordHash" AS password_hash,
                  "blockedAt" IS NOT NULL AS "blocked!", "passwordChangeRequired" AS must_change
           FROM "User" WHERE "phone" = $1"#,
        phone
    )
    .fetch_optional(&state.pool)
    .await?;
    let phc = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = verify_password(password, phc).await;
    let ip = meta.ip.map(|i| i.to_string());

    let Some(user) = user.filter(|_| ok) else {
        let mut tx = state.pool.begin().await?;
        let failures = sqlx::query_scalar!(
            r#"INSERT INTO "LoginAttempt" ("key", "failures", "updatedAt") VALUES ($1, 1, now() AT TIME ZONE 'UTC')
               ON CONFLICT ("key") DO UPDATE SET "failures" = "LoginAttempt"."failures" + 1, "updatedAt" = EXCLUDED."updatedAt"
               RETURNING "failures""#,
            key
        )
        .fetch_one(&mut *tx)
        .await?;
        let wait = backoff_secs(failures);
        if wait > 0 {
            sqlx::query!(
                r#"UPDATE "LoginAttempt" SET "lockedUntil" = (now() AT TIME ZONE 'UTC') + make_interval(secs => $2) WHERE "key" = $1"#,
                key,
                wait as f64
            )
            .execute(&mut *tx)
            .await?;
        }
        if let Some(u) = sqlx::query_scalar!(r#"SELECT "id" FROM "User" WHERE "phone" = $1"#, phone)
            .fetch_optional(&mut *tx)
            .await?
        {
            insert_event(
                &mut *tx,
                &NewEvent {
                    user_id: u,
                    event_type: "LOGIN_FAILED".into(),
                    platform: Platform::Web,
                    metadata: serde_json::json!({ "method": "password", "reason": "wrong_password", "failures": failures }),
                    ip: ip.clone(),
                    user_agent: meta.user_agent.clone(),
                },
            )
            .await?;
        }
        tx.commit().await?;
        tracing::info!(failures, "password sign-in refused");
        return Ok(back_to_login(state, headers, FAILED));
    };

    sqlx::query!(r#"DELETE FROM "LoginAttempt" WHERE "key" = $1"#, key)
        .execute(&state.pool)
        .await?;
    if user.blocked {
        // Told only to whoever knows the password, so the answer reveals nothing to a guesser.
        insert_event(
            &state.pool,
            &NewEvent {
                user_id: user.id.clone(),
                event_type: "LOGIN_FAILED".into(),
                platform: Platform::Web,
                metadata: serde_json::json!({ "method": "password", "reason": "blocked" }),
                ip,
                user_agent: meta.user_agent.clone(),
            },
        )
        .await?;
        return Ok(back_to_login(state, headers, BLOCKED));
    }
    let anon = read_state(&state.config, headers);
    establish_session(
        session,
        &state.config,
        &user.id,
        Platform::Web,
        NewEvent {
            user_id: user.id.clone(),
            event_type: "LOGIN".into(),
            platform: Platform::Web,
            metadata: serde_json::json!({ "method": "password" }),
            ip,
            user_agent: meta.user_agent.clone(),
        },
    )
    .await?;
    tracing::info!(user_id = %user.id, "signed in with password");
    if user.must_change {
        return Ok(redirect_with_state(
            state,
            PASSWORD_PAGE,
            AnonState::default(),
        ));
    }
    let to = anon
        .next
        .as_deref()
        .and_then(safe_next)
        .filter(|n| user.role.is_staff() || !n.starts_with("/admin"))
        .unwrap_or_else(|| landing_for(user.role).to_string());
    Ok(redirect_with_state(state, &to, AnonState::default()))
}

fn too_many(secs: u64) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Too many attempts · Unified Portal</title>\
         <link rel=\"stylesheet\" href=\"/pkg/unified-portal.css\"></head><body><main class=\"narrow\">\
         <h1>Too many attempts</h1><p id=\"retry-after\">Too many failed sign-ins from here for this phone number. \
         Try again in {secs} seconds.</p><p><a href=\"/login\">Back to sign-in</a></p></main></body></html>"
    );
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, secs.to_string())],
        Html(body),
    )
        .into_response()
}

pub async fn logout_post(
    State(state): State<AppState>,
    session: Session,
    meta: ClientMeta,
) -> Response {
    let user = session
        .get::<super::CurrentUser>("user")
        .await
        .ok()
        .flatten();
    if let Some(user) = user {
        let result: Result<(), AppError> = async {
            let mut tx = state.pool.begin().await?;
            sqlx::query!(r#"DELETE FROM "Session" WHERE "id" = $1"#, user.session_id)
                .execute(&mut *tx)
                .await?;
            insert_event(
                &mut *tx,
                &NewEvent {
                    user_id: user.id.clone(),
                    event_type: "LOGOUT".into(),
                    platform: Platform::Web,
                    metadata: serde_json::json!({ "sessionId": user.session_id }),
                    ip: meta.ip.map(|i| i.to_string()),
                    user_agent: meta.user_agent.clone(),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        if let Err(e) = result {
            return e.into_response();
        }
    }
    let _ = session.flush().await;
    redirect_with_state(
        &state,
        "/login",
        AnonState {
            next: None,
            flash: Some("You are signed out.".into()),
            exp: Utc::now().timestamp(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff_secs(1), 0);
        assert_eq!(backoff_secs(4), 0);
        assert_eq!(backoff_secs(5), 30);
        assert_eq!(backoff_secs(6), 60);
        assert_eq!(backoff_secs(7), 120);
        assert_eq!(backoff_secs(40), MAX_LOCK_SECS);
    }
}

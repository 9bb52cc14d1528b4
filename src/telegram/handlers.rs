//! The Telegram routes outside the Leptos app: the Login Widget's redirect (a GET that
//! signs in, by Telegram's design), its confirmation when the browser is already someone
//! else's, and the JSON sign-in of the Mini App and the mobile app.

use super::ssr::{self as tg, Method, SignInOutcome, ALREADY_USED};
use super::verify::{self, Verified};
use crate::auth::handlers::ClientMeta;
use crate::auth::ssr::{
    landing_for, new_bearer_secret, new_cookie_secret, read_state, safe_next, session_cookie,
    state_cookie, AnonState,
};
use crate::auth::CurrentUser;
use crate::error::{escape, html_page, AppError};
use crate::model::{Platform, Role};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use serde::Deserialize;
use serde_json::{Map, Value};

fn page_error(e: AppError) -> Response {
    let title = match e.status() {
        StatusCode::BAD_REQUEST => "Telegram sign-in data is malformed",
        StatusCode::UNAUTHORIZED => "Telegram sign-in was refused",
        StatusCode::CONFLICT => "This sign-in link was already used",
        StatusCode::FORBIDDEN => "This account is blocked",
        StatusCode::NOT_FOUND => "Telegram sign-in is not configured",
        _ => "Telegram sign-in failed",
    };
    html_page(e.status(), title, &e.to_string())
}

fn verify_query(state: &AppState, raw: &str) -> Result<Verified, AppError> {
    let token = tg::bot_token(&state.config)?;
    verify::verify_widget_query(
        raw,
        token.expose(),
        state.config.telegram_auth_max_age_secs,
        tg::now(),
    )
    .map_err(tg::refused)
}

/// `GET /auth/telegram/callback?id=…&hash=…`: the widget's redirect.
pub async fn callback_get(
    State(state): State<AppState>,
    me: Option<Extension<CurrentUser>>,
    meta: ClientMeta,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let raw = uri.query().unwrap_or("");
    let verified = match verify_query(&state, raw) {
        Ok(v) => v,
        Err(e) => return page_error(e),
    };
    if let Some(Extension(me)) = me {
        let owner = sqlx::query_scalar!(
            r#"SELECT "id" FROM "User" WHERE "telegramId" = $1"#,
            verified.identity.id
        )
        .fetch_optional(&state.pool)
        .await;
        match owner {
            Err(e) => return page_error(e.into()),
            // Already signed in as this very person: nothing to switch.
            Ok(Some(owner)) if owner == me.id => {
                return Redirect::to(landing_for(me.role)).into_response()
            }
            // Someone else's browser: a link could otherwise swap whom it is signed in as.
            Ok(_) => return confirm_page(&me, &verified, raw),
        }
    }
    complete(
        &state,
        None,
        &meta,
        &headers,
        &verified,
        Method::WidgetRedirect,
    )
    .await
}

fn confirm_page(me: &CurrentUser, verified: &Verified, raw: &str) -> Response {
    let who = &verified.identity;
    let tg_name = [who.first_name.as_deref(), who.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let handle = who
        .username
        .as_deref()
        .map(|u| format!(" (@{u})"))
        .unwrap_or_default();
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Switch account? · Unified Portal</title><link rel=\"stylesheet\" href=\"/pkg/unified-portal.css\"></head>\
         <body><main class=\"narrow\"><h1>Switch account?</h1>\
         <p id=\"switch-question\">You are signed in as <strong>{current}</strong>. \
         Continue as the Telegram user <strong>{tg}{handle}</strong>? You will be signed out here first.</p>\
         <form method=\"post\" action=\"/auth/telegram/callback\" id=\"switch-form\" class=\"card form\">\
         <input type=\"hidden\" name=\"payload\" value=\"{payload}\">\
         <button type=\"submit\" class=\"primary\">Sign in as {tg}</button></form>\
         <p><a href=\"{home}\" id=\"switch-cancel\">No, stay signed in as {current}</a></p></main></body></html>",
        current = escape(&me.display_name()),
        tg = escape(&tg_name),
        handle = escape(&handle),
        payload = escape(raw),
        home = landing_for(me.role),
    );
    Html(body).into_response()
}

#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    payload: String,
}

/// `POST /auth/telegram/callback`: the person confirmed switching accounts.
pub async fn callback_confirm(
    State(state): State<AppState>,
    me: Option<Extension<CurrentUser>>,
    meta: ClientMeta,
    headers: HeaderMap,
    Form(form): Form<ConfirmForm>,
) -> Response {
    let verified = match verify_query(&state, &form.payload) {
        Ok(v) => v,
        Err(e) => return page_error(e),
    };
    let me = me.map(|Extension(m)| m);
    complete(
        &state,
        me.as_ref(),
        &meta,
        &headers,
        &verified,
        Method::WidgetRedirect,
    )
    .await
}

/// Signs the browser in as the verified person. `replacing` is the session this browser
/// held, which ends once the new one is committed.
async fn complete(
    state: &AppState,
    replacing: Option<&CurrentUser>,
    meta: &ClientMeta,
    headers: &HeaderMap,
    verified: &Verified,
    method: Method,
) -> Response {
    match sign_in_browser(state, replacing, meta, headers, verified, method).await {
        Ok((to, cookies)) => {
            let mut res = Redirect::to(&to).into_response();
            for c in cookies {
                if let Ok(v) = header::HeaderValue::from_str(&c) {
                    res.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            res
        }
        Err(e) => page_error(e),
    }
}

/// Shared by the redirect and the widget's JavaScript callback: returns where to go and
/// the cookies to set.
pub async fn sign_in_browser(
    state: &AppState,
    replacing: Option<&CurrentUser>,
    meta: &ClientMeta,
    headers: &HeaderMap,
    verified: &Verified,
    method: Method,
) -> Result<(String, Vec<String>), AppError> {
    let outcome = tg::sign_in(
        &state.pool,
        &state.config,
        verified,
        method,
        Platform::Telegram,
        new_cookie_secret(),
        meta.ip.map(|i| i.to_string()),
        meta.user_agent.clone(),
    )
    .await?;
    let (user, session) = match outcome {
        SignInOutcome::SignedIn { user, session } => (user, session),
        SignInOutcome::Replayed(first) => {
            return match replacing {
                Some(me) if me.id == first => Ok((landing_for(me.role).to_string(), vec![])),
                _ => Err(AppError::Conflict(ALREADY_USED.into()).noted()),
            };
        }
    };
    if let Some(old) = replacing {
        if let Err(e) = sqlx::query!(r#"DELETE FROM "Session" WHERE "id" = $1"#, old.session_id)
            .execute(&state.pool)
            .await
        {
            tracing::warn!(error = %e, "could not end the replaced session");
        }
    }
    let anon = read_state(&state.config, headers);
    let to = anon
        .next
        .as_deref()
        .and_then(safe_next)
        .filter(|n| user.role.is_staff() || !n.starts_with("/admin"))
        .unwrap_or_else(|| landing_for(user.role).to_string());
    Ok((
        to,
        vec![
            session_cookie(&state.config, &session),
            state_cookie(&state.config, AnonState::default()),
        ],
    ))
}

// ---------------------------------------------------------------------------------------
// The JSON API

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiSignIn {
    #[serde(rename = "initData")]
    init_data: Option<String>,
    widget: Option<Map<String, Value>>,
}

/// `POST /api/v1/auth/telegram`: Mini App `initData` (platform TELEGRAM) or widget data
/// from the mobile app (platform MOBILE_APP) for a bearer token.
pub async fn api_sign_in(
    State(state): State<AppState>,
    meta: ClientMeta,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    // The route's body limit answers in the JSON envelope like every other API error.
    let body = match body {
        Ok(b) => b,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return AppError::TooLarge(format!(
                "body: at most {} bytes",
                crate::server::SIGN_IN_BODY_LIMIT
            ))
            .into_response()
        }
        Err(r) => {
            return AppError::BadRequest(format!("body: could not be read ({})", r.body_text()))
                .into_response()
        }
    };
    match api_sign_in_inner(&state, &meta, &body).await {
        Ok(v) => (StatusCode::OK, Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn api_sign_in_inner(
    state: &AppState,
    meta: &ClientMeta,
    body: &[u8],
) -> Result<Value, AppError> {
    let token = tg::bot_token(&state.config)?;
    let req: ApiSignIn = serde_json::from_slice(body).map_err(|e| {
        AppError::bad(format!(
            "body: expected {{\"initData\": \"…\"}} or {{\"widget\": {{…}}}} ({e})"
        ))
    })?;
    let max_age = state.config.telegram_auth_max_age_secs;
    let (verified, method, platform) = match (req.init_data, req.widget) {
        (Some(init), None) => (
            verify::verify_mini_app(&init, token.expose(), max_age, tg::now()),
            Method::MiniApp,
            Platform::Telegram,
        ),
        (None, Some(widget)) => (
            verify::verify_widget_json(&widget, token.expose(), max_age, tg::now()),
            Method::ApiWidget,
            Platform::MobileApp,
        ),
        _ => {
            return Err(AppError::bad(
                "body: give exactly one of `initData` and `widget`",
            ))
        }
    };
    let verified = verified.map_err(tg::refused)?;
    let outcome = tg::sign_in(
        &state.pool,
        &state.config,
        &verified,
        method,
        platform,
        new_bearer_secret(),
        meta.ip.map(|i| i.to_string()),
        meta.user_agent.clone(),
    )
    .await?;
    let (user, session) = match outcome {
        SignInOutcome::SignedIn { user, session } => (user, session),
        SignInOutcome::Replayed(_) => return Err(AppError::Conflict(ALREADY_USED.into())),
    };
    let row = sqlx::query!(
        r#"SELECT "id", "telegramId" AS telegram_id, "firstName" AS first_name, "lastName" AS last_name,
                  "telegramUsername" AS telegram_username, "telegramPhotoUrl" AS telegram_photo_url,
                  "phone", "role" AS "role: Role", "registrationSource" AS "source: Platform",
                  "region"::text AS "region!", "language", "createdAt" AS created_at
           FROM "User" WHERE "id" = $1"#,
        user.id
    )
    .fetch_one(&state.pool)
    .await?;
    Ok(serde_json::json!({
        "token": session.secret,
        "expiresAt": session.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "user": {
            "id": row.id,
            "telegramId": row.telegram_id,
            "firstName": row.first_name,
            "lastName": row.last_name,
            "telegramUsername": row.telegram_username,
            "telegramPhotoUrl": row.telegram_photo_url,
            "phone": row.phone,
            "role": row.role,
            "registrationSource": row.source,
            "region": row.region,
            "language": row.language,
            "createdAt": row.created_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "isNew": user.is_new,
        }
    }))
}

/// `GET /api/v1/session`: who a bearer token belongs to, so an app can check its token.
pub async fn api_session(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match crate::auth::ssr::bearer_session(&state.pool, &headers).await {
        Ok(Some((me, platform))) => Json(serde_json::json!({
            "user": { "id": me.id, "role": me.role, "firstName": me.first_name,
                      "lastName": me.last_name, "telegramUsername": me.telegram_username },
            "sessionId": me.session_id,
            "platform": platform,
        }))
        .into_response(),
        Ok(None) => AppError::Unauthorized.into_response(),
        Err(e) => e.into_response(),
    }
}

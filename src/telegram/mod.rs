//! Sign in with Telegram: the Login Widget (its redirect and its JavaScript callback),
//! Mini App data and the mobile app's widget data, all verified by `verify` and turned into
//! a user, a session and an event by `ssr`.

use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub mod handlers;
#[cfg(feature = "ssr")]
pub mod ssr;
#[cfg(feature = "ssr")]
pub mod verify;

/// The widget's JavaScript callback mode posts the user object here (as the JSON text the
/// widget produced). `link = true` attaches the Telegram account to the signed-in person
/// (from `/account`); otherwise it signs in. Answers the path to go to next.
#[server(prefix = "/fn", endpoint = "telegram/widget")]
pub async fn telegram_widget(payload: String, link: bool) -> Result<String, AppError> {
    use crate::auth::handlers::ClientMeta;
    use crate::state::AppState;
    use crate::telegram::{handlers, ssr, verify};
    let state = AppState::get()?;
    let parts = use_context::<http::request::Parts>().ok_or(AppError::Internal)?;
    let me = crate::auth::ssr::current_user();
    if link && me.is_none() {
        return Err(AppError::Unauthorized.noted());
    }
    let token = ssr::bot_token(&state.config)?;
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&payload)
        .map_err(|e| AppError::bad(format!("payload: not a JSON object ({e})")))?;
    let verified = verify::verify_widget_json(
        &object,
        token.expose(),
        state.config.telegram_auth_max_age_secs,
        ssr::now(),
    )
    .map_err(ssr::refused)?;
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let meta = ClientMeta {
        ip: crate::auth::ssr::client_ip(&state.config, peer, &parts.headers),
        user_agent: crate::auth::ssr::user_agent(&parts.headers),
    };
    if let (true, Some(me)) = (link, me.as_ref()) {
        ssr::link(
            &state.pool,
            &state.config,
            &verified,
            &me.id,
            meta.ip.map(|i| i.to_string()),
            meta.user_agent.clone(),
        )
        .await?;
        return Ok("/account".into());
    }
    let (to, cookies) = handlers::sign_in_browser(
        &state,
        me.as_ref(),
        &meta,
        &parts.headers,
        &verified,
        ssr::Method::WidgetCallback,
    )
    .await?;
    if let Some(opts) = use_context::<leptos_axum::ResponseOptions>() {
        for c in cookies {
            if let Ok(v) = http::HeaderValue::from_str(&c) {
                opts.append_header(http::header::SET_COOKIE, v);
            }
        }
    }
    Ok(to)
}

/// Telegram's official widget. `Redirect` sends the browser to the callback route;
/// `Link` uses the widget's JavaScript callback (`/telegram-widget.js` posts the user
/// object to [`telegram_widget`]) so that linking is a POST from this site, never a GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WidgetMode {
    Redirect,
    Link,
}

#[component]
pub fn TelegramWidget(bot: String, mode: WidgetMode) -> impl IntoView {
    match mode {
        WidgetMode::Redirect => view! {
            <script
                async
                src="https://telegram.org/js/telegram-widget.js?22"
                data-telegram-login=bot
                data-size="large"
                data-auth-url="/auth/telegram/callback"
                data-request-access="write"
            ></script>
        }
        .into_any(),
        WidgetMode::Link => view! {
            <p class="flash" id="telegram-link-status" role="status" hidden></p>
            <script src="/telegram-widget.js" defer></script>
            <script
                async
                src="https://telegram.org/js/telegram-widget.js?22"
                data-telegram-login=bot
                data-size="medium"
                data-onauth="portalTelegramAuth(user, true)"
                data-request-access="write"
            ></script>
        }
        .into_any(),
    }
}

//! Who is signed in: the caller type every check uses, the sign-in page, and the
//! server functions behind it. Server-only parts live in `ssr` and `handlers`.

use crate::app::PageTitle;
use crate::error::AppError;
use crate::model::Role;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod handlers;
#[cfg(feature = "ssr")]
pub mod ssr;

/// The caller, resolved once per request from the session row and its user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: String,
    pub role: Role,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub telegram_username: Option<String>,
    /// The "Session" row id (not the secret the cookie holds).
    pub session_id: String,
    /// Signed in with a one-time password: only choosing a new one is allowed.
    #[serde(default)]
    pub must_change_password: bool,
}

impl CurrentUser {
    pub fn display_name(&self) -> String {
        display_name(
            self.first_name.as_deref(),
            self.last_name.as_deref(),
            self.phone.as_deref(),
            self.telegram_username.as_deref(),
        )
    }
}

/// The name staff see for a person: their name, else a handle, else the phone.
pub fn display_name(
    first: Option<&str>,
    last: Option<&str>,
    phone: Option<&str>,
    tg: Option<&str>,
) -> String {
    let name = [first, last]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !name.is_empty() {
        name
    } else if let Some(t) = tg.filter(|t| !t.is_empty()) {
        format!("@{t}")
    } else if let Some(p) = phone {
        p.to_string()
    } else {
        "(no name)".into()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoginInfo {
    pub flash: Option<String>,
    pub signed_in_as: Option<CurrentUser>,
    pub telegram_bot_username: Option<String>,
}

/// The caller, or nobody; open to everyone since it reveals only the caller to themself.
#[server(prefix = "/fn", endpoint = "auth/whoami")]
pub async fn whoami() -> Result<Option<CurrentUser>, AppError> {
    Ok(ssr::current_user())
}

/// What the sign-in page shows: a one-time message, and who is already signed in.
#[server(prefix = "/fn", endpoint = "auth/login_state")]
pub async fn login_state() -> Result<LoginInfo, AppError> {
    use crate::state::AppState;
    let state = AppState::get()?;
    let parts = use_context::<http::request::Parts>().ok_or(AppError::Internal)?;
    let mut anon = ssr::read_state(&state.config, &parts.headers);
    let flash = anon.flash.take();
    if flash.is_some() {
        // Shown once: the cookie keeps only the page to return to.
        if let (Some(opts), Ok(v)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::HeaderValue::from_str(&ssr::state_cookie(&state.config, anon)),
        ) {
            opts.append_header(http::header::SET_COOKIE, v);
        }
    }
    let bot = state
        .config
        .telegram_bot_token
        .as_ref()
        .and(state.config.telegram_bot_username.clone());
    Ok(LoginInfo {
        flash,
        signed_in_as: ssr::current_user(),
        telegram_bot_username: bot,
    })
}

pub mod ids {
    pub const LOGIN_FORM: &str = "login-form";
    pub const LOGIN_FLASH: &str = "login-flash";
    pub const SIGN_OUT: &str = "sign-out";
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let state = Resource::new_blocking(|| (), |_| login_state());
    view! {
        <PageTitle text="Sign in · Unified Portal"/>
        <main class="narrow">
            <h1>"Sign in"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let s = state.await.unwrap_or_default();
                    view! {
                        {s.flash.map(|f| view! { <p class="flash" id=ids::LOGIN_FLASH role="alert">{f}</p> })}
                        {s.signed_in_as.map(|u| {
                            let home = if u.role.is_staff() { "/admin" } else { "/account" };
                            view! {
                                <p class="notice">"You are signed in as " <strong>{u.display_name()}</strong> ". "
                                    <a href=home>"Continue"</a> " or sign in as someone else below."</p>
                            }
                        })}
                        <TelegramLogin bot=s.telegram_bot_username/>
                    }
                })}
            </Suspense>
            <form method="post" action="/login" id=ids::LOGIN_FORM class="card form">
                <label>"Phone number"
                    <input type="tel" name="phone" autocomplete="username" required placeholder="+998 90 123 45 67"/>
                </label>
                <label>"Password"
                    <input type="password" name="password" autocomplete="current-password" required/>
                </label>
                <button type="submit" class="primary">"Sign in"</button>
            </form>
        </main>
    }
}

#[component]
fn TelegramLogin(bot: Option<String>) -> impl IntoView {
    match bot {
        None => view! {
            <p class="muted" id="telegram-off">
                "Telegram sign-in is not configured on this portal (TELEGRAM_BOT_TOKEN and TELEGRAM_BOT_USERNAME are unset)."
            </p>
        }
        .into_any(),
        Some(bot) => view! {
            <div class="telegram-login card" id="telegram-login">
                <p>"Sign in with Telegram:"</p>
                <crate::telegram::TelegramWidget bot=bot mode=crate::telegram::WidgetMode::Redirect/>
            </div>
        }
        .into_any(),
    }
}

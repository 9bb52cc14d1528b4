//! How every state-changing action of the pages answers, with JavaScript and without.
//!
//! An action's server function returns [`Done`] (a message, and optionally where to go
//! next) through [`finish`]. Hydrated, the `ActionForm` gets it back as data and
//! [`ActionResult`] shows it (and navigates). With JavaScript off the same form is a plain
//! POST: `finish` answers it with a 303 to the next page (or back to the form's page) and
//! hands the message over in a one-time signed cookie, which [`FlashBar`] shows once.
//! Either way a refused action names the problem and changes nothing.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    pub message: String,
    /// Where the person goes next (e.g. the surviving user after a merge); `None` stays.
    pub redirect: Option<String>,
}

impl Done {
    pub fn new(message: impl Into<String>) -> Self {
        Done {
            message: message.into(),
            redirect: None,
        }
    }

    pub fn then_go(mut self, to: impl Into<String>) -> Self {
        self.redirect = Some(to.into());
        self
    }
}

/// A one-time message carried across the redirect of a plain form post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub ok: bool,
    pub text: String,
}

/// What the layout shows on every page: who is signed in and the one-time message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageHeader {
    pub user: Option<crate::auth::CurrentUser>,
    pub flash: Option<Flash>,
}

/// The layout's data in one call; open to everyone since it reveals only the caller to
/// themself. One resource for the whole layout keeps every page at the same number of
/// blocking reads as before the flash existed.
#[server(prefix = "/fn", endpoint = "app/header")]
pub async fn header() -> Result<PageHeader, AppError> {
    Ok(PageHeader {
        user: crate::auth::ssr::current_user(),
        flash: ssr::take(),
    })
}

/// Ends a form's server function: see the module comment.
#[cfg(feature = "ssr")]
pub fn finish(result: Result<Done, AppError>) -> Result<Done, AppError> {
    ssr::finish(result)
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::{Done, Flash};
    use crate::auth::ssr::{read_cookie, safe_next, sign_value, verify_value};
    use crate::error::AppError;
    use crate::state::AppState;
    use http::header::{ACCEPT, LOCATION, REFERER, SET_COOKIE};
    use http::{HeaderMap, HeaderValue, StatusCode};
    use leptos::prelude::use_context;

    pub const FLASH_COOKIE: &str = "portal_flash";
    const FLASH_TTL_SECS: i64 = 60;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Signed {
        f: Flash,
        exp: i64,
    }

    /// What a browser sends for a plain form submission (leptos_axum uses the same test).
    pub fn is_plain_form_post(headers: &HeaderMap) -> bool {
        headers
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    }

    /// The page the form was on, as a local path (never another site).
    pub fn referer_path(headers: &HeaderMap) -> Option<String> {
        let r = headers.get(REFERER)?.to_str().ok()?;
        let u = url::Url::parse(r).ok()?;
        let path = match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        };
        safe_next(&path)
    }

    fn cookie_attrs(state: &AppState) -> &'static str {
        if state.config.cookie_secure {
            "; Path=/; HttpOnly; SameSite=Lax; Secure"
        } else {
            "; Path=/; HttpOnly; SameSite=Lax"
        }
    }

    pub fn finish(result: Result<Done, AppError>) -> Result<Done, AppError> {
        let Some(parts) = use_context::<http::request::Parts>() else {
            return result;
        };
        if !is_plain_form_post(&parts.headers) {
            return result;
        }
        let (Some(opts), Ok(state)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            AppState::get(),
        ) else {
            return result;
        };
        let next = match &result {
            Ok(d) => d.redirect.clone(),
            Err(_) => None,
        }
        .or_else(|| referer_path(&parts.headers))
        .unwrap_or_else(|| "/account".into());
        let flash = match &result {
            Ok(d) => Flash {
                ok: true,
                text: d.message.clone(),
            },
            Err(e) => Flash {
                ok: false,
                text: e.to_string(),
            },
        };
        opts.set_status(StatusCode::SEE_OTHER);
        if let Ok(v) = HeaderValue::from_str(&next) {
            opts.insert_header(LOCATION, v);
        }
        if let Ok(secret) = crate::users::ssr::portal_secret(&state) {
            let signed = sign_value(
                secret,
                "flash",
                &Signed {
                    f: flash,
                    exp: chrono::Utc::now().timestamp() + FLASH_TTL_SECS,
                },
            );
            let cookie = format!(
                "{FLASH_COOKIE}={signed}{}; Max-Age={FLASH_TTL_SECS}",
                cookie_attrs(&state)
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                opts.append_header(SET_COOKIE, v);
            }
        }
        result
    }

    /// Reads the flash of this request and clears the cookie.
    pub fn take() -> Option<Flash> {
        let parts = use_context::<http::request::Parts>()?;
        let raw = read_cookie(&parts.headers, FLASH_COOKIE)?;
        let state = AppState::get().ok()?;
        if let Some(opts) = use_context::<leptos_axum::ResponseOptions>() {
            let clear = format!("{FLASH_COOKIE}={}; Max-Age=0", cookie_attrs(&state));
            if let Ok(v) = HeaderValue::from_str(&clear) {
                opts.append_header(SET_COOKIE, v);
            }
        }
        let secret = crate::users::ssr::portal_secret(&state).ok()?;
        verify_value::<Signed>(secret, "flash", raw)
            .filter(|s| s.exp > chrono::Utc::now().timestamp())
            .map(|s| s.f)
    }
}

/// The one-time message of a plain (JavaScript-off) form post, from the layout's resource.
#[component]
pub fn FlashBar(header: Resource<Result<PageHeader, AppError>>) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                header.await.ok().and_then(|h| h.flash).map(|f| view! {
                    <p class=if f.ok { "flash ok" } else { "flash error" } role="alert" id="flash">{f.text}</p>
                })
            })}
        </Suspense>
    }
}

/// The answer to a hydrated form's action: its message, or its error; and on success with
/// a `redirect`, the next page.
#[component]
pub fn ActionResult(#[prop(into)] value: Signal<Option<Result<Done, AppError>>>) -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(Done {
            redirect: Some(to), ..
        })) = value.get()
        {
            navigate(&to, Default::default());
        }
    });
    move || {
        value.get().map(|r| match r {
            Ok(d) => view! { <p class="flash ok" role="status" id="action-result">{d.message}</p> }
                .into_any(),
            Err(e) => {
                view! { <p class="flash error" role="alert" id="action-error">{e.to_string()}</p> }
                    .into_any()
            }
        })
    }
}

/// The message of a refused action when it names `field` ("phone: already in use"), for
/// showing it beside that field.
pub fn field_error(value: &Option<Result<Done, AppError>>, field: &str) -> Option<String> {
    match value {
        Some(Err(AppError::BadRequest(m))) | Some(Err(AppError::Conflict(m))) => m
            .strip_prefix(field)
            .and_then(|r| r.strip_prefix(": "))
            .map(str::to_string),
        _ => None,
    }
}

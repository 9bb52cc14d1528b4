//! Changing one's own password: `/account/password`. Also where a one-time password set by a
//! SUPER_ADMIN leads, since nothing else works until it is replaced.

use crate::app::PageTitle;
use crate::error::AppError;
use crate::forms::{field_error, ActionResult, Done};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod ssr;

/// What the page needs to know about the caller's password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordInfo {
    /// Accounts that sign in only with Telegram have no password to change.
    pub has_password: bool,
    /// The current password was set by a SUPER_ADMIN for one use.
    pub pending: bool,
    pub min_len: usize,
    pub max_len: usize,
}

#[server(prefix = "/fn", endpoint = "account/password_info")]
pub async fn load_password_info() -> Result<PasswordInfo, AppError> {
    let me = crate::auth::ssr::require_user_pending_password()?;
    let state = crate::state::AppState::get()?;
    ssr::info(&state, &me).await
}

/// Replaces the caller's password after checking the current one; every other session of
/// theirs ends.
#[server(prefix = "/fn", endpoint = "account/change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm: String,
) -> Result<Done, AppError> {
    let me = crate::auth::ssr::require_user_pending_password()?;
    let state = crate::state::AppState::get()?;
    crate::forms::finish(
        ssr::change(
            &state,
            &me,
            ssr::Change {
                current: crate::config::Secret::new(current_password),
                new: crate::config::Secret::new(new_password),
                confirm: crate::config::Secret::new(confirm),
            },
        )
        .await,
    )
}

pub mod ids {
    pub const FORM: &str = "password-form";
    pub const PENDING: &str = "password-pending";
    pub const NO_PASSWORD: &str = "no-password";
    pub const CURRENT_ERROR: &str = "current-password-error";
    pub const NEW_ERROR: &str = "new-password-error";
    pub const CONFIRM_ERROR: &str = "confirm-error";
}

#[component]
pub fn PasswordPage() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let data = Resource::new_blocking(move || action.version().get(), |_| load_password_info());
    let value = Signal::derive(move || action.value().get());
    let err = move |field: &'static str, id: &'static str| {
        move || {
            field_error(&value.get(), field)
                .map(|m| view! { <span class="field-error" id=id role="alert">{m}</span> })
        }
    };
    view! {
        <PageTitle text="Change your password · Unified Portal"/>
        <h1>"Change your password"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <crate::app::ErrorBox error=e/> }.into_any(),
                    Ok(info) if !info.has_password => view! {
                        <p class="notice" id=ids::NO_PASSWORD>
                            "Your account signs in with Telegram and has no password to change."
                        </p>
                        <p><a href="/account">"← Your account"</a></p>
                    }.into_any(),
                    Ok(info) => view! {
                        {info.pending.then(|| view! {
                            <p class="notice" id=ids::PENDING>
                                "Your password was set by an administrator for one use only. "
                                "Choose your own password to continue; until then nothing else "
                                "in the portal is available."
                            </p>
                        })}
                        <ActionForm action=action attr:id=ids::FORM attr:class="card form narrow-form">
                            <label>{if info.pending { "One-time password" } else { "Current password" }}
                                <input type="password" name="current_password" required
                                    autocomplete="current-password" maxlength=info.max_len/>
                                {err("current_password", ids::CURRENT_ERROR)}
                            </label>
                            <label>"New password"
                                <input type="password" name="new_password" required
                                    autocomplete="new-password" minlength=info.min_len maxlength=info.max_len/>
                                <span class="muted small">{format!("At least {} characters.", info.min_len)}</span>
                                {err("new_password", ids::NEW_ERROR)}
                            </label>
                            <label>"New password again"
                                <input type="password" name="confirm" required
                                    autocomplete="new-password" minlength=info.min_len maxlength=info.max_len/>
                                {err("confirm", ids::CONFIRM_ERROR)}
                            </label>
                            <p class="muted small">"Every other device signed in to your account will be signed out."</p>
                            <button type="submit" class="primary">"Change password"</button>
                        </ActionForm>
                        {(!info.pending).then(|| view! { <p><a href="/account">"← Your account"</a></p> })}
                    }.into_any(),
                }
            })}
        </Suspense>
        <ActionResult value=value/>
    }
}

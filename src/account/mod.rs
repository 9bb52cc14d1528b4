//! A person's own page: profile, sessions (revocable) and recent activity.

use crate::app::PageTitle;
use crate::error::AppError;
use crate::model::{Platform, Region, Role};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub mod password;
#[cfg(feature = "ssr")]
pub mod ssr;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRow {
    pub id: String,
    pub platform: Platform,
    pub device: Option<String>,
    pub created: String,
    pub expires: String,
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: String,
    pub event_type: String,
    pub platform: Platform,
    pub at: String,
    pub ip: Option<String>,
    pub metadata: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub telegram_id: Option<i64>,
    pub telegram_username: Option<String>,
    pub source: Platform,
    pub region: Region,
    pub language: String,
    pub created: String,
    /// The bot of the Login Widget, when Telegram sign-in is configured.
    pub telegram_bot: Option<String>,
    pub sessions: Vec<SessionRow>,
    pub events: Vec<EventRow>,
}

#[server(prefix = "/fn", endpoint = "account/get")]
pub async fn my_account() -> Result<Account, AppError> {
    let me = crate::auth::ssr::require_user()?;
    let state = crate::state::AppState::get()?;
    ssr::load(&state, &me).await
}

/// Ends one of the caller's own sessions; its client is signed out at its next request.
#[server(prefix = "/fn", endpoint = "account/revoke_session")]
pub async fn revoke_session(session_id: String) -> Result<crate::forms::Done, AppError> {
    let me = crate::auth::ssr::require_user()?;
    let state = crate::state::AppState::get()?;
    crate::forms::finish(
        ssr::revoke_own(&state, &me, &session_id)
            .await
            .map(|()| crate::forms::Done::new("The session is revoked.")),
    )
}

/// The person's own names and language; logged as PROFILE_UPDATE with old and new values.
#[server(prefix = "/fn", endpoint = "account/edit")]
pub async fn edit_account(
    #[server(default)] first_name: crate::users::manage::Sent,
    #[server(default)] last_name: crate::users::manage::Sent,
    #[server(default)] language: Option<String>,
) -> Result<crate::forms::Done, AppError> {
    crate::forms::finish(
        async move {
            let me = crate::auth::ssr::require_user()?;
            let state = crate::state::AppState::get()?;
            let input = crate::users::manage_ssr::EditInput {
                first_name: first_name.0,
                last_name: last_name.0,
                language,
                ..Default::default()
            };
            crate::users::manage_ssr::edit_own(&state, &me, input).await
        }
        .await,
    )
}

/// Detaches the person's own Telegram account, unless it is their only way to sign in.
#[server(prefix = "/fn", endpoint = "account/unlink_telegram")]
pub async fn unlink_own_telegram() -> Result<crate::forms::Done, AppError> {
    crate::forms::finish(
        async move {
            let me = crate::auth::ssr::require_user()?;
            let state = crate::state::AppState::get()?;
            crate::users::manage_ssr::unlink_own_telegram(&state, &me).await
        }
        .await,
    )
}

pub mod ids {
    pub const EDIT_FORM: &str = "account-edit-form";
    pub const FIRST_NAME: &str = "account-first-name";
    pub const LAST_NAME: &str = "account-last-name";
    pub const LANGUAGE: &str = "account-language";
    pub const EDIT_SUBMIT: &str = "account-edit-submit";
    pub const EDIT_RESULT: &str = "account-edit-result";
    pub const UNLINK_FORM: &str = "account-unlink-telegram-form";
    pub const UNLINK_SUBMIT: &str = "account-unlink-telegram";
    pub const UNLINK_RESULT: &str = "account-unlink-result";
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let revoke = ServerAction::<RevokeSession>::new();
    let edit = ServerAction::<EditAccount>::new();
    let unlink = ServerAction::<UnlinkOwnTelegram>::new();
    let data = Resource::new_blocking(
        move || {
            (
                revoke.version().get(),
                edit.version().get(),
                unlink.version().get(),
            )
        },
        |_| my_account(),
    );
    view! {
        <PageTitle text="Your account · Unified Portal"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <crate::app::ErrorBox error=e/> }.into_any(),
                    Ok(a) => view! {
                        <h1>{a.name.clone()}</h1>
                        <dl class="profile card" id="profile">
                            <dt>"Phone"</dt><dd>{a.phone.clone().unwrap_or_else(|| "—".into())}</dd>
                            <dt>"Role"</dt><dd>{a.role.label()}</dd>
                            <dt>"Telegram"</dt><dd>{match (a.telegram_id, a.telegram_username.clone()) {
                                (Some(id), Some(u)) => format!("@{u} (id {id})"),
                                (Some(id), None) => format!("id {id}"),
                                _ => "not linked".into(),
                            }}</dd>
                            <dt>"Registered"</dt><dd>{format!("{} via {}", a.created, a.source.label())}</dd>
                            <dt>"Region"</dt><dd>{a.region.as_str()}</dd>
                            <dt>"Language"</dt><dd>{a.language.clone()}</dd>
                        </dl>
                        {match (a.telegram_id, a.telegram_bot.clone()) {
                            (None, Some(bot)) => Some(view! {
                                <section class="card" id="telegram-link">
                                    <h2>"Link your Telegram account"</h2>
                                    <p class="muted">"Then you can sign in with Telegram too."</p>
                                    <crate::telegram::TelegramWidget bot=bot mode=crate::telegram::WidgetMode::Link/>
                                </section>
                            }),
                            _ => None,
                        }}
                        {a.telegram_id.is_some().then(|| view! {
                            <ActionForm action=unlink attr:id=ids::UNLINK_FORM attr:class="inline">
                                <button type="submit" id=ids::UNLINK_SUBMIT class="danger small">"Unlink Telegram"</button>
                            </ActionForm>
                        })}
                        <div id=ids::UNLINK_RESULT>
                            <crate::forms::ActionResult value=Signal::derive(move || unlink.value().get())/>
                        </div>
                        <p class="actions"><a href="/account/password" id="change-password" class="button">"Change password"</a></p>
                        <details class="card" id="account-edit">
                            <summary>"Edit your name and language"</summary>
                            <ActionForm action=edit attr:id=ids::EDIT_FORM attr:class="form">
                                <label>"First name"
                                    <input type="text" name="first_name" id=ids::FIRST_NAME maxlength="200"
                                        value=a.first_name.clone().unwrap_or_default()/>
                                    {move || crate::forms::field_error(&edit.value().get(), "first_name").map(|m| view! {
                                        <span class="field-error" role="alert">{m}</span>
                                    })}
                                </label>
                                <label>"Last name"
                                    <input type="text" name="last_name" id=ids::LAST_NAME maxlength="200"
                                        value=a.last_name.clone().unwrap_or_default()/>
                                    {move || crate::forms::field_error(&edit.value().get(), "last_name").map(|m| view! {
                                        <span class="field-error" role="alert">{m}</span>
                                    })}
                                </label>
                                <label>"Language"
                                    <select name="language" id=ids::LANGUAGE>
                                        {crate::model::LANGUAGES.iter().map(|l| view! {
                                            <option value=*l selected=*l == a.language>{*l}</option>
                                        }).collect_view()}
                                    </select>
                                </label>
                                <button type="submit" id=ids::EDIT_SUBMIT class="primary">"Save"</button>
                            </ActionForm>
                            <div id=ids::EDIT_RESULT>
                                <crate::forms::ActionResult value=Signal::derive(move || edit.value().get())/>
                            </div>
                        </details>
                        <h2>"Sessions"</h2>
                        <table class="data" id="my-sessions">
                            <thead><tr><th>"Platform"</th><th>"Device"</th><th>"Signed in"</th><th>"Expires"</th><th></th></tr></thead>
                            <tbody>
                                {a.sessions.into_iter().map(|s| { let sid = s.id.clone(); view! {
                                    <tr data-session-id=sid>
                                        <td>{s.platform.label()}</td>
                                        <td>{s.device.unwrap_or_default()}
                                            {s.current.then(|| view! { <span class="badge">"this device"</span> })}</td>
                                        <td class="nowrap">{s.created}</td>
                                        <td class="nowrap">{s.expires}</td>
                                        <td>
                                            <ActionForm action=revoke>
                                                <input type="hidden" name="session_id" value=s.id/>
                                                <button type="submit" class="danger small">
                                                    {if s.current { "Sign out here" } else { "Revoke" }}
                                                </button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }}).collect_view()}
                            </tbody>
                        </table>
                        <h2>"Recent activity"</h2>
                        <crate::events::EventTable rows=a.events/>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

//! A person's own page: profile, sessions (revocable) and recent activity.

use crate::error::AppError;
use crate::model::{Platform, Region, Role};
use leptos::prelude::*;
use leptos_meta::Title;
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
pub async fn revoke_session(session_id: String) -> Result<(), AppError> {
    let me = crate::auth::ssr::require_user()?;
    let state = crate::state::AppState::get()?;
    ssr::revoke_own(&state, &me, &session_id).await
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let revoke = ServerAction::<RevokeSession>::new();
    let data = Resource::new_blocking(move || revoke.version().get(), |_| my_account());
    view! {
        <Title text="Your account · Unified Portal"/>
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
                        <p class="actions"><a href="/account/password" id="change-password" class="button">"Change password"</a></p>
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

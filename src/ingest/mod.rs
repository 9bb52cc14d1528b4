//! Event ingestion for the other platforms: `POST /api/v1/events` (in `handlers`), the API
//! keys it accepts (in `ssr`, also used by the CLI) and the super admin's page that manages
//! them, `/admin/api-keys`.

use crate::app::PageTitle;
use crate::error::AppError;
use crate::model::Platform;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod handlers;
#[cfg(feature = "ssr")]
pub mod ssr;

/// A key as the page lists it; the key itself is never listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub platform: Platform,
    pub created: String,
    pub last_used: Option<String>,
    pub revoked: Option<String>,
}

/// A key just made: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub id: String,
    pub name: String,
    pub platform: Platform,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeysPage {
    pub keys: Vec<ApiKeyRow>,
    /// The key this caller created last, shown once (after a form post without JavaScript
    /// the page is reloaded, so the key waits on the server for this one read).
    pub just_created: Option<CreatedKey>,
}

#[server(prefix = "/fn", endpoint = "api_keys/list")]
pub async fn list_api_keys() -> Result<ApiKeysPage, AppError> {
    let me = crate::auth::ssr::require_role(crate::model::Role::SuperAdmin)?;
    let state = crate::state::AppState::get()?;
    let keys = ssr::list_keys(&state.pool).await?;
    Ok(ApiKeysPage {
        keys: ssr::to_rows(keys, state.config.timezone),
        just_created: ssr::take_flash(&me.session_id),
    })
}

#[server(prefix = "/fn", endpoint = "api_keys/create")]
pub async fn create_api_key(name: String, platform: String) -> Result<CreatedKey, AppError> {
    let me = crate::auth::ssr::require_role(crate::model::Role::SuperAdmin)?;
    let state = crate::state::AppState::get()?;
    let platform: Platform = platform
        .parse()
        .map_err(|e: String| AppError::bad(format!("platform: {e}")))?;
    let created = ssr::create_key(&state.pool, &name, platform).await?;
    log_staff_action(
        &state,
        &me,
        "ADMIN_API_KEY_CREATED",
        &created.id,
        &created.name,
        platform,
    )
    .await;
    ssr::put_flash(&me.session_id, created.clone());
    Ok(created)
}

#[server(prefix = "/fn", endpoint = "api_keys/revoke")]
pub async fn revoke_api_key(id: String) -> Result<crate::forms::Done, AppError> {
    let me = crate::auth::ssr::require_role(crate::model::Role::SuperAdmin)?;
    let state = crate::state::AppState::get()?;
    let revoked = ssr::revoke_key(&state.pool, &id).await;
    if let Ok(ssr::Revoked::Now(k)) = &revoked {
        log_staff_action(
            &state,
            &me,
            "ADMIN_API_KEY_REVOKED",
            &k.id,
            &k.name,
            k.platform,
        )
        .await;
    }
    crate::forms::finish(revoked.map(|_| crate::forms::Done::new("The key is revoked.")))
}

/// Staff actions are the actor's own events (CONTRACT §2). The key's change has happened
/// already, so a failure to log it is reported in the log rather than to the caller.
#[cfg(feature = "ssr")]
async fn log_staff_action(
    state: &crate::state::AppState,
    me: &crate::auth::CurrentUser,
    event_type: &str,
    key_id: &str,
    key_name: &str,
    platform: Platform,
) {
    let ev = crate::auth::ssr::NewEvent {
        user_id: me.id.clone(),
        event_type: event_type.into(),
        platform: Platform::Web,
        metadata: serde_json::json!({
            "apiKeyId": key_id,
            "apiKeyName": key_name,
            "apiKeyPlatform": platform,
        }),
        ip: None,
        user_agent: None,
    };
    if let Err(e) = crate::auth::ssr::insert_event(&state.pool, &ev).await {
        tracing::warn!(error = %e, event_type, "could not log the API key change");
    }
}

pub mod ids {
    pub const CREATE_FORM: &str = "api-key-create";
    pub const NEW_KEY: &str = "new-api-key";
    pub const TABLE: &str = "api-keys";
}

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let data = Resource::new_blocking(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    view! {
        <PageTitle text="API keys · Unified Portal"/>
        <h1>"API keys"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <crate::app::ErrorBox error=e/> }.into_any(),
                    Ok(page) => {
                        // With JavaScript the action's own answer carries the key; without,
                        // the reloaded page does.
                        let shown = match create.value().get_untracked() {
                            Some(Ok(k)) => Some(k),
                            _ => page.just_created.clone(),
                        };
                        let create_error = match create.value().get_untracked() {
                            Some(Err(e)) => Some(e.to_string()),
                            _ => None,
                        };
                        view! {
                            <p class="muted">"Keys let the other platforms post events to "
                                <code>"POST /api/v1/events"</code>" (see "
                                <a href="/api/v1/openapi.json">"the API description"</a>
                                "). Each key speaks for one platform."</p>
                            {shown.map(|k| view! {
                                <section class="notice" id=ids::NEW_KEY role="status">
                                    <p>"The key for " <strong>{k.name}</strong> " (" {k.platform.label()}
                                       "). Copy it now: it is shown only this once."</p>
                                    <p><code class="mono" data-key-id=k.id>{k.key}</code></p>
                                </section>
                            })}
                            {create_error.map(|e| view! { <p class="flash" role="alert">{e}</p> })}
                            <ActionForm action=create attr:id=ids::CREATE_FORM attr:class="card form">
                                <label>"Name (who uses the key)"
                                    <input type="text" name="name" required maxlength="100" placeholder="Telegram bot"/>
                                </label>
                                <label>"Platform"
                                    <select name="platform">
                                        {Platform::ALL.iter().map(|p| view! {
                                            <option value=p.as_str()>{p.label()}</option>
                                        }).collect_view()}
                                    </select>
                                </label>
                                <button type="submit" class="primary">"Create key"</button>
                            </ActionForm>
                            <h2>"Keys"</h2>
                            <KeyTable keys=page.keys revoke/>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn KeyTable(keys: Vec<ApiKeyRow>, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    if keys.is_empty() {
        return view! { <p class="empty" id=ids::TABLE>"No API keys yet."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
        <table class="data" id=ids::TABLE>
            <thead><tr><th>"Name"</th><th>"Platform"</th><th>"Created"</th><th>"Last used"</th><th>"Status"</th><th></th></tr></thead>
            <tbody>
                {keys.into_iter().map(|k| {
                    let id = k.id.clone();
                    let live = k.revoked.is_none();
                    view! {
                        <tr data-key-id=id>
                            <td>{k.name}</td>
                            <td>{k.platform.label()}</td>
                            <td class="nowrap">{k.created}</td>
                            <td class="nowrap">{k.last_used.unwrap_or_else(|| "never".into())}</td>
                            <td class="nowrap">{match k.revoked {
                                Some(at) => format!("revoked {at}"),
                                None => "active".into(),
                            }}</td>
                            <td>{live.then(|| view! {
                                <ActionForm action=revoke>
                                    <input type="hidden" name="id" value=k.id/>
                                    <button type="submit" class="danger small">"Revoke"</button>
                                </ActionForm>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
    .into_any()
}

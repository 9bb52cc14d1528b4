//! Managing one user (ADMIN+, within the permission matrix): edit, link and unlink
//! Telegram, block and unblock, erase. Every form works as a plain POST too.

use super::urlencode;
use crate::app::PageTitle;
use crate::error::AppError;
use crate::forms::{field_error, ActionResult, Done};
use crate::model::{Region, Role, LANGUAGES};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

/// A text field of an edit form: `Sent(None)` when the field was not posted (left alone),
/// `Sent(Some(""))` when it was posted empty (cleared). A plain `Option<String>` cannot tell
/// the two apart: the form decoder reads an empty value as `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sent(pub Option<String>);

impl Serialize for Sent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Sent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|v| Sent(Some(v)))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManageData {
    pub id: String,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub telegram_id: Option<i64>,
    pub telegram_username: Option<String>,
    pub region: Region,
    pub language: String,
    pub has_password: bool,
    pub blocked: Option<String>,
    pub blocked_reason: Option<String>,
    pub erased: Option<String>,
    /// The caller is looking at their own record: block and erase are not offered.
    pub is_self: bool,
}

#[server(prefix = "/fn", endpoint = "users/manage")]
pub async fn get_manage(id: String) -> Result<ManageData, AppError> {
    let me = crate::auth::ssr::require_role(Role::Admin)?;
    let state = crate::state::AppState::get()?;
    super::manage_ssr::load(&state, &me, &id).await
}

/// Changes the fields that were sent and differ; audited as ADMIN_EDIT with old and new.
#[server(prefix = "/fn", endpoint = "users/edit")]
pub async fn edit_user(
    user_id: String,
    #[server(default)] first_name: Sent,
    #[server(default)] last_name: Sent,
    #[server(default)] phone: Sent,
    #[server(default)] region: Option<String>,
    #[server(default)] language: Option<String>,
) -> Result<Done, AppError> {
    crate::forms::finish(
        async move {
            let me = crate::auth::ssr::require_role(Role::Admin)?;
            let state = crate::state::AppState::get()?;
            let input = super::manage_ssr::EditInput {
                first_name: first_name.0,
                last_name: last_name.0,
                phone: phone.0,
                region,
                language,
            };
            super::manage_ssr::edit(&state, &me, &user_id, input).await
        }
        .await,
    )
}

/// Attaches a Telegram id that staff confirmed out of band; audited as TELEGRAM_LINKED.
#[server(prefix = "/fn", endpoint = "users/link_telegram")]
pub async fn link_telegram(
    user_id: String,
    telegram_id: String,
    #[server(default)] telegram_username: Option<String>,
) -> Result<Done, AppError> {
    crate::forms::finish(
        async move {
            let me = crate::auth::ssr::require_role(Role::Admin)?;
            let state = crate::state::AppState::get()?;
            super::manage_ssr::link_telegram(&state, &me, &user_id, &telegram_id, telegram_username)
                .await
        }
        .await,
    )
}

#[server(prefix = "/fn", endpoint = "users/unlink_telegram")]
pub async fn unlink_telegram(user_id: String) -> Result<Done, AppError> {
    crate::forms::finish(
        async move {
            let me = crate::auth::ssr::require_role(Role::Admin)?;
            let state = crate::state::AppState::get()?;
            super::manage_ssr::unlink_telegram(&state, &me, &user_id).await
        }
        .await,
    )
}

/// Blocks the user and ends all their sessions at once; audited as ADMIN_BLOCK.
#[server(prefix = "/fn", endpoint = "users/block")]
pub async fn block_user(
    user_id: String,
    #[server(default)] reason: String,
) -> Result<Done, AppError> {
    crate::forms::finish(
        async move {
            let me = crate::auth::ssr::require_role(Role::Admin)?;
            let state = crate::state::AppState::get()?;
            super::manage_ssr::block(&state, &me, &user_id, &reason).await
        }
        .await,
    )
}

#[server(prefix = "/fn", endpoint = "users/unblock")]
pub async fn unblock_user(user_id: String) -> Result<Done, AppError> {
    crate::forms::finish(
        async move {
            let me = crate::auth::ssr::require_role(Role::Admin)?;
            let state = crate::state::AppState::get()?;
            super::manage_ssr::unblock(&state, &me, &user_id).await
        }
        .await,
    )
}

/// Erases the user's personal data, irreversibly; `confirm` must repeat the user id.
#[server(prefix = "/fn", endpoint = "users/erase")]
pub async fn erase_user(
    user_id: String,
    #[server(default)] confirm: String,
) -> Result<Done, AppError> {
    crate::forms::finish(
        async move {
            let me = crate::auth::ssr::require_role(Role::Admin)?;
            let state = crate::state::AppState::get()?;
            super::manage_ssr::erase(&state, &me, &user_id, &confirm).await
        }
        .await,
    )
}

pub mod ids {
    pub const USER_ID: &str = "manage-user-id";
    pub const BACK: &str = "manage-back";
    pub const STATUS: &str = "manage-status";
    pub const EDIT_FORM: &str = "edit-form";
    pub const FIRST_NAME: &str = "edit-first-name";
    pub const LAST_NAME: &str = "edit-last-name";
    pub const PHONE: &str = "edit-phone";
    pub const PHONE_ERROR: &str = "edit-phone-error";
    pub const REGION: &str = "edit-region";
    pub const LANGUAGE: &str = "edit-language";
    pub const EDIT_SUBMIT: &str = "edit-submit";
    pub const EDIT_RESULT: &str = "edit-result";
    pub const TELEGRAM: &str = "manage-telegram";
    pub const LINK_FORM: &str = "link-telegram-form";
    pub const TELEGRAM_ID: &str = "link-telegram-id";
    pub const TELEGRAM_USERNAME: &str = "link-telegram-username";
    pub const TELEGRAM_ERROR: &str = "link-telegram-error";
    pub const MERGE_LINK: &str = "link-telegram-merge";
    pub const LINK_SUBMIT: &str = "link-telegram-submit";
    pub const UNLINK_FORM: &str = "unlink-telegram-form";
    pub const UNLINK_SUBMIT: &str = "unlink-telegram-submit";
    pub const TELEGRAM_RESULT: &str = "telegram-result";
    pub const BLOCK_FORM: &str = "block-form";
    pub const REASON: &str = "block-reason";
    pub const REASON_ERROR: &str = "block-reason-error";
    pub const BLOCK_SUBMIT: &str = "block-submit";
    pub const UNBLOCK_FORM: &str = "unblock-form";
    pub const UNBLOCK_SUBMIT: &str = "unblock-submit";
    pub const BLOCK_RESULT: &str = "block-result";
    pub const ERASE_FORM: &str = "erase-form";
    pub const CONFIRM: &str = "erase-confirm";
    pub const CONFIRM_ERROR: &str = "erase-confirm-error";
    pub const ERASE_SUBMIT: &str = "erase-submit";
    pub const ERASE_RESULT: &str = "erase-result";
}

/// The merge page named in a "Telegram id already belongs to …" refusal.
fn merge_link(msg: &str) -> Option<String> {
    let i = msg.find("/admin/users/")?;
    let link: String = msg[i..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    (link.contains("/merge?other=")).then_some(link)
}

#[component]
pub fn ManageUserPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let edit = ServerAction::<EditUser>::new();
    let link = ServerAction::<LinkTelegram>::new();
    let unlink = ServerAction::<UnlinkTelegram>::new();
    let block = ServerAction::<BlockUser>::new();
    let unblock = ServerAction::<UnblockUser>::new();
    let erase = ServerAction::<EraseUser>::new();
    let data = Resource::new_blocking(
        move || {
            (
                id.get(),
                edit.version().get(),
                link.version().get(),
                unlink.version().get(),
                block.version().get(),
                unblock.version().get(),
                erase.version().get(),
            )
        },
        |(id, ..)| get_manage(id),
    );
    let actions = Actions {
        edit,
        link,
        unlink,
        block,
        unblock,
        erase,
    };
    view! {
        <p><a href=move || format!("/admin/users/{}", urlencode(&id.get())) id=ids::BACK>"← Back to the user"</a></p>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <crate::app::ErrorBox error=e/> }.into_any(),
                    Ok(d) => view! { <ManageView d=d actions=actions/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[derive(Clone, Copy)]
struct Actions {
    edit: ServerAction<EditUser>,
    link: ServerAction<LinkTelegram>,
    unlink: ServerAction<UnlinkTelegram>,
    block: ServerAction<BlockUser>,
    unblock: ServerAction<UnblockUser>,
    erase: ServerAction<EraseUser>,
}

/// A field's refusal, shown beside it.
fn beside(id: &'static str, msg: Option<String>) -> impl IntoView {
    msg.map(|m| view! { <span class="field-error" role="alert" id=id>{m}</span> })
}

#[component]
fn ManageView(d: ManageData, actions: Actions) -> impl IntoView {
    let Actions {
        edit,
        link,
        unlink,
        block,
        unblock,
        erase,
    } = actions;
    let uid = d.id.clone();
    let erased = d.erased.is_some();
    let status = match (&d.erased, &d.blocked) {
        (Some(at), _) => format!("Personal data erased on {at}."),
        (None, Some(at)) => format!("Blocked since {at}."),
        (None, None) => "Active.".to_string(),
    };
    let sign_in_ways = {
        let mut w = Vec::new();
        if d.telegram_id.is_some() {
            w.push("Telegram");
        }
        if d.phone.is_some() && d.has_password {
            w.push("phone and password");
        }
        if w.is_empty() {
            "none".to_string()
        } else {
            w.join(", ")
        }
    };
    let telegram_section = {
        let uid = uid.clone();
        match d.telegram_id {
            Some(tid) => view! {
                <p>"Linked to Telegram id " <span class="mono">{tid}</span>
                    {d.telegram_username.clone().map(|u| view! { " (" <span class="wrap">{format!("@{u}")}</span> ")" })}
                </p>
                <ActionForm action=unlink attr:id=ids::UNLINK_FORM attr:class="form">
                    <input type="hidden" name="user_id" value=uid/>
                    <p class="muted small">"Unlinking is refused when the user would have no other way to sign in (a phone and a password)."</p>
                    <button type="submit" id=ids::UNLINK_SUBMIT class="danger">"Unlink Telegram"</button>
                </ActionForm>
            }
            .into_any(),
            None if erased => view! { <p class="muted">"Not linked."</p> }.into_any(),
            None => view! {
                <ActionForm action=link attr:id=ids::LINK_FORM attr:class="form">
                    <input type="hidden" name="user_id" value=uid/>
                    <label>"Telegram user id"
                        <input type="text" inputmode="numeric" name="telegram_id" id=ids::TELEGRAM_ID required
                            maxlength="20" autocomplete="off"/>
                        {move || beside(ids::TELEGRAM_ERROR, field_error(&link.value().get(), "telegram_id"))}
                        {move || link.value().get().and_then(|r| r.err()).and_then(|e| merge_link(&e.to_string())).map(|href| view! {
                            <a href=href id=ids::MERGE_LINK class="button">"Merge the two records"</a>
                        })}
                    </label>
                    <label>"Telegram username (optional)"
                        <input type="text" name="telegram_username" id=ids::TELEGRAM_USERNAME maxlength="33" autocomplete="off"/>
                        {move || beside("link-telegram-username-error", field_error(&link.value().get(), "telegram_username"))}
                    </label>
                    <button type="submit" id=ids::LINK_SUBMIT>"Link Telegram"</button>
                </ActionForm>
            }
            .into_any(),
        }
    };
    let block_section = if erased {
        None
    } else if d.is_self {
        Some(view! { <p class="muted">"You cannot block or erase yourself."</p> }.into_any())
    } else if let Some(at) = d.blocked.clone() {
        let uid = uid.clone();
        Some(
            view! {
                <p>{format!("Blocked since {at}")}
                    {d.blocked_reason.clone().map(|r| view! { ": " <span class="wrap">{r}</span> })}
                </p>
                <ActionForm action=unblock attr:id=ids::UNBLOCK_FORM attr:class="form">
                    <input type="hidden" name="user_id" value=uid/>
                    <button type="submit" id=ids::UNBLOCK_SUBMIT>"Unblock"</button>
                </ActionForm>
            }
            .into_any(),
        )
    } else {
        let uid = uid.clone();
        Some(
            view! {
                <ActionForm action=block attr:id=ids::BLOCK_FORM attr:class="form">
                    <input type="hidden" name="user_id" value=uid/>
                    <p class="muted small">"A blocked user cannot sign in by any route; all their sessions end at once."</p>
                    <label>"Reason (recorded in the audit log)"
                        <textarea name="reason" id=ids::REASON required maxlength="500" rows="2"></textarea>
                        {move || beside(ids::REASON_ERROR, field_error(&block.value().get(), "reason"))}
                    </label>
                    <button type="submit" id=ids::BLOCK_SUBMIT class="danger">"Block"</button>
                </ActionForm>
            }
            .into_any(),
        )
    };
    let erase_section = if let Some(at) = d.erased.clone() {
        view! { <p class="notice">{format!("Erased on {at}. This cannot be undone.")}</p> }
            .into_any()
    } else if d.is_self {
        view! { <p class="muted">"You cannot erase yourself."</p> }.into_any()
    } else {
        let uid = uid.clone();
        view! {
            <ActionForm action=erase attr:id=ids::ERASE_FORM attr:class="form">
                <input type="hidden" name="user_id" value=uid.clone()/>
                <p class="muted small">
                    "Clears names, phone, Telegram and password, ends all sessions and removes addresses and devices "
                    "from the user's events. The record stays, anonymous, so counts stay true. Irreversible."
                </p>
                <label>"Type the user id " <span class="mono">{uid}</span> " to confirm"
                    <input type="text" name="confirm" id=ids::CONFIRM required autocomplete="off" spellcheck="false"/>
                    {move || beside(ids::CONFIRM_ERROR, field_error(&erase.value().get(), "confirm"))}
                </label>
                <button type="submit" id=ids::ERASE_SUBMIT class="danger">"Erase personal data"</button>
            </ActionForm>
        }
        .into_any()
    };
    let region = d.region;
    let language = d.language.clone();
    view! {
        <PageTitle text=format!("Manage {} · Users · Unified Portal", d.name)/>
        <div class="user-head">
            <h1 class="clip" title=d.name.clone()>{format!("Manage {}", d.name)}</h1>
            <span class="badge">{d.role.label()}</span>
        </div>
        <p class="muted">
            "User id " <span class="mono" id=ids::USER_ID>{d.id.clone()}</span>
            " · " <span id=ids::STATUS>{status}</span>
            " · sign-in: " {sign_in_ways}
        </p>
        <div class="manage-grid">
            <section class="card" id="manage-edit">
                <h2>"Edit"</h2>
                {if erased {
                    view! { <p class="muted">"An erased record cannot be edited."</p> }.into_any()
                } else {
                    let uid = uid.clone();
                    view! {
                    <ActionForm action=edit attr:id=ids::EDIT_FORM attr:class="form">
                        <input type="hidden" name="user_id" value=uid/>
                        <label>"First name"
                            <input type="text" name="first_name" id=ids::FIRST_NAME maxlength="200"
                                value=d.first_name.clone().unwrap_or_default()/>
                            {move || beside("edit-first-name-error", field_error(&edit.value().get(), "first_name"))}
                        </label>
                        <label>"Last name"
                            <input type="text" name="last_name" id=ids::LAST_NAME maxlength="200"
                                value=d.last_name.clone().unwrap_or_default()/>
                            {move || beside("edit-last-name-error", field_error(&edit.value().get(), "last_name"))}
                        </label>
                        <label>"Phone"
                            <input type="tel" name="phone" id=ids::PHONE maxlength="32" autocomplete="off"
                                value=d.phone.clone().unwrap_or_default() placeholder="+998 90 123 45 67"/>
                            {move || beside(ids::PHONE_ERROR, field_error(&edit.value().get(), "phone"))}
                        </label>
                        <label>"Region"
                            <select name="region" id=ids::REGION>
                                {Region::ALL.iter().map(|r| view! {
                                    <option value=r.as_str() selected=*r == region>{r.as_str()}</option>
                                }).collect_view()}
                            </select>
                        </label>
                        <label>"Language"
                            <select name="language" id=ids::LANGUAGE>
                                {LANGUAGES.iter().map(|l| view! {
                                    <option value=*l selected=*l == language>{*l}</option>
                                }).collect_view()}
                            </select>
                        </label>
                        <button type="submit" id=ids::EDIT_SUBMIT class="primary">"Save"</button>
                    </ActionForm>
                    }.into_any()
                }}
                <div id=ids::EDIT_RESULT><ActionResult value=Signal::derive(move || edit.value().get())/></div>
            </section>
            <section class="card" id=ids::TELEGRAM>
                <h2>"Telegram"</h2>
                {telegram_section}
                <div id=ids::TELEGRAM_RESULT>
                    <ActionResult value=Signal::derive(move || link.value().get())/>
                    <ActionResult value=Signal::derive(move || unlink.value().get())/>
                </div>
            </section>
            <section class="card" id="manage-block">
                <h2>"Block"</h2>
                {block_section.unwrap_or_else(|| view! { <p class="muted">"An erased record cannot sign in."</p> }.into_any())}
                <div id=ids::BLOCK_RESULT>
                    <ActionResult value=Signal::derive(move || block.value().get())/>
                    <ActionResult value=Signal::derive(move || unblock.value().get())/>
                </div>
            </section>
            <section class="card danger-zone" id="manage-erase">
                <h2>"Erase"</h2>
                {erase_section}
                <div id=ids::ERASE_RESULT><ActionResult value=Signal::derive(move || erase.value().get())/></div>
            </section>
        </div>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_merge_link_is_found_in_the_refusal() {
        let m = "telegram_id: Telegram id 5 already belongs to user b; if they are one person, merge them: /admin/users/a/merge?other=b";
        assert_eq!(
            super::merge_link(m).as_deref(),
            Some("/admin/users/a/merge?other=b")
        );
        assert_eq!(super::merge_link("phone: taken"), None);
    }
}

//! `/admin/staff`, for SUPER_ADMIN: everyone with a staff role, their last sign-in, role
//! changes (the matrix and the last-SUPER_ADMIN rule of `users::detail_ssr::set_role`),
//! granting a role by phone or Telegram id, and one-time passwords.

use crate::app::PageTitle;
use crate::error::AppError;
use crate::forms::{ActionResult, Done};
use crate::model::Role;
use crate::users::urlencode;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod ssr;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffRow {
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
    pub telegram_id: Option<i64>,
    pub role: Role,
    /// The latest LOGIN, local time; `None` if they never signed in.
    pub last_sign_in: Option<String>,
    pub blocked: bool,
    /// A one-time password is set and not yet replaced.
    pub pending_password: bool,
    pub is_me: bool,
    /// The roles the caller may give this person.
    pub role_choices: Vec<Role>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffList {
    pub rows: Vec<StaffRow>,
    pub min_password_len: usize,
}

#[server(prefix = "/fn", endpoint = "staff/list")]
pub async fn list_staff() -> Result<StaffList, AppError> {
    let me = crate::auth::ssr::require_role(Role::SuperAdmin)?;
    let state = crate::state::AppState::get()?;
    ssr::list(&state, &me).await
}

/// Gives a staff role to the person with this phone or Telegram id; audited as
/// ADMIN_ROLE_CHANGE.
#[server(prefix = "/fn", endpoint = "staff/grant")]
pub async fn grant_role(
    #[server(default)] phone: String,
    #[server(default)] telegram_id: String,
    #[server(default)] role: String,
) -> Result<Done, AppError> {
    let me = crate::auth::ssr::require_role(Role::SuperAdmin)?;
    let state = crate::state::AppState::get()?;
    crate::forms::finish(ssr::grant(&state, &me, &phone, &telegram_id, &role).await)
}

/// A staff member's role, changed from the staff page (USER removes the staff role).
#[server(prefix = "/fn", endpoint = "staff/set_role")]
pub async fn set_staff_role(user_id: String, role: String) -> Result<Done, AppError> {
    let me = crate::auth::ssr::require_role(Role::SuperAdmin)?;
    let state = crate::state::AppState::get()?;
    crate::forms::finish(ssr::set_role(&state, &me, &user_id, &role).await)
}

/// Sets a password the staff member must replace at their next sign-in; all their sessions
/// end. Audited as ADMIN_SET_PASSWORD (without the password).
#[server(prefix = "/fn", endpoint = "staff/set_temporary_password")]
pub async fn set_temporary_password(user_id: String, password: String) -> Result<Done, AppError> {
    let me = crate::auth::ssr::require_role(Role::SuperAdmin)?;
    let state = crate::state::AppState::get()?;
    crate::forms::finish(
        ssr::set_temporary_password(&state, &me, &user_id, crate::config::Secret::new(password))
            .await,
    )
}

pub mod ids {
    pub const TABLE: &str = "staff-table";
    pub const GRANT_FORM: &str = "grant-form";
    pub const EMPTY: &str = "staff-empty";
}

#[component]
pub fn StaffPage() -> impl IntoView {
    let grant = ServerAction::<GrantRole>::new();
    let set_role = ServerAction::<SetStaffRole>::new();
    let temp = ServerAction::<SetTemporaryPassword>::new();
    let data = Resource::new_blocking(
        move || {
            (
                grant.version().get(),
                set_role.version().get(),
                temp.version().get(),
            )
        },
        |_| list_staff(),
    );
    // Only the answer of the action used last is shown, so two answers never stand
    // side by side.
    let last = RwSignal::new(0u8);
    Effect::new(move |_| {
        if grant.version().get() > 0 {
            last.set(1);
        }
    });
    Effect::new(move |_| {
        if set_role.version().get() > 0 {
            last.set(2);
        }
    });
    Effect::new(move |_| {
        if temp.version().get() > 0 {
            last.set(3);
        }
    });
    let value = Signal::derive(move || match last.get() {
        1 => grant.value().get(),
        2 => set_role.value().get(),
        3 => temp.value().get(),
        _ => None,
    });
    view! {
        <PageTitle text="Staff · Unified Portal"/>
        <h1>"Staff"</h1>
        <ActionResult value=value/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <crate::app::ErrorBox error=e/> }.into_any(),
                    Ok(list) => view! {
                        <StaffTable list=list set_role=set_role temp=temp/>
                        <GrantForm grant=grant/>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn GrantForm(grant: ServerAction<GrantRole>) -> impl IntoView {
    view! {
        <h2>"Add staff"</h2>
        <ActionForm action=grant attr:id=ids::GRANT_FORM attr:class="card form staff-grant">
            <p class="muted small">
                "The person must already have an account. Give their phone number or their Telegram id."
            </p>
            <label>"Phone"
                <input type="tel" name="phone" placeholder="+998 90 123 45 67" maxlength="32" autocomplete="off"/>
            </label>
            <label>"or Telegram id"
                <input type="text" name="telegram_id" inputmode="numeric" placeholder="123456789" maxlength="20" autocomplete="off"/>
            </label>
            <label>"Role"
                <select name="role">
                    {[Role::Support, Role::Admin, Role::SuperAdmin].into_iter().map(|r| view! {
                        <option value=r.as_str()>{r.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" class="primary">"Grant role"</button>
        </ActionForm>
    }
}

#[component]
fn StaffTable(
    list: StaffList,
    set_role: ServerAction<SetStaffRole>,
    temp: ServerAction<SetTemporaryPassword>,
) -> impl IntoView {
    if list.rows.is_empty() {
        return view! { <p class="empty" id=ids::EMPTY>"No staff."</p> }.into_any();
    }
    let min_len = list.min_password_len;
    view! {
        <div class="table-wrap">
        <table class="data staff" id=ids::TABLE>
            <thead><tr>
                <th>"Name"</th><th>"Phone"</th><th>"Telegram id"</th><th>"Role"</th>
                <th>"Last sign-in"</th><th>"Status"</th><th>"Change role"</th><th>"One-time password"</th>
            </tr></thead>
            <tbody>
                {list.rows.into_iter().map(|s| {
                    let href = format!("/admin/users/{}", urlencode(&s.id));
                    let (uid, uid2) = (s.id.clone(), s.id.clone());
                    let current = s.role;
                    let choices = s.role_choices.clone();
                    view! {
                        <tr data-user-id=s.id.clone() data-role=s.role.as_str()>
                            <td class="clip name">
                                <a href=href title=s.name.clone()>{s.name.clone()}</a>
                                {s.is_me.then(|| view! { <span class="badge">"you"</span> })}
                            </td>
                            <td class="mono nowrap">{s.phone.clone().unwrap_or_else(|| "—".into())}</td>
                            <td class="mono nowrap">{s.telegram_id.map(|t| t.to_string()).unwrap_or_else(|| "—".into())}</td>
                            <td class="role">{s.role.label()}</td>
                            <td class="nowrap last-sign-in">{s.last_sign_in.clone().unwrap_or_else(|| "never".into())}</td>
                            <td class="status">
                                {s.blocked.then(|| view! { <span class="badge blocked">"blocked"</span> })}
                                {s.pending_password.then(|| view! { <span class="badge pending">"one-time password"</span> })}
                            </td>
                            <td>
                                {(!choices.is_empty()).then(|| view! {
                                    <ActionForm action=set_role attr:class="inline role-form">
                                        <input type="hidden" name="user_id" value=uid/>
                                        <select name="role" aria-label="Role">
                                            {choices.iter().map(|r| view! {
                                                <option value=r.as_str() selected=*r == current>{r.label()}</option>
                                            }).collect_view()}
                                        </select>
                                        <button type="submit" class="small">"Change"</button>
                                    </ActionForm>
                                })}
                            </td>
                            <td>
                                {(!s.is_me).then(|| view! {
                                    <details class="temp-password">
                                        <summary>"Set…"</summary>
                                        <ActionForm action=temp attr:class="inline temp-password-form">
                                            <input type="hidden" name="user_id" value=uid2/>
                                            <input type="password" name="password" required minlength=min_len
                                                maxlength="256" autocomplete="new-password" aria-label="One-time password"
                                                placeholder=format!("at least {min_len} characters")/>
                                            <button type="submit" class="danger small">"Set and sign them out"</button>
                                        </ActionForm>
                                    </details>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
    .into_any()
}

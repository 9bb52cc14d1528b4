//! One user, as staff see them: every field, identities, sessions, the staff actions taken
//! on them, and their activity timeline.

use super::urlencode;
use crate::account::SessionRow;
use crate::app::PageTitle;
use crate::error::AppError;
use crate::forms::Done;
use crate::model::{Platform, Region, Role};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

/// The timeline's URL parameters as received (`type`, `platform`, `date`, `at`, `before`,
/// `after`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineQuery {
    pub event_type: Option<String>,
    pub platform: Option<String>,
    pub date: Option<String>,
    pub at: Option<String>,
    pub before: Option<String>,
    /// Paging towards newer events: the page just newer than this cursor.
    #[serde(default)]
    pub after: Option<String>,
}

impl TimelineQuery {
    pub fn from_map(q: &leptos_router::params::ParamsMap) -> Self {
        let get = |k: &str| q.get(k).filter(|v| !v.trim().is_empty());
        TimelineQuery {
            event_type: get("type"),
            platform: get("platform"),
            date: get("date"),
            at: get("at"),
            before: get("before"),
            after: get("after"),
        }
    }

    fn filter_qs(&self) -> String {
        super::query_string(&[("type", &self.event_type), ("platform", &self.platform)])
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub id: String,
    pub event_type: String,
    pub platform: Platform,
    /// The local day (`PORTAL_TIMEZONE`), for grouping.
    pub day: String,
    pub time: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub metadata: Option<serde_json::Value>,
    /// For staff actions: who acted (name) and on whom.
    pub actor: Option<String>,
    pub actor_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserDetail {
    pub id: String,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub telegram_id: Option<i64>,
    pub telegram_username: Option<String>,
    pub telegram_photo_url: Option<String>,
    pub source: Platform,
    pub region: Region,
    pub language: String,
    pub created: String,
    pub updated: String,
    /// When staff blocked the person (local time), and why.
    pub blocked: Option<String>,
    pub blocked_reason: Option<String>,
    /// When the person's personal data was erased.
    pub erased: Option<String>,
    pub sessions: Vec<SessionRow>,
    pub staff_actions: Vec<TimelineEvent>,
    pub timeline: Vec<TimelineEvent>,
    /// The `before` cursor of the next (older) timeline page.
    pub older: Option<String>,
    /// The `after` cursor of the previous (newer) page, when newer events match.
    #[serde(default)]
    pub newer: Option<String>,
    pub highlight: Option<String>,
    /// The caller may revoke this user's sessions.
    pub can_manage: bool,
    /// The roles the caller may give this user (empty: no role change allowed).
    pub role_choices: Vec<Role>,
}

#[server(prefix = "/fn", endpoint = "users/detail")]
pub async fn get_user_detail(
    id: String,
    #[server(default)] query: TimelineQuery,
) -> Result<UserDetail, AppError> {
    let me = crate::auth::ssr::require_role(Role::Support)?;
    let state = crate::state::AppState::get()?;
    super::detail_ssr::load(&state, &me, &id, &query).await
}

/// Changes a user's role per the permission matrix; audited as ADMIN_ROLE_CHANGE.
#[server(prefix = "/fn", endpoint = "users/set_role")]
pub async fn set_role(user_id: String, role: String) -> Result<Done, AppError> {
    let me = crate::auth::ssr::require_role(Role::Admin)?;
    let state = crate::state::AppState::get()?;
    let result = match role.parse::<Role>() {
        Ok(role) => super::detail_ssr::set_role(&state, &me, &user_id, role)
            .await
            .map(|()| Done::new(format!("The role is now {}.", role.as_str()))),
        Err(e) => Err(AppError::bad(format!("role: {e}"))),
    };
    crate::forms::finish(result)
}

/// Ends one of the user's sessions; audited as SESSION_REVOKED by the staff member.
#[server(prefix = "/fn", endpoint = "users/revoke_session")]
pub async fn staff_revoke_session(user_id: String, session_id: String) -> Result<Done, AppError> {
    let me = crate::auth::ssr::require_role(Role::Admin)?;
    let state = crate::state::AppState::get()?;
    crate::forms::finish(
        super::detail_ssr::revoke_session(&state, &me, &user_id, &session_id)
            .await
            .map(|()| Done::new("The session is revoked.")),
    )
}

pub mod ids {
    pub const PROFILE: &str = "user-profile";
    pub const SESSIONS: &str = "user-sessions";
    pub const STAFF_ACTIONS: &str = "staff-actions";
    pub const TIMELINE: &str = "timeline";
    pub const TIMELINE_FILTERS: &str = "timeline-filters";
    pub const OLDER: &str = "timeline-older";
    pub const NEWER: &str = "timeline-newer";
    pub const BACK: &str = "back-to-list";
    pub const ROLE_FORM: &str = "role-form";
    pub const MANAGE: &str = "manage-user";
    pub const BLOCKED: &str = "user-blocked";
    pub const ERASED: &str = "user-erased";
}

/// Only a users-list URL of this portal is a way back.
fn back_link(raw: Option<String>) -> String {
    raw.filter(|b| {
        (b == "/admin/users" || b.starts_with("/admin/users?"))
            && !b.contains(['\\', '\r', '\n'])
            && b.len() <= 4096
    })
    .unwrap_or_else(|| "/admin/users".into())
}

#[component]
pub fn UserPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let tq = Memo::new(move |_| TimelineQuery::from_map(&query.read()));
    let back = Memo::new(move |_| back_link(query.read().get("back")));
    let set_role_action = ServerAction::<SetRole>::new();
    let revoke = ServerAction::<StaffRevokeSession>::new();
    let dups = Resource::new_blocking(move || id.get(), crate::merge::get_candidates);
    let data = Resource::new_blocking(
        move || {
            (
                id.get(),
                tq.get(),
                set_role_action.version().get(),
                revoke.version().get(),
            )
        },
        |(id, q, _, _)| get_user_detail(id, q),
    );
    view! {
        <p><a href=move || back.get() id=ids::BACK>"← Users"</a></p>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let q = tq.get_untracked();
                let back = back.get_untracked();
                match data.await {
                    Err(e) => view! { <crate::app::ErrorBox error=e/> }.into_any(),
                    Ok(u) => view! {
                        <UserView u=u q=q back=back dups=dups set_role_action=set_role_action revoke=revoke/>
                    }.into_any(),
                }
            })}
        </Suspense>
        {move || set_role_action.value().get().and_then(|r| r.err()).map(|e| view! {
            <p class="flash error" role="alert" id="action-error">{e.to_string()}</p>
        })}
        {move || revoke.value().get().and_then(|r| r.err()).map(|e| view! {
            <p class="flash error" role="alert" id="action-error">{e.to_string()}</p>
        })}
    }
}

fn dash(v: Option<String>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into())
}

#[component]
fn UserView(
    u: UserDetail,
    q: TimelineQuery,
    /// The list this page was opened from; timeline links and filters keep it.
    back: String,
    dups: Resource<Result<crate::merge::Candidates, AppError>>,
    set_role_action: ServerAction<SetRole>,
    revoke: ServerAction<StaffRevokeSession>,
) -> impl IntoView {
    let uid = u.id.clone();
    let base = format!("/admin/users/{}", urlencode(&u.id));
    let keep_back = (back != "/admin/users").then(|| back.clone());
    let back_qs = keep_back
        .as_ref()
        .map(|b| format!("back={}", urlencode(b)))
        .unwrap_or_default();
    let filter_qs = [q.filter_qs(), back_qs.clone()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("&");
    let older = u.older.clone().map(|c| {
        let sep = if filter_qs.is_empty() { "" } else { "&" };
        format!("{base}?{filter_qs}{sep}before={}", urlencode(&c))
    });
    let newer = u.newer.clone().map(|c| {
        let sep = if filter_qs.is_empty() { "" } else { "&" };
        format!("{base}?{filter_qs}{sep}after={}", urlencode(&c))
    });
    let unfiltered = if back_qs.is_empty() {
        base.clone()
    } else {
        format!("{base}?{back_qs}")
    };
    let tg = u.telegram_username.clone().map(|h| {
        let href = format!("https://t.me/{}", urlencode(&h));
        view! { <a href=href rel="noopener noreferrer" target="_blank">{format!("@{h}")}</a> }
    });
    let photo = u
        .telegram_photo_url
        .clone()
        .map(|src| view! { <img class="avatar" src=src alt="Telegram photo" referrerpolicy="no-referrer"/> });
    let role_choices = u.role_choices.clone();
    let can_manage = u.can_manage;
    view! {
        <PageTitle text=format!("{} · Users · Unified Portal", u.name)/>
        <div class="user-head">
            {photo}
            <h1 class="clip" title=u.name.clone()>{u.name.clone()}</h1>
            <span class="badge">{u.role.label()}</span>
        </div>
        {u.erased.clone().map(|at| view! {
            <p class="notice" id=ids::ERASED>{format!("Personal data erased on request, {at}.")}</p>
        })}
        {u.blocked.clone().map(|at| view! {
            <p class="flash error" id=ids::BLOCKED>
                {format!("Blocked since {at}")}
                {u.blocked_reason.clone().map(|r| view! { ": " <span class="wrap">{r}</span> })}
            </p>
        })}
        {can_manage.then(|| view! {
            <p class="actions">
                <a href=format!("{base}/manage") id=ids::MANAGE class="button">"Edit, block, erase, Telegram…"</a>
            </p>
        })}
        <div class="two-col">
            <dl class="profile card" id=ids::PROFILE>
                <dt>"User id"</dt><dd class="mono">{u.id.clone()}</dd>
                <dt>"First name"</dt><dd class="wrap">{dash(u.first_name.clone())}</dd>
                <dt>"Last name"</dt><dd class="wrap">{dash(u.last_name.clone())}</dd>
                <dt>"Phone"</dt><dd class="mono">{dash(u.phone.clone())}</dd>
                <dt>"Telegram id"</dt><dd class="mono">{dash(u.telegram_id.map(|t| t.to_string()))}</dd>
                <dt>"Telegram username"</dt><dd>{tg.map(|t| t.into_any()).unwrap_or_else(|| "—".into_any())}</dd>
                <dt>"Registered via"</dt><dd>{u.source.label()}</dd>
                <dt>"Region"</dt><dd>{u.region.as_str()}</dd>
                <dt>"Language"</dt><dd>{u.language.clone()}</dd>
                <dt>"Role"</dt><dd>{u.role.label()}</dd>
                <dt>"Created"</dt><dd>{u.created.clone()}</dd>
                <dt>"Updated"</dt><dd>{u.updated.clone()}</dd>
            </dl>
            {(!role_choices.is_empty()).then(|| {
                let current = u.role;
                let uid = uid.clone();
                view! {
                    <ActionForm action=set_role_action attr:id=ids::ROLE_FORM attr:class="card form">
                        <input type="hidden" name="user_id" value=uid/>
                        <label>"Role "
                            <select name="role">
                                {role_choices.iter().map(|r| view! {
                                    <option value=r.as_str() selected=*r == current>{r.label()}</option>
                                }).collect_view()}
                            </select>
                        </label>
                        <button type="submit">"Change role"</button>
                    </ActionForm>
                }
            })}
        </div>
        <crate::merge::PossibleDuplicates data=dups/>
        <h2>"Sessions"</h2>
        {if u.sessions.is_empty() {
            view! { <p class="empty">"No open sessions."</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                <table class="data" id=ids::SESSIONS>
                    <thead><tr><th>"Platform"</th><th>"Device"</th><th>"Signed in"</th><th>"Expires"</th><th></th></tr></thead>
                    <tbody>
                        {u.sessions.into_iter().map(|s| {
                            let uid = uid.clone();
                            let sid = s.id.clone();
                            view! {
                            <tr data-session-id=sid>
                                <td>{s.platform.label()}</td>
                                <td class="clip" title=s.device.clone().unwrap_or_default()>{s.device.clone().unwrap_or_default()}</td>
                                <td class="nowrap">{s.created}</td>
                                <td class="nowrap">{s.expires}</td>
                                <td>{can_manage.then(|| view! {
                                    <ActionForm action=revoke>
                                        <input type="hidden" name="user_id" value=uid/>
                                        <input type="hidden" name="session_id" value=s.id/>
                                        <button type="submit" class="danger small">"Revoke"</button>
                                    </ActionForm>
                                })}</td>
                            </tr>
                        }}).collect_view()}
                    </tbody>
                </table>
                </div>
            }.into_any()
        }}
        <h2>"Staff actions on this user"</h2>
        {if u.staff_actions.is_empty() {
            view! { <p class="empty" id=ids::STAFF_ACTIONS>"None."</p> }.into_any()
        } else {
            view! { <div id=ids::STAFF_ACTIONS><EventList events=u.staff_actions highlight=None/></div> }.into_any()
        }}
        <h2>"Activity"</h2>
        <form method="get" action=base.clone() id=ids::TIMELINE_FILTERS class="filters">
            <label>"Event type " <input type="text" name="type" value=q.event_type.clone().unwrap_or_default()
                placeholder="e.g. LOGIN" maxlength="64"/></label>
            <label>"Platform "
                <select name="platform">
                    <option value="">"Any"</option>
                    {Platform::ALL.iter().map(|p| view! {
                        <option value=p.as_str() selected=q.platform.as_deref() == Some(p.as_str())>{p.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Jump to date " <input type="date" name="date" value=q.date.clone().unwrap_or_default()/></label>
            {keep_back.map(|b| view! { <input type="hidden" name="back" value=b/> })}
            <button type="submit">"Show"</button>
            {(q.event_type.is_some() || q.platform.is_some() || q.date.is_some() || q.at.is_some() || q.before.is_some() || q.after.is_some())
                .then(|| view! { <a href=unfiltered class="clear">"Newest, unfiltered"</a> })}
        </form>
        <div id=ids::TIMELINE>
            {if u.timeline.is_empty() {
                let filtered = q.event_type.is_some() || q.platform.is_some() || q.date.is_some();
                let text = if filtered { "No activity matches these filters." } else { "No activity yet." };
                view! { <p class="empty" id="timeline-empty">{text}</p> }.into_any()
            } else {
                view! { <EventList events=u.timeline highlight=u.highlight/> }.into_any()
            }}
        </div>
        <nav class="pager">
            {newer.map(|h| view! { <a href=h id=ids::NEWER rel="prev">"← Newer"</a> })}
            {older.map(|h| view! { <a href=h id=ids::OLDER rel="next">"Older →"</a> })}
        </nav>
    }
}

/// A user agent shortened for the list; the whole text is in the title.
fn short_ua(ua: &str) -> String {
    const MAX: usize = 60;
    if ua.chars().count() <= MAX {
        ua.to_string()
    } else {
        let mut s: String = ua.chars().take(MAX).collect();
        s.push('…');
        s
    }
}

/// Events grouped under their local day, newest first.
#[component]
pub fn EventList(events: Vec<TimelineEvent>, highlight: Option<String>) -> impl IntoView {
    let mut days: Vec<(String, Vec<TimelineEvent>)> = Vec::new();
    for e in events {
        match days.last_mut() {
            Some((d, list)) if *d == e.day => list.push(e),
            _ => days.push((e.day.clone(), vec![e])),
        }
    }
    days.into_iter()
        .map(|(day, list)| {
            let key = day.clone();
            view! {
                <section class="day" data-day=key>
                    <h3>{day}</h3>
                    <ol class="events">
                        {list.into_iter().map(|e| {
                            let hl = highlight.as_deref() == Some(e.id.as_str());
                            let ua = e.user_agent.clone().unwrap_or_default();
                            let (eid, etype, anchor) = (e.id.clone(), e.event_type.clone(), format!("event-{}", e.id));
                            view! {
                                <li class=if hl { "event highlight" } else { "event" } data-event-id=eid
                                    data-event-type=etype id=anchor>
                                    <span class="time">{e.time}</span>
                                    <code class="type">{e.event_type}</code>
                                    <span class=format!("badge src-{}", e.platform.as_str().to_lowercase())>{e.platform.label()}</span>
                                    {e.actor.map(|a| view! { <span class="actor">"by " {a}</span> })}
                                    {e.ip.map(|ip| view! { <span class="mono ip">{ip}</span> })}
                                    {(!ua.is_empty()).then(|| view! { <span class="ua" title=ua.clone()>{short_ua(&ua)}</span> })}
                                    {e.metadata.map(|m| view! { <div class="meta">{json_view(&m)}</div> })}
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                </section>
            }
        })
        .collect_view()
}

/// Metadata as readable JSON: text as text (escaped by the view, non-ASCII as itself),
/// nested objects and arrays collapsible.
fn json_view(v: &serde_json::Value) -> AnyView {
    use serde_json::Value;
    match v {
        Value::Object(m) if m.is_empty() => view! { <code>"{}"</code> }.into_any(),
        Value::Array(a) if a.is_empty() => view! { <code>"[]"</code> }.into_any(),
        Value::Object(m) => {
            let entries = m
                .iter()
                .map(|(k, v)| {
                    let nested = matches!(v, Value::Object(_) | Value::Array(_));
                    let inner = json_view(v);
                    if nested {
                        view! {
                            <div class="kv"><details open><summary><span class="k">{k.clone()}</span></summary>{inner}</details></div>
                        }
                        .into_any()
                    } else {
                        view! { <div class="kv"><span class="k">{k.clone()}</span>": "{inner}</div> }.into_any()
                    }
                })
                .collect_view();
            view! { <div class="json-object">{entries}</div> }.into_any()
        }
        Value::Array(a) => {
            let items = a
                .iter()
                .map(|v| view! { <li>{json_view(v)}</li> })
                .collect_view();
            view! { <ol class="json-array" start="0">{items}</ol> }.into_any()
        }
        // As JSON writes it, so a quote inside a value cannot pass for the value's end.
        Value::String(_) => view! { <code class="str">{v.to_string()}</code> }.into_any(),
        other => view! { <code>{other.to_string()}</code> }.into_any(),
    }
}

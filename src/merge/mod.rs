//! Possible duplicates and merging two users into one (issue 8): the candidates of one
//! user, the duplicate groups over the whole database, and the audited merge itself.
//! Nothing here merges on its own; a staff member always decides.

use crate::app::PageTitle;
use crate::error::AppError;
use crate::forms::Done;
use crate::model::{Platform, Region, Role};
use crate::users::urlencode;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod ssr;

/// Why two records are probably one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    Phone,
    Name,
    Telegram,
}

impl Reason {
    pub const ALL: &'static [Reason] = &[Reason::Phone, Reason::Name, Reason::Telegram];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Phone => "phone",
            Reason::Name => "name",
            Reason::Telegram => "telegram",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Reason::Phone => "same phone digits",
            Reason::Name => "same name and region",
            Reason::Telegram => "same Telegram username",
        }
    }

    pub fn parse(s: &str) -> Result<Reason, String> {
        Reason::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown reason {s:?}; expected phone, name or telegram"))
    }
}

/// A user as the duplicate lists show them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
    pub telegram_username: Option<String>,
    pub role: Role,
    pub source: Platform,
    pub region: Region,
    pub created: String,
    pub events: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub person: Person,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidates {
    pub user_id: String,
    pub candidates: Vec<Candidate>,
    /// The caller is ADMIN+ (each merge still checks the matrix for the pair).
    pub can_merge: bool,
}

/// The candidates of one user, for their page; erased users are never candidates.
#[server(prefix = "/fn", endpoint = "merge/candidates")]
pub async fn get_candidates(user_id: String) -> Result<Candidates, AppError> {
    let me = crate::auth::ssr::require_role(Role::Support)?;
    let state = crate::state::AppState::get()?;
    ssr::candidates(&state, &me, &user_id).await
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DuplicatesQuery {
    pub reason: Option<String>,
    pub after: Option<String>,
}

impl DuplicatesQuery {
    pub fn from_map(q: &leptos_router::params::ParamsMap) -> Self {
        let get = |k: &str| q.get(k).filter(|v| !v.trim().is_empty());
        DuplicatesQuery {
            reason: get("reason"),
            after: get("after"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// What the members share, as staff read it (digits, folded name, handle).
    pub key: String,
    pub region: Option<Region>,
    pub members: Vec<Person>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateGroups {
    pub reason: Reason,
    pub groups: Vec<Group>,
    /// The `after` cursor of the next page.
    pub next: Option<String>,
    pub can_merge: bool,
}

#[server(prefix = "/fn", endpoint = "merge/duplicates")]
pub async fn get_duplicates(
    #[server(default)] query: DuplicatesQuery,
) -> Result<DuplicateGroups, AppError> {
    let me = crate::auth::ssr::require_role(Role::Support)?;
    let state = crate::state::AppState::get()?;
    ssr::duplicates(&state, &me, &query).await
}

/// One side of a merge, every field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergeSide {
    pub id: String,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub telegram_id: Option<i64>,
    pub telegram_username: Option<String>,
    pub telegram_photo_url: Option<String>,
    pub has_password: bool,
    pub source: Platform,
    pub region: Region,
    pub language: String,
    pub created: String,
    pub updated: String,
    pub blocked: bool,
    pub sessions: i64,
    pub events: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergePreview {
    pub survivor: MergeSide,
    pub merged: MergeSide,
    /// Both have phones whose digits differ: the staff member must choose one.
    pub phone_conflict: bool,
    /// Both have different Telegram ids.
    pub telegram_conflict: bool,
    /// Fields the survivor lacks that the merged record fills.
    pub fills: Vec<String>,
}

#[server(prefix = "/fn", endpoint = "merge/preview")]
pub async fn get_merge_preview(
    user_id: String,
    #[server(default)] other: Option<String>,
    #[server(default)] keep: Option<String>,
) -> Result<MergePreview, AppError> {
    let me = crate::auth::ssr::require_role(Role::Admin)?;
    let state = crate::state::AppState::get()?;
    ssr::preview(&state, &me, &user_id, other.as_deref(), keep.as_deref()).await
}

/// Merges `merged_id` into `survivor_id` in one transaction; audited as ADMIN_MERGE.
/// `keep_phone` / `keep_telegram` ("survivor" or "merged") resolve the conflicts.
#[server(prefix = "/fn", endpoint = "merge/merge")]
pub async fn merge_users(
    survivor_id: String,
    merged_id: String,
    #[server(default)] keep_phone: Option<String>,
    #[server(default)] keep_telegram: Option<String>,
) -> Result<Done, AppError> {
    let me = crate::auth::ssr::require_role(Role::Admin)?;
    let state = crate::state::AppState::get()?;
    crate::forms::finish(
        ssr::merge(
            &state,
            &me,
            &survivor_id,
            &merged_id,
            keep_phone.as_deref(),
            keep_telegram.as_deref(),
        )
        .await,
    )
}

pub mod ids {
    pub const CANDIDATES: &str = "possible-duplicates";
    pub const GROUPS: &str = "duplicate-groups";
    pub const REASONS: &str = "duplicate-reasons";
    pub const NEXT: &str = "duplicates-next";
    pub const NAMESAKES: &str = "namesakes-note";
    pub const MERGE_FORM: &str = "merge-form";
    pub const SURVIVOR_FORM: &str = "survivor-form";
    pub const SIDES: &str = "merge-sides";
    pub const SUBMIT: &str = "merge-submit";
    pub const PHONE_CHOICE: &str = "keep-phone";
    pub const TELEGRAM_CHOICE: &str = "keep-telegram";
}

/// The most members a group may have and still be shown as one person.
pub const MAX_GROUP: usize = 10;

fn merge_href(this: &str, other: &str) -> String {
    format!(
        "/admin/users/{}/merge?other={}",
        urlencode(this),
        urlencode(other)
    )
}

fn user_href(id: &str) -> String {
    format!("/admin/users/{}", urlencode(id))
}

fn reasons_text(rs: &[Reason]) -> String {
    rs.iter().map(|r| r.label()).collect::<Vec<_>>().join(", ")
}

/// The possible duplicates of one user, for their page. The page creates `data` beside
/// its own resource, so the server loads both at once rather than one after the other.
#[component]
pub fn PossibleDuplicates(data: Resource<Result<Candidates, AppError>>) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    // The page itself already says what is wrong with the user id.
                    Err(_) => ().into_any(),
                    Ok(c) if c.candidates.is_empty() => view! {
                        <section id=ids::CANDIDATES data-count="0">
                            <h2>"Possible duplicates"</h2>
                            <p class="empty">"None found."</p>
                        </section>
                    }.into_any(),
                    Ok(c) => {
                        let n = c.candidates.len().to_string();
                        let this = c.user_id.clone();
                        view! {
                            <section id=ids::CANDIDATES data-count=n>
                                <h2>"Possible duplicates"</h2>
                                <p class="muted">"Probably the same person; never merged automatically."</p>
                                <div class="table-wrap">
                                <table class="data">
                                    <thead><tr>
                                        <th>"Why"</th><th>"Name"</th><th>"Phone"</th><th>"Telegram"</th>
                                        <th>"Source"</th><th>"Region"</th><th>"Created"</th><th>"Events"</th><th></th>
                                    </tr></thead>
                                    <tbody>
                                        {c.candidates.into_iter().map(|cand| {
                                            let p = cand.person;
                                            let merge = c.can_merge.then(|| view! {
                                                <a href=merge_href(&this, &p.id) class="button small" data-merge-with=p.id.clone()>"Merge…"</a>
                                            });
                                            let reasons = cand.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" ");
                                            view! {
                                                <tr data-user-id=p.id.clone() data-reasons=reasons>
                                                    <td>{reasons_text(&cand.reasons)}</td>
                                                    <td class="clip"><a href=user_href(&p.id) title=p.name.clone()>{p.name.clone()}</a></td>
                                                    <td class="mono nowrap">{p.phone.unwrap_or_default()}</td>
                                                    <td class="clip">{p.telegram_username.map(|t| format!("@{t}")).unwrap_or_default()}</td>
                                                    <td>{p.source.label()}</td>
                                                    <td>{p.region.as_str()}</td>
                                                    <td class="nowrap">{p.created}</td>
                                                    <td>{p.events}</td>
                                                    <td>{merge}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                </div>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn DuplicatesPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| DuplicatesQuery::from_map(&query.read()));
    let data = Resource::new_blocking(move || q.get(), get_duplicates);
    view! {
        <PageTitle text="Possible duplicates · Unified Portal"/>
        <h1>"Possible duplicates"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <crate::app::ErrorBox error=e/> }.into_any(),
                    Ok(d) => view! { <GroupsView d=d/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn GroupsView(d: DuplicateGroups) -> impl IntoView {
    let reason = d.reason;
    let next = d.next.clone().map(|c| {
        format!(
            "/admin/users/duplicates?reason={}&after={}",
            reason.as_str(),
            urlencode(&c)
        )
    });
    let can_merge = d.can_merge;
    view! {
        <nav class="filters" id=ids::REASONS>
            {Reason::ALL.iter().map(|r| {
                let href = format!("/admin/users/duplicates?reason={}", r.as_str());
                let current = *r == reason;
                view! {
                    <a href=href class=if current { "button primary" } else { "button" }
                        aria-current=current.then_some("page") data-reason=r.as_str()>{r.label()}</a>
                }
            }).collect_view()}
        </nav>
        <p class="notice" id=ids::NAMESAKES>
            {format!(
                "Groups of 2 to {MAX_GROUP} records. More records than that sharing one {} are namesakes or a shared number, not one person, and are not listed.",
                match reason { Reason::Phone => "phone", Reason::Name => "name in one region", Reason::Telegram => "username" }
            )}
        </p>
        {if d.groups.is_empty() {
            view! { <p class="empty" id="duplicates-empty">"No possible duplicates here."</p> }.into_any()
        } else {
            view! {
                <div id=ids::GROUPS>
                    {d.groups.into_iter().map(|g| view! { <GroupCard g=g can_merge=can_merge/> }).collect_view()}
                </div>
            }.into_any()
        }}
        <nav class="pager">
            {next.map(|h| view! { <a href=h id=ids::NEXT rel="next">"Next →"</a> })}
        </nav>
    }
}

#[component]
fn GroupCard(g: Group, can_merge: bool) -> impl IntoView {
    let title = match g.region {
        Some(r) => format!("{} · {}", g.key, r.as_str()),
        None => g.key.clone(),
    };
    let first = g.members.first().map(|m| m.id.clone()).unwrap_or_default();
    let members = g.members.clone();
    view! {
        <section class="card merge-group" data-key=g.key.clone()>
            <h3 class="wrap">{title}</h3>
            <div class="table-wrap">
            <table class="data">
                <thead><tr>
                    <th>"Name"</th><th>"Phone"</th><th>"Telegram"</th><th>"Role"</th><th>"Source"</th>
                    <th>"Region"</th><th>"Created"</th><th>"Events"</th><th></th>
                </tr></thead>
                <tbody>
                    {members.into_iter().enumerate().map(|(i, p)| {
                        // Each later member is offered for merging into the oldest record;
                        // the merge page lets staff pick the other one as survivor.
                        let merge = (can_merge && i > 0).then(|| view! {
                            <a href=merge_href(&first, &p.id) class="button small merge-pair"
                                data-survivor=first.clone() data-merged=p.id.clone()>"Merge…"</a>
                        });
                        view! {
                            <tr data-user-id=p.id.clone() data-events=p.events.to_string()>
                                <td class="clip"><a href=user_href(&p.id) title=p.name.clone()>{p.name.clone()}</a></td>
                                <td class="mono nowrap">{p.phone.unwrap_or_default()}</td>
                                <td class="clip">{p.telegram_username.map(|t| format!("@{t}")).unwrap_or_default()}</td>
                                <td>{(p.role != Role::User).then(|| view! { <span class="badge">{p.role.label()}</span> })}</td>
                                <td>{p.source.label()}</td>
                                <td>{p.region.as_str()}</td>
                                <td class="nowrap">{p.created}</td>
                                <td>{p.events}</td>
                                <td>{merge}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            </div>
        </section>
    }
}

fn dash(v: Option<String>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into())
}

#[component]
pub fn MergePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let other = Memo::new(move |_| query.read().get("other").filter(|v| !v.trim().is_empty()));
    let keep = Memo::new(move |_| query.read().get("keep").filter(|v| !v.trim().is_empty()));
    let action = ServerAction::<MergeUsers>::new();
    let data = Resource::new_blocking(
        move || (id.get(), other.get(), keep.get(), action.version().get()),
        |(id, other, keep, _)| get_merge_preview(id, other, keep),
    );
    view! {
        <PageTitle text="Merge users · Unified Portal"/>
        <h1>"Merge users"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (id, other) = (id.get_untracked(), other.get_untracked());
                match data.await {
                    Err(e) => view! { <crate::app::ErrorBox error=e/> }.into_any(),
                    Ok(p) => view! { <MergeView p=p page_id=id other=other.unwrap_or_default() action=action/> }.into_any(),
                }
            })}
        </Suspense>
        <crate::forms::ActionResult value=Signal::derive(move || action.value().get())/>
    }
}

#[component]
fn MergeView(
    p: MergePreview,
    page_id: String,
    other: String,
    action: ServerAction<MergeUsers>,
) -> impl IntoView {
    let (s, m) = (p.survivor.clone(), p.merged.clone());
    let base = format!("/admin/users/{}/merge", urlencode(&page_id));
    let row = |label: &'static str, a: String, b: String| {
        let differ = a != b;
        view! {
            <tr class=if differ { "differs" } else { "" }>
                <th scope="row">{label}</th><td class="wrap">{a}</td><td class="wrap">{b}</td>
            </tr>
        }
    };
    let tg = |t: Option<i64>| dash(t.map(|t| t.to_string()));
    let at = |u: Option<String>| dash(u.map(|u| format!("@{u}")));
    let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
    let choice = |name: &'static str,
                  id: &'static str,
                  legend: &'static str,
                  a: String,
                  b: String| {
        view! {
            <fieldset id=id>
                <legend>{legend}</legend>
                <label><input type="radio" name=name value="survivor" required/>" " <span class="mono">{a}</span>" (survivor's)"</label>
                <label><input type="radio" name=name value="merged" required/>" " <span class="mono">{b}</span>" (merged record's)"</label>
            </fieldset>
        }
    };
    let pick = |side: &MergeSide| {
        let checked = side.id == s.id;
        let label = format!(
            "{} ({}, created {})",
            side.name,
            side.source.label(),
            side.created
        );
        view! {
            <label>
                <input type="radio" name="keep" value=side.id.clone() checked=checked/>
                " " {label}
            </label>
        }
    };
    view! {
        <p><a href=user_href(&page_id)>"← Back to the user"</a></p>
        <p class="muted">
            "The survivor keeps its own values; the other record's sessions and events move to it, its phone, Telegram account, names and password fill what the survivor lacks, and then the other record is deleted. The higher role is kept, and a block on either record stays."
        </p>
        <form method="get" action=base id=ids::SURVIVOR_FORM class="card form">
            <input type="hidden" name="other" value=other/>
            <fieldset>
                <legend>"Which record survives?"</legend>
                {pick(&s)}
                {pick(&m)}
            </fieldset>
            <button type="submit">"Use this survivor"</button>
        </form>
        <div class="table-wrap">
        <table class="data merge-sides" id=ids::SIDES>
            <thead><tr><th></th>
                <th data-user-id=s.id.clone()>"Survivor"</th>
                <th data-user-id=m.id.clone()>"Merged away"</th>
            </tr></thead>
            <tbody>
                <tr><th scope="row">"User id"</th>
                    <td class="mono"><a href=user_href(&s.id)>{s.id.clone()}</a></td>
                    <td class="mono"><a href=user_href(&m.id)>{m.id.clone()}</a></td></tr>
                {row("First name", dash(s.first_name.clone()), dash(m.first_name.clone()))}
                {row("Last name", dash(s.last_name.clone()), dash(m.last_name.clone()))}
                {row("Phone", dash(s.phone.clone()), dash(m.phone.clone()))}
                {row("Telegram id", tg(s.telegram_id), tg(m.telegram_id))}
                {row("Telegram username", at(s.telegram_username.clone()), at(m.telegram_username.clone()))}
                {row("Telegram photo", yes(s.telegram_photo_url.is_some()), yes(m.telegram_photo_url.is_some()))}
                {row("Password", yes(s.has_password), yes(m.has_password))}
                {row("Role", s.role.label().to_string(), m.role.label().to_string())}
                {row("Registered via", s.source.label().to_string(), m.source.label().to_string())}
                {row("Region", s.region.as_str().to_string(), m.region.as_str().to_string())}
                {row("Language", s.language.clone(), m.language.clone())}
                {row("Blocked", yes(s.blocked), yes(m.blocked))}
                {row("Created", s.created.clone(), m.created.clone())}
                {row("Updated", s.updated.clone(), m.updated.clone())}
                <tr><th scope="row">"Open sessions"</th>
                    <td data-sessions=s.sessions.to_string()>{s.sessions}</td>
                    <td data-sessions=m.sessions.to_string()>{m.sessions}</td></tr>
                <tr><th scope="row">"Events"</th>
                    <td data-events=s.events.to_string() class="survivor-events">{s.events}</td>
                    <td data-events=m.events.to_string() class="merged-events">{m.events}</td></tr>
            </tbody>
        </table>
        </div>
        {(!p.fills.is_empty()).then(|| view! {
            <p class="muted">"Filled from the merged record: " {p.fills.join(", ")} "."</p>
        })}
        <ActionForm action=action attr:id=ids::MERGE_FORM attr:class="card form">
            <input type="hidden" name="survivor_id" value=s.id.clone()/>
            <input type="hidden" name="merged_id" value=m.id.clone()/>
            {p.phone_conflict.then(|| choice("keep_phone", ids::PHONE_CHOICE, "Both have a phone: which one stays?",
                s.phone.clone().unwrap_or_default(), m.phone.clone().unwrap_or_default()))}
            {p.telegram_conflict.then(|| choice("keep_telegram", ids::TELEGRAM_CHOICE,
                "Both have a Telegram account: which one stays? The other can sign in again only as a new user.",
                format!("{} {}", tg(s.telegram_id), at(s.telegram_username.clone())),
                format!("{} {}", tg(m.telegram_id), at(m.telegram_username.clone()))))}
            <button type="submit" class="danger" id=ids::SUBMIT>
                {format!("Merge “{}” into “{}”", m.name, s.name)}
            </button>
        </ActionForm>
    }
}

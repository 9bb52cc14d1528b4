//! Managing one user: edit, block and unblock, erase, link and unlink Telegram (issue 8).
//! Stub: being built.

use leptos::prelude::*;

#[component]
pub fn ManageUserPage() -> impl IntoView {
    view! { <h1>"Manage user"</h1> }
}

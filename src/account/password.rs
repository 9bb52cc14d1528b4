//! Changing one's own password (issue 8). Stub: being built.

use leptos::prelude::*;

#[component]
pub fn PasswordPage() -> impl IntoView {
    view! { <h1>"Change your password"</h1> }
}

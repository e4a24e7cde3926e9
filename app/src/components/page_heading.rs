//! A page's level-1 heading, which also names the page for the browser and
//! for screen readers.

use leptos::prelude::*;

/// Names the page in the browser's title ("Mes patients — Parcours"): what a
/// screen reader announces when a page opens and what the phone's app
/// switcher shows. Every page had "Parcours".
pub fn page_title(text: &str) {
    document().set_title(&format!("{text} — Parcours"));
}

/// The page's `<h1>`: sets the title, and takes the focus when the page
/// opens so a screen reader starts there — but only if nothing else has it,
/// so a heading drawn again after a sync never takes the focus from a field
/// being typed in.
#[component]
pub fn PageHeading(#[prop(into)] text: String) -> impl IntoView {
    page_title(&text);
    let heading = NodeRef::<leptos::html::H1>::new();
    heading.on_load(|h1| {
        let active = document().active_element();
        let body = document().body().map(web_sys::Element::from);
        if active.is_none() || active == body {
            let _ = h1.focus();
        }
    });
    view! { <h1 tabindex="-1" node_ref=heading>{text}</h1> }
}

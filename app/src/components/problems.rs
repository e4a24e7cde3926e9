//! The list of what stops a form from being saved, read out when it changes.

use leptos::prelude::*;
use parcours_domain::FieldError;

/// (The patient's forms draw their own list.)
#[cfg(not(feature = "patient"))]
#[component]
pub fn Problems(errors: RwSignal<Vec<FieldError>>) -> impl IntoView {
    move || {
        let list = errors.get();
        (!list.is_empty()).then(|| {
            view! {
                <div class="error-summary" role="alert">
                    <ul>{list.into_iter().map(|e| view! { <li>{e.message}</li> }).collect_view()}</ul>
                </div>
            }
        })
    }
}

/// Shows these problems, only if they are not the ones shown: a form sent
/// without any redraws nothing while its record is being kept (a save is a
/// few milliseconds; a redraw in the middle of one doubled it, measured).
pub fn show(errors: RwSignal<Vec<FieldError>>, problems: Vec<FieldError>) {
    if errors.with_untracked(|shown| *shown != problems) {
        errors.set(problems);
    }
}

//! The list of what stops a form from being saved, read out when it changes.

use leptos::prelude::*;
use parcours_domain::FieldError;

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

pub mod care_plan;
pub mod caseload;
pub mod evaluation;
pub mod inclusion;
pub mod pathway;
pub mod patient;
pub mod pps;
pub mod sign_in;
pub mod timeline;
pub mod today;
pub mod visit;

use crate::Auth;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// Sends the person to the sign-in page when nobody is signed in (or the
/// offline grace is over).
pub fn require_sign_in() {
    let auth = expect_context::<Auth>();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if auth.0.get().is_none() {
            navigate("/connexion", Default::default());
        }
    });
}

pub mod activation;
pub mod care_plan;
pub mod caseload;
pub mod diary;
pub mod evaluation;
pub mod inclusion;
pub mod invitation;
pub mod notebook;
pub mod pathway;
pub mod patient;
pub mod patient_share;
pub mod pps;
pub mod review_summary;
pub mod sign_in;
pub mod timeline;
pub mod today;
pub mod trajectory;
pub mod visit;

use crate::Auth;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// Where a patient's own app opens.
pub const PATIENT_HOME: &str = "/journal";

/// A professional's page: sends the person to the sign-in page when nobody
/// is signed in (or the offline grace is over), and a patient to their own
/// diary (their device holds none of these pages' data).
pub fn require_sign_in() {
    let auth = expect_context::<Auth>();
    let navigate = use_navigate();
    Effect::new(move |_| match auth.0.get() {
        None => navigate("/connexion", Default::default()),
        Some(me) if me.patient_id.is_some() => navigate(PATIENT_HOME, Default::default()),
        Some(_) => {}
    });
}

/// A patient's page: sign-in when nobody is signed in, and a professional
/// back to their caseload.
pub fn require_patient() {
    let auth = expect_context::<Auth>();
    let navigate = use_navigate();
    Effect::new(move |_| match auth.0.get() {
        None => navigate("/connexion", Default::default()),
        Some(me) if me.patient_id.is_none() => navigate("/", Default::default()),
        Some(_) => {}
    });
}

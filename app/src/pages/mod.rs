//! The screens. The patient's own app (feature `patient`) is built from
//! theirs only: sign-in, activation and the diary.

#[cfg(feature = "patient")]
pub mod activation;
#[cfg(not(feature = "patient"))]
pub mod audit;
#[cfg(not(feature = "patient"))]
pub mod care_plan;
#[cfg(not(feature = "patient"))]
pub mod caseload;
#[cfg(not(feature = "patient"))]
pub mod coordination;
#[cfg(feature = "patient")]
pub mod diary;
#[cfg(not(feature = "patient"))]
pub mod evaluation;
#[cfg(not(feature = "patient"))]
pub mod inclusion;
#[cfg(not(feature = "patient"))]
pub mod invitation;
#[cfg(not(feature = "patient"))]
pub mod item_history;
pub mod lock;
#[cfg(not(feature = "patient"))]
pub mod meeting;
#[cfg(not(feature = "patient"))]
pub mod notebook;
#[cfg(not(feature = "patient"))]
pub mod pathway;
#[cfg(not(feature = "patient"))]
pub mod patient;
#[cfg(not(feature = "patient"))]
pub mod patient_share;
#[cfg(not(feature = "patient"))]
pub mod pps;
#[cfg(not(feature = "patient"))]
pub mod review_summary;
pub mod sign_in;
#[cfg(not(feature = "patient"))]
pub mod timeline;
#[cfg(not(feature = "patient"))]
pub mod today;
#[cfg(not(feature = "patient"))]
pub mod trajectory;
#[cfg(not(feature = "patient"))]
pub mod visit;

use crate::Auth;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use parcours_domain::session::Me;

/// The programme of the patient's latest inclusion on this device: the one
/// whose instruments, restricted notes and rules apply to them. A patient
/// in none yet is taken for the pain pathway, the CPTS's first: the pain
/// nurse's evaluation and notes may come before the GP's inclusion.
#[cfg(not(feature = "patient"))]
pub async fn programme_of(
    store: &crate::device_store::DeviceStore,
    patient: parcours_domain::PatientId,
) -> Option<&'static parcours_domain::programme::Programme> {
    use parcours_domain::programme::Programme;
    let inclusions = store
        .records_of::<parcours_domain::enrollment::Enrollment>(patient)
        .await
        .ok()?;
    match inclusions.first() {
        Some(latest) => Programme::find(&latest.record.programme_id),
        None => Programme::find("chronic_pain"),
    }
}

/// Where a patient's own app opens.
pub const PATIENT_HOME: &str = "/journal";

/// Whether this build is the patient's own app.
pub const PATIENT_APP: bool = cfg!(feature = "patient");

/// Where the app of whoever is signed in opens.
pub fn home_of(me: &Me) -> &'static str {
    if me.patient_id.is_some() {
        PATIENT_HOME
    } else {
        "/"
    }
}

/// Opens the home of whoever is signed in: through the router when it is a
/// page of this build, else by loading the page again — the page's loader
/// (public/start.js) then starts the other build, the one for them.
pub fn open_home(me: &Me, navigate: &impl Fn(&str, leptos_router::NavigateOptions)) {
    let home = home_of(me);
    if me.patient_id.is_some() == PATIENT_APP {
        navigate(home, Default::default());
    } else {
        let _ = window().location().assign(home);
    }
}

/// A professional's page: sends the person to the sign-in page when nobody
/// is signed in (or the offline grace is over), and a patient to their own
/// diary (their device holds none of these pages' data).
#[cfg(not(feature = "patient"))]
pub fn require_sign_in() {
    let auth = expect_context::<Auth>();
    let navigate = use_navigate();
    Effect::new(move |_| match auth.0.get() {
        None => navigate("/connexion", Default::default()),
        Some(me) if me.patient_id.is_some() => open_home(&me, &navigate),
        Some(_) => {}
    });
}

/// A patient's page: sign-in when nobody is signed in, and a professional
/// back to their caseload.
#[cfg(feature = "patient")]
pub fn require_patient() {
    let auth = expect_context::<Auth>();
    let navigate = use_navigate();
    Effect::new(move |_| match auth.0.get() {
        None => navigate("/connexion", Default::default()),
        Some(me) if me.patient_id.is_none() => open_home(&me, &navigate),
        Some(_) => {}
    });
}

/// Sends a patient to their diary (replacing the address they came by).
#[cfg(feature = "patient")]
#[component]
pub fn ToPatientHome() -> impl IntoView {
    let navigate = use_navigate();
    Effect::new(move |_| {
        navigate(
            PATIENT_HOME,
            leptos_router::NavigateOptions {
                replace: true,
                ..Default::default()
            },
        )
    });
}

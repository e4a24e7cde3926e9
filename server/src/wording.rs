//! The wording of licensed instruments (DN4, QCD, HADS, PCS-CF): Parcours
//! ships their structure and scoring only. A deployment that holds the
//! licence puts one file per instrument and language in its wording folder
//! (`--wording-dir`, format in docs/instruments.md); the server checks each
//! against its instrument at start-up and hands them to signed-in
//! professionals, whose devices keep them for offline use. Without a file
//! the instrument shows as unavailable, never with made-up wording.

use crate::error::ApiResult;
use crate::session::Session;
use crate::state::AppState;
use anyhow::Context;
use axum::extract::State;
use axum::Json;
use parcours_domain::instrument::{Instrument, Wording};
use std::path::Path;
use std::sync::Arc;

/// Reads every `*.json` of the folder. A file that does not fit its
/// instrument stops the start-up with its name and why: an operator who set
/// the folder expects the instrument to be offered.
pub fn load(dir: &Path) -> anyhow::Result<Vec<Wording>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the wording folder {}", dir.display()))?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut wordings: Vec<Wording> = vec![];
    for path in files {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let wording: Wording = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a wording file", path.display()))?;
        let instrument = Instrument::find(&wording.instrument).with_context(|| {
            format!(
                "{}: no instrument named {}",
                path.display(),
                wording.instrument
            )
        })?;
        wording
            .check(instrument)
            .map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))?;
        if wordings
            .iter()
            .any(|w| (&w.instrument, &w.language) == (&wording.instrument, &wording.language))
        {
            anyhow::bail!(
                "{}: a second wording for {} ({})",
                path.display(),
                wording.instrument,
                wording.language
            );
        }
        wordings.push(wording);
    }
    Ok(wordings)
}

/// `GET /api/instruments/wordings`: for signed-in professionals only (the
/// licence covers the deployment's users, not the public).
pub async fn list(
    State(state): State<AppState>,
    session: Session,
) -> ApiResult<Json<Arc<Vec<Wording>>>> {
    // Licensed to the deployment's professionals; a patient's app needs none.
    session.professional()?;
    Ok(Json(state.wordings.clone()))
}

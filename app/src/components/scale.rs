//! A score tapped, not typed: one row of targets from the scale's minimum to
//! its maximum (eleven for a 0–10 scale), its two anchors beneath. A radio
//! group under its legend, so a screen reader says "7, 8 sur 11".

use leptos::prelude::*;

#[component]
pub fn ScaleRow(
    /// Unique on the page: names the radio group.
    name: String,
    legend: String,
    min: i64,
    max: i64,
    #[prop(default = 1)] step: i64,
    /// Words at the two ends ("Pas de douleur", "Douleur maximale imaginable").
    #[prop(default = vec![])]
    anchors: Vec<String>,
    value: RwSignal<Option<i64>>,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    let values: Vec<i64> = (min..=max).step_by(step.max(1) as usize).collect();
    let (low, high) = (anchors.first().cloned(), anchors.last().cloned());
    let described = format!("{name}-anchors");
    let anchors_id = described.clone();
    view! {
        <fieldset class="scale" disabled=disabled aria-describedby=described>
            <legend>{legend}</legend>
            <div class="targets">
                {values.into_iter().map(|v| {
                    let name = name.clone();
                    view! {
                        <label class="target">
                            <input type="radio" name=name value=v.to_string()
                                prop:checked=move || value.get() == Some(v)
                                on:change=move |_| value.set(Some(v))/>
                            <span>{v.to_string()}</span>
                        </label>
                    }
                }).collect_view()}
            </div>
            {(low.is_some() || high.is_some()).then(|| view! {
                <p class="anchors" id=anchors_id>
                    <span>{format!("{min} : {}", low.unwrap_or_default())}</span>
                    <span>{format!("{max} : {}", high.unwrap_or_default())}</span>
                </p>
            })}
        </fieldset>
    }
}

//! Where it hurts: the body seen from the front and from the back, each
//! region a tappable shape. Every region is a checkbox (role, name, state)
//! reachable with Tab and toggled with Space or Enter, so the map works by
//! keyboard and screen reader too; the regions chosen are listed in words
//! beneath. Only the drawing lives here: the codes and their French names
//! are the domain's (`body_map::REGIONS`).

use leptos::prelude::*;
use parcours_domain::body_map;

/// A region's place on its figure (viewBox 100 × 210), seen from the side
/// its code names: from the front the patient's right is on the left.
const SHAPES: &[(&str, [u16; 4])] = &[
    ("front.head", [38, 2, 24, 26]),
    ("front.neck", [43, 28, 14, 8]),
    ("front.shoulder_right", [20, 36, 18, 12]),
    ("front.shoulder_left", [62, 36, 18, 12]),
    ("front.chest", [38, 36, 24, 26]),
    ("front.abdomen", [38, 62, 24, 22]),
    ("front.arm_right", [15, 48, 14, 28]),
    ("front.arm_left", [71, 48, 14, 28]),
    ("front.forearm_right", [10, 76, 14, 26]),
    ("front.forearm_left", [76, 76, 14, 26]),
    ("front.hand_right", [6, 102, 15, 15]),
    ("front.hand_left", [79, 102, 15, 15]),
    ("front.pelvis", [34, 84, 32, 16]),
    ("front.thigh_right", [34, 100, 15, 40]),
    ("front.thigh_left", [51, 100, 15, 40]),
    ("front.knee_right", [34, 140, 15, 13]),
    ("front.knee_left", [51, 140, 15, 13]),
    ("front.leg_right", [35, 153, 13, 42]),
    ("front.leg_left", [52, 153, 13, 42]),
    ("front.foot_right", [31, 195, 17, 12]),
    ("front.foot_left", [52, 195, 17, 12]),
    ("back.head", [38, 2, 24, 26]),
    ("back.neck", [43, 28, 14, 8]),
    ("back.shoulder_left", [20, 36, 18, 12]),
    ("back.shoulder_right", [62, 36, 18, 12]),
    ("back.upper_back", [38, 36, 24, 26]),
    ("back.lower_back", [38, 62, 24, 22]),
    ("back.arm_left", [15, 48, 14, 28]),
    ("back.arm_right", [71, 48, 14, 28]),
    ("back.forearm_left", [10, 76, 14, 26]),
    ("back.forearm_right", [76, 76, 14, 26]),
    ("back.hand_left", [6, 102, 15, 15]),
    ("back.hand_right", [79, 102, 15, 15]),
    ("back.buttocks", [34, 84, 32, 18]),
    ("back.thigh_left", [34, 102, 15, 38]),
    ("back.thigh_right", [51, 102, 15, 38]),
    ("back.calf_left", [35, 140, 13, 52]),
    ("back.calf_right", [52, 140, 13, 52]),
    ("back.heel_left", [34, 192, 15, 14]),
    ("back.heel_right", [51, 192, 15, 14]),
];

fn toggle(regions: RwSignal<Vec<String>>, code: &str) {
    regions.update(|r| match r.iter().position(|c| c == code) {
        Some(i) => {
            r.remove(i);
        }
        None => r.push(code.to_string()),
    });
}

#[component]
fn Figure(
    side: &'static str,
    caption: &'static str,
    title: &'static str,
    regions: RwSignal<Vec<String>>,
) -> impl IntoView {
    let prefix = format!("{side}.");
    view! {
        <p class="figure-caption" aria-hidden="true">{caption}</p>
        <svg class="body-figure" viewBox="0 0 100 210" role="group" aria-label=title>
            {SHAPES.iter().filter(|(code, _)| code.starts_with(&prefix)).map(|&(code, [x, y, w, h])| {
                let label = body_map::label_fr(code).unwrap_or(code);
                let chosen = move || regions.with(|r| r.iter().any(|c| c == code));
                view! {
                    <rect x=x y=y width=w height=h rx="4"
                        class="region" class:chosen=chosen
                        role="checkbox" tabindex="0" aria-label=label
                        aria-checked=move || if chosen() { "true" } else { "false" }
                        on:click=move |_| toggle(regions, code)
                        on:keydown=move |ev| {
                            if ev.key() == " " || ev.key() == "Enter" {
                                ev.prevent_default();
                                toggle(regions, code);
                            }
                        }/>
                }
            }).collect_view()}
        </svg>
    }
}

#[component]
pub fn BodyMap(regions: RwSignal<Vec<String>>) -> impl IntoView {
    view! {
        <div class="body-map">
            <div class="figures">
                <Figure side="front" caption="Face" title="Schéma corporel, face" regions=regions/>
                <Figure side="back" caption="Dos" title="Schéma corporel, dos" regions=regions/>
            </div>
            <p class="hint">"Face : la droite du patient est à gauche du dessin. Dos : sa droite est à droite."</p>
            // The same regions as a list of large targets: the drawing's
            // smallest regions (neck, hands) are under 44 px on a phone.
            <details class="region-list">
                <summary>"Choisir dans une liste"</summary>
                {["front", "back"].into_iter().map(|side| view! {
                    <fieldset class="choices">
                        <legend>{if side == "front" { "Face" } else { "Dos" }}</legend>
                        {body_map::REGIONS.iter().filter(move |(code, _)| code.starts_with(side)).map(|&(code, label)| view! {
                            <label class="choice">
                                <input type="checkbox" prop:checked=move || regions.with(|r| r.iter().any(|c| c == code))
                                    on:change=move |_| toggle(regions, code)/>
                                {label}
                            </label>
                        }).collect_view()}
                    </fieldset>
                }).collect_view()}
            </details>
            <p role="status" class="chosen-regions">
                {move || regions.with(|r| if r.is_empty() {
                    "Aucune zone choisie.".to_string()
                } else {
                    format!("Zones douloureuses : {}", r.iter().filter_map(|c| body_map::label_fr(c)).collect::<Vec<_>>().join(", "))
                })}
            </p>
        </div>
    }
}

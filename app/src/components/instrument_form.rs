//! One instrument filled on screen, whatever it is: each item drawn from its
//! answer type (a row of targets for a scale, Oui/Non, a list of choices, a
//! text, the body map), the scores computed as the answers come, with their
//! cut-offs — screening aids, never a diagnosis. The engine is the domain's
//! (`Instrument::score`): this only draws it.

use crate::components::body_map::BodyMap;
use crate::components::scale::ScaleRow;
use leptos::prelude::*;
use parcours_domain::instrument::{
    Answer, AnswerType, ItemWording, Requirement, ResponseMode, Worded,
};
use std::collections::BTreeMap;

/// The answers of one instrument as the form holds them.
pub type Answers = BTreeMap<String, Answer>;

#[component]
pub fn InstrumentForm(
    worded: Worded,
    answers: RwSignal<Answers>,
    mode: RwSignal<ResponseMode>,
) -> impl IntoView {
    let instrument = worded.instrument;
    let needs_examination = instrument
        .items
        .iter()
        .any(|i| i.requires == Some(Requirement::Examination));
    let mut last_group: Option<String> = None;
    let items = instrument
        .items
        .iter()
        .zip(worded.items.iter().cloned())
        .map(|(item, wording)| {
            let heading = item.group.clone().filter(|g| last_group.as_ref() != Some(g));
            last_group.clone_from(&item.group);
            let heading = heading
                .and_then(|g| worded.groups.get(&g).cloned())
                .map(|text| view! { <h4 class="item-group">{text}</h4> });
            let examination = item.requires == Some(Requirement::Examination);
            let disabled = Signal::derive(move || examination && mode.get() != ResponseMode::Examination);
            let name = format!("{}-{}", instrument.id, item.id);
            view! {
                {heading}
                <Item name=name id=item.id.clone() answer=item.answer.clone() wording=wording answers=answers disabled=disabled/>
                {examination.then(|| view! {
                    <p class="hint" class:hidden=move || !disabled.get()>"Item d'examen clinique : choisissez « Entretien et examen clinique »."</p>
                })}
            }
        })
        .collect_view();
    let scores = move || {
        let computed = answers.with(|a| instrument.score(a));
        instrument
            .scores
            .iter()
            .zip(computed)
            .map(|(def, score)| {
                let text = match score.value {
                    Some(v) => format!(
                        "{} : {} / {}{}",
                        def.label,
                        v.french(),
                        def.max,
                        score.band.map(|b| format!(" — {b}")).unwrap_or_default()
                    ),
                    None => format!(
                        "{} : non calculé ({} réponse(s) sur {} nécessaires)",
                        def.label, score.answered, score.needed
                    ),
                };
                view! { <li>{text}</li> }
            })
            .collect_view()
    };
    let mode_name = format!("{}-mode", instrument.id);
    view! {
        <div class="instrument">
            {worded.instructions.clone().map(|i| view! { <p class="hint">{i}</p> })}
            <fieldset class="choices">
                <legend>"Recueil"</legend>
                {ResponseMode::ALL.into_iter()
                    .filter(|m| needs_examination || *m != ResponseMode::Examination)
                    .map(|m| view! {
                        <label class="choice">
                            <input type="radio" name=mode_name.clone() prop:checked=move || mode.get() == m
                                on:change=move |_| {
                                    mode.set(m);
                                    // Examination answers mean nothing without the examination.
                                    if m != ResponseMode::Examination {
                                        answers.update(|a| a.retain(|id, _| instrument.item(id)
                                            .is_none_or(|i| i.requires != Some(Requirement::Examination))));
                                    }
                                }/>
                            {m.label_fr()}
                        </label>
                    }).collect_view()}
            </fieldset>
            {items}
            <section class="scores" aria-label=format!("Scores {}", worded.title)>
                <ul>{scores}</ul>
                <p class="hint">"Aide au dépistage, pas un diagnostic."</p>
            </section>
            <p class="hint licence">{instrument.licence.holder.clone()}</p>
        </div>
    }
}

#[component]
fn Item(
    name: String,
    id: String,
    answer: AnswerType,
    wording: ItemWording,
    answers: RwSignal<Answers>,
    disabled: Signal<bool>,
) -> impl IntoView {
    let key = id.clone();
    let current = move || answers.with(|a| a.get(&key).cloned());
    let set = {
        let id = id.clone();
        move |value: Option<Answer>| {
            answers.update(|a| match value {
                Some(v) => {
                    a.insert(id.clone(), v);
                }
                None => {
                    a.remove(&id);
                }
            })
        }
    };
    match answer {
        AnswerType::Scale { min, max, step } => {
            let value = RwSignal::new(match current() {
                Some(Answer::Number(n)) => Some(n),
                _ => None,
            });
            let set = set.clone();
            Effect::new(move |_| {
                if let Some(n) = value.get() {
                    set(Some(Answer::Number(n)));
                }
            });
            view! {
                <ScaleRow name=name legend=wording.text min=min max=max step=step
                    anchors=wording.anchors value=value disabled=disabled/>
            }
            .into_any()
        }
        AnswerType::YesNo => {
            let options = [(true, "Oui"), (false, "Non")];
            view! {
                <fieldset class="choices yes-no" disabled=disabled>
                    <legend>{wording.text}</legend>
                    {options.into_iter().map(|(v, label)| {
                        let set = set.clone();
                        let current = current.clone();
                        view! {
                            <label class="choice">
                                <input type="radio" name=name.clone()
                                    prop:checked=move || current() == Some(Answer::YesNo(v))
                                    on:change=move |_| set(Some(Answer::YesNo(v)))/>
                                {label}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
            }
            .into_any()
        }
        AnswerType::Choice { .. } => view! {
            <fieldset class="choices options" disabled=disabled>
                <legend>{wording.text}</legend>
                {wording.options.into_iter().map(|o| {
                    let set = set.clone();
                    let current = current.clone();
                    let v = o.value;
                    view! {
                        <label class="choice">
                            <input type="radio" name=name.clone()
                                prop:checked=move || current() == Some(Answer::Number(v))
                                on:change=move |_| set(Some(Answer::Number(v)))/>
                            {o.label}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
        }
        .into_any(),
        AnswerType::Text { max_chars } => view! {
            <div class="field">
                <label for=name.clone()>{wording.text}</label>
                <textarea id=name rows="2" maxlength=max_chars.to_string() disabled=disabled
                    prop:value=move || match current() { Some(Answer::Text(t)) => t, _ => String::new() }
                    on:input=move |ev| {
                        let text = event_target_value(&ev);
                        set((!text.trim().is_empty()).then_some(Answer::Text(text)));
                    }></textarea>
            </div>
        }
        .into_any(),
        AnswerType::BodyMap => {
            let regions = RwSignal::new(match current() {
                Some(Answer::Regions(r)) => r,
                _ => vec![],
            });
            Effect::new(move |_| {
                let chosen = regions.get();
                set((!chosen.is_empty()).then_some(Answer::Regions(chosen)));
            });
            view! {
                <div class="field">
                    <p class="label">{wording.text}</p>
                    <BodyMap regions=regions/>
                </div>
            }
            .into_any()
        }
    }
}

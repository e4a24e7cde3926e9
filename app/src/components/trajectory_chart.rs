//! The pain trajectory drawn by the app (SVG, no chart library): the
//! diary's daily average (thin line) and its 7-day moving average (thick),
//! the professionals' assessments as diamonds, the baseline with its 30 %
//! and 50 % reduction lines, review points and plan changes marked on the
//! time axis; sleep and activity below on the same axis. Readable at
//! 360 px; a weekly table and a sentence say the same for those who do not
//! see it.

use leptos::prelude::*;
use parcours_domain::date::CalendarDate;
use parcours_domain::trajectory::{Point, Trajectory};

/// Drawing area, in SVG units (the SVG scales to the screen's width).
const WIDTH: f64 = 340.0;
const LEFT: f64 = 22.0;
const RIGHT: f64 = 6.0;
const PAIN_TOP: f64 = 8.0;
const PAIN_HEIGHT: f64 = 150.0;
const AXIS: f64 = 16.0;
const LOWER_HEIGHT: f64 = 50.0;

/// Something marked on the time axis: a review point, a plan change.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub on: CalendarDate,
    /// One letter on the chart ("P" review point, "A" plan action).
    pub letter: &'static str,
    /// Said in full in the legend and the table.
    pub label: String,
}

struct Scale {
    start: i64,
    days: f64,
}

impl Scale {
    fn x(&self, day: CalendarDate) -> f64 {
        let d = (day.days_since_epoch() - self.start) as f64;
        LEFT + d / self.days * (WIDTH - LEFT - RIGHT)
    }
    fn y(value: f64) -> f64 {
        PAIN_TOP + (10.0 - value.clamp(0.0, 10.0)) / 10.0 * PAIN_HEIGHT
    }
}

/// A line through the points, broken where days are missing (a gap is not
/// a trend).
fn path(points: &[Point], scale: &Scale, y: impl Fn(f64) -> f64) -> String {
    let mut d = String::with_capacity(points.len() * 14);
    let mut previous: Option<i64> = None;
    for p in points {
        let day = p.on.days_since_epoch();
        let command = if previous == Some(day - 1) { 'L' } else { 'M' };
        d.push_str(&format!("{command}{} {}", n(scale.x(p.on)), n(y(p.value))));
        previous = Some(day);
    }
    d
}

const MONTHS: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];

/// First days of months to label: every month, or every third one over a
/// longer span so labels never overlap at 360 px.
fn month_ticks(start: CalendarDate, end: CalendarDate) -> Vec<CalendarDate> {
    let months = (end.year() - start.year()) * 12 + end.month() as i32 - start.month() as i32;
    let every = if months > 8 { 3 } else { 1 };
    let mut ticks = vec![];
    let mut m = CalendarDate::new(start.year(), start.month(), 1).and_then(|d| d.add_months(1));
    while let Some(day) = m {
        if day > end {
            break;
        }
        if (day.month() as i32 - 1) % every == 0 {
            ticks.push(day);
        }
        m = day.add_months(1);
    }
    ticks
}

/// A score to one decimal, written the French way ("4,3").
pub fn number(v: f64) -> String {
    n(v).to_string().replace('.', ",")
}

/// The chart, its legend, its summary and its table.
#[component]
pub fn TrajectoryChart(
    trajectory: Trajectory,
    #[prop(default = vec![])] marks: Vec<Mark>,
    /// The patient's own view: no thresholds, no assessments, the last weeks.
    #[prop(default = false)]
    simple: bool,
    /// Id prefix, unique on the page.
    #[prop(into)]
    id: String,
) -> impl IntoView {
    let Some((mut start, end)) = trajectory.span() else {
        return view! { <p>"Pas encore de données de douleur à afficher."</p> }.into_any();
    };
    if simple {
        // Eight weeks are what a patient looks back on.
        if let Some(s) = end.add_days(-55) {
            start = start.max(s);
        }
    }
    let scale = Scale {
        start: start.days_since_epoch(),
        days: ((end.days_since_epoch() - start.days_since_epoch()).max(6)) as f64,
    };
    let shown = |p: &Point| p.on >= start;
    let daily: Vec<Point> = trajectory
        .days
        .iter()
        .map(|d| Point {
            on: d.on,
            value: d.average,
        })
        .filter(shown)
        .collect();
    let moving: Vec<Point> = trajectory
        .moving_average
        .iter()
        .copied()
        .filter(shown)
        .collect();
    let daily_path = path(&daily, &scale, Scale::y);
    let moving_path = path(&moving, &scale, Scale::y);
    let lower_top = PAIN_TOP + PAIN_HEIGHT + AXIS + 6.0;
    let height = lower_top + LOWER_HEIGHT + 4.0;
    let sleep: Vec<Point> = trajectory
        .days
        .iter()
        .filter_map(|d| {
            Some(Point {
                on: d.on,
                value: f64::from(d.sleep?),
            })
        })
        .filter(shown)
        .collect();
    let sleep_path = path(&sleep, &scale, |v| {
        lower_top + (10.0 - v) / 10.0 * LOWER_HEIGHT
    });
    let most_minutes = trajectory
        .days
        .iter()
        .map(|d| d.activity_minutes)
        .max()
        .unwrap_or(0)
        .max(30) as f64;
    let bar_width = ((WIDTH - LEFT - RIGHT) / scale.days * 0.7).clamp(0.6, 6.0);
    let activity: Vec<(f64, f64)> = trajectory
        .days
        .iter()
        .filter(|d| d.on >= start && d.activity_minutes > 0)
        .map(|d| {
            let h = f64::from(d.activity_minutes) / most_minutes * LOWER_HEIGHT;
            (scale.x(d.on), h)
        })
        .collect();
    let baseline = (!simple).then_some(trajectory.baseline).flatten();
    let change = trajectory.change();
    let summary = match (simple, change) {
        (false, Some(c)) => c.summary_fr(),
        (false, None) => "Pas encore de quoi comparer au départ.".to_string(),
        (true, _) => {
            let last = moving.last().map(|p| p.value);
            match last {
                Some(v) => format!("Votre douleur moyenne sur les 7 derniers jours : {} sur 10.", number(v)),
                None => "Remplissez votre journal quelques jours de suite pour voir votre moyenne de la semaine.".to_string(),
            }
        }
    };
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    let ticks = month_ticks(start, end);
    let assessments: Vec<Point> = if simple {
        vec![]
    } else {
        trajectory
            .assessments
            .iter()
            .copied()
            .filter(shown)
            .collect()
    };
    let marks: Vec<Mark> = marks
        .into_iter()
        .filter(|m| m.on >= start && m.on <= end)
        .collect();
    let weeks = weekly_rows(&trajectory, &marks, start);
    let markup = draw(&Drawing {
        scale: &scale,
        title_id: &title_id,
        desc_id: &desc_id,
        summary: &summary,
        baseline: baseline.map(|b| b.point.value),
        marks: &marks,
        daily_path: &daily_path,
        moving_path: &moving_path,
        assessments: &assessments,
        ticks: &ticks,
        lower_top,
        activity: &activity,
        bar_width,
        sleep_path: &sleep_path,
    });

    view! {
        <figure class="trajectory">
            <svg viewBox=format!("0 0 {} {}", n(WIDTH), n(height)) role="img"
                aria-labelledby=title_id aria-describedby=desc_id inner_html=markup></svg>
            <figcaption>
                <p class="summary">{summary}</p>
                <ul class="legend">
                    <li><span class="key daily"></span>"douleur moyenne du jour (journal)"</li>
                    <li><span class="key moving"></span>"moyenne sur 7 jours"</li>
                    {(!simple).then(|| view! {
                        <li><span class="key assessment"></span>"évaluation d'un professionnel"</li>
                        <li><span class="key baseline"></span>"départ, et baisses de 30 % et 50 %"</li>
                    })}
                    {marks.iter().map(|m| view! {
                        <li>{format!("{} : {} ({})", m.letter, m.label, m.on.french())}</li>
                    }).collect_view()}
                </ul>
            </figcaption>
            <details>
                <summary>"Voir les valeurs, semaine par semaine"</summary>
                <table>
                    <caption>"Douleur, sommeil et activité par semaine"</caption>
                    <thead><tr>
                        <th scope="col">"Semaine du"</th>
                        <th scope="col">"Douleur moyenne"</th>
                        <th scope="col">"Jours remplis"</th>
                        {(!simple).then(|| view! { <th scope="col">"Évaluations"</th> })}
                        <th scope="col">"Sommeil"</th>
                        <th scope="col">"Activité"</th>
                    </tr></thead>
                    <tbody>
                        {weeks.into_iter().map(|w| view! {
                            <tr>
                                <th scope="row">{w.from.french()}{(!w.marks.is_empty()).then(|| format!(" ({})", w.marks))}</th>
                                <td>{w.pain.map(number).unwrap_or_else(|| "—".into())}</td>
                                <td>{w.days}</td>
                                {(!simple).then(|| view! { <td>{w.assessments}</td> })}
                                <td>{w.sleep.map(number).unwrap_or_else(|| "—".into())}</td>
                                <td>{format!("{} min", w.minutes)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        </figure>
    }
    .into_any()
}

/// What the SVG holds, computed.
struct Drawing<'a> {
    scale: &'a Scale,
    title_id: &'a str,
    desc_id: &'a str,
    summary: &'a str,
    baseline: Option<f64>,
    marks: &'a [Mark],
    daily_path: &'a str,
    moving_path: &'a str,
    assessments: &'a [Point],
    ticks: &'a [CalendarDate],
    lower_top: f64,
    activity: &'a [(f64, f64)],
    bar_width: f64,
    sleep_path: &'a str,
}

/// Text for SVG markup: the few characters that would be read as markup.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The chart's SVG content as markup, in one string: hundreds of points and
/// a few dozen shapes drawn once, with no reactive part, cost far less code
/// in the phone's download as text than as one view per kind of shape.
fn draw(d: &Drawing) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(d.daily_path.len() * 2 + 4096);
    let (left, x_end) = (n(LEFT), n(WIDTH - RIGHT));
    let _ = write!(
        out,
        r#"<title id="{}">Évolution de la douleur (0 à 10)</title><desc id="{}">{}</desc>"#,
        escape(d.title_id),
        escape(d.desc_id),
        escape(d.summary)
    );
    for v in [0, 5, 10] {
        let y = Scale::y(f64::from(v));
        let _ = write!(
            out,
            r#"<line class="grid" x1="{left}" x2="{x_end}" y1="{y}" y2="{y}"/><text class="tick" x="{}" y="{}" text-anchor="end">{v}</text>"#,
            n(LEFT - 4.0),
            n(y + 3.0),
            y = n(y),
        );
    }
    if let Some(b) = d.baseline {
        for (value, class, label) in [
            (b, "baseline", "départ"),
            (b * 0.7, "threshold", "−30 %"),
            (b * 0.5, "threshold", "−50 %"),
        ] {
            let y = Scale::y(value);
            let _ = write!(
                out,
                r#"<line class="{class}" x1="{left}" x2="{x_end}" y1="{y}" y2="{y}"/><text class="tick" x="{x_end}" y="{}" text-anchor="end">{label}</text>"#,
                n(y - 2.0),
                y = n(y),
            );
        }
    }
    for m in d.marks {
        let x = n(d.scale.x(m.on));
        let _ = write!(
            out,
            r#"<line class="mark" x1="{x}" x2="{x}" y1="{}" y2="{}"/><text class="mark-letter" x="{x}" y="{}" text-anchor="middle">{}</text>"#,
            n(PAIN_TOP),
            n(PAIN_TOP + PAIN_HEIGHT),
            n(PAIN_TOP + 8.0),
            escape(m.letter)
        );
    }
    let _ = write!(
        out,
        r#"<path class="daily" d="{}"/><path class="moving" d="{}"/>"#,
        d.daily_path, d.moving_path
    );
    for p in d.assessments {
        let _ = write!(
            out,
            r#"<path class="assessment" d="M{} {}l4 4l-4 4l-4-4z"/>"#,
            n(d.scale.x(p.on)),
            n(Scale::y(p.value) - 4.0)
        );
    }
    for t in d.ticks {
        let label = if t.month() == 1 {
            t.year().to_string()
        } else {
            MONTHS[t.month() as usize - 1].to_string()
        };
        let _ = write!(
            out,
            r#"<text class="tick" x="{}" y="{}" text-anchor="middle">{label}</text>"#,
            n(d.scale.x(*t)),
            n(PAIN_TOP + PAIN_HEIGHT + 12.0)
        );
    }
    let _ = write!(
        out,
        r#"<text class="tick" x="{left}" y="{}">sommeil (ligne) · activité (barres)</text>"#,
        n(d.lower_top - 1.0)
    );
    for (x, h) in d.activity {
        let _ = write!(
            out,
            r#"<rect class="activity" x="{}" y="{}" width="{}" height="{}"/>"#,
            n(x - d.bar_width / 2.0),
            n(d.lower_top + LOWER_HEIGHT - h),
            n(d.bar_width),
            n(*h)
        );
    }
    let _ = write!(out, r#"<path class="sleep" d="{}"/>"#, d.sleep_path);
    out
}

/// A coordinate or a score to one decimal, written with integer arithmetic:
/// Rust's float formatting would add ~20 KB to the phone's download for
/// what needs no more than tenths.
struct Tenths(i64);

fn n(v: f64) -> Tenths {
    Tenths((v * 10.0).round() as i64)
}

impl std::fmt::Display for Tenths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let t = self.0.abs();
        write!(f, "{sign}{}.{}", t / 10, t % 10)
    }
}

struct Week {
    from: CalendarDate,
    pain: Option<f64>,
    days: usize,
    assessments: String,
    sleep: Option<f64>,
    minutes: u32,
    marks: String,
}

/// Weeks (Monday first) from `start`, newest first: the table a screen
/// reader or a printed page reads instead of the chart.
fn weekly_rows(t: &Trajectory, marks: &[Mark], start: CalendarDate) -> Vec<Week> {
    let Some((_, end)) = t.span() else {
        return vec![];
    };
    // 1970-01-01 was a Thursday: Monday is day 4 of the epoch week.
    let monday = |d: CalendarDate| {
        let n = d.days_since_epoch();
        n - (n - 4).rem_euclid(7)
    };
    let mut rows = vec![];
    let mut week = monday(start);
    while week <= end.days_since_epoch() {
        let in_week = |d: CalendarDate| (week..week + 7).contains(&d.days_since_epoch());
        let days: Vec<_> = t.days.iter().filter(|d| in_week(d.on)).collect();
        let mean = |values: Vec<f64>| {
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        };
        let assessed: Vec<String> = t
            .assessments
            .iter()
            .filter(|p| in_week(p.on))
            .map(|p| number(p.value))
            .collect();
        if let Some(from) = CalendarDate::from_days_since_epoch(week) {
            rows.push(Week {
                from,
                pain: mean(days.iter().map(|d| d.average).collect()),
                days: days.len(),
                assessments: if assessed.is_empty() {
                    "—".into()
                } else {
                    assessed.join(", ")
                },
                sleep: mean(days.iter().filter_map(|d| d.sleep.map(f64::from)).collect()),
                minutes: days.iter().map(|d| d.activity_minutes).sum(),
                marks: marks
                    .iter()
                    .filter(|m| in_week(m.on))
                    .map(|m| m.label.clone())
                    .collect::<Vec<_>>()
                    .join(" ; "),
            });
        }
        week += 7;
    }
    rows.reverse();
    rows
}

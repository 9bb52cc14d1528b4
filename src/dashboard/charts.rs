//! Charts as pictures: SVG drawn on the server (and by the same code when the client
//! re-renders), with a title, axes, labels and a legend, and under each one a table of its
//! numbers for screen readers and for anyone who wants the figures. No script is needed to
//! see them. Colours come from classes in style/main.css (the CSP forbids inline styles).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Stable key (a platform's name, ALL, …): the CSS class and the table's cell names.
    pub key: String,
    pub label: String,
    /// One value per x category, in order.
    pub values: Vec<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    StackedBars,
    GroupedBars,
    Lines,
    HorizontalBars,
}

const W: f64 = 720.0;
const H: f64 = 300.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 64.0;
const BOTTOM: f64 = 48.0;

/// A round axis maximum at or above `max` and its tick step (four to five ticks).
pub fn nice_scale(max: i64) -> (i64, i64) {
    if max <= 0 {
        return (4, 1);
    }
    let raw = (max as f64 / 4.0).max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let step = (step.round() as i64).max(1);
    let top = (max + step - 1) / step * step;
    (top, step)
}

fn f(v: f64) -> String {
    format!("{v:.1}")
}

/// The series' colour as a presentation attribute, so a chart keeps its colours even
/// without the stylesheet (style/main.css sets the same ones).
fn color(key: &str) -> &'static str {
    match key {
        "WEB" => "#2456d6",
        "TELEGRAM" => "#229ed9",
        "MOBILE_APP" => "#7a4cc2",
        "ALL" => "#e08a1e",
        _ => "#2f9e6e",
    }
}

fn series_class(key: &str) -> String {
    format!("series s-{}", key.to_lowercase())
}

/// Day labels lose their year; other labels are cut to fit.
fn short_label(x: &str, max_chars: usize) -> String {
    let is_day = x.len() == 10 && x.as_bytes()[4] == b'-' && x.as_bytes()[7] == b'-';
    if is_day {
        return x[5..].to_string();
    }
    if x.chars().count() > max_chars {
        let mut s: String = x.chars().take(max_chars.saturating_sub(1)).collect();
        s.push('…');
        s
    } else {
        x.to_string()
    }
}

fn legend(series: &[Series]) -> AnyView {
    let mut at = LEFT;
    series
        .iter()
        .map(|s| {
            let x = at;
            at += 30.0 + s.label.chars().count() as f64 * 7.5;
            view! {
                <g class=format!("legend-item s-{}", s.key.to_lowercase())>
                    <rect x=f(x) y="38" width="12" height="12" rx="2" fill=color(&s.key)></rect>
                    <text x=f(x + 17.0) y="48">{s.label.clone()}</text>
                </g>
            }
        })
        .collect_view()
        .into_any()
}

fn y_axis(top: i64, step: i64, y_of: impl Fn(f64) -> f64) -> AnyView {
    let ticks: Vec<i64> = (0..=top / step).map(|k| k * step).collect();
    view! {
        <g class="axis y-axis">
            {ticks.into_iter().map(|t| {
                let y = y_of(t as f64);
                view! {
                    <line class="grid" x1=f(LEFT) x2=f(W - RIGHT) y1=f(y) y2=f(y) stroke="#dde2e8"></line>
                    <text class="tick" x=f(LEFT - 6.0) y=f(y + 4.0) text-anchor="end">{t}</text>
                }
            }).collect_view()}
            <line class="axis-line" stroke="#5f6b7a" x1=f(LEFT) x2=f(LEFT) y1=f(TOP) y2=f(H - BOTTOM)></line>
            <text class="axis-title" x="14" y=f((TOP + H - BOTTOM) / 2.0) text-anchor="middle"
                transform=format!("rotate(-90 14 {})", f((TOP + H - BOTTOM) / 2.0))>"Count"</text>
        </g>
    }
    .into_any()
}

fn x_axis(x: &[String], x_label: &str) -> AnyView {
    let n = x.len().max(1);
    let band = (W - LEFT - RIGHT) / n as f64;
    let every = n.div_ceil(10);
    let labels: Vec<(f64, String)> = x
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, l)| (LEFT + (i as f64 + 0.5) * band, short_label(l, 12)))
        .collect();
    view! {
        <g class="axis x-axis">
            <line class="axis-line" stroke="#5f6b7a" x1=f(LEFT) x2=f(W - RIGHT) y1=f(H - BOTTOM) y2=f(H - BOTTOM)></line>
            {labels.into_iter().map(|(cx, l)| view! {
                <text class="tick" x=f(cx) y=f(H - BOTTOM + 16.0) text-anchor="middle">{l}</text>
            }).collect_view()}
            <text class="axis-title" x=f((LEFT + W - RIGHT) / 2.0) y=f(H - 8.0) text-anchor="middle">{x_label.to_string()}</text>
        </g>
    }
    .into_any()
}

fn vertical(
    kind: ChartKind,
    title: &str,
    x: &[String],
    x_label: &str,
    series: &[Series],
) -> AnyView {
    let n = x.len().max(1);
    let m = series.len().max(1);
    let max = match kind {
        ChartKind::StackedBars => (0..x.len())
            .map(|i| {
                series
                    .iter()
                    .map(|s| s.values.get(i).copied().unwrap_or(0).max(0))
                    .sum()
            })
            .max()
            .unwrap_or(0),
        _ => series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .max()
            .unwrap_or(0),
    };
    let (top, step) = nice_scale(max);
    let ph = H - TOP - BOTTOM;
    let y_of = move |v: f64| H - BOTTOM - v / top as f64 * ph;
    let band = (W - LEFT - RIGHT) / n as f64;
    let mut base = vec![0i64; x.len()];
    let groups: Vec<AnyView> = series
        .iter()
        .enumerate()
        .map(|(j, s)| {
            let class = series_class(&s.key);
            let label = s.label.clone();
            match kind {
                ChartKind::Lines => {
                    let points: Vec<(f64, f64, i64)> = s
                        .values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (LEFT + (i as f64 + 0.5) * band, y_of(*v as f64), *v))
                        .collect();
                    let path = points
                        .iter()
                        .map(|(px, py, _)| format!("{},{}", f(*px), f(*py)))
                        .collect::<Vec<_>>()
                        .join(" ");
                    let dots = (n <= 31).then(|| {
                        points
                            .into_iter()
                            .map(
                                |(px, py, _)| view! { <circle cx=f(px) cy=f(py) r="2.5"></circle> },
                            )
                            .collect_view()
                    });
                    view! {
                        <g class=class data-series=s.key.clone() aria-label=label
                            fill=color(&s.key) stroke=color(&s.key)>
                            <polyline points=path fill="none" stroke-width="2"></polyline>
                            {dots}
                        </g>
                    }
                    .into_any()
                }
                ChartKind::StackedBars => {
                    let bw = band * 0.72;
                    let rects: Vec<(f64, f64, f64)> = s
                        .values
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| **v > 0)
                        .map(|(i, v)| {
                            let y0 = base.get(i).copied().unwrap_or(0);
                            if let Some(b) = base.get_mut(i) {
                                *b += *v;
                            }
                            let y_top = y_of((y0 + v) as f64);
                            let h = y_of(y0 as f64) - y_top;
                            (LEFT + i as f64 * band + (band - bw) / 2.0, y_top, h)
                        })
                        .collect();
                    view! {
                        <g class=class data-series=s.key.clone() aria-label=label fill=color(&s.key)>
                            {rects.into_iter().map(|(rx, ry, rh)| view! {
                                <rect x=f(rx) y=f(ry) width=f(bw) height=f(rh)></rect>
                            }).collect_view()}
                        </g>
                    }
                    .into_any()
                }
                _ => {
                    let inner = band * 0.8;
                    let bw = inner / m as f64;
                    let rects: Vec<(f64, f64, f64)> = s
                        .values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            let y_top = y_of((*v).max(0) as f64);
                            (
                                LEFT + i as f64 * band + (band - inner) / 2.0 + j as f64 * bw,
                                y_top,
                                H - BOTTOM - y_top,
                            )
                        })
                        .collect();
                    view! {
                        <g class=class data-series=s.key.clone() aria-label=label fill=color(&s.key)>
                            {rects.into_iter().map(|(rx, ry, rh)| view! {
                                <rect x=f(rx) y=f(ry) width=f(bw * 0.92) height=f(rh)></rect>
                            }).collect_view()}
                        </g>
                    }
                    .into_any()
                }
            }
        })
        .collect();
    view! {
        <svg class="chart-svg" viewBox=format!("0 0 {W} {H}") role="img" aria-label=title.to_string()
            xmlns="http://www.w3.org/2000/svg">
            <text class="chart-title" x=f(LEFT) y="20">{title.to_string()}</text>
            {legend(series)}
            {y_axis(top, step, y_of)}
            {x_axis(x, x_label)}
            <g class="plot">{groups}</g>
        </svg>
    }
    .into_any()
}

fn horizontal(title: &str, x: &[String], x_label: &str, series: &[Series]) -> AnyView {
    let rows = x.len();
    let row_h = 24.0;
    let label_w = 190.0;
    let right = 60.0;
    let h = TOP + (rows.max(1) as f64) * row_h + BOTTOM;
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0);
    let (top, step) = nice_scale(max);
    let pw = W - label_w - right;
    let x_of = move |v: f64| label_w + v / top as f64 * pw;
    let ticks: Vec<i64> = (0..=top / step).map(|k| k * step).collect();
    let labels: Vec<(f64, String, String)> = x
        .iter()
        .enumerate()
        .map(|(i, l)| (TOP + i as f64 * row_h, short_label(l, 24), l.clone()))
        .collect();
    let groups = series
        .iter()
        .map(|s| {
            let bars: Vec<(f64, f64, i64)> = s
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| (TOP + i as f64 * row_h + 4.0, x_of((*v).max(0) as f64) - label_w, *v))
                .collect();
            view! {
                <g class=series_class(&s.key) data-series=s.key.clone() aria-label=s.label.clone() fill=color(&s.key)>
                    {bars.into_iter().map(|(y, w, v)| view! {
                        <rect x=f(label_w) y=f(y) width=f(w) height=f(row_h - 8.0)></rect>
                        <text class="bar-value" x=f(label_w + w + 4.0) y=f(y + row_h - 12.0)>{v}</text>
                    }).collect_view()}
                </g>
            }
        })
        .collect_view();
    let empty = (rows == 0).then(|| {
        view! { <text class="tick" x=f(label_w + 8.0) y=f(TOP + 16.0)>"No events in this period"</text> }
    });
    view! {
        <svg class="chart-svg" viewBox=format!("0 0 {W} {h}") role="img" aria-label=title.to_string()
            xmlns="http://www.w3.org/2000/svg">
            <text class="chart-title" x="8" y="20">{title.to_string()}</text>
            {legend(series)}
            <g class="axis x-axis">
                {ticks.into_iter().map(|t| {
                    let xx = x_of(t as f64);
                    view! {
                        <line class="grid" x1=f(xx) x2=f(xx) y1=f(TOP) y2=f(h - BOTTOM) stroke="#dde2e8"></line>
                        <text class="tick" x=f(xx) y=f(h - BOTTOM + 16.0) text-anchor="middle">{t}</text>
                    }
                }).collect_view()}
                <line class="axis-line" stroke="#5f6b7a" x1=f(label_w) x2=f(W - right) y1=f(h - BOTTOM) y2=f(h - BOTTOM)></line>
                <text class="axis-title" x=f(label_w + pw / 2.0) y=f(h - 8.0) text-anchor="middle">"Events"</text>
            </g>
            <g class="axis y-axis">
                <line class="axis-line" stroke="#5f6b7a" x1=f(label_w) x2=f(label_w) y1=f(TOP) y2=f(h - BOTTOM)></line>
                {labels.into_iter().map(|(y, short, full)| view! {
                    <text class="tick" x=f(label_w - 6.0) y=f(y + row_h - 8.0) text-anchor="end" data-label=full>{short}</text>
                }).collect_view()}
                <text class="axis-title" x="8" y=f(TOP - 6.0)>{x_label.to_string()}</text>
            </g>
            <g class="plot">{groups}{empty}</g>
        </svg>
    }
    .into_any()
}

fn data_table(id: &str, x: &[String], x_label: &str, series: &[Series]) -> AnyView {
    view! {
        <div class="table-wrap">
        <table class="data chart-table" id=format!("{id}-table")>
            <thead><tr>
                <th scope="col">{x_label.to_string()}</th>
                {series.iter().map(|s| view! { <th scope="col" class="num">{s.label.clone()}</th> }).collect_view()}
            </tr></thead>
            <tbody>
                {x.iter().enumerate().map(|(i, xv)| view! {
                    <tr>
                        <th scope="row">{xv.clone()}</th>
                        {series.iter().map(|s| {
                            let v = s.values.get(i).copied().unwrap_or(0);
                            view! { <td class="num" data-cell=format!("{id}|{}|{xv}", s.key)>{v}</td> }
                        }).collect_view()}
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn Chart(
    id: &'static str,
    kind: ChartKind,
    title: String,
    note: String,
    x: Vec<String>,
    x_label: String,
    series: Vec<Series>,
) -> impl IntoView {
    let svg = match kind {
        ChartKind::HorizontalBars => horizontal(&title, &x, &x_label, &series),
        _ => vertical(kind, &title, &x, &x_label, &series),
    };
    let table = data_table(id, &x, &x_label, &series);
    view! {
        <figure class="chart card" id=id data-series-count=series.len().to_string()>
            <figcaption>{title}</figcaption>
            <p class="muted note">{note}</p>
            {svg}
            <details class="chart-data">
                <summary>"Numbers"</summary>
                {table}
            </details>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_round() {
        assert_eq!(nice_scale(0), (4, 1));
        assert_eq!(nice_scale(3), (3, 1));
        assert_eq!(nice_scale(7), (8, 2));
        assert_eq!(nice_scale(97), (100, 50));
        let (top, step) = nice_scale(12_345);
        assert!(top >= 12_345 && top % step == 0 && top / step <= 5);
    }

    #[test]
    fn labels_are_short() {
        assert_eq!(short_label("2026-12-03", 12), "12-03");
        assert_eq!(short_label("COURSE_COMPLETE_AND_MORE", 10), "COURSE_CO…");
    }
}

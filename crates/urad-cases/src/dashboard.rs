//! The agenda lead's dashboard chart: how many submissions were received and how many cases
//! decided on each day of a period, as an SVG drawn on the server (no JavaScript, no external
//! assets), with the same numbers as plain data for the page's table and as CSV.
//!
//! Accessibility: the SVG is `role="img"` labelled by its `<title>` and a `<desc>` that says
//! the gist in words (totals, the busiest day). The page puts the numbers in a `<table>` from
//! [`table`] beside or under the chart, for screen readers and for anyone who wants the exact
//! values. The two series differ in more than colour: received bars are solid, decided bars
//! are hatched with a solid outline, and both colours have a contrast of at least 3:1 against
//! the white background (WCAG 1.4.11).
//!
//! Everything here is pure: counts in, text out. The counts come from the case files (the
//! caller queries them); a day without any is a day with zeros ([`DailyCounts::for_range`]).

use jiff::civil::Date;
use std::fmt::Write as _;
use urad_core::Lang;

/// What was received and decided on one day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayCount {
    pub date: Date,
    /// Submissions received that day (case files opened).
    pub received: u32,
    /// Cases decided that day.
    pub decided: u32,
}

/// The counts of a period, one entry a day in date order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DailyCounts {
    pub days: Vec<DayCount>,
}

/// The longest period [`DailyCounts::for_range`] fills: two years (a chart of more days has
/// bars thinner than a pixel).
pub const MAX_DAYS: usize = 731;

/// A period [`DailyCounts::for_range`] does not fill.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("the period from {from} to {to} has more than {MAX_DAYS} days")]
    TooLong { from: Date, to: Date },
}

impl DailyCounts {
    /// The counts of the days `known` has, in date order (several entries of one day are
    /// added up).
    pub fn new(known: impl IntoIterator<Item = DayCount>) -> DailyCounts {
        let mut days: Vec<DayCount> = Vec::new();
        let mut known: Vec<DayCount> = known.into_iter().collect();
        known.sort_by_key(|d| d.date);
        for d in known {
            match days.last_mut() {
                Some(last) if last.date == d.date => {
                    last.received = last.received.saturating_add(d.received);
                    last.decided = last.decided.saturating_add(d.decided);
                }
                _ => days.push(d),
            }
        }
        DailyCounts { days }
    }

    /// Every day from `from` to `to` (both included) with its counts from `known`, zeros
    /// where `known` has none; days of `known` outside the period are left out. A period that
    /// ends before it starts has no days.
    pub fn for_range(
        from: Date,
        to: Date,
        known: impl IntoIterator<Item = DayCount>,
    ) -> Result<DailyCounts, RangeError> {
        if to < from {
            return Ok(DailyCounts::default());
        }
        let length = from
            .until(to)
            .map(|span| span.get_days())
            .unwrap_or(i32::MAX);
        if usize::try_from(length).map_or(true, |days| days >= MAX_DAYS) {
            return Err(RangeError::TooLong { from, to });
        }
        let known = DailyCounts::new(known.into_iter().filter(|d| from <= d.date && d.date <= to));
        let mut known = known.days.into_iter().peekable();
        let mut days = Vec::new();
        let mut day = from;
        loop {
            let count = match known.next_if(|k| k.date == day) {
                Some(k) => k,
                None => DayCount {
                    date: day,
                    received: 0,
                    decided: 0,
                },
            };
            days.push(count);
            if day >= to {
                break;
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        Ok(DailyCounts { days })
    }

    pub fn total_received(&self) -> u64 {
        self.days.iter().map(|d| u64::from(d.received)).sum()
    }

    pub fn total_decided(&self) -> u64 {
        self.days.iter().map(|d| u64::from(d.decided)).sum()
    }

    /// The days in date order (the field is public, so it may have been filled unordered).
    fn sorted(&self) -> Vec<DayCount> {
        let mut days = self.days.clone();
        days.sort_by_key(|d| d.date);
        days
    }
}

/// How the chart is placed on its page.
#[derive(Clone, Copy, Debug, Default)]
pub struct Chart<'a> {
    /// Prefix of the SVG's element ids (its title, description and pattern), unique on the
    /// page: `intake-chart`. Characters other than ASCII letters, digits, `-` and `_` are
    /// replaced by `-`; an empty one is `chart`.
    pub id: &'a str,
    /// The agenda's name, added to the title: `Dotace`.
    pub agenda: Option<&'a str>,
}

/// The numbers of the chart as the page's table shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataTable {
    /// The table's caption: the chart's title.
    pub caption: String,
    /// The column headers: day, received, decided.
    pub headers: [String; 3],
    pub rows: Vec<DataRow>,
    /// The label of the totals row: `Celkem` / `Total`.
    pub total_label: String,
    pub total_received: u64,
    pub total_decided: u64,
}

/// One day of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataRow {
    /// For `<time datetime>`: its `Display` is ISO 8601 (`2025-12-03`).
    pub date: Date,
    /// The day as people read it: `3. 12. 2025` / `3 December 2025`.
    pub day: String,
    pub received: u32,
    pub decided: u32,
}

/// Received bars: solid. `#2362A2` has a contrast of 6.3:1 against white.
pub const RECEIVED_COLOUR: &str = "#2362A2";
/// Decided bars: hatched, with a solid outline. `#A8450C` has a contrast of 6.0:1 against
/// white.
pub const DECIDED_COLOUR: &str = "#A8450C";
/// Axis labels and the legend's text (contrast 11:1 against white).
const TEXT_COLOUR: &str = "#3B3B3B";
const GRID_COLOUR: &str = "#D5D5D5";
const AXIS_COLOUR: &str = "#6B6B6B";

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 300.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 36.0;
const RIGHT: f64 = 12.0;
const FONT_SIZE: f64 = 12.0;
/// A generous width of a character of the sans-serif labels at [`FONT_SIZE`] (a digit is
/// about 6.7), and of a narrow one (`.`, `,`, spaces), to leave room for the labels.
const CHAR_WIDTH: f64 = 7.0;
const NARROW_WIDTH: f64 = 3.5;

/// About how wide `label` is drawn.
fn label_width(label: &str) -> f64 {
    label
        .chars()
        .map(|c| {
            if matches!(
                c,
                '.' | ',' | ' ' | '\u{a0}' | 'i' | 'l' | 'j' | 't' | 'f' | 'r'
            ) {
                NARROW_WIDTH
            } else {
                CHAR_WIDTH
            }
        })
        .sum()
}
/// About how many steps the value axis has.
const TICKS: u64 = 5;

/// The chart's title: `Přijatá a rozhodnutá podání po dnech — Dotace`.
pub fn title(lang: Lang, agenda: Option<&str>) -> String {
    let base = match lang {
        Lang::Cs => "Přijatá a rozhodnutá podání po dnech",
        Lang::En => "Submissions received and decided per day",
    };
    match agenda {
        Some(agenda) if !agenda.trim().is_empty() => format!("{base} — {}", agenda.trim()),
        _ => base.to_owned(),
    }
}

/// The gist of the counts in one sentence, for the SVG's `<desc>` and the page:
/// `From 1 to 14 December 2025: 120 received, 97 decided; most received on 3 December (24),
/// most decided on 5 December (15).`
pub fn summary(counts: &DailyCounts, lang: Lang) -> String {
    let days = counts.sorted();
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return match lang {
            Lang::Cs => "Za zvolené období nejsou žádné údaje.".into(),
            Lang::En => "There are no data for the chosen period.".into(),
        };
    };
    let received = group_digits(counts.total_received(), lang);
    let decided = group_digits(counts.total_decided(), lang);
    let period = period_text(first.date, last.date, lang);
    let mut out = match lang {
        Lang::Cs => format!("{period}: přijato {received}, rozhodnuto {decided}"),
        Lang::En => format!("{period}: {received} received, {decided} decided"),
    };
    let busiest = |value: fn(&DayCount) -> u32| {
        // The first of the days with the most, so that the sentence does not depend on order.
        days.iter()
            .filter(|d| value(d) > 0)
            .fold(None::<&DayCount>, |best, d| match best {
                Some(b) if value(b) >= value(d) => Some(b),
                _ => Some(d),
            })
            .map(|d| (d.date, value(d)))
    };
    let most = [
        busiest(|d| d.received).map(|(date, n)| match lang {
            Lang::Cs => format!("nejvíce přijato {} ({n})", day_month(date, lang)),
            Lang::En => format!("most received on {} ({n})", day_month(date, lang)),
        }),
        busiest(|d| d.decided).map(|(date, n)| match lang {
            Lang::Cs => format!("nejvíce rozhodnuto {} ({n})", day_month(date, lang)),
            Lang::En => format!("most decided on {} ({n})", day_month(date, lang)),
        }),
    ];
    let most: Vec<String> = most.into_iter().flatten().collect();
    if !most.is_empty() {
        out.push_str("; ");
        out.push_str(&most.join(", "));
    }
    out.push('.');
    out
}

/// The numbers as the page's table shows them, in date order.
pub fn table(counts: &DailyCounts, lang: Lang) -> DataTable {
    let (headers, total_label) = match lang {
        Lang::Cs => (["Den", "Přijato", "Rozhodnuto"], "Celkem"),
        Lang::En => (["Day", "Received", "Decided"], "Total"),
    };
    DataTable {
        caption: title(lang, None),
        headers: headers.map(str::to_owned),
        rows: counts
            .sorted()
            .into_iter()
            .map(|d| DataRow {
                date: d.date,
                day: full_date(d.date, lang),
                received: d.received,
                decided: d.decided,
            })
            .collect(),
        total_label: total_label.into(),
        total_received: counts.total_received(),
        total_decided: counts.total_decided(),
    }
}

/// The counts as CSV (RFC 4180: comma-separated, CRLF line ends, fields quoted where
/// needed): a header row in `lang`, then one row a day in date order with the date in ISO
/// 8601. UTF-8 without a byte-order mark; the web layer adds one if a spreadsheet needs it.
pub fn csv(counts: &DailyCounts, lang: Lang) -> String {
    let header = match lang {
        Lang::Cs => ["Datum", "Přijato", "Rozhodnuto"],
        Lang::En => ["Date", "Received", "Decided"],
    };
    let mut out = String::new();
    push_csv_row(&mut out, &header.map(str::to_owned));
    for d in counts.sorted() {
        push_csv_row(
            &mut out,
            &[
                d.date.to_string(),
                d.received.to_string(),
                d.decided.to_string(),
            ],
        );
    }
    out
}

fn push_csv_row(out: &mut String, fields: &[String]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

/// The chart as an SVG document (also fit to be put inline in HTML): grouped bars a day,
/// received and decided, on a value axis of round steps, with day labels, a legend, and a
/// title and description for assistive technology.
pub fn svg(counts: &DailyCounts, lang: Lang, chart: &Chart<'_>) -> String {
    let days = counts.sorted();
    let id = element_id(chart.id);
    let max = days
        .iter()
        .map(|d| u64::from(d.received.max(d.decided)))
        .max()
        .unwrap_or(0);
    let (step, top) = value_axis(max);
    let tick_labels: Vec<String> = (0..=top / step)
        .map(|i| group_digits(i * step, lang))
        .collect();
    let widest = tick_labels
        .iter()
        .map(|l| label_width(l))
        .fold(CHAR_WIDTH, f64::max);
    let left = 14.0 + widest;
    // The last day's label is centred under its bars: room for its half at the right.
    let widest_day = days
        .iter()
        .map(|d| label_width(&short_date(d.date, lang)))
        .fold(CHAR_WIDTH, f64::max);
    let right = RIGHT.max(widest_day / 2.0 + 2.0);
    let plot_width = WIDTH - left - right;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let base = TOP + plot_height;
    let y_of = |value: u64| base - value as f64 * plot_height / top as f64;

    let (received_label, decided_label) = match lang {
        Lang::Cs => ("Přijato", "Rozhodnuto"),
        Lang::En => ("Received", "Decided"),
    };
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="sans-serif" font-size="{FONT_SIZE}">"#,
        w = num(WIDTH),
        h = num(HEIGHT),
    );
    let _ = write!(
        s,
        r#"<title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(&title(lang, chart.agenda)),
        escape(&summary(counts, lang)),
    );
    // The decided bars' hatching: stripes of the series colour on white.
    let _ = write!(
        s,
        r##"<defs><pattern id="{id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#FFFFFF"/><rect width="3" height="6" fill="{DECIDED_COLOUR}"/></pattern></defs>"##
    );
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{}" height="{}" fill="#FFFFFF"/>"##,
        num(WIDTH),
        num(HEIGHT)
    );

    // The value axis: grid lines at round steps, labelled at the left.
    s.push_str(r#"<g class="value-axis">"#);
    for (i, label) in tick_labels.iter().enumerate() {
        let y = y_of(i as u64 * step);
        let _ = write!(
            s,
            r#"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{GRID_COLOUR}" stroke-width="1"/><text x="{tx}" y="{ty}" text-anchor="end" fill="{TEXT_COLOUR}">{}</text>"#,
            escape(label),
            x1 = num(left),
            x2 = num(left + plot_width),
            y = num(y),
            tx = num(left - 6.0),
            ty = num(y + FONT_SIZE / 3.0),
        );
    }
    s.push_str("</g>");

    // The bars, two a day.
    let n = days.len();
    if n == 0 {
        let no_data = match lang {
            Lang::Cs => "Žádné údaje",
            Lang::En => "No data",
        };
        let _ = write!(
            s,
            r#"<text class="no-data" x="{}" y="{}" text-anchor="middle" fill="{TEXT_COLOUR}">{}</text>"#,
            num(left + plot_width / 2.0),
            num(TOP + plot_height / 2.0),
            escape(no_data),
        );
    } else {
        let group = plot_width / n as f64;
        let bar = group * 0.38;
        let gap = group * 0.08;
        for (series, label, fill, stroke, value) in [
            (
                "received",
                received_label,
                RECEIVED_COLOUR.to_owned(),
                "none",
                (|d: &DayCount| d.received) as fn(&DayCount) -> u32,
            ),
            (
                "decided",
                decided_label,
                format!("url(#{id}-hatch)"),
                DECIDED_COLOUR,
                |d: &DayCount| d.decided,
            ),
        ] {
            let _ = write!(s, r#"<g class="series {series}">"#);
            for (i, d) in days.iter().enumerate() {
                let v = value(d);
                let centre = left + group * (i as f64 + 0.5);
                let x = if series == "received" {
                    centre - gap / 2.0 - bar
                } else {
                    centre + gap / 2.0
                };
                let y = y_of(u64::from(v));
                let _ = write!(
                    s,
                    r#"<rect class="bar {series}" data-value="{v}" x="{}" y="{}" width="{}" height="{}" fill="{fill}""#,
                    num(x),
                    num(y),
                    num(bar),
                    num(base - y),
                );
                if stroke != "none" {
                    let _ = write!(s, r#" stroke="{stroke}" stroke-width="1""#);
                }
                let _ = write!(
                    s,
                    "><title>{}: {} {}</title></rect>",
                    escape(&full_date(d.date, lang)),
                    escape(label),
                    escape(&group_digits(u64::from(v), lang)),
                );
            }
            s.push_str("</g>");
        }

        // The day axis: a label every few days, so that they do not overlap.
        let room = widest_day + 8.0;
        let every = ((room / group).ceil() as usize).max(1);
        s.push_str(r#"<g class="day-axis">"#);
        for (i, d) in days.iter().enumerate() {
            if i % every != 0 {
                continue;
            }
            let x = left + group * (i as f64 + 0.5);
            let _ = write!(
                s,
                r#"<line x1="{x}" y1="{y1}" x2="{x}" y2="{y2}" stroke="{AXIS_COLOUR}" stroke-width="1"/><text x="{x}" y="{ty}" text-anchor="middle" fill="{TEXT_COLOUR}">{}</text>"#,
                escape(&short_date(d.date, lang)),
                x = num(x),
                y1 = num(base),
                y2 = num(base + 4.0),
                ty = num(base + 6.0 + FONT_SIZE),
            );
        }
        s.push_str("</g>");
    }
    let _ = write!(
        s,
        r#"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{AXIS_COLOUR}" stroke-width="1"/>"#,
        x1 = num(left),
        x2 = num(left + plot_width),
        y = num(base),
    );

    // The legend, above the plot at the right: the swatches as the bars are drawn.
    let decided_x = WIDTH - RIGHT - label_width(decided_label) - 20.0;
    let received_x = decided_x - label_width(received_label) - 40.0;
    let _ = write!(
        s,
        r#"<g class="legend"><rect x="{rx}" y="12" width="14" height="14" fill="{RECEIVED_COLOUR}"/><text x="{rtx}" y="23" fill="{TEXT_COLOUR}">{}</text><rect x="{dx}" y="12" width="14" height="14" fill="url(#{id}-hatch)" stroke="{DECIDED_COLOUR}" stroke-width="1"/><text x="{dtx}" y="23" fill="{TEXT_COLOUR}">{}</text></g>"#,
        escape(received_label),
        escape(decided_label),
        rx = num(received_x),
        rtx = num(received_x + 19.0),
        dx = num(decided_x),
        dtx = num(decided_x + 19.0),
    );
    s.push_str("</svg>");
    s
}

/// The value axis for values up to `max`: a round step (1, 2 or 5 times a power of ten) and
/// the top of the axis, a multiple of the step at least `max` and at least one step, so that
/// an empty or all-zero chart still has an axis and nothing divides by zero.
pub fn value_axis(max: u64) -> (u64, u64) {
    let mut power = 1u64;
    let step = loop {
        if let Some(step) = [1u64, 2, 5]
            .iter()
            .map(|&m| m.saturating_mul(power))
            .find(|s| s.saturating_mul(TICKS) >= max)
        {
            break step;
        }
        power = power.saturating_mul(10);
    };
    let top = max.div_ceil(step).max(1).saturating_mul(step);
    (step, top)
}

/// The element id prefix: ASCII letters, digits, `-` and `_`.
fn element_id(id: &str) -> String {
    let id: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if id.is_empty() {
        "chart".into()
    } else if id.starts_with(|c: char| c.is_ascii_alphabetic()) {
        id
    } else {
        format!("chart-{id}")
    }
}

/// Text for XML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow at all (control characters) are left out.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with at most two decimals: `12.5`, `40`.
fn num(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// `12 000` (with a no-break space) / `12,000`.
fn group_digits(n: u64, lang: Lang) -> String {
    let sep = match lang {
        Lang::Cs => '\u{a0}',
        Lang::En => ',',
    };
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// Czech month names in the genitive (`3. prosince`).
const MONTHS_CS: [&str; 12] = [
    "ledna",
    "února",
    "března",
    "dubna",
    "května",
    "června",
    "července",
    "srpna",
    "září",
    "října",
    "listopadu",
    "prosince",
];

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_index(date: Date) -> usize {
    usize::try_from(date.month() - 1).unwrap_or(0)
}

/// On the day axis: `3. 12.` / `3 Dec`.
fn short_date(date: Date, lang: Lang) -> String {
    match lang {
        Lang::Cs => format!("{}.\u{a0}{}.", date.day(), date.month()),
        Lang::En => format!("{}\u{a0}{}", date.day(), &MONTHS_EN[month_index(date)][..3]),
    }
}

/// In the table and the bars' tooltips: `3. 12. 2025` / `3 December 2025`.
fn full_date(date: Date, lang: Lang) -> String {
    match lang {
        Lang::Cs => format!("{}. {}. {}", date.day(), date.month(), date.year()),
        Lang::En => format!(
            "{} {} {}",
            date.day(),
            MONTHS_EN[month_index(date)],
            date.year()
        ),
    }
}

/// In a sentence: `3. prosince` / `3 December`.
fn day_month(date: Date, lang: Lang) -> String {
    match lang {
        Lang::Cs => format!("{}. {}", date.day(), MONTHS_CS[month_index(date)]),
        Lang::En => format!("{} {}", date.day(), MONTHS_EN[month_index(date)]),
    }
}

/// `Od 1. do 14. prosince 2025` / `From 1 to 14 December 2025`, or one day:
/// `Dne 3. prosince 2025` / `On 3 December 2025`.
fn period_text(from: Date, to: Date, lang: Lang) -> String {
    let day_month_year = |d: Date| format!("{} {}", day_month(d, lang), d.year());
    if from == to {
        return match lang {
            Lang::Cs => format!("Dne {}", day_month_year(from)),
            Lang::En => format!("On {}", day_month_year(from)),
        };
    }
    let start = if from.year() != to.year() {
        day_month_year(from)
    } else if from.month() != to.month() {
        day_month(from, lang)
    } else {
        match lang {
            Lang::Cs => format!("{}.", from.day()),
            Lang::En => from.day().to_string(),
        }
    };
    match lang {
        Lang::Cs => format!("Od {start} do {}", day_month_year(to)),
        Lang::En => format!("From {start} to {}", day_month_year(to)),
    }
}

#[cfg(test)]
mod tests;

//! The chart as a browser and a screen reader get it: well-formed XML, a title and a
//! description that say the numbers, bars as tall as their values, text escaped.

use super::*;
use jiff::civil::date;

/// Fourteen days of December 2025: 120 received, 97 decided, most received on 3 December
/// (24), most decided on 5 December (15).
fn fortnight() -> DailyCounts {
    let received = [8, 10, 24, 9, 7, 0, 0, 12, 11, 10, 9, 13, 4, 3];
    let decided = [5, 6, 9, 8, 15, 0, 0, 10, 9, 7, 8, 11, 5, 4];
    DailyCounts::new((0..14).map(|i| DayCount {
        date: date(2025, 12, 1 + i as i8),
        received: received[i],
        decided: decided[i],
    }))
}

fn parse(svg: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("the SVG is XML: {e}\n{svg}"))
}

fn element_text<'a>(doc: &'a roxmltree::Document<'a>, id: &str) -> &'a str {
    doc.descendants()
        .find(|n| n.attribute("id") == Some(id))
        .unwrap_or_else(|| panic!("an element with id {id}"))
        .text()
        .unwrap_or_default()
}

/// (series, value, y, height) of each bar.
fn bars(doc: &roxmltree::Document<'_>) -> Vec<(String, u32, f64, f64)> {
    doc.descendants()
        .filter(|n| n.has_tag_name("rect"))
        .filter_map(|n| {
            let class = n.attribute("class")?;
            let series = class.strip_prefix("bar ")?.to_owned();
            let number = |a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
            Some((
                series,
                n.attribute("data-value").unwrap().parse().unwrap(),
                number("y"),
                number("height"),
            ))
        })
        .collect()
}

#[test]
fn the_svg_is_xml_labelled_by_its_title_and_description_in_both_languages() {
    let counts = fortnight();
    assert_eq!((counts.total_received(), counts.total_decided()), (120, 97));
    for (lang, title_text, desc) in [
        (
            Lang::Cs,
            "Přijatá a rozhodnutá podání po dnech",
            "Od 1. do 14. prosince 2025: přijato 120, rozhodnuto 97; nejvíce přijato \
             3. prosince (24), nejvíce rozhodnuto 5. prosince (15).",
        ),
        (
            Lang::En,
            "Submissions received and decided per day",
            "From 1 to 14 December 2025: 120 received, 97 decided; most received on \
             3 December (24), most decided on 5 December (15).",
        ),
    ] {
        let svg = svg(
            &counts,
            lang,
            &Chart {
                id: "intake",
                agenda: None,
            },
        );
        let doc = parse(&svg);
        let root = doc.root_element();
        assert!(root.has_tag_name(("http://www.w3.org/2000/svg", "svg")));
        assert_eq!(root.attribute("role"), Some("img"));
        assert_eq!(
            root.attribute("aria-labelledby"),
            Some("intake-title intake-desc")
        );
        let first = root.first_element_child().unwrap();
        assert!(first.has_tag_name("title"), "the title comes first");
        assert_eq!(element_text(&doc, "intake-title"), title_text);
        assert_eq!(element_text(&doc, "intake-desc"), desc);
        assert_eq!(summary(&counts, lang), desc);
        assert_eq!(bars(&doc).len(), 28, "two bars a day");
        let legend = texts_in(&doc, "legend");
        let expected = match lang {
            Lang::Cs => ["Přijato", "Rozhodnuto"],
            Lang::En => ["Received", "Decided"],
        };
        assert_eq!(legend, expected);
    }
}

#[test]
fn day_labels_are_written_the_czech_and_the_english_way() {
    let counts = fortnight();
    let labels = |lang| {
        let svg = svg(&counts, lang, &Chart::default());
        texts_in(&parse(&svg), "day-axis")
    };
    let cs = labels(Lang::Cs);
    let en = labels(Lang::En);
    assert_eq!(cs.first().map(String::as_str), Some("1.\u{a0}12."));
    assert_eq!(en.first().map(String::as_str), Some("1\u{a0}Dec"));
    assert_eq!(cs.len(), 14, "a fortnight has room for every day: {cs:?}");
    // A quarter does not: every few days get a label, evenly.
    let quarter = DailyCounts::for_range(date(2025, 10, 1), date(2025, 12, 31), []).unwrap();
    let doc_svg = svg(&quarter, Lang::En, &Chart::default());
    let doc = parse(&doc_svg);
    let shown = texts_in(&doc, "day-axis").len();
    assert!((5..=30).contains(&shown), "{shown} labels for 92 days");
}

#[test]
fn bars_are_as_tall_as_their_values_on_one_scale() {
    let counts = fortnight();
    let svg = svg(&counts, Lang::Cs, &Chart::default());
    let doc = parse(&svg);
    let bars = bars(&doc);
    let (_, tallest_value, _, tallest_height) = bars
        .iter()
        .find(|b| b.1 == 24)
        .cloned()
        .expect("the 24 received on 3 December");
    let per_unit = tallest_height / f64::from(tallest_value);
    assert!(per_unit > 0.0);
    let base = bars[0].2 + bars[0].3;
    for (series, value, y, height) in &bars {
        assert!(
            (height - per_unit * f64::from(*value)).abs() < 0.02,
            "{series} {value}: height {height}, expected {}",
            per_unit * f64::from(*value)
        );
        assert!(
            (y + height - base).abs() < 0.02,
            "every bar stands on the axis"
        );
    }
    let received: Vec<u32> = bars
        .iter()
        .filter(|b| b.0 == "received")
        .map(|b| b.1)
        .collect();
    let expected: Vec<u32> = counts.days.iter().map(|d| d.received).collect();
    assert_eq!(received, expected, "received bars in date order");
    // The value axis reaches the tallest bar: 24 on an axis of 5 up to 25.
    let ticks = tick_labels(&doc);
    assert_eq!(ticks, ["0", "5", "10", "15", "20", "25"]);
}

fn tick_labels(doc: &roxmltree::Document<'_>) -> Vec<String> {
    texts_in(doc, "value-axis")
}

/// The texts of the `<text>` elements in the group of `class`.
fn texts_in(doc: &roxmltree::Document<'_>, class: &str) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.attribute("class") == Some(class))
        .flat_map(|g| {
            g.descendants()
                .filter(|n| n.has_tag_name("text"))
                .map(|n| n.text().unwrap_or_default().to_owned())
        })
        .collect()
}

#[test]
fn the_value_axis_has_round_steps_for_small_and_large_values() {
    assert_eq!(value_axis(0), (1, 1));
    assert_eq!(value_axis(1), (1, 1));
    assert_eq!(value_axis(5), (1, 5));
    assert_eq!(value_axis(7), (2, 8));
    assert_eq!(value_axis(24), (5, 25));
    assert_eq!(value_axis(97), (20, 100));
    assert_eq!(value_axis(120), (50, 150));
    assert_eq!(value_axis(1_000_000), (200_000, 1_000_000));
    assert_eq!(
        value_axis(u64::from(u32::MAX)),
        (1_000_000_000, 5_000_000_000)
    );
    for max in (0..2000).chain([12_345, 987_654_321]) {
        let (step, top) = value_axis(max);
        let power = 10u64.pow(step.ilog10());
        assert!(
            step % power == 0 && [1, 2, 5].contains(&(step / power)),
            "{max}: step {step}"
        );
        assert!(
            top >= max && top % step == 0 && top / step <= 2 * TICKS,
            "{max}: {step} {top}"
        );
    }

    let huge = DailyCounts::new([
        DayCount {
            date: date(2025, 1, 1),
            received: u32::MAX,
            decided: 1,
        },
        DayCount {
            date: date(2025, 1, 2),
            received: 2_000_000_000,
            decided: 0,
        },
    ]);
    let svg = svg(&huge, Lang::Cs, &Chart::default());
    let doc = parse(&svg);
    assert_eq!(
        tick_labels(&doc).last().map(String::as_str),
        Some("5\u{a0}000\u{a0}000\u{a0}000")
    );
    let en = svg_en_ticks(&huge);
    assert_eq!(en.last().map(String::as_str), Some("5,000,000,000"));
    for (_, _, y, height) in bars(&doc) {
        assert!(y.is_finite() && height.is_finite() && height >= 0.0);
    }
    assert!(summary(&huge, Lang::En).contains("6,294,967,295 received"));
}

fn svg_en_ticks(counts: &DailyCounts) -> Vec<String> {
    let svg = svg(counts, Lang::En, &Chart::default());
    tick_labels(&parse(&svg))
}

#[test]
fn an_empty_period_and_days_of_zeros_draw_an_axis_and_say_so() {
    for lang in Lang::ALL {
        let svg = svg(&DailyCounts::default(), lang, &Chart::default());
        let doc = parse(&svg);
        assert!(bars(&doc).is_empty());
        let desc = element_text(&doc, "chart-desc");
        assert_eq!(desc, summary(&DailyCounts::default(), lang));
        assert!(!desc.is_empty());
        assert!(doc
            .descendants()
            .any(|n| n.attribute("class") == Some("no-data")));
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }
    let zeros = DailyCounts::for_range(date(2025, 12, 1), date(2025, 12, 3), []).unwrap();
    let svg = svg(&zeros, Lang::En, &Chart::default());
    let doc = parse(&svg);
    let bars = bars(&doc);
    assert_eq!(bars.len(), 6);
    assert!(bars.iter().all(|b| b.3 == 0.0), "{bars:?}");
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    assert_eq!(
        summary(&zeros, Lang::En),
        "From 1 to 3 December 2025: 0 received, 0 decided."
    );
    assert_eq!(
        summary(&zeros, Lang::Cs),
        "Od 1. do 3. prosince 2025: přijato 0, rozhodnuto 0."
    );
}

#[test]
fn the_period_is_named_across_months_and_years_and_for_one_day() {
    let one = |from, to| {
        let counts = DailyCounts::for_range(from, to, []).unwrap();
        (summary(&counts, Lang::Cs), summary(&counts, Lang::En))
    };
    let (cs, en) = one(date(2025, 11, 28), date(2025, 12, 4));
    assert!(
        cs.starts_with("Od 28. listopadu do 4. prosince 2025:"),
        "{cs}"
    );
    assert!(
        en.starts_with("From 28 November to 4 December 2025:"),
        "{en}"
    );
    let (cs, en) = one(date(2025, 12, 28), date(2026, 1, 3));
    assert!(
        cs.starts_with("Od 28. prosince 2025 do 3. ledna 2026:"),
        "{cs}"
    );
    assert!(
        en.starts_with("From 28 December 2025 to 3 January 2026:"),
        "{en}"
    );
    let (cs, en) = one(date(2025, 12, 3), date(2025, 12, 3));
    assert!(cs.starts_with("Dne 3. prosince 2025:"), "{cs}");
    assert!(en.starts_with("On 3 December 2025:"), "{en}");
}

#[test]
fn text_is_escaped_and_ids_are_safe() {
    let agenda = r#"Školství & <mládež> "A" 'B' ]]> </svg><script>alert(1)</script>"#;
    let svg = svg(
        &fortnight(),
        Lang::Cs,
        &Chart {
            id: "1 \"x\" <y>",
            agenda: Some(agenda),
        },
    );
    assert!(
        !svg.contains("<script") && !svg.contains("<mládež>"),
        "{svg}"
    );
    let doc = parse(&svg);
    let root = doc.root_element();
    let labelled = root.attribute("aria-labelledby").unwrap();
    assert_eq!(labelled, "chart-1--x---y--title chart-1--x---y--desc");
    let title_id = labelled.split(' ').next().unwrap();
    assert_eq!(
        element_text(&doc, title_id),
        format!("Přijatá a rozhodnutá podání po dnech — {agenda}")
    );
    assert_eq!(
        escape("a\u{1}b\tc"),
        "ab\tc",
        "control characters are left out"
    );
    assert_eq!(escape(r#"<&>"'"#), "&lt;&amp;&gt;&quot;&apos;");
}

#[test]
fn the_chart_has_no_script_no_links_and_no_handlers() {
    let svg = svg(&fortnight(), Lang::En, &Chart::default());
    let doc = parse(&svg);
    for node in doc.descendants().filter(|n| n.is_element()) {
        let name = node.tag_name().name();
        assert!(
            !["script", "foreignObject", "image", "a", "use", "style"].contains(&name),
            "<{name}>"
        );
        for a in node.attributes() {
            assert!(
                !a.name().starts_with("on") && a.name() != "href" && a.name() != "style",
                "<{name} {}>",
                a.name()
            );
            assert!(
                !a.value().contains("http") || a.name() == "xmlns",
                "nothing external: {}",
                a.value()
            );
        }
    }
}

/// WCAG 2 contrast ratio of an `#RRGGBB` colour against white.
fn contrast_with_white(hex: &str) -> f64 {
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    1.05 / (luminance + 0.05)
}

#[test]
fn the_series_have_contrast_and_differ_in_more_than_colour() {
    for colour in [RECEIVED_COLOUR, DECIDED_COLOUR, AXIS_COLOUR] {
        let ratio = contrast_with_white(colour);
        eprintln!("{colour}: {ratio:.2}:1");
        assert!(ratio >= 3.0, "{colour}: {ratio:.2}:1");
    }
    let text = contrast_with_white(TEXT_COLOUR);
    assert!(text >= 4.5, "text {text:.2}:1");

    let svg = svg(&fortnight(), Lang::En, &Chart::default());
    let doc = parse(&svg);
    let fill_of = |series: &str| {
        doc.descendants()
            .filter(|n| n.attribute("class") == Some(&format!("bar {series}")[..]))
            .map(|n| (n.attribute("fill").unwrap(), n.attribute("stroke")))
            .collect::<std::collections::BTreeSet<_>>()
    };
    let received = fill_of("received");
    let decided = fill_of("decided");
    assert_eq!(
        received.into_iter().collect::<Vec<_>>(),
        [(RECEIVED_COLOUR, None)]
    );
    assert_eq!(
        decided.into_iter().collect::<Vec<_>>(),
        [("url(#chart-hatch)", Some(DECIDED_COLOUR))],
        "decided bars are hatched and outlined"
    );
    assert!(doc
        .descendants()
        .any(|n| n.has_tag_name("pattern") && n.attribute("id") == Some("chart-hatch")));
}

#[test]
fn for_range_fills_the_days_without_counts_with_zeros() {
    let d = |day, received, decided| DayCount {
        date: date(2025, 12, day),
        received,
        decided,
    };
    let counts = DailyCounts::for_range(
        date(2025, 12, 1),
        date(2025, 12, 4),
        [d(3, 2, 1), d(30, 9, 9), d(1, 1, 0), d(3, 1, 1)],
    )
    .unwrap();
    assert_eq!(
        counts.days,
        [d(1, 1, 0), d(2, 0, 0), d(3, 3, 2), d(4, 0, 0)],
        "gaps are zeros, one day's entries are added up, days outside are left out"
    );
    assert_eq!(
        DailyCounts::for_range(date(2025, 12, 4), date(2025, 12, 1), []).unwrap(),
        DailyCounts::default()
    );
    assert_eq!(
        DailyCounts::for_range(date(2025, 1, 1), date(2025, 1, 1), [])
            .unwrap()
            .days
            .len(),
        1
    );
    assert!(DailyCounts::for_range(date(2024, 1, 1), date(2025, 12, 31), []).is_ok());
    assert!(matches!(
        DailyCounts::for_range(date(2020, 1, 1), date(2025, 12, 31), []),
        Err(RangeError::TooLong { .. })
    ));
}

#[test]
fn the_table_has_the_numbers_of_the_chart() {
    let counts = fortnight();
    let table = table(&counts, Lang::Cs);
    assert_eq!(table.caption, title(Lang::Cs, None));
    assert_eq!(table.headers, ["Den", "Přijato", "Rozhodnuto"]);
    assert_eq!(table.rows.len(), 14);
    assert_eq!(table.rows[2].day, "3. 12. 2025");
    assert_eq!(table.rows[2].date.to_string(), "2025-12-03");
    assert_eq!((table.rows[2].received, table.rows[2].decided), (24, 9));
    assert_eq!(
        (
            table.total_label.as_str(),
            table.total_received,
            table.total_decided
        ),
        ("Celkem", 120, 97)
    );
    let en = super::table(&counts, Lang::En);
    assert_eq!(en.headers, ["Day", "Received", "Decided"]);
    assert_eq!(en.rows[2].day, "3 December 2025");
    assert_eq!(en.total_label, "Total");
}

#[test]
fn csv_has_a_header_in_the_language_iso_dates_and_crlf_line_ends() {
    let counts = DailyCounts::new([
        DayCount {
            date: date(2025, 12, 2),
            received: 10,
            decided: 6,
        },
        DayCount {
            date: date(2025, 12, 1),
            received: 8,
            decided: 5,
        },
    ]);
    assert_eq!(
        csv(&counts, Lang::Cs),
        "Datum,Přijato,Rozhodnuto\r\n2025-12-01,8,5\r\n2025-12-02,10,6\r\n"
    );
    assert_eq!(
        csv(&counts, Lang::En),
        "Date,Received,Decided\r\n2025-12-01,8,5\r\n2025-12-02,10,6\r\n"
    );
    assert_eq!(
        csv(&DailyCounts::default(), Lang::En),
        "Date,Received,Decided\r\n"
    );
    let mut row = String::new();
    push_csv_row(
        &mut row,
        &[
            "a,b".into(),
            "say \"hi\"".into(),
            "two\nlines".into(),
            "plain".into(),
        ],
    );
    assert_eq!(row, "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",plain\r\n");
}

/// Writes sample charts to `$URAD_CHART_SAMPLES` to look at (not a check).
#[test]
fn write_samples_when_asked() {
    let Some(dir) = std::env::var_os("URAD_CHART_SAMPLES") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let quarter = DailyCounts::for_range(
        date(2025, 10, 1),
        date(2025, 12, 31),
        (0..92u32).map(|i| DayCount {
            date: date(2025, 10, 1)
                .checked_add(jiff::Span::new().days(i64::from(i)))
                .unwrap(),
            received: (i * 37 % 23) * 40,
            decided: (i * 29 % 19) * 45,
        }),
    )
    .unwrap();
    for (name, counts) in [
        ("fortnight", fortnight()),
        ("quarter", quarter),
        ("empty", DailyCounts::default()),
    ] {
        for lang in Lang::ALL {
            let chart = Chart {
                id: name,
                agenda: Some("Dotace"),
            };
            std::fs::write(
                dir.join(format!("chart-{name}-{lang}.svg")),
                svg(&counts, lang, &chart),
            )
            .unwrap();
        }
    }
}

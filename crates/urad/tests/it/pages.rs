//! The portal's pages as a browser gets them.

use crate::harness::TestApp;
use crate::on_both_backends;

on_both_backends!(
    home_lists_situations_applicants_and_popular_services,
    search_ignores_diacritics_case_and_typos_and_marks_matches,
    filters_combine_and_every_result_satisfies_them,
    bad_filters_get_a_clear_localized_400,
    detail_pages_show_channels_and_facts,
    language_switch_keeps_the_page_and_query,
    unknown_pages_get_a_localized_404,
    pagination_links_walk_all_results,
);

async fn home_lists_situations_applicants_and_popular_services(app: TestApp) {
    let html = app.text("/", 200).await;
    assert!(html.contains(r#"<html lang="cs""#));
    assert!(html.contains(r##"class="skip-link" href="#main""##));
    assert!(html.contains(r#"id="site-search""#));
    assert!(html.contains(r#"href="/sluzby?situation=housing-and-energy""#));
    for applicant in ["citizen", "sole_trader", "company", "municipality"] {
        assert!(
            html.contains(&format!("/sluzby?applicant={applicant}")),
            "{applicant}"
        );
    }
    // The most used service is listed first among the popular ones.
    let popular = html.split(r#"id="popular""#).nth(1).unwrap();
    let first = popular.split("<li>").nth(1).unwrap();
    assert!(first.contains("/sluzby/kotlikova-dotace"), "{first}");

    // Every page links the accessibility statement that Czech law requires.
    assert!(html.contains(r#"href="/prohlaseni-o-pristupnosti""#));
    let statement = app.text("/prohlaseni-o-pristupnosti", 200).await;
    assert!(statement.contains("99/2019 Sb.") && statement.contains("posta@msk.cz"));

    let en = app.text("/en", 200).await;
    assert!(en.contains(r#"<html lang="en""#));
    assert!(en.contains("Boiler replacement grant"));
    assert!(en.contains(r#"href="/en/services?applicant=citizen""#));
}

async fn search_ignores_diacritics_case_and_typos_and_marks_matches(app: TestApp) {
    for q in [
        "kotlikova+dotace",
        "KOTLÍKOVÁ+DOTACE",
        "kotlikva+dotace",
        "kotlíkové",
    ] {
        let html = app.text(&format!("/sluzby?q={q}"), 200).await;
        let results = html
            .split(r#"<ol id="results""#)
            .nth(1)
            .unwrap_or_else(|| panic!("no results for {q}"));
        let first = results.split(r#"<li class="result">"#).nth(1).unwrap();
        assert!(first.contains("/sluzby/kotlikova-dotace"), "{q}: {first}");
        assert!(first.contains("<mark>Kotlíková</mark>"), "{q}: {first}");
    }
    let html = app.text("/sluzby?q=xyzzyqwert", 200).await;
    assert!(html.contains(r#"id="no-results""#));
    assert!(html.contains("Nalezeno 0 služeb"));
    // The search text is kept in the form and HTML is escaped, never interpreted.
    let html = app
        .text("/sluzby?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", 200)
        .await;
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"));
}

async fn filters_combine_and_every_result_satisfies_them(app: TestApp) {
    let all = app.json("/api/v1/services?per_page=100", 200).await;
    let items = all["items"].as_array().unwrap();
    let expected: Vec<&str> = items
        .iter()
        .filter(|s| {
            s["applicant_types"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == "company")
                && matches!(s["channel"].as_str(), Some("online" | "both"))
        })
        .map(|s| s["slug"].as_str().unwrap())
        .collect();
    assert!(!expected.is_empty() && expected.len() < items.len());
    let html = app
        .text("/sluzby?applicant=company&channel=online", 200)
        .await;
    let found: Vec<&str> = html
        .split(r#"<h2 class="result__title"><a href="/sluzby/"#)
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    // The page shows the first 20 of them and counts them all; the API gives the same set.
    assert!(
        html.contains("Nalezen") && html.contains(&format!(" {} služ", expected.len())),
        "count"
    );
    assert!(
        found.len() == expected.len().min(20) && found.iter().all(|s| expected.contains(s)),
        "{found:?}"
    );
    let api = app
        .json(
            "/api/v1/services?applicant=company&channel=online&per_page=100",
            200,
        )
        .await;
    let mut a = expected.clone();
    a.sort_unstable();
    let mut b: Vec<&str> = api["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slug"].as_str().unwrap())
        .collect();
    b.sort_unstable();
    assert_eq!(a, b);
    // The selected options stay selected.
    assert!(html.contains(r#"<option value="company" selected>"#));
    assert!(html.contains(r#"<option value="online" selected>"#));
    // In-person only services appear when asking for in-person, never for online.
    let html = app.text("/sluzby?channel=in_person", 200).await;
    assert!(html.contains("/sluzby/czech-point"));
    let html = app.text("/sluzby?channel=online", 200).await;
    assert!(!html.contains("/sluzby/czech-point\""));
    // Search and filters combine.
    let html = app
        .text(
            "/sluzby?q=dotace&applicant=municipality&situation=grants-and-funding",
            200,
        )
        .await;
    assert!(html.contains("/sluzby/dotace-krizove-rizeni"));
    assert!(!html.contains("/sluzby/kotlikova-dotace\""));
}

async fn bad_filters_get_a_clear_localized_400(app: TestApp) {
    let html = app.text("/sluzby?applicant=alien", 400).await;
    assert!(html.contains(r#"id="error-summary""#));
    assert!(html.contains("Typ žadatele „alien“ neznáme"));
    let html = app.text("/en/services?situation=moon-landing", 400).await;
    assert!(html.contains("We do not know the life situation “moon-landing”"));
    let html = app.text("/sluzby?page=0", 400).await;
    assert!(html.contains("Číslo stránky „0“ není platné"));
    let long = "a".repeat(201);
    let html = app.text(&format!("/sluzby?q={long}"), 400).await;
    assert!(html.contains("nejvýše na 200 znaků"));
    let html = app.text("/sluzby?q=%FF%FE", 400).await;
    assert!(html.contains("chybně zapsané parametry"));
    // A page past the last one does not exist.
    app.text("/sluzby?page=999", 404).await;
}

async fn detail_pages_show_channels_and_facts(app: TestApp) {
    let html = app.text("/sluzby/kotlikova-dotace", 200).await;
    assert!(html.contains("<h1>Kotlíková dotace</h1>"));
    let start = html
        .split(r#"id="start-service""#)
        .nth(1)
        .expect("a start button")
        .split('>')
        .next()
        .unwrap();
    assert!(
        start.contains(r#"href="/sluzby/kotlikova-dotace/podani""#),
        "{start}"
    );
    assert!(!html.contains(r#"id="in-person""#));
    assert!(html.contains(r#"id="service-facts""#));
    assert!(html.contains("Zákon č. 201/2012 Sb."));
    assert!(html.contains("Bez poplatku"));

    let html = app.text("/sluzby/czech-point", 200).await;
    assert!(html.contains(r#"id="in-person""#));
    assert!(html.contains("Proč je nutná osobní návštěva"));
    assert!(!html.contains(r#"id="start-service""#));
    assert!(html.contains("Kč"), "Czech POINT has a fee");
    // An in-person service has no online start page.
    app.text("/sluzby/czech-point/podani", 404).await;

    let html = app.text("/sluzby/kotlikova-dotace/podani", 200).await;
    assert!(html.contains("8x6bxsd"), "data box of the office");
    let html = app.text("/en/services/statni-obcanstvi", 200).await;
    assert!(html.contains("Why you need to come in person"));
    assert!(html.contains("CZK"));
}

async fn language_switch_keeps_the_page_and_query(app: TestApp) {
    let cases = [
        ("/", r#"href="/en""#),
        (
            "/sluzby/kotlikova-dotace",
            r#"href="/en/services/kotlikova-dotace""#,
        ),
        ("/sluzby?q=dotace&amp;applicant=citizen", ""),
        ("/en/services/czech-point", r#"href="/sluzby/czech-point""#),
        ("/prohlaseni-o-pristupnosti", r#"href="/en/accessibility""#),
        (
            "/sluzby/kotlikova-dotace/podani",
            r#"href="/en/services/kotlikova-dotace/apply""#,
        ),
    ];
    for (path, expected) in cases {
        let html = app.text(&path.replace("&amp;", "&"), 200).await;
        let switch = html
            .split(r#"id="lang-switch""#)
            .nth(1)
            .unwrap()
            .split('>')
            .next()
            .unwrap();
        if expected.is_empty() {
            assert!(
                switch.contains(r#"href="/en/services?q=dotace&#38;applicant=citizen""#)
                    || switch.contains(r#"href="/en/services?q=dotace&amp;applicant=citizen""#),
                "{switch}"
            );
        } else {
            assert!(switch.contains(expected), "{path}: {switch}");
        }
        assert!(switch.contains("hreflang="));
    }
}

async fn unknown_pages_get_a_localized_404(app: TestApp) {
    let html = app.text("/neexistuje", 404).await;
    assert!(html.contains("Stránka nenalezena"));
    assert!(html.contains(r#"<html lang="cs""#));
    let html = app.text("/en/no-such-page", 404).await;
    assert!(html.contains("Page not found"));
    assert!(html.contains(r#"<html lang="en""#));
    let html = app.text("/sluzby/no-such-service", 404).await;
    assert!(html.contains("Stránka nenalezena"));
    // The error page shows the request id that the response carries.
    let r = app.get("/neexistuje").await;
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(r.text().await.unwrap().contains(&id));
}

async fn pagination_links_walk_all_results(app: TestApp) {
    let total = app.json("/api/v1/services", 200).await["total"]
        .as_u64()
        .unwrap() as usize;
    assert!(total > 20, "the demo catalogue needs more than one page");
    let mut path = "/sluzby".to_owned();
    let mut seen = 0;
    loop {
        let html = app.text(&path, 200).await;
        seen += html.matches(r#"<li class="result">"#).count();
        let next = html
            .split(r#"rel="next""#)
            .nth(1)
            .map(|a| a.split('>').next().unwrap());
        match next.and_then(|a| a.split(r#"href=""#).nth(1)) {
            Some(rest) => {
                path = rest
                    .split('"')
                    .next()
                    .unwrap()
                    .replace("&#38;", "&")
                    .replace("&amp;", "&")
            }
            None => break,
        }
    }
    assert_eq!(seen, total);
}

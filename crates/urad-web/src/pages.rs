//! The portal's HTML pages. Czech lives at the root, English under `/en` with English paths;
//! every page knows its twin in the other language so the switch keeps the visitor in place.

use crate::error::{error_page_with, render};
use crate::i18n::Tr;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use urad_catalog::{Catalog, FilterError, Filters, Fragment, Service};
use urad_core::{ApplicantType, ChannelFilter, Lang};

pub(crate) const PER_PAGE: usize = 20;

/// A page that exists in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Page {
    Home,
    Catalog,
    Service(String),
    Apply(String),
    Accessibility,
    Account,
}

impl Page {
    pub fn path(&self, lang: Lang) -> String {
        match (self, lang) {
            (Page::Home, Lang::Cs) => "/".into(),
            (Page::Home, Lang::En) => "/en".into(),
            (Page::Catalog, Lang::Cs) => "/sluzby".into(),
            (Page::Catalog, Lang::En) => "/en/services".into(),
            (Page::Service(slug), Lang::Cs) => format!("/sluzby/{slug}"),
            (Page::Service(slug), Lang::En) => format!("/en/services/{slug}"),
            (Page::Apply(slug), Lang::Cs) => format!("/sluzby/{slug}/podani"),
            (Page::Apply(slug), Lang::En) => format!("/en/services/{slug}/apply"),
            (Page::Accessibility, Lang::Cs) => "/prohlaseni-o-pristupnosti".into(),
            (Page::Accessibility, Lang::En) => "/en/accessibility".into(),
            (Page::Account, Lang::Cs) => "/ucet".into(),
            (Page::Account, Lang::En) => "/en/account".into(),
        }
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/prohlaseni-o-pristupnosti",
            get(|s: State<AppState>| accessibility(s, Lang::Cs)),
        )
        .route(
            "/en/accessibility",
            get(|s: State<AppState>| accessibility(s, Lang::En)),
        )
        .route("/", get(|s: State<AppState>| home(s, Lang::Cs)))
        .route("/en", get(|s: State<AppState>| home(s, Lang::En)))
        .route("/en/", get(|s: State<AppState>| home(s, Lang::En)))
        .route(
            "/sluzby",
            get(|s: State<AppState>, q: RawQuery, h: HeaderMap| catalog(s, q, h, Lang::Cs)),
        )
        .route(
            "/en/services",
            get(|s: State<AppState>, q: RawQuery, h: HeaderMap| catalog(s, q, h, Lang::En)),
        )
        .route(
            "/sluzby/{slug}",
            get(|s: State<AppState>, p: Path<String>, h: HeaderMap| service(s, p, h, Lang::Cs)),
        )
        .route(
            "/en/services/{slug}",
            get(|s: State<AppState>, p: Path<String>, h: HeaderMap| service(s, p, h, Lang::En)),
        )
        .route(
            "/sluzby/{slug}/podani",
            get(|s: State<AppState>, p: Path<String>, h: HeaderMap| apply(s, p, h, Lang::Cs)),
        )
        .route(
            "/en/services/{slug}/apply",
            get(|s: State<AppState>, p: Path<String>, h: HeaderMap| apply(s, p, h, Lang::En)),
        )
}

/// What every page shares: language, title, the language switch, the office in the footer.
pub(crate) struct Layout {
    pub lang: Lang,
    pub tr: Tr,
    pub title: String,
    pub switch_href: String,
    pub home_href: String,
    pub catalog_href: String,
    pub accessibility_href: String,
    pub catalog: Option<Arc<Catalog>>,
    /// Breadcrumbs from the home page to this page (this page last); none on top pages.
    pub crumbs: Vec<Link>,
    /// Who is signed in to the portal, for the header.
    pub viewer: Option<crate::account::Viewer>,
    pub account_href: String,
    pub sign_in_href: String,
}

impl Layout {
    pub fn new(lang: Lang, title: String, page: Page, catalog: Option<Arc<Catalog>>) -> Layout {
        Layout::with_query(lang, title, page, None, catalog)
    }

    fn with_query(
        lang: Lang,
        title: String,
        page: Page,
        query: Option<&str>,
        catalog: Option<Arc<Catalog>>,
    ) -> Layout {
        let mut switch_href = page.path(lang.other());
        if let Some(q) = query.filter(|q| !q.is_empty()) {
            switch_href.push('?');
            switch_href.push_str(q);
        }
        Layout {
            lang,
            tr: Tr::new(lang),
            title,
            switch_href,
            home_href: Page::Home.path(lang),
            accessibility_href: Page::Accessibility.path(lang),
            catalog_href: Page::Catalog.path(lang),
            catalog,
            crumbs: Vec::new(),
            viewer: crate::account::current_viewer(),
            account_href: Page::Account.path(lang),
            sign_in_href: match lang {
                Lang::Cs => "/ucet/prihlasit".into(),
                Lang::En => "/en/account/sign-in".into(),
            },
        }
    }

    /// A page of the sign-in flow: no catalogue, the language switch leads home.
    pub fn bare(lang: Lang, title: String) -> Layout {
        Layout::new(lang, title, Page::Home, None)
    }

    /// "My account", whose twin is the other language's account page.
    pub fn account(lang: Lang, title: String) -> Layout {
        Layout::new(lang, title, Page::Account, None)
    }

    /// Adds breadcrumbs: home, the catalogue, then `trail` (this page last).
    fn with_crumbs(mut self, trail: impl IntoIterator<Item = (String, String)>) -> Layout {
        let tr = self.tr;
        self.crumbs = [
            (self.home_href.clone(), tr.ts("nav-home")),
            (self.catalog_href.clone(), tr.ts("nav-catalog")),
        ]
        .into_iter()
        .chain(trail)
        .map(|(href, label)| Link {
            href,
            label,
            note: String::new(),
        })
        .collect();
        self
    }

    /// "My submissions" in the page's language, for the header.
    pub fn mine_href(&self) -> &'static str {
        crate::form_pages::paths::mine(self.lang)
    }

    /// The back office's inbox, for staff.
    pub fn office_href(&self) -> &'static str {
        crate::back_office::paths::inbox(self.lang)
    }

    pub fn other_lang(&self) -> Lang {
        self.lang.other()
    }

    /// `/assets/{path}` with its fingerprint, for cache busting.
    pub fn asset(&self, path: &str) -> String {
        static CACHE: std::sync::LazyLock<
            std::sync::Mutex<std::collections::HashMap<String, String>>,
        > = std::sync::LazyLock::new(Default::default);
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(path.to_owned())
            .or_insert_with(|| format!("/assets/{path}?v={}", crate::assets::fingerprint(path)))
            .clone()
    }

    /// A content text in the page's language.
    pub fn l<'t>(&self, text: &'t urad_core::Text) -> &'t str {
        text.get(self.lang)
    }

    /// A `tel:` link for a phone number as written for people.
    pub fn tel(&self, phone: &str) -> String {
        let digits: String = phone
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        format!("tel:{digits}")
    }
}

/// A link with a label.
pub(crate) struct Link {
    pub href: String,
    pub label: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    situations: Vec<Link>,
    applicants: Vec<Link>,
    popular: Vec<Link>,
    service_count: usize,
}

async fn home(State(state): State<AppState>, lang: Lang) -> Response {
    let tr = Tr::new(lang);
    let c = &state.catalog;
    let catalog_path = Page::Catalog.path(lang);
    let page = HomePage {
        situations: c
            .situations
            .iter()
            .map(|s| Link {
                href: format!("{catalog_path}?situation={}", s.key),
                label: s.name.get(lang).to_owned(),
                note: s.summary.get(lang).to_owned(),
            })
            .collect(),
        applicants: ApplicantType::ALL
            .iter()
            .map(|a| Link {
                href: format!("{catalog_path}?applicant={}", a.code()),
                label: a.label(lang).to_owned(),
                note: tr.ts(&format!("applicant-{}-note", a.code().replace('_', "-"))),
            })
            .collect(),
        popular: c
            .popular(8)
            .map(|s| Link {
                href: Page::Service(s.slug.clone()).path(lang),
                label: s.name.get(lang).to_owned(),
                note: s.summary.get(lang).to_owned(),
            })
            .collect(),
        service_count: c.services().len(),
        layout: Layout::new(lang, tr.ts("home-title"), Page::Home, Some(c.clone())),
    };
    render(StatusCode::OK, &page)
}

/// A filter of the catalogue: a select box and its options.
pub(crate) struct SelectField {
    /// Query parameter and element id.
    pub name: &'static str,
    /// Message id of the label.
    pub label: &'static str,
    pub choices: Vec<Choice>,
}

/// An option of a filter's select box.
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

struct ResultItem {
    href: String,
    name: Vec<Fragment>,
    summary: Vec<Fragment>,
    channel: String,
    online: bool,
}

#[derive(Template)]
#[template(path = "catalog.html")]
struct CatalogPage {
    layout: Layout,
    q: String,
    selects: Vec<SelectField>,
    error: Option<String>,
    count_text: String,
    filtered: bool,
    results: Vec<ResultItem>,
    page: usize,
    pages: usize,
    prev_href: Option<String>,
    next_href: Option<String>,
}

/// Why a catalogue request (page or API) is refused.
#[derive(Debug)]
pub(crate) enum QueryError {
    Malformed,
    Filter(FilterError),
    Page(String),
    PerPage(String),
}

impl QueryError {
    pub fn field(&self) -> &'static str {
        match self {
            QueryError::Malformed => "query",
            QueryError::Filter(FilterError::Applicant(_)) => "applicant",
            QueryError::Filter(FilterError::Situation(_)) => "situation",
            QueryError::Filter(FilterError::Agenda(_)) => "agenda",
            QueryError::Filter(FilterError::Channel(_)) => "channel",
            QueryError::Filter(FilterError::QueryTooLong { .. }) => "q",
            QueryError::Page(_) => "page",
            QueryError::PerPage(_) => "per_page",
        }
    }

    /// A message a person can act on, in their language.
    pub fn message(&self, tr: &Tr) -> String {
        match self {
            QueryError::Malformed => tr.ts("query-malformed"),
            QueryError::Filter(FilterError::Applicant(v)) => {
                tr.t1("filter-bad-applicant", "value", v.as_str())
            }
            QueryError::Filter(FilterError::Situation(v)) => {
                tr.t1("filter-bad-situation", "value", v.as_str())
            }
            QueryError::Filter(FilterError::Agenda(v)) => {
                tr.t1("filter-bad-agenda", "value", v.as_str())
            }
            QueryError::Filter(FilterError::Channel(v)) => {
                tr.t1("filter-bad-channel", "value", v.as_str())
            }
            QueryError::Filter(FilterError::QueryTooLong { max }) => {
                tr.t1("filter-query-too-long", "max", *max)
            }
            QueryError::Page(v) => tr.t1("filter-bad-page", "value", v.as_str()),
            QueryError::PerPage(v) => tr.t1("filter-bad-per-page", "value", v.as_str()),
        }
    }
}

/// Query parameters of the catalogue, shared by the page and the API.
pub(crate) struct CatalogQuery {
    pub filters: Filters,
    pub page: usize,
}

pub(crate) fn parse_query(
    catalog: &Catalog,
    raw: Option<&str>,
) -> (Vec<(String, String)>, Result<CatalogQuery, QueryError>) {
    // Percent-encoded bytes that are not UTF-8 decode to U+FFFD: refuse rather than guess.
    let pairs = match serde_urlencoded::from_str::<Vec<(String, String)>>(raw.unwrap_or("")) {
        Ok(p) if !has_replacement_char(&p) => p,
        _ => return (Vec::new(), Err(QueryError::Malformed)),
    };
    let result = (|| {
        let filters = catalog
            .parse_filters(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map_err(QueryError::Filter)?;
        let page = match param(&pairs, "page") {
            None => 1,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|&p| p >= 1)
                .ok_or_else(|| QueryError::Page(v.to_owned()))?,
        };
        Ok(CatalogQuery { filters, page })
    })();
    (pairs, result)
}

fn has_replacement_char(pairs: &[(String, String)]) -> bool {
    pairs
        .iter()
        .any(|(k, v)| k.contains('\u{FFFD}') || v.contains('\u{FFFD}'))
}

pub(crate) fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, v)| k == key && !v.trim().is_empty())
        .map(|(_, v)| v.trim())
}

fn choices<'a>(
    any: String,
    selected: Option<&str>,
    options: impl Iterator<Item = (&'a str, String)>,
) -> Vec<Choice> {
    let mut list = vec![Choice {
        value: String::new(),
        label: any,
        selected: selected.is_none(),
    }];
    list.extend(options.map(|(value, label)| Choice {
        selected: selected == Some(value),
        value: value.to_owned(),
        label,
    }));
    list
}

async fn catalog(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    lang: Lang,
) -> Response {
    let tr = Tr::new(lang);
    let c = &state.catalog;
    let (pairs, parsed) = parse_query(c, raw.as_deref());
    let found = parsed
        .as_ref()
        .ok()
        .map(|query| c.find(&query.filters, lang));
    let (status, error, page) = match &parsed {
        Ok(query) => (StatusCode::OK, None, query.page),
        Err(e) => (StatusCode::BAD_REQUEST, Some(e.message(&tr)), 1),
    };
    let total = found.as_ref().map_or(0, |f| f.services.len());
    let pages = total.div_ceil(PER_PAGE).max(1);
    if page > pages {
        return not_found_page(&state, lang, &headers);
    }
    let base = Page::Catalog.path(lang);
    let href_for = |p: usize| {
        let mut kept: Vec<(&str, String)> = ["q", "applicant", "situation", "agenda", "channel"]
            .into_iter()
            .filter_map(|k| param(&pairs, k).map(|v| (k, v.to_owned())))
            .collect();
        if p > 1 {
            kept.push(("page", p.to_string()));
        }
        let qs = serde_urlencoded::to_string(&kept).unwrap_or_default();
        if qs.is_empty() {
            base.clone()
        } else {
            format!("{base}?{qs}")
        }
    };
    let results = found
        .iter()
        .flat_map(|f| {
            f.services
                .iter()
                .skip((page - 1) * PER_PAGE)
                .take(PER_PAGE)
                .map(move |s| f.hit(s, lang))
        })
        .map(|h| ResultItem {
            href: Page::Service(h.service.slug.clone()).path(lang),
            name: h.name,
            summary: h.summary,
            channel: h.service.channel.label(lang).to_owned(),
            online: h.service.channel.is_online(),
        })
        .collect();
    let sel = |k: &str| {
        if parsed.is_ok() {
            param(&pairs, k)
        } else {
            None
        }
    };
    let q = param(&pairs, "q").unwrap_or("").to_owned();
    let filtered = parsed
        .as_ref()
        .is_ok_and(|p| p.filters != Filters::default());
    let title = if q.is_empty() {
        tr.ts("catalog-title")
    } else {
        tr.t1("search-title", "query", q.as_str())
    };
    let page_view = CatalogPage {
        selects: vec![
            SelectField {
                name: "applicant",
                label: "filter-applicant-label",
                choices: choices(
                    tr.ts("filter-any-applicant"),
                    sel("applicant"),
                    ApplicantType::ALL
                        .iter()
                        .map(|a| (a.code(), a.label(lang).to_owned())),
                ),
            },
            SelectField {
                name: "situation",
                label: "filter-situation-label",
                choices: choices(
                    tr.ts("filter-any-situation"),
                    sel("situation"),
                    c.situations
                        .iter()
                        .map(|s| (s.key.as_str(), s.name.get(lang).to_owned())),
                ),
            },
            SelectField {
                name: "agenda",
                label: "filter-agenda-label",
                choices: choices(
                    tr.ts("filter-any-agenda"),
                    sel("agenda"),
                    c.agendas
                        .iter()
                        .map(|a| (a.key.as_str(), a.name.get(lang).to_owned())),
                ),
            },
            SelectField {
                name: "channel",
                label: "filter-channel-label",
                choices: choices(
                    tr.ts("filter-any-channel"),
                    sel("channel"),
                    ChannelFilter::ALL
                        .iter()
                        .map(|ch| (ch.code(), ch.label(lang).to_owned())),
                ),
            },
        ],
        count_text: tr.t1("result-count", "count", total),
        error,
        filtered,
        results,
        page,
        pages,
        prev_href: (page > 1).then(|| href_for(page - 1)),
        next_href: (page < pages).then(|| href_for(page + 1)),
        layout: Layout::with_query(lang, title, Page::Catalog, raw.as_deref(), Some(c.clone())),
        q,
    };
    render(status, &page_view)
}

/// A row of the service's facts.
struct Fact {
    term: String,
    value: String,
}

#[derive(Template)]
#[template(path = "service.html")]
struct ServicePage<'a> {
    layout: Layout,
    s: &'a Service,
    name: &'a str,
    summary: &'a str,
    paragraphs: Vec<&'a str>,
    facts: Vec<Fact>,
    situations: Vec<Link>,
    documents: Vec<&'a str>,
    in_person_reason: Option<&'a str>,
    in_person_place: Option<&'a str>,
    apply_href: String,
    office_hours: Vec<(String, String)>,
}

fn processing_time(tr: &Tr, days: u32) -> String {
    if days == 0 {
        tr.ts("processing-on-the-spot")
    } else {
        tr.t1("processing-days", "days", days)
    }
}

async fn service(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    lang: Lang,
) -> Response {
    let c = state.catalog.clone();
    let Some(s) = c.service(&slug) else {
        return not_found_page(&state, lang, &headers);
    };
    let tr = Tr::new(lang);
    let catalog_path = Page::Catalog.path(lang);
    let agenda = c.agenda(&s.agenda);
    let mut facts = vec![
        Fact {
            term: tr.ts("fact-applicants"),
            value: s
                .applicant_types
                .iter()
                .map(|a| a.label(lang))
                .collect::<Vec<_>>()
                .join(", "),
        },
        Fact {
            term: tr.ts("fact-channel"),
            value: s.channel.label(lang).to_owned(),
        },
        Fact {
            term: tr.ts("fact-fee"),
            value: match (s.fee, &s.fee_note) {
                (Some(fee), Some(note)) if fee.0 > 0 => {
                    format!("{} ({})", fee.display(lang), note.get(lang))
                }
                (Some(fee), None) if fee.0 > 0 => fee.display(lang),
                (_, Some(note)) => format!("{} ({})", tr.ts("fee-none"), note.get(lang)),
                _ => tr.ts("fee-none"),
            },
        },
        Fact {
            term: tr.ts("fact-processing-time"),
            value: processing_time(&tr, s.processing_days),
        },
    ];
    if let Some(a) = agenda {
        facts.push(Fact {
            term: tr.ts("fact-agenda"),
            value: a.name.get(lang).to_owned(),
        });
        facts.push(Fact {
            term: tr.ts("fact-department"),
            value: a.department.get(lang).to_owned(),
        });
    }
    let office_hours = match &s.contact.office_hours {
        Some(h) => vec![(String::new(), h.get(lang).to_owned())],
        None => c
            .office
            .office_hours
            .iter()
            .map(|h| (h.days.get(lang).to_owned(), h.hours.clone()))
            .collect(),
    };
    let page = ServicePage {
        name: s.name.get(lang),
        summary: s.summary.get(lang),
        paragraphs: s.paragraphs(lang).collect(),
        facts,
        situations: s
            .life_situations
            .iter()
            .filter_map(|k| c.situation(k))
            .map(|sit| Link {
                href: format!("{catalog_path}?situation={}", sit.key),
                label: sit.name.get(lang).to_owned(),
                note: String::new(),
            })
            .collect(),
        documents: s.documents.iter().map(|d| d.get(lang)).collect(),
        in_person_reason: s
            .in_person
            .as_ref()
            .and_then(|p| p.reason.as_ref())
            .map(|r| r.get(lang)),
        in_person_place: s.in_person.as_ref().map(|p| p.place.get(lang)),
        apply_href: Page::Apply(s.slug.clone()).path(lang),
        office_hours,
        layout: Layout::new(
            lang,
            s.name.get(lang).to_owned(),
            Page::Service(s.slug.clone()),
            Some(c.clone()),
        )
        .with_crumbs([(String::new(), s.name.get(lang).to_owned())]),
        s,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "apply.html")]
struct ApplyPage<'a> {
    layout: Layout,
    name: &'a str,
    service_href: String,
    documents: Vec<&'a str>,
    data_box: &'a str,
    email: &'a str,
    /// The level the service needs, in words.
    level: String,
    /// Sign in, or step up, at the service's level first (none when the session has it).
    sign_in_href: Option<String>,
    /// The verified name the form will be filled with.
    verified_name: Option<String>,
    /// The service has an online form.
    has_form: bool,
    /// Its start button and the person's drafts, once signed in at the service's level.
    form_start: Option<crate::form_pages::FormStart>,
}

async fn apply(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    lang: Lang,
) -> Response {
    let c = state.catalog.clone();
    let Some(s) = c.service(&slug).filter(|s| s.channel.is_online()) else {
        return not_found_page(&state, lang, &headers);
    };
    let tr = Tr::new(lang);
    let needed: urad_identity::Loa = s
        .level_of_assurance
        .parse()
        .unwrap_or(urad_identity::Loa::Substantial);
    let viewer = crate::account::current_viewer();
    let here = Page::Apply(s.slug.clone()).path(lang);
    let form = crate::form_pages::form_of_service(&state, &s.slug);
    let form_start = match (form, &viewer) {
        (Some(f), Some(v)) if v.loa >= needed => {
            Some(crate::form_pages::form_start_for(&state, lang, f, v).await)
        }
        _ => None,
    };
    let sign_in_path = match lang {
        Lang::Cs => "/ucet/prihlasit",
        Lang::En => "/en/account/sign-in",
    };
    let page = ApplyPage {
        level: tr.ts(&format!("loa-{}", needed.code())),
        sign_in_href: match &viewer {
            Some(v) if v.loa >= needed => None,
            _ => Some(format!(
                "{sign_in_path}?acr={}&return={}",
                needed.code(),
                urad_identity::authorize::encode(&here)
            )),
        },
        verified_name: viewer.filter(|v| v.loa >= needed).map(|v| v.name),
        has_form: form.is_some(),
        form_start,
        name: s.name.get(lang),
        service_href: Page::Service(s.slug.clone()).path(lang),
        documents: s.documents.iter().map(|d| d.get(lang)).collect(),
        data_box: &c.office.data_box,
        email: &c.office.email,
        layout: Layout::new(
            lang,
            tr.t1("apply-title", "service", s.name.get(lang)),
            Page::Apply(s.slug.clone()),
            Some(c.clone()),
        )
        .with_crumbs([
            (
                Page::Service(s.slug.clone()).path(lang),
                s.name.get(lang).to_owned(),
            ),
            (String::new(), tr.ts("apply-heading")),
        ]),
    };
    render(StatusCode::OK, &page)
}

fn not_found_page(state: &AppState, lang: Lang, headers: &HeaderMap) -> Response {
    error_page_with(
        lang,
        StatusCode::NOT_FOUND,
        headers,
        Some(state.catalog.clone()),
    )
}

#[derive(Template)]
#[template(path = "accessibility.html")]
struct AccessibilityPage<'a> {
    layout: Layout,
    email: &'a str,
    phone: &'a str,
}

/// The accessibility statement that Act No. 99/2019 Coll. requires of public-sector sites.
async fn accessibility(State(state): State<AppState>, lang: Lang) -> Response {
    let c = state.catalog.clone();
    let page = AccessibilityPage {
        email: &c.office.email,
        phone: &c.office.phone,
        layout: Layout::new(
            lang,
            Tr::new(lang).ts("a11y-title"),
            Page::Accessibility,
            Some(c.clone()),
        ),
    };
    render(StatusCode::OK, &page)
}

/// Anything else: a 404 page in the language the path suggests.
pub(crate) async fn not_found(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    let lang = if path == "/en" || path.starts_with("/en/") {
        Lang::En
    } else {
        Lang::Cs
    };
    not_found_page(&state, lang, &headers)
}

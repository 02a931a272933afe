//! The agenda lead's dashboard

use super::*;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/urad/prehled", get(|s, q| dashboard(s, q, Lang::Cs)))
        .route(
            "/en/office/dashboard",
            get(|s, q| dashboard(s, q, Lang::En)),
        )
        .route(
            "/urad/prehled.csv",
            get(|s, q| dashboard_csv(s, q, Lang::Cs)),
        )
        .route(
            "/en/office/dashboard.csv",
            get(|s, q| dashboard_csv(s, q, Lang::En)),
        )
}

#[derive(Deserialize, Default)]
struct DashboardQuery {
    #[serde(default)]
    agenda: String,
}

/// How many days back the dashboard's chart goes.
const DASHBOARD_DAYS: i64 = 30;

#[derive(Template)]
#[template(path = "back_office/dashboard.html")]
struct DashboardPage {
    layout: Layout,
    action: String,
    agendas: Vec<Choice>,
    counts: Vec<(String, i64)>,
    overdue: i64,
    chart: String,
    table: urad_cases::dashboard::DataTable,
    csv_href: String,
}

/// The agendas whose dashboard `staff` may read, and the one asked for (else the first).
pub(super) fn led_agenda(staff: &Staff, asked: &str) -> Option<(Vec<String>, String)> {
    let led: Vec<String> = staff
        .agendas()
        .into_iter()
        .filter(|a| staff.may(Access::Read, Resource::Dashboard { agenda: a }))
        .map(str::to_owned)
        .collect();
    let chosen = led
        .iter()
        .find(|a| *a == asked)
        .or_else(|| led.first())?
        .clone();
    Some((led, chosen))
}

async fn dashboard_data(
    state: &AppState,
    staff: &Staff,
    agenda: &str,
) -> Result<urad_cases::dashboard::DailyCounts, CaseError> {
    let tz = urad_cases::deadline::office_time_zone();
    let today = jiff::Timestamp::from_second(state.clock.now())
        .map(|t| t.to_zoned(tz).date())
        .unwrap_or_default();
    let from = today
        .checked_sub(jiff::Span::new().days(DASHBOARD_DAYS - 1))
        .unwrap_or(today);
    cases::daily_counts(&state.db, staff, agenda, from, today).await
}

/// What the overview and its CSV both need: a head of agenda (else the way to sign in or a
/// refusal), the agendas they lead, the one shown and its daily counts.
async fn dashboard_of(
    state: &AppState,
    q: &DashboardQuery,
    lang: Lang,
) -> Result<
    (
        Staff,
        Vec<String>,
        String,
        urad_cases::dashboard::DailyCounts,
    ),
    Refused,
> {
    let (_, staff) = staff_member(state, lang, paths::dashboard(lang))?;
    let Some((led, agenda)) = led_agenda(&staff, &q.agenda) else {
        return Err(Refused::from(message(
            state,
            lang,
            StatusCode::FORBIDDEN,
            "office-leads-only-title",
            "office-leads-only-text",
        )));
    };
    let counts = dashboard_data(state, &staff, &agenda)
        .await
        .map_err(|e| failed(state, lang, &HeaderMap::new(), &e))?;
    Ok((staff, led, agenda, counts))
}

async fn dashboard(
    State(state): State<AppState>,
    Query(q): Query<DashboardQuery>,
    lang: Lang,
) -> Answer {
    let (staff, led, agenda, counts) = dashboard_of(&state, &q, lang).await?;
    let office = office(&state, lang)?;
    let here = paths::dashboard(lang);
    let filter = InboxFilter {
        agenda: Some(agenda.clone()),
        ..InboxFilter::default()
    };
    let inbox = cases::inbox(&state.db, state.clock.as_ref(), &staff, &filter, 0)
        .await
        .map_err(|e| failed(&state, lang, &HeaderMap::new(), &e))?;
    let workflow = office.workflow(&agenda);
    let tr = Tr::new(lang);
    let name = agenda_name(&state, &agenda, lang);
    let page = DashboardPage {
        layout: layout(
            &state,
            lang,
            tr.ts("office-dashboard-title"),
            paths::dashboard(lang.other()).into(),
        ),
        action: here.into(),
        agendas: led
            .iter()
            .map(|a| Choice {
                value: a.clone(),
                label: agenda_name(&state, a, lang),
                selected: *a == agenda,
            })
            .collect(),
        counts: inbox
            .counts
            .iter()
            .map(|(s, n)| {
                let label = workflow
                    .state(s)
                    .map_or_else(|| s.clone(), |st| st.name.get(lang).to_owned());
                (label, *n)
            })
            .collect(),
        overdue: inbox.overdue,
        chart: urad_cases::dashboard::svg(
            &counts,
            lang,
            &urad_cases::dashboard::Chart {
                id: "daily",
                agenda: Some(&name),
            },
        ),
        table: urad_cases::dashboard::table(&counts, lang),
        csv_href: format!("{}?agenda={agenda}", paths::dashboard_csv(lang)),
    };
    Ok(no_store(render(StatusCode::OK, &page)))
}

async fn dashboard_csv(
    State(state): State<AppState>,
    Query(q): Query<DashboardQuery>,
    lang: Lang,
) -> Answer {
    let (_, _, _, counts) = dashboard_of(&state, &q, lang).await?;
    Ok(csv_download(
        urad_cases::dashboard::csv(&counts, lang),
        "prehled-agendy.csv",
    ))
}

//! The registry journal

use super::*;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/urad/podaci-denik", get(|s, q| journal(s, q, Lang::Cs)))
        .route(
            "/en/office/registry-journal",
            get(|s, q| journal(s, q, Lang::En)),
        )
        .route(
            "/urad/podaci-denik.csv",
            get(|s, q| journal_csv(s, q, Lang::Cs)),
        )
        .route(
            "/en/office/registry-journal.csv",
            get(|s, q| journal_csv(s, q, Lang::En)),
        )
        .route(
            "/urad/podaci-denik/{id}/agenda",
            post(|s, p, h, f| reassign(s, p, h, f, Lang::Cs)),
        )
        .route(
            "/en/office/registry-journal/{id}/agenda",
            post(|s, p, h, f| reassign(s, p, h, f, Lang::En)),
        )
}

#[derive(Deserialize, Default)]
struct JournalQuery {
    /// A reference number, or part of one.
    #[serde(default)]
    q: String,
    #[serde(default)]
    agenda: String,
}

struct JournalRow {
    case_id: String,
    reassign_href: String,
    reference: String,
    received: String,
    form: String,
    agenda_key: String,
    agenda: String,
    state: String,
    reassignable: bool,
}

#[derive(Template)]
#[template(path = "back_office/journal.html")]
struct JournalPage {
    layout: Layout,
    action: String,
    csv_href: String,
    q: String,
    agendas: Vec<Choice>,
    all_agendas: Vec<Choice>,
    rows: Vec<JournalRow>,
    csrf: String,
}

/// What the journal lists: every received submission with its case, newest first.
async fn journal_rows(
    state: &AppState,
    office: &BackOffice,
    q: &JournalQuery,
    lang: Lang,
) -> Result<Vec<JournalRow>, CaseError> {
    let rows = state
        .db
        .fetch_all(
            urad_store::sql(
                "SELECT c.id, c.reference, c.agenda, c.workflow, c.state, s.received_at, s.form_id, s.form_version \
                 FROM case_file c JOIN submission s ON s.id = c.submission_id \
                 WHERE ($1 = '' OR c.reference LIKE $2) AND ($3 = '' OR c.agenda = $3) \
                 ORDER BY s.log_index DESC LIMIT 500",
            )
            .bind(q.q.trim())
            .bind(format!("%{}%", q.q.trim()))
            .bind(q.agenda.as_str()),
        )
        .await?;
    rows.iter()
        .map(|r| {
            let workflow: String = r.get("workflow")?;
            let state_key: String = r.get("state")?;
            let agenda_key: String = r.get("agenda")?;
            let form_id: String = r.get("form_id")?;
            let version: i64 = r.get("form_version")?;
            let w = office.workflows.get(&workflow);
            let case_id: String = r.get("id")?;
            Ok(JournalRow {
                reassign_href: paths::reassign(lang, &case_id),
                case_id,
                reference: r.get("reference")?,
                received: prague_time(r.get("received_at")?, lang),
                form: state
                    .forms
                    .version(&form_id, version as u32)
                    .map_or(form_id.clone(), |f| f.ui.title.get(lang).to_owned()),
                agenda: agenda_name(state, &agenda_key, lang),
                agenda_key,
                state: w
                    .and_then(|w| w.state(&state_key))
                    .map_or(state_key.clone(), |s| s.name.get(lang).to_owned()),
                reassignable: w.is_some_and(|w| w.initial == state_key),
            })
        })
        .collect::<Result<_, urad_store::StoreError>>()
        .map_err(CaseError::from)
}

/// What the journal's page and its CSV both need: the clerk (else the way to sign in or a
/// refusal), the back office, and the rows asked for.
async fn journal_of(
    state: &AppState,
    q: &JournalQuery,
    lang: Lang,
) -> Result<(Viewer, Arc<BackOffice>, Vec<JournalRow>), Refused> {
    let (viewer, staff) = staff_member(state, lang, paths::journal(lang))?;
    if !staff.may(Access::Read, Resource::RegistryJournal) {
        return Err(Refused::from(message(
            state,
            lang,
            StatusCode::FORBIDDEN,
            "office-journal-only-title",
            "office-journal-only-text",
        )));
    }
    let office = office(state, lang)?;
    let rows = journal_rows(state, &office, q, lang)
        .await
        .map_err(|e| failed(state, lang, &HeaderMap::new(), &e))?;
    Ok((viewer, office, rows))
}

async fn journal(
    State(state): State<AppState>,
    Query(q): Query<JournalQuery>,
    lang: Lang,
) -> Answer {
    let (viewer, office, rows) = journal_of(&state, &q, lang).await?;
    let here = paths::journal(lang);
    let tr = Tr::new(lang);
    let choices = |selected: &str| {
        office
            .agendas
            .keys()
            .map(|k| Choice {
                value: k.clone(),
                label: agenda_name(&state, k, lang),
                selected: selected == k,
            })
            .collect::<Vec<_>>()
    };
    let page = JournalPage {
        layout: layout(
            &state,
            lang,
            tr.ts("office-journal-title"),
            paths::journal(lang.other()).into(),
        ),
        action: here.into(),
        csv_href: format!(
            "{}?{}",
            paths::journal_csv(lang),
            serde_urlencoded::to_string([("q", q.q.as_str()), ("agenda", q.agenda.as_str())])
                .unwrap_or_default()
        ),
        q: q.q.clone(),
        agendas: choices(&q.agenda),
        all_agendas: choices(""),
        rows,
        csrf: viewer.csrf.clone(),
    };
    Ok(no_store(render(StatusCode::OK, &page)))
}

async fn journal_csv(
    State(state): State<AppState>,
    Query(q): Query<JournalQuery>,
    lang: Lang,
) -> Answer {
    let (_, _, rows) = journal_of(&state, &q, lang).await?;
    let tr = Tr::new(lang);
    let mut csv = [
        "office-col-reference",
        "office-col-received",
        "office-col-form",
        "office-col-agenda",
        "office-col-state",
    ]
    .iter()
    .map(|k| csv_field(tr.t(k)))
    .collect::<Vec<_>>()
    .join(",");
    csv.push_str("\r\n");
    for r in &rows {
        let line = [&r.reference, &r.received, &r.form, &r.agenda, &r.state]
            .iter()
            .map(|v| csv_field(v))
            .collect::<Vec<_>>()
            .join(",");
        csv.push_str(&line);
        csv.push_str("\r\n");
    }
    Ok(csv_download(csv, "podaci-denik.csv"))
}

#[derive(Deserialize)]
struct ReassignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    agenda: String,
}

async fn reassign(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<ReassignForm>,
    lang: Lang,
) -> Answer {
    let here = paths::journal(lang);
    let (viewer, staff) = staff_member(&state, lang, here)?;
    csrf_checked(&state, lang, &viewer, &form.csrf)?;
    let office = office(&state, lang)?;
    Ok(
        match cases::reassign(
            &state.db,
            state.clock.as_ref(),
            &office,
            &staff,
            &id,
            &form.agenda,
        )
        .await
        {
            Ok(_) => see_other(here),
            Err(e) => case_error(&state, lang, &headers, &e),
        },
    )
}

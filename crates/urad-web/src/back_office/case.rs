//! A case

use super::*;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/urad/spisy/{id}",
            get(|s, p, h| case_page(s, p, h, Lang::Cs)),
        )
        .route(
            "/en/office/cases/{id}",
            get(|s, p, h| case_page(s, p, h, Lang::En)),
        )
        .route(
            "/urad/spisy/{id}/prilohy/{attachment}",
            get(|s, p, h| case_file_download(s, p, h, Lang::Cs)),
        )
        .route(
            "/en/office/cases/{id}/files/{attachment}",
            get(|s, p, h| case_file_download(s, p, h, Lang::En)),
        )
        .route(
            "/urad/spisy/{id}/{action}",
            post(|s, p, h, f| case_post(s, p, h, f, Lang::Cs)),
        )
        .route(
            "/en/office/cases/{id}/{action}",
            post(|s, p, h, f| case_post(s, p, h, f, Lang::En)),
        )
}

struct EventRow {
    at: String,
    text: String,
    body: String,
}

struct MoveButton {
    key: String,
    label: String,
    /// A completion request asks for a message and days.
    completion: bool,
    /// A decision asks for its reasoning.
    decision: bool,
}

struct RequestRow {
    message: String,
    last_day: String,
    state: String,
}

#[derive(Template)]
#[template(path = "back_office/case.html")]
struct CasePage {
    layout: Layout,
    inbox_href: String,
    reference: String,
    form_title: String,
    agenda: String,
    state: String,
    received: String,
    due: String,
    overdue: bool,
    assignee: String,
    assigned_to_me: bool,
    csrf: String,
    revision: i64,
    assign_href: String,
    move_href: String,
    note_href: String,
    groups: Vec<AnswerGroup>,
    /// The submission's files: name, details and where to download them.
    files: Vec<(String, String, String)>,
    events: Vec<EventRow>,
    requests: Vec<RequestRow>,
    moves: Vec<MoveButton>,
    default_days: u32,
    closed: bool,
}

async fn case_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    lang: Lang,
) -> Answer {
    let here = paths::case(lang, &id);
    let (viewer, staff) = staff_member(&state, lang, &here)?;
    let office = office(&state, lang)?;
    let case = cases::for_staff(&state.db, &staff, &id)
        .await
        .map_err(|e| failed(&state, lang, &headers, &e))?;
    // Recorded before anything of it is shown: no record, no look.
    cases::record_read(&state.db, state.clock.as_ref(), &staff, &case, "case_page")
        .await
        .map_err(|e| failed(&state, lang, &headers, &e))?;
    let tr = Tr::new(lang);
    let received = urad_filing::received(&state.db, &case.submission_id).await;
    let (receipt, data) = match received {
        Ok(Some(r)) => r,
        Ok(None) => return Err(failed(&state, lang, &headers, &CaseError::NotFound)),
        Err(e) => {
            tracing::error!(error = %e, "reading a case's submission failed");
            return Err(case_error(
                &state,
                lang,
                &headers,
                &CaseError::NotAllowed("read".into()),
            )
            .into());
        }
    };
    let form = state.forms.version(&receipt.form_id, receipt.form_version);
    let files: Vec<urad_filing::attachments::Attachment> =
        urad_filing::attachments::list(&state.db, &case.applicant_id, &case.submission_id)
            .await
            .unwrap_or_default();
    let groups = form
        .map(|f| answer_groups(f, &data, &files, lang, None))
        .unwrap_or_default();
    let file_links = files
        .iter()
        .map(|a| {
            (
                a.file_name.clone(),
                format!(
                    "{}, {}",
                    urad_filing::attachments::size_text(u64::try_from(a.size).unwrap_or(0), lang),
                    a.media_type
                ),
                match lang {
                    Lang::Cs => format!("/urad/spisy/{}/prilohy/{}", case.id, a.id),
                    Lang::En => format!("/en/office/cases/{}/files/{}", case.id, a.id),
                },
            )
        })
        .collect();
    let events = cases::events(&state.db, &case.id, false)
        .await
        .unwrap_or_default();
    let requests = cases::completion_requests(&state.db, &case.id)
        .await
        .unwrap_or_default();
    let workflow = office.workflow(&case.agenda);
    let roles = staff.roles_in(&case.agenda);
    let may_change = staff.may(
        Access::Change,
        Resource::Case {
            agenda: &case.agenda,
        },
    );
    let moves = if may_change {
        workflow
            .available(&case.state, &roles)
            .map(|t| MoveButton {
                key: t.key.clone(),
                label: t.name.get(lang).to_owned(),
                completion: t.action == Some(urad_cases::workflow::Action::RequestCompletion),
                decision: t.action == Some(urad_cases::workflow::Action::Decide),
            })
            .collect()
    } else {
        Vec::new()
    };
    let state_label = |key: &Option<String>| {
        key.as_deref()
            .and_then(|k| workflow.state(k))
            .map(|s| s.name.get(lang).to_owned())
            .unwrap_or_default()
    };
    let page = CasePage {
        layout: layout(
            &state,
            lang,
            format!("{} {}", tr.t("office-case-title"), case.reference),
            paths::case(lang.other(), &id),
        ),
        inbox_href: paths::inbox(lang).into(),
        reference: case.reference.clone(),
        form_title: form.map_or_else(
            || receipt.form_id.clone(),
            |f| f.ui.title.get(lang).to_owned(),
        ),
        agenda: agenda_name(&state, &case.agenda, lang),
        state: state_name(&office, &case, lang),
        received: prague_time(receipt.received_at, lang),
        due: day_text(&case.due_last_day, lang),
        overdue: case.is_overdue(state.clock.now()),
        assignee: match &case.assignee_id {
            Some(a) if *a == staff.person_id => tr.ts("office-me"),
            Some(_) => tr.ts("office-someone"),
            None => tr.ts("office-nobody"),
        },
        assigned_to_me: case.assignee_id.as_deref() == Some(staff.person_id.as_str()),
        csrf: viewer.csrf.clone(),
        revision: case.revision,
        assign_href: paths::case_action(lang, &id, paths::action(lang, "assign")),
        move_href: paths::case_action(lang, &id, paths::action(lang, "move")),
        note_href: paths::case_action(lang, &id, paths::action(lang, "note")),
        groups,
        files: file_links,
        events: events
            .iter()
            .map(|e| EventRow {
                at: prague_time(e.at, lang),
                text: match (e.kind.as_str(), &e.to_state) {
                    ("opened", _) => tr.ts("office-event-opened"),
                    ("note", _) => tr.ts("office-event-note"),
                    ("assigned", _) => tr.ts("office-event-assigned"),
                    ("reassigned", _) => tr.ts("office-event-reassigned"),
                    ("completion_requested", _) => tr.ts("office-event-completion-requested"),
                    ("completed", _) => tr.ts("office-event-completed"),
                    ("completion_lapsed", _) => tr.ts("office-event-lapsed"),
                    (_, to) => tr.t1("office-event-moved", "state", state_label(to)),
                },
                body: e.body.clone().unwrap_or_default(),
            })
            .collect(),
        requests: requests
            .iter()
            .map(|r| RequestRow {
                message: r.message.clone(),
                last_day: day_text(&r.last_day, lang),
                state: if r.answered_at.is_some() {
                    tr.ts("office-request-answered")
                } else if r.lapsed_at.is_some() {
                    tr.ts("office-request-lapsed")
                } else {
                    tr.ts("office-request-open")
                },
            })
            .collect(),
        moves,
        default_days: office.agenda(&case.agenda).completion_days,
        closed: case.closed_at.is_some(),
    };
    Ok(no_store(render(StatusCode::OK, &page)))
}

#[derive(Deserialize)]
struct CaseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    revision: i64,
    #[serde(default)]
    transition: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    assign: String,
}

async fn case_post(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CaseForm>,
    lang: Lang,
) -> Answer {
    let here = paths::case(lang, &id);
    let (viewer, staff) = staff_member(&state, lang, &here)?;
    csrf_checked(&state, lang, &viewer, &form.csrf)?;
    let office = office(&state, lang)?;
    let db = &state.db;
    let clock = state.clock.as_ref();
    let done = match action.as_str() {
        "krok" | "move" => {
            let days = match form.days.trim() {
                "" => None,
                d => match d.parse::<u32>() {
                    Ok(d) => Some(d),
                    Err(_) => {
                        return Err(case_error(
                            &state,
                            lang,
                            &headers,
                            &CaseError::Invalid("the completion period is 1 to 365 days"),
                        )
                        .into())
                    }
                },
            };
            let document = decision_document(&state, &office, &staff, &id, &form)
                .await
                .map_err(|e| failed(&state, lang, &headers, &e))?;
            // One instant for the move and its notice: the deadline they name is one.
            let now = state.clock.now();
            let also = notice_for_move(&state, &office, &staff, &id, &form, days, now)
                .await
                .map_err(|e| failed(&state, lang, &headers, &e))?;
            let m = Move {
                transition: &form.transition,
                revision: form.revision,
                message: Some(form.message.as_str()),
                days,
                reasoning: Some(form.message.as_str()).filter(|m| !m.trim().is_empty()),
                document: document.as_deref(),
                also,
            };
            let at_now = urad_core::ManualClock::at(now);
            cases::take(db, &at_now, &office, &staff, &id, &m)
                .await
                .map(|_| ())
        }
        "prideleni" | "assign" => {
            let to = (form.assign == "me").then_some(staff.person_id.as_str());
            cases::assign(db, clock, &staff, &id, form.revision, to)
                .await
                .map(|_| ())
        }
        "poznamka" | "note" => cases::add_note(db, clock, &staff, &id, &form.note).await,
        _ => Err(CaseError::NotFound),
    };
    Ok(match done {
        Ok(()) => see_other(&here),
        Err(e) => case_error(&state, lang, &headers, &e),
    })
}

/// For a move that tells the applicant something (a completion request, a decision): their
/// portal notice and e-mail job, to commit with the move. `now` is the instant the move is
/// made at, so that the deadline named is the one the move counts.
async fn notice_for_move(
    state: &AppState,
    office: &BackOffice,
    staff: &Staff,
    case_id: &str,
    form: &CaseForm,
    days: Option<u32>,
    now: i64,
) -> Result<Vec<urad_store::statement::Statement>, CaseError> {
    use urad_cases::workflow::{Action, DecisionKind};
    let Some(templates) = state.notifications.as_deref() else {
        return Ok(Vec::new());
    };
    let case = cases::for_staff(&state.db, staff, case_id).await?;
    let Some(t) = office.workflow(&case.agenda).transition(&form.transition) else {
        return Ok(Vec::new());
    };
    let (receipt, _) = urad_filing::received(&state.db, &case.submission_id)
        .await
        .map_err(|e| CaseError::Unavailable(format!("the submission cannot be read: {e}")))?
        .ok_or(CaseError::NotFound)?;
    let service = state
        .forms
        .version(&receipt.form_id, receipt.form_version)
        .map_or_else(
            || urad_core::Text::new(receipt.form_id.clone(), receipt.form_id.clone()),
            |f| f.ui.title.clone(),
        );
    let url = format!(
        "{}{}",
        state.issuer,
        crate::form_pages::paths::detail(Lang::Cs, &case.submission_id)
    );
    let notification = match (t.action, t.decision) {
        (Some(Action::RequestCompletion), _) => {
            let days = days.unwrap_or(office.agenda(&case.agenda).completion_days);
            let Ok(deadline) = urad_cases::deadline::Deadline::in_days(now, days) else {
                // The move refuses such a period itself.
                return Ok(Vec::new());
            };
            let day = deadline.last_day().to_string();
            urad_notify::Notification::new(&case.applicant_id, "completion_requested")
                .text(
                    "deadline",
                    urad_core::Text::new(day_text(&day, Lang::Cs), day_text(&day, Lang::En)),
                )
                .value("message", form.message.trim())
        }
        (Some(Action::Decide), Some(kind)) => {
            let (cs, en) = match kind {
                DecisionKind::Approve => ("žádosti se vyhovuje", "the application is granted"),
                DecisionKind::Reject => ("žádost se zamítá", "the application is rejected"),
                DecisionKind::Stop => ("řízení se zastavuje", "the proceedings are stopped"),
            };
            urad_notify::Notification::new(&case.applicant_id, "decision_issued")
                .text("decision", urad_core::Text::new(cs, en))
        }
        _ => return Ok(Vec::new()),
    };
    let email = urad_identity::sessions::latest_email(&state.db, &case.applicant_id)
        .await
        .map_err(|e| {
            CaseError::Unavailable(format!("the applicant's address cannot be read: {e}"))
        })?;
    let notification = notification
        .case(&case.id)
        .value("reference", case.reference.as_str())
        .text("service", service)
        .value("url", url)
        .identity_email(email.as_deref())
        .dedup_key(&format!("{}:{}:{}", t.key, case.id, case.revision));
    urad_notify::notify(&state.db, state.clock.as_ref(), templates, &notification)
        .await
        .map_err(|e| CaseError::Unavailable(format!("the notice cannot be prepared: {e}")))
}

/// For a move that issues a decision: the decision as a PDF/A document, in Czech (the
/// binding language), from the decision template; `None` for every other move.
async fn decision_document(
    state: &AppState,
    office: &BackOffice,
    staff: &Staff,
    case_id: &str,
    form: &CaseForm,
) -> Result<Option<Vec<u8>>, CaseError> {
    use urad_cases::workflow::{Action, DecisionKind};
    let case = cases::for_staff(&state.db, staff, case_id).await?;
    let Some(t) = office.workflow(&case.agenda).transition(&form.transition) else {
        return Ok(None);
    };
    let (Some(Action::Decide), Some(kind)) = (t.action, t.decision) else {
        return Ok(None);
    };
    let kind = match kind {
        DecisionKind::Approve => urad_documents::DecisionKind::Approve,
        DecisionKind::Reject => urad_documents::DecisionKind::Reject,
        DecisionKind::Stop => urad_documents::DecisionKind::Stop,
    };
    let (receipt, data) = urad_filing::received(&state.db, &case.submission_id)
        .await
        .map_err(|e| CaseError::Unavailable(format!("the submission cannot be read: {e}")))?
        .ok_or(CaseError::NotFound)?;
    let form_def = state.forms.version(&receipt.form_id, receipt.form_version);
    // The applicant as the form names them: the fields the office's forms use for it.
    let text_at = |paths: &[&str]| {
        paths
            .iter()
            .find_map(|p| {
                p.split('.')
                    .try_fold(&data, |v, k| v.get(k))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_default()
    };
    let service = form_def
        .and_then(|f| f.ui.service.as_deref())
        .and_then(|s| state.catalog.service(s));
    let catalogue_office = &state.catalog.office;
    let settings = office.agenda(&case.agenda);
    let now = state.clock.now();
    let tz = urad_cases::deadline::office_time_zone();
    let reasoning = form.message.trim().to_owned();
    let data = urad_documents::DecisionData {
        office: urad_documents::OfficeData {
            name: catalogue_office.name.clone(),
            address: catalogue_office.address.clone(),
            data_box: catalogue_office.data_box.clone(),
        },
        reference: case.reference.clone(),
        issued_on: jiff::Timestamp::from_second(now)
            .map(|t| t.to_zoned(tz).date())
            .unwrap_or_default(),
        issued_in: office.issued_in.clone(),
        applicant_name: text_at(&["applicant.name", "sender.name", "name"]),
        applicant_address: text_at(&["applicant.address", "sender.address", "address"]),
        subject: form_def.map_or_else(
            || urad_core::Text::new(receipt.form_id.clone(), receipt.form_id.clone()),
            |f| f.ui.title.clone(),
        ),
        kind,
        operative: urad_core::Text::default(),
        // Written in Czech; the English rendering says it is not translated.
        reasoning: urad_core::Text::new(reasoning, String::new()),
        appeal: urad_documents::appeal_instruction(
            kind,
            &settings.appeal_to,
            &office.appeal_office,
        ),
        official_name: staff.name.clone(),
        official_function: urad_core::Text::new("oprávněná úřední osoba", "authorised official"),
        legal_basis: service
            .map(|s| {
                s.legal_basis
                    .iter()
                    .map(|l| urad_core::Text::new(l.clone(), l.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    };
    tokio::task::spawn_blocking(move || urad_documents::decision_pdf(&data, Lang::Cs))
        .await
        .map_err(|e| CaseError::Unavailable(format!("rendering the decision stopped: {e}")))?
        .map(Some)
        .map_err(|e| CaseError::Unavailable(format!("the decision cannot be rendered: {e}")))
}

// ---------------------------------------------------------------------------------------
// A case's files

/// One attached file of the case's submission, for officials of its agenda; recorded in the
/// access log before it is sent.
async fn case_file_download(
    State(state): State<AppState>,
    Path((id, attachment)): Path<(String, String)>,
    headers: HeaderMap,
    lang: Lang,
) -> Answer {
    let here = paths::case(lang, &id);
    let (_, staff) = staff_member(&state, lang, &here)?;
    let case = cases::for_staff(&state.db, &staff, &id)
        .await
        .map_err(|e| failed(&state, lang, &headers, &e))?;
    let Some(store) = &state.attachments else {
        return Err(case_error(
            &state,
            lang,
            &headers,
            &CaseError::Unavailable("no blob store".into()),
        )
        .into());
    };
    let (file, bytes) =
        match urad_filing::attachments::read(store, &case.applicant_id, &attachment).await {
            Ok((a, b)) if a.draft_id == case.submission_id => (a, b),
            _ => return Err(failed(&state, lang, &headers, &CaseError::NotFound)),
        };
    cases::record_read(&state.db, state.clock.as_ref(), &staff, &case, "attachment")
        .await
        .map_err(|e| failed(&state, lang, &headers, &e))?;
    let mut response = axum::body::Body::from_stream(bytes).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&file.media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment"),
    );
    Ok(no_store(response))
}

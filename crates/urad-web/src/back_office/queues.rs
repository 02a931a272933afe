//! The hand-offs to the records-management system: the visible queue

use super::*;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/urad/predani", get(|s| handoffs(s, Lang::Cs)))
        .route("/en/office/hand-offs", get(|s| handoffs(s, Lang::En)))
        .route(
            "/urad/predani/{id}/znovu",
            post(|s, p, f| resend(s, p, f, Lang::Cs)),
        )
        .route(
            "/en/office/hand-offs/{id}/resend",
            post(|s, p, f| resend(s, p, f, Lang::En)),
        )
}

struct HandoffRow {
    reference: String,
    state: String,
    attempts: i64,
    error: String,
    when: String,
    resend_href: Option<String>,
}

#[derive(Template)]
#[template(path = "back_office/handoffs.html")]
struct HandoffPage {
    layout: Layout,
    counts: Vec<(String, i64)>,
    rows: Vec<HandoffRow>,
    csrf: String,
}

async fn handoffs(State(state): State<AppState>, lang: Lang) -> Answer {
    let here = paths::handoffs(lang);
    let (viewer, staff) = staff_member(&state, lang, here)?;
    if !staff.may(Access::Read, Resource::RecordsQueue) {
        return Err(message(
            &state,
            lang,
            StatusCode::FORBIDDEN,
            "office-queue-only-title",
            "office-queue-only-text",
        )
        .into());
    }
    let queue = cases::RECORDS_QUEUE;
    let (counts, jobs) = match (
        urad_jobs::counts(&state.db, queue).await,
        urad_jobs::list(&state.db, queue, None, 100).await,
    ) {
        (Ok(c), Ok(j)) => (c, j),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "cannot read the hand-off queue");
            return Err(case_error(
                &state,
                lang,
                &HeaderMap::new(),
                &CaseError::Unavailable(e.to_string()),
            )
            .into());
        }
    };
    let tr = Tr::new(lang);
    let mut rows = Vec::new();
    for job in &jobs {
        let case_id = job
            .payload::<serde_json::Value>()
            .ok()
            .and_then(|p| p["case_id"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let reference = match cases::get(&state.db, &case_id).await {
            Ok(Some(c)) => c.reference,
            _ => case_id,
        };
        let failed = job.state == urad_jobs::JobState::Failed;
        rows.push(HandoffRow {
            reference,
            state: tr.ts(&format!("office-job-{}", job.state.code())),
            attempts: job.attempts,
            error: job.last_error.clone().unwrap_or_default(),
            when: prague_time(job.finished_at.unwrap_or(job.run_at), lang),
            resend_href: failed.then(|| paths::resend(lang, &job.id)),
        });
    }
    let page = HandoffPage {
        layout: layout(
            &state,
            lang,
            tr.ts("office-queue-title"),
            paths::handoffs(lang.other()).into(),
        ),
        counts: [
            ("pending", counts.pending),
            ("running", counts.running),
            ("done", counts.done),
            ("failed", counts.failed),
        ]
        .iter()
        .map(|(k, n)| (tr.ts(&format!("office-job-{k}")), *n))
        .collect(),
        rows,
        csrf: viewer.csrf.clone(),
    };
    Ok(no_store(render(StatusCode::OK, &page)))
}

#[derive(Deserialize)]
struct ResendForm {
    #[serde(default)]
    csrf: String,
}

async fn resend(
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ResendForm>,
    lang: Lang,
) -> Answer {
    let here = paths::handoffs(lang);
    let (viewer, staff) = staff_member(&state, lang, here)?;
    if !staff.may(Access::Change, Resource::RecordsQueue) {
        return Err(message(
            &state,
            lang,
            StatusCode::FORBIDDEN,
            "office-queue-only-title",
            "office-queue-only-text",
        )
        .into());
    }
    csrf_checked(&state, lang, &viewer, &form.csrf)?;
    // Only this queue's jobs are resent from here.
    match urad_jobs::get(&state.db, &id).await {
        Ok(Some(job)) if job.queue == cases::RECORDS_QUEUE => {}
        _ => {
            return Err(failed(
                &state,
                lang,
                &HeaderMap::new(),
                &CaseError::NotFound,
            ))
        }
    }
    Ok(
        match urad_jobs::resend(&state.db, state.clock.as_ref(), &id).await {
            Ok(_) => see_other(here),
            Err(e) => case_error(
                &state,
                lang,
                &HeaderMap::new(),
                &CaseError::Unavailable(e.to_string()),
            ),
        },
    )
}

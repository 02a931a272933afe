//! The visible queues of durable jobs that leave the office: hand-offs to the
//! records-management system, and outgoing e-mail. Each lists its jobs with their state,
//! attempts and last error; a failed one can be sent again once the cause is fixed.

use super::*;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/urad/predani",
            get(|s| queue(s, Queue::Handoffs, Lang::Cs)),
        )
        .route(
            "/en/office/hand-offs",
            get(|s| queue(s, Queue::Handoffs, Lang::En)),
        )
        .route(
            "/urad/predani/{id}/znovu",
            post(|s, p, f| resend(s, p, f, Queue::Handoffs, Lang::Cs)),
        )
        .route(
            "/en/office/hand-offs/{id}/resend",
            post(|s, p, f| resend(s, p, f, Queue::Handoffs, Lang::En)),
        )
        .route(
            "/urad/odchozi-posta",
            get(|s| queue(s, Queue::Mail, Lang::Cs)),
        )
        .route(
            "/en/office/outgoing-mail",
            get(|s| queue(s, Queue::Mail, Lang::En)),
        )
        .route(
            "/urad/odchozi-posta/{id}/znovu",
            post(|s, p, f| resend(s, p, f, Queue::Mail, Lang::Cs)),
        )
        .route(
            "/en/office/outgoing-mail/{id}/resend",
            post(|s, p, f| resend(s, p, f, Queue::Mail, Lang::En)),
        )
}

/// Which of the visible queues.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Queue {
    Handoffs,
    Mail,
}

impl Queue {
    fn name(self) -> &'static str {
        match self {
            Queue::Handoffs => cases::RECORDS_QUEUE,
            Queue::Mail => urad_notify::EMAIL_QUEUE,
        }
    }

    fn resource(self) -> Resource<'static> {
        match self {
            Queue::Handoffs => Resource::RecordsQueue,
            Queue::Mail => Resource::MailQueue,
        }
    }

    fn path(self, lang: Lang) -> &'static str {
        match self {
            Queue::Handoffs => paths::handoffs(lang),
            Queue::Mail => paths::mail(lang),
        }
    }

    /// The prefix of its texts: `…-title`, `…-intro`, `…-empty`, `…-only-title`,
    /// `…-only-text`, `…-what` (the first column), and the job states `…-job-pending` …
    fn texts(self) -> &'static str {
        match self {
            Queue::Handoffs => "office-queue",
            Queue::Mail => "office-mail",
        }
    }

    fn refusal(self, state: &AppState, lang: Lang) -> Refused {
        let t = self.texts();
        message(
            state,
            lang,
            StatusCode::FORBIDDEN,
            &format!("{t}-only-title"),
            &format!("{t}-only-text"),
        )
        .into()
    }
}

struct JobRow {
    /// What the job carries: a case's reference number, or an e-mail's recipient and subject.
    what: String,
    state: String,
    attempts: i64,
    error: String,
    when: String,
    resend_href: Option<String>,
}

#[derive(Template)]
#[template(path = "back_office/queue.html")]
struct QueuePage {
    layout: Layout,
    title: String,
    intro: String,
    empty: String,
    what_heading: String,
    counts: Vec<(String, i64)>,
    rows: Vec<JobRow>,
    csrf: String,
}

/// What a job carries, as the queue's page names it.
async fn job_subject(state: &AppState, queue: Queue, job: &urad_jobs::Job) -> String {
    match queue {
        Queue::Handoffs => {
            let case_id = job
                .payload::<serde_json::Value>()
                .ok()
                .and_then(|p| p["case_id"].as_str().map(str::to_owned))
                .unwrap_or_default();
            match cases::get(&state.db, &case_id).await {
                Ok(Some(c)) => c.reference,
                _ => case_id,
            }
        }
        Queue::Mail => match job.payload::<urad_notify::email::EmailJob>() {
            Ok(mail) => format!("{} — {}", mail.to, mail.subject),
            Err(_) => job.kind.clone(),
        },
    }
}

async fn queue(State(state): State<AppState>, queue: Queue, lang: Lang) -> Answer {
    let (viewer, staff) = staff_member(&state, lang, queue.path(lang))?;
    if !staff.may(Access::Read, queue.resource()) {
        return Err(queue.refusal(&state, lang));
    }
    let (counts, jobs) = match (
        urad_jobs::counts(&state.db, queue.name()).await,
        urad_jobs::list(&state.db, queue.name(), None, 100).await,
    ) {
        (Ok(c), Ok(j)) => (c, j),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, queue = queue.name(), "cannot read a job queue");
            return Err(failed(
                &state,
                lang,
                &HeaderMap::new(),
                &CaseError::Unavailable(e.to_string()),
            ));
        }
    };
    let tr = Tr::new(lang);
    let t = queue.texts();
    let mut rows = Vec::new();
    for job in &jobs {
        let failed = job.state == urad_jobs::JobState::Failed;
        rows.push(JobRow {
            what: job_subject(&state, queue, job).await,
            state: tr.ts(&format!("{t}-job-{}", job.state.code())),
            attempts: job.attempts,
            error: job.last_error.clone().unwrap_or_default(),
            when: prague_time(job.finished_at.unwrap_or(job.run_at), lang),
            resend_href: failed.then(|| paths::resend(queue.path(lang), lang, &job.id)),
        });
    }
    let page = QueuePage {
        layout: layout(
            &state,
            lang,
            tr.ts(&format!("{t}-title")),
            queue.path(lang.other()).into(),
        ),
        title: tr.ts(&format!("{t}-title")),
        intro: tr.ts(&format!("{t}-intro")),
        empty: tr.ts(&format!("{t}-empty")),
        what_heading: tr.ts(&format!("{t}-what")),
        counts: [
            ("pending", counts.pending),
            ("running", counts.running),
            ("done", counts.done),
            ("failed", counts.failed),
        ]
        .iter()
        .map(|(k, n)| (tr.ts(&format!("{t}-job-{k}")), *n))
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
    queue: Queue,
    lang: Lang,
) -> Answer {
    let here = queue.path(lang);
    let (viewer, staff) = staff_member(&state, lang, here)?;
    if !staff.may(Access::Change, queue.resource()) {
        return Err(queue.refusal(&state, lang));
    }
    csrf_checked(&state, lang, &viewer, &form.csrf)?;
    // Only this queue's jobs are resent from its page.
    match urad_jobs::get(&state.db, &id).await {
        Ok(Some(job)) if job.queue == queue.name() => {}
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

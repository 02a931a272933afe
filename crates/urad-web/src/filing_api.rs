//! The e-filing office's JSON API (`/api/v1/forms`, `/api/v1/drafts`, `/api/v1/submissions`):
//! what the portal's pages do, for API clients acting for a signed-in person with a bearer
//! access token from the identity gateway. A draft is kept on the server; sending it is
//! idempotent (the same draft sent twice answers with its first receipt), so a client may
//! retry after a timeout without making a second submission.

use crate::api::{ApiError, LocalizedText};
use crate::oidc::bearer;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use urad_core::Lang;
use urad_filing::{FilingError, SubmitRequest};
use urad_forms::FormDefinition;
use urad_identity::sessions::Session;
use urad_identity::Loa;
use utoipa::ToSchema;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/forms", get(list_forms))
        .route("/api/v1/forms/{form}", get(get_form))
        .route("/api/v1/drafts", post(create_draft))
        .route("/api/v1/drafts/{id}", get(get_draft).put(put_draft))
        .route("/api/v1/drafts/{id}/submit", post(submit_draft))
        .route("/api/v1/submissions/{id}", get(get_submission))
        .route("/api/v1/submissions/{id}/receipt", get(get_receipt_file))
        .route(
            "/api/v1/drafts/{id}/attachments/{attachment}",
            get(get_attachment).delete(delete_attachment),
        )
}

/// A form as API clients see it: the JSON Schema its data must satisfy.
#[derive(Serialize, ToSchema)]
pub(crate) struct FormDto {
    #[schema(example = "kotlikova-dotace")]
    id: String,
    /// The version new drafts are made with.
    version: u32,
    title: LocalizedText,
    /// The catalogue service the form belongs to, if any.
    service: Option<String>,
    /// The level of assurance a person needs to send it (`low`, `substantial`, `high`).
    level_of_assurance: String,
    /// JSON Schema 2020-12 of the data.
    #[schema(value_type = Object)]
    schema: Value,
    attachment_slots: Vec<AttachmentSlotDto>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AttachmentSlotDto {
    id: String,
    label: LocalizedText,
    /// Media types accepted (decided from the file's content).
    types: Vec<String>,
    max_files: u32,
    required: bool,
}

/// A draft kept on the server.
#[derive(Serialize, ToSchema)]
pub(crate) struct DraftDto {
    id: String,
    form: String,
    version: u32,
    #[schema(value_type = Object)]
    data: Value,
    /// Counts every change of the draft.
    revision: i64,
    /// Unix seconds.
    created_at: i64,
    updated_at: i64,
    /// Set once the draft has been sent (then see `/api/v1/submissions/{id}`).
    submitted_at: Option<i64>,
}

/// What the filing office confirms it received.
#[derive(Serialize, ToSchema)]
pub(crate) struct ReceiptDto {
    /// The submission's id (its draft's).
    id: String,
    /// The registry journal's reference number, unique per office and year.
    #[schema(example = "KUMSK 12345/2026")]
    reference: String,
    /// What the receipt sequence counts in (`form:kotlikova-dotace`).
    scope: String,
    /// The order of receipt within the scope: 1, 2, 3 … without gaps.
    sequence: i64,
    /// Unix seconds, from the server's clock.
    received_at: i64,
    form: String,
    version: u32,
    /// SHA-256 (hex) of the data exactly as stored.
    data_sha256: String,
    /// The submission's leaf in the receipt log.
    log_index: i64,
    attachments: Vec<ReceiptAttachmentDto>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ReceiptAttachmentDto {
    slot: String,
    file_name: String,
    media_type: String,
    size: i64,
    sha256: String,
}

/// A new draft.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewDraft {
    /// The form's id; the draft is made with its latest version.
    form: String,
    /// What is filled in so far (may be incomplete).
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    data: Value,
}

/// A draft's new data (replaces the old, whole).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DraftData {
    #[schema(value_type = Object)]
    data: Value,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// A refused submission: the sentence above and the problem at each field.
#[derive(Serialize, ToSchema)]
pub(crate) struct InvalidSubmission {
    error: String,
    message: LocalizedText,
    /// One per field, in the order of the form.
    fields: Vec<FieldProblem>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct FieldProblem {
    /// The field's dotted path (`building.type`).
    field: String,
    /// The JSON Schema keyword that failed.
    keyword: String,
    message: LocalizedText,
}

fn both(message: impl Fn(Lang) -> String) -> LocalizedText {
    LocalizedText {
        cs: message(Lang::Cs),
        en: message(Lang::En),
    }
}

fn refused(status: StatusCode, field: Option<&str>, message: LocalizedText) -> Response {
    let body = ApiError {
        error: message.en.clone(),
        message,
        field: field.map(str::to_owned),
    };
    (status, Json(body)).into_response()
}

/// A filing error as an answer: its status, and its message in both languages.
fn filing_refused(e: FilingError, form: Option<&FormDefinition>, data: Option<&Value>) -> Response {
    let status = match &e {
        FilingError::UnknownDraft => StatusCode::NOT_FOUND,
        // The draft's form version is no longer served: it cannot be sent as it is.
        FilingError::UnknownForm(_) => StatusCode::GONE,
        FilingError::AlreadySubmitted | FilingError::Changed => StatusCode::CONFLICT,
        FilingError::Invalid(_) | FilingError::Attachments(_) => StatusCode::UNPROCESSABLE_ENTITY,
        FilingError::Store(inner) => {
            tracing::error!(error = %inner, "filing store error");
            StatusCode::SERVICE_UNAVAILABLE
        }
    };
    if let (FilingError::Invalid(cs), Some(form), Some(data)) = (&e, form, data) {
        let en = form.check(data, Lang::En);
        let fields = cs
            .iter()
            .map(|c| FieldProblem {
                field: c.field.clone(),
                keyword: c.keyword.clone(),
                message: LocalizedText {
                    cs: c.message.clone(),
                    en: en
                        .iter()
                        .find(|e| e.field == c.field)
                        .map_or_else(|| c.message.clone(), |e| e.message.clone()),
                },
            })
            .collect();
        let message = both(|lang| e.message(lang));
        let body = InvalidSubmission {
            error: message.en.clone(),
            message,
            fields,
        };
        return (status, Json(body)).into_response();
    }
    refused(status, None, both(|lang| e.message(lang)))
}

/// A `403` asking the client to have the person sign in again at a higher level (RFC 9470).
fn step_up_needed(needed: Loa) -> Response {
    let mut response = refused(
        StatusCode::FORBIDDEN,
        None,
        both(|lang| {
            match lang {
            Lang::Cs => format!(
                "Tento formulář vyžaduje ověření totožnosti úrovně „{}“; přihlaste se znovu vyšší úrovní.",
                needed.code()
            ),
            Lang::En => format!(
                "This form needs identity verified at level “{}”; sign in again at a higher level.",
                needed.code()
            ),
        }
        }),
    );
    let challenge = format!(
        r#"Bearer realm="urad", error="insufficient_user_authentication", acr_values="{}""#,
        needed.uri()
    );
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

/// The JSON body, or what is wrong with it (for a `400`).
fn json_body<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, LocalizedText> {
    serde_json::from_slice(body).map_err(|e| {
        let at = format!("{}:{}", e.line(), e.column());
        both(|lang| match lang {
            Lang::Cs => format!(
                "Tělo požadavku není platný JSON požadovaného tvaru (řádek:sloupec {at}): {e}"
            ),
            Lang::En => format!(
                "The request body is not valid JSON of the expected shape (line:column {at}): {e}"
            ),
        })
    })
}

fn no_form(form: &str) -> Response {
    refused(
        StatusCode::NOT_FOUND,
        Some("form"),
        both(|lang| match lang {
            Lang::Cs => format!("Formulář „{form}“ neexistuje."),
            Lang::En => format!("There is no form “{form}”."),
        }),
    )
}

fn form_dto(state: &AppState, form: &FormDefinition) -> FormDto {
    FormDto {
        id: form.id.clone(),
        version: form.version,
        title: (&form.ui.title).into(),
        service: form.ui.service.clone(),
        level_of_assurance: crate::form_pages::level_needed(state, form)
            .code()
            .to_owned(),
        schema: form.schema.clone(),
        attachment_slots: form
            .ui
            .attachments
            .iter()
            .map(|a| AttachmentSlotDto {
                id: a.id.clone(),
                label: (&a.label).into(),
                types: a.types.clone(),
                max_files: a.max_files,
                required: a.required,
            })
            .collect(),
    }
}

fn draft_dto(d: urad_filing::Draft) -> DraftDto {
    DraftDto {
        id: d.id,
        form: d.form_id,
        version: d.form_version,
        data: d.data,
        revision: d.revision,
        created_at: d.created_at,
        updated_at: d.updated_at,
        submitted_at: d.submitted_at,
    }
}

fn receipt_dto(r: urad_filing::Receipt) -> ReceiptDto {
    ReceiptDto {
        id: r.id,
        reference: r.reference,
        scope: r.scope,
        sequence: r.sequence,
        received_at: r.received_at,
        form: r.form_id,
        version: r.form_version,
        data_sha256: r.data_sha256,
        log_index: r.log_index,
        attachments: r
            .attachments
            .into_iter()
            .map(|a| ReceiptAttachmentDto {
                slot: a.slot,
                file_name: a.file_name,
                media_type: a.media_type,
                size: a.size,
                sha256: a.sha256,
            })
            .collect(),
    }
}

/// Lists the forms (their latest versions).
#[utoipa::path(get, path = "/api/v1/forms", tag = "filing",
    responses((status = 200, description = "Every form's latest version", body = Vec<FormDto>)))]
pub(crate) async fn list_forms(State(state): State<AppState>) -> Response {
    let forms: Vec<FormDto> = state
        .forms
        .all_latest()
        .map(|f| form_dto(&state, f))
        .collect();
    Json(forms).into_response()
}

/// One form's latest version.
#[utoipa::path(get, path = "/api/v1/forms/{form}", tag = "filing",
    params(("form" = String, Path, description = "The form's id")),
    responses(
        (status = 200, description = "The form", body = FormDto),
        (status = 404, description = "No such form", body = ApiError)))]
pub(crate) async fn get_form(State(state): State<AppState>, Path(form): Path<String>) -> Response {
    match state.forms.latest(&form) {
        Some(f) => Json(form_dto(&state, f)).into_response(),
        None => no_form(&form),
    }
}

/// The signed-in person behind the bearer token.
async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Session, Response> {
    bearer(state, headers).await.map(|(_, session)| session)
}

/// Starts a draft of a form's latest version.
#[utoipa::path(post, path = "/api/v1/drafts", tag = "filing",
    request_body = NewDraft,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The draft", body = DraftDto),
        (status = 400, description = "The body is not valid JSON of this shape", body = ApiError),
        (status = 401, description = "Missing, invalid or expired access token"),
        (status = 403, description = "The form needs a higher level of assurance", body = ApiError),
        (status = 404, description = "No such form", body = ApiError)))]
pub(crate) async fn create_draft(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let session = match caller(&state, &headers).await {
        Ok(s) => s,
        Err(refusal) => return refusal,
    };
    let new: NewDraft = match json_body(&body) {
        Ok(n) => n,
        Err(problem) => return refused(StatusCode::BAD_REQUEST, None, problem),
    };
    let Some(form) = state.forms.latest(&new.form) else {
        return no_form(&new.form);
    };
    let needed = crate::form_pages::level_needed(&state, form);
    if session.loa < needed {
        return step_up_needed(needed);
    }
    let clock = state.clock.as_ref();
    let created = urad_filing::new_draft(
        &state.db,
        clock,
        &state.forms,
        &session.person_id,
        &new.form,
        &new.data,
    )
    .await;
    match created {
        Ok(d) => (StatusCode::CREATED, Json(draft_dto(d))).into_response(),
        Err(e) => filing_refused(e, None, None),
    }
}

/// One of the person's drafts.
#[utoipa::path(get, path = "/api/v1/drafts/{id}", tag = "filing",
    params(("id" = String, Path, description = "The draft's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The draft", body = DraftDto),
        (status = 401, description = "Missing, invalid or expired access token"),
        (status = 404, description = "No such draft of this person", body = ApiError)))]
pub(crate) async fn get_draft(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let session = match caller(&state, &headers).await {
        Ok(s) => s,
        Err(refusal) => return refusal,
    };
    match urad_filing::draft(&state.db, &session.person_id, &id).await {
        Ok(Some(d)) => Json(draft_dto(d)).into_response(),
        Ok(None) => filing_refused(FilingError::UnknownDraft, None, None),
        Err(e) => filing_refused(e, None, None),
    }
}

/// Replaces a draft's data (it may be incomplete while it is a draft).
#[utoipa::path(put, path = "/api/v1/drafts/{id}", tag = "filing",
    params(("id" = String, Path, description = "The draft's id")),
    request_body = DraftData,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The draft as saved", body = DraftDto),
        (status = 400, description = "The body is not valid JSON of this shape", body = ApiError),
        (status = 401, description = "Missing, invalid or expired access token"),
        (status = 404, description = "No such draft of this person", body = ApiError),
        (status = 409, description = "The draft has been sent already", body = ApiError)))]
pub(crate) async fn put_draft(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let session = match caller(&state, &headers).await {
        Ok(s) => s,
        Err(refusal) => return refusal,
    };
    let new: DraftData = match json_body(&body) {
        Ok(n) => n,
        Err(problem) => return refused(StatusCode::BAD_REQUEST, None, problem),
    };
    let clock = state.clock.as_ref();
    if let Err(e) =
        urad_filing::save_draft(&state.db, clock, &session.person_id, &id, &new.data).await
    {
        return filing_refused(e, None, None);
    }
    match urad_filing::draft(&state.db, &session.person_id, &id).await {
        Ok(Some(d)) => Json(draft_dto(d)).into_response(),
        Ok(None) => filing_refused(FilingError::UnknownDraft, None, None),
        Err(e) => filing_refused(e, None, None),
    }
}

/// Sends a draft: validated again, received with a reference number, a receipt sequence and
/// the receipt instant. Sending the same draft again answers `200` with the first receipt.
#[utoipa::path(post, path = "/api/v1/drafts/{id}/submit", tag = "filing",
    params(("id" = String, Path, description = "The draft's id")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Received", body = ReceiptDto),
        (status = 200, description = "Received before: the first receipt", body = ReceiptDto),
        (status = 401, description = "Missing, invalid or expired access token"),
        (status = 403, description = "The form needs a higher level of assurance", body = ApiError),
        (status = 404, description = "No such draft of this person", body = ApiError),
        (status = 409, description = "The draft changed while it was being sent", body = ApiError),
        (status = 410, description = "The draft's form version is no longer in use", body = ApiError),
        (status = 422, description = "The data do not satisfy the form", body = InvalidSubmission)))]
pub(crate) async fn submit_draft(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let session = match caller(&state, &headers).await {
        Ok(s) => s,
        Err(refusal) => return refusal,
    };
    let person = session.person_id.as_str();
    let draft = match urad_filing::draft(&state.db, person, &id).await {
        Ok(Some(d)) => d,
        Ok(None) => return filing_refused(FilingError::UnknownDraft, None, None),
        Err(e) => return filing_refused(e, None, None),
    };
    let form = state.forms.version(&draft.form_id, draft.form_version);
    if let Some(form) = form {
        let needed = crate::form_pages::level_needed(&state, form);
        if session.loa < needed {
            return step_up_needed(needed);
        }
    }
    let sent_before = draft.submitted_at.is_some();
    // A grant application counts in its call, and is received only while the call is open
    // (a retry of one sent in time gets its receipt whenever it comes).
    let scope = match form.map(|f| state.submission_scope(f, state.clock.now())) {
        Some(Ok(scope)) => scope,
        Some(Err(closed)) if !sent_before => {
            return refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                both(|lang| closed.message(lang)),
            )
        }
        _ => format!("form:{}", draft.form_id),
    };
    let request = SubmitRequest {
        person_id: person,
        draft_id: &id,
        scope: &scope,
        lang: Lang::Cs,
        attachment_limits: state.attachment_limits(),
    };
    let clock = state.clock.as_ref();
    let office = state.catalog.office.code.as_str();
    match urad_filing::submit(&state.db, clock, &state.forms, office, &request).await {
        Ok(receipt) => {
            let status = if sent_before {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            (status, Json(receipt_dto(receipt))).into_response()
        }
        Err(e) => filing_refused(e, form, Some(&draft.data)),
    }
}

/// The receipt of one of the person's submissions.
#[utoipa::path(get, path = "/api/v1/submissions/{id}", tag = "filing",
    params(("id" = String, Path, description = "The submission's id (its draft's)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The receipt", body = ReceiptDto),
        (status = 401, description = "Missing, invalid or expired access token"),
        (status = 404, description = "No such submission of this person", body = ApiError)))]
pub(crate) async fn get_submission(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let session = match caller(&state, &headers).await {
        Ok(s) => s,
        Err(refusal) => return refusal,
    };
    match urad_filing::receipt(&state.db, &session.person_id, &id).await {
        Ok(Some(r)) => Json(receipt_dto(r)).into_response(),
        Ok(None) => refused(
            StatusCode::NOT_FOUND,
            None,
            both(|lang| match lang {
                Lang::Cs => "Toto podání neexistuje, nebo patří někomu jinému.".to_owned(),
                Lang::En => {
                    "There is no such submission, or it belongs to someone else.".to_owned()
                }
            }),
        ),
        Err(e) => filing_refused(e, None, None),
    }
}

/// The signed receipt file of one of the person's submissions: the receipt as a JWS (EdDSA),
/// a signed tree head of the receipt log that includes it, the inclusion proof and the
/// office's public key — everything `urad verify-receipt` needs, offline.
#[utoipa::path(get, path = "/api/v1/submissions/{id}/receipt", tag = "filing",
    params(("id" = String, Path, description = "The submission's id (its draft's)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The receipt file", content_type = "application/json"),
        (status = 401, description = "Missing, invalid or expired access token"),
        (status = 404, description = "No such submission of this person", body = ApiError)))]
pub(crate) async fn get_receipt_file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let session = match caller(&state, &headers).await {
        Ok(s) => s,
        Err(refusal) => return refusal,
    };
    let clock = state.clock.as_ref();
    match state
        .receipt_log
        .receipt_file(&state.db, clock, &session.person_id, &id)
        .await
    {
        Ok(Some(file)) => {
            ([(header::CONTENT_TYPE, "application/json")], file.to_json()).into_response()
        }
        Ok(None) => no_submission(),
        Err(e) => {
            tracing::error!(error = %e, "cannot make the receipt file");
            refused(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                both(|lang| {
                    FilingError::Store(urad_store::StoreError::WriterStopped).message(lang)
                }),
            )
        }
    }
}

fn no_submission() -> Response {
    refused(
        StatusCode::NOT_FOUND,
        None,
        both(|lang| match lang {
            Lang::Cs => "Toto podání neexistuje, nebo patří někomu jinému.".to_owned(),
            Lang::En => "There is no such submission, or it belongs to someone else.".to_owned(),
        }),
    )
}

// ---------------------------------------------------------------------------------------
// Attachments: uploaded as the request body, streamed to the blob store (never wholly in
// memory); the type is decided from the content, the limits are checked as bytes arrive.

/// Routes whose request bodies are files: outside the app's 64 KB body limit, as the
/// attachments module enforces the limits of files and submissions itself while streaming.
pub(crate) fn upload_routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/drafts/{id}/attachments",
        get(list_attachments).post(upload_attachment),
    )
}

/// An attached file of a draft.
#[derive(Serialize, ToSchema)]
pub(crate) struct AttachmentDto {
    id: String,
    slot: String,
    /// The name as sanitised (path parts and unsafe characters removed).
    file_name: String,
    /// Decided from the content.
    media_type: String,
    size: i64,
    /// SHA-256 (hex) of the bytes.
    sha256: String,
    created_at: i64,
}

impl From<urad_filing::attachments::Attachment> for AttachmentDto {
    fn from(a: urad_filing::attachments::Attachment) -> AttachmentDto {
        AttachmentDto {
            id: a.id,
            slot: a.slot,
            file_name: a.file_name,
            media_type: a.media_type,
            size: a.size,
            sha256: a.sha256,
            created_at: a.created_at,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UploadParams {
    /// The form's attachment slot.
    slot: String,
    /// The file's name (kept sanitised; its type is decided from the content).
    name: String,
}

fn attachment_refused(e: urad_filing::attachments::AttachmentError) -> Response {
    use urad_filing::attachments::AttachmentError as E;
    let status = match &e {
        // The slot is a query parameter here, not a path the portal links to.
        E::UnknownSlot(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => crate::form_pages::attachment_status(&e),
    };
    refused(status, None, both(|lang| e.message(lang)))
}

fn no_blob_store() -> Response {
    refused(
        StatusCode::SERVICE_UNAVAILABLE,
        None,
        both(|lang| match lang {
            Lang::Cs => "Přílohy teď nelze přijímat; zkuste to prosím později.".to_owned(),
            Lang::En => "Attachments cannot be received now; please try again later.".to_owned(),
        }),
    )
}

/// Adds a file to a slot of a draft: the request body is the file.
#[utoipa::path(post, path = "/api/v1/drafts/{id}/attachments", tag = "filing",
    params(("id" = String, Path, description = "The draft's id"), UploadParams),
    request_body(content_type = "application/octet-stream", description = "The file's bytes"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Kept", body = AttachmentDto),
        (status = 400, description = "Empty, or the upload broke off", body = ApiError),
        (status = 401, description = "Missing, invalid or expired access token"),
        (status = 404, description = "No such draft of this person", body = ApiError),
        (status = 409, description = "The draft was sent, or the slot or submission has as many files as it may", body = ApiError),
        (status = 413, description = "Larger than the file's or the submission's limit", body = ApiError),
        (status = 415, description = "A type the slot does not take, a program, a zip bomb, or not a real document", body = ApiError),
        (status = 422, description = "The form has no such slot", body = ApiError)))]
pub(crate) async fn upload_attachment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::extract::Query(params): axum::extract::Query<UploadParams>,
    body: axum::body::Body,
) -> Response {
    let session = match caller(&state, &headers).await {
        Ok(s) => s,
        Err(refusal) => return refusal,
    };
    let Some(store) = &state.attachments else {
        return no_blob_store();
    };
    let upload = urad_filing::attachments::NewAttachment {
        person_id: &session.person_id,
        draft_id: &id,
        slot: &params.slot,
        file_name: &params.name,
    };
    let clock = state.clock.as_ref();
    match urad_filing::attachments::add(
        store,
        clock,
        &state.forms,
        &upload,
        body.into_data_stream(),
    )
    .await
    {
        Ok(a) => (StatusCode::CREATED, Json(AttachmentDto::from(a))).into_response(),
        Err(e) => attachment_refused(e),
    }
}

/// A draft's attachments, in slot order and then the order they were added.
#[utoipa::path(get, path = "/api/v1/drafts/{id}/attachments", tag = "filing",
    params(("id" = String, Path, description = "The draft's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The attachments", body = Vec<AttachmentDto>),
        (status = 401, description = "Missing, invalid or expired access token")))]
pub(crate) async fn list_attachments(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let session = match caller(&state, &headers).await {
        Ok(s) => s,
        Err(refusal) => return refusal,
    };
    match urad_filing::attachments::list(&state.db, &session.person_id, &id).await {
        Ok(all) => {
            Json(all.into_iter().map(AttachmentDto::from).collect::<Vec<_>>()).into_response()
        }
        Err(e) => attachment_refused(e),
    }
}

/// One attachment's bytes (also after the draft was sent).
#[utoipa::path(get, path = "/api/v1/drafts/{id}/attachments/{attachment}", tag = "filing",
    params(("id" = String, Path, description = "The draft's id"),
           ("attachment" = String, Path, description = "The attachment's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 401, description = "Missing, invalid or expired access token"),
        (status = 404, description = "No such attachment of this person", body = ApiError)))]
pub(crate) async fn get_attachment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, attachment)): Path<(String, String)>,
) -> Response {
    let session = match caller(&state, &headers).await {
        Ok(s) => s,
        Err(refusal) => return refusal,
    };
    let Some(store) = &state.attachments else {
        return no_blob_store();
    };
    match urad_filing::attachments::read(store, &session.person_id, &attachment).await {
        Ok((a, _)) if a.draft_id != id => {
            attachment_refused(urad_filing::attachments::AttachmentError::UnknownAttachment)
        }
        Ok((a, bytes)) => {
            let mut response = axum::body::Body::from_stream(bytes).into_response();
            let h = response.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&a.media_type) {
                h.insert(header::CONTENT_TYPE, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment"),
            );
            response
        }
        Err(e) => attachment_refused(e),
    }
}

/// Removes an attachment from a draft not yet sent.
#[utoipa::path(delete, path = "/api/v1/drafts/{id}/attachments/{attachment}", tag = "filing",
    params(("id" = String, Path, description = "The draft's id"),
           ("attachment" = String, Path, description = "The attachment's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing, invalid or expired access token"),
        (status = 404, description = "No such attachment of this person", body = ApiError),
        (status = 409, description = "The draft was sent", body = ApiError)))]
pub(crate) async fn delete_attachment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, attachment)): Path<(String, String)>,
) -> Response {
    let session = match caller(&state, &headers).await {
        Ok(s) => s,
        Err(refusal) => return refusal,
    };
    let Some(store) = &state.attachments else {
        return no_blob_store();
    };
    let clock = state.clock.as_ref();
    match urad_filing::attachments::remove(store, clock, &session.person_id, &id, &attachment).await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => attachment_refused(e),
    }
}

//! The JSON API (`/api/v1/…`) and its OpenAPI 3.1 document (`/api/openapi.json`).

use crate::i18n::Tr;
use crate::pages::{param, parse_query, QueryError};
use crate::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use urad_catalog::Service;
use urad_core::{Lang, Text};
use utoipa::{IntoParams, OpenApi, ToSchema};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/services", get(list_services))
        .route("/api/v1/services/{slug}", get(get_service))
        .route(
            "/api/openapi.json",
            get(|| async { Json(ApiDoc::openapi()) }),
        )
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "urad API",
        description = "Public API of the regional office's service portal.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
    ),
    paths(
        list_services,
        get_service,
        crate::filing_api::list_forms,
        crate::filing_api::get_form,
        crate::filing_api::create_draft,
        crate::filing_api::get_draft,
        crate::filing_api::put_draft,
        crate::filing_api::submit_draft,
        crate::filing_api::get_submission,
        crate::filing_api::get_receipt_file,
        crate::oidc::openid_configuration,
        crate::oidc::jwks,
        crate::oidc::token,
        crate::oidc::revoke,
        crate::oidc::userinfo,
        crate::ops::healthz,
        crate::ops::readyz,
        crate::ops::metrics,
        crate::receipt_log::tree_head,
        crate::receipt_log::inclusion_proof,
        crate::receipt_log::consistency_proof,
        crate::receipt_log::leaves,
        crate::receipt_log::key
    ),
    tags(
        (name = "catalogue", description = "Services of the office"),
        (name = "filing", description = "The e-filing office: forms, drafts, submissions and their receipts"),
        (name = "identity", description = "The identity gateway (OpenID Connect provider)"),
        (name = "operations", description = "Probes and metrics for operators"),
        (name = "receipt-log", description = "The append-only Merkle log of receipts (RFC 9162): signed tree heads, proofs, leaves, the office key"),
    ),
    modifiers(&BearerScheme)
)]
struct ApiDoc;

/// The `bearer` security scheme: an access token from the identity gateway.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token (`at+jwt`) from this identity gateway's token endpoint",
                    ))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document as pretty JSON (for `urad openapi` and tests).
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// Text in Czech and English.
#[derive(Serialize, ToSchema)]
pub(crate) struct LocalizedText {
    pub cs: String,
    pub en: String,
}

impl From<&Text> for LocalizedText {
    fn from(t: &Text) -> Self {
        LocalizedText {
            cs: t.cs.clone(),
            en: t.en.clone(),
        }
    }
}

/// A service in a list.
#[derive(Serialize, ToSchema)]
struct ServiceSummary {
    /// Stable identifier.
    #[schema(example = "kotlikova-dotace")]
    slug: String,
    name: LocalizedText,
    summary: LocalizedText,
    /// `online`, `in_person` or `both`.
    #[schema(example = "online")]
    channel: String,
    /// Any of `citizen`, `sole_trader`, `company`, `municipality`.
    applicant_types: Vec<String>,
    /// Keys of life situations.
    life_situations: Vec<String>,
    /// Key of the agenda.
    agenda: String,
    /// Administrative fee in CZK; absent when there is none.
    fee_czk: Option<i64>,
    /// Expected processing time in calendar days; 0 means on the spot.
    processing_days: u32,
    /// The service's page on the portal (Czech).
    url: String,
}

/// A service with everything the portal shows about it.
#[derive(Serialize, ToSchema)]
struct ServiceDetail {
    #[serde(flatten)]
    summary: ServiceSummary,
    description: LocalizedText,
    fee_note: Option<LocalizedText>,
    legal_basis: Vec<String>,
    documents: Vec<LocalizedText>,
    keywords: Vec<String>,
    /// Why a visit is needed and where to go (for `in_person` and `both`).
    in_person: Option<InPersonDto>,
    agenda_name: LocalizedText,
    department: LocalizedText,
    contact: ContactDto,
}

#[derive(Serialize, ToSchema)]
struct InPersonDto {
    reason: Option<LocalizedText>,
    place: LocalizedText,
}

#[derive(Serialize, ToSchema)]
struct ContactDto {
    email: String,
    phone: String,
    office_hours: Option<LocalizedText>,
}

/// A page of services.
#[derive(Serialize, ToSchema)]
struct ServiceList {
    items: Vec<ServiceSummary>,
    /// Number of services matching, on all pages.
    total: usize,
    page: usize,
    per_page: usize,
}

/// A refused request.
#[derive(Serialize, ToSchema)]
pub(crate) struct ApiError {
    /// The message in English.
    pub error: String,
    /// The message in both languages.
    pub message: LocalizedText,
    /// The parameter or field at fault, if any.
    pub field: Option<String>,
}

/// Filters and search, as on the catalogue page.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; they are parsed by `parse_query`
struct ListParams {
    /// Search text (diacritics and case do not matter; typos are forgiven), at most 200 characters.
    q: Option<String>,
    /// `citizen`, `sole_trader`, `company` or `municipality`.
    applicant: Option<String>,
    /// Key of a life situation.
    situation: Option<String>,
    /// Key of an agenda.
    agenda: Option<String>,
    /// `online` (can be done online) or `in_person` (can be done at the office).
    channel: Option<String>,
    /// Page number, from 1.
    page: Option<usize>,
    /// Services per page, 1–100 (default 20).
    per_page: Option<usize>,
}

const MAX_PER_PAGE: usize = 100;

fn summary(s: &Service) -> ServiceSummary {
    ServiceSummary {
        slug: s.slug.clone(),
        name: (&s.name).into(),
        summary: (&s.summary).into(),
        channel: s.channel.code().to_owned(),
        applicant_types: s
            .applicant_types
            .iter()
            .map(|a| a.code().to_owned())
            .collect(),
        life_situations: s.life_situations.clone(),
        agenda: s.agenda.clone(),
        fee_czk: s.fee.map(|f| f.0),
        processing_days: s.processing_days,
        url: format!("/sluzby/{}", s.slug),
    }
}

fn bad_request(e: QueryError) -> Response {
    let message = LocalizedText {
        cs: e.message(&Tr::new(Lang::Cs)),
        en: e.message(&Tr::new(Lang::En)),
    };
    let body = ApiError {
        error: message.en.clone(),
        field: Some(e.field().to_owned()),
        message,
    };
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// Lists services, filtered and searched.
#[utoipa::path(get, path = "/api/v1/services", tag = "catalogue", params(ListParams), responses(
    (status = 200, description = "A page of services", body = ServiceList),
    (status = 400, description = "A parameter is invalid", body = ApiError)))]
async fn list_services(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let (pairs, parsed) = parse_query(&state.catalog, raw.as_deref());
    let query = match parsed {
        Ok(q) => q,
        Err(e) => return bad_request(e),
    };
    let per_page = match param(&pairs, "per_page") {
        None => crate::pages::PER_PAGE,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_PER_PAGE).contains(&n) => n,
            _ => return bad_request(QueryError::PerPage(v.to_owned())),
        },
    };
    let found = state.catalog.find(&query.filters, Lang::Cs);
    let total = found.services.len();
    let items = found
        .services
        .into_iter()
        .skip((query.page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(summary)
        .collect();
    Json(ServiceList {
        items,
        total,
        page: query.page,
        per_page,
    })
    .into_response()
}

/// One service.
#[utoipa::path(get, path = "/api/v1/services/{slug}", tag = "catalogue",
    params(("slug" = String, Path, description = "The service's slug")),
    responses(
        (status = 200, description = "The service", body = ServiceDetail),
        (status = 404, description = "No such service", body = ApiError)))]
async fn get_service(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let c = &state.catalog;
    let Some(s) = c.service(&slug) else {
        let message = LocalizedText {
            cs: Tr::new(Lang::Cs).t1("api-no-service", "slug", slug.as_str()),
            en: Tr::new(Lang::En).t1("api-no-service", "slug", slug.as_str()),
        };
        let body = ApiError {
            error: message.en.clone(),
            message,
            field: Some("slug".into()),
        };
        return (StatusCode::NOT_FOUND, Json(body)).into_response();
    };
    let agenda = c.agenda(&s.agenda);
    let detail = ServiceDetail {
        summary: summary(s),
        description: (&s.description).into(),
        fee_note: s.fee_note.as_ref().map(Into::into),
        legal_basis: s.legal_basis.clone(),
        documents: s.documents.iter().map(Into::into).collect(),
        keywords: s.keywords.clone(),
        in_person: s.in_person.as_ref().map(|p| InPersonDto {
            reason: p.reason.as_ref().map(Into::into),
            place: (&p.place).into(),
        }),
        agenda_name: agenda.map(|a| (&a.name).into()).unwrap_or(LocalizedText {
            cs: s.agenda.clone(),
            en: s.agenda.clone(),
        }),
        department: agenda
            .map(|a| (&a.department).into())
            .unwrap_or(LocalizedText {
                cs: String::new(),
                en: String::new(),
            }),
        contact: ContactDto {
            email: s.contact.email.clone(),
            phone: s.contact.phone.clone(),
            office_hours: s.contact.office_hours.as_ref().map(Into::into),
        },
    };
    Json(detail).into_response()
}

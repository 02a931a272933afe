//! The receipt a citizen downloads from the portal: the signed receipt file (JSON, with the
//! receipt log's tree head and inclusion proof, checked offline by `urad verify-receipt`) and
//! the receipt as PDF/A (Typst, `urad-documents`), from the receipt page and the detail page
//! of My submissions. Only the person's own.

use crate::account::current_viewer;
use crate::error::error_page_with;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use urad_core::Lang;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/moje-podani/{id}/potvrzeni.json",
            get(|s, p, h| receipt_file(s, p, h, Lang::Cs)),
        )
        .route(
            "/en/my-submissions/{id}/receipt.json",
            get(|s, p, h| receipt_file(s, p, h, Lang::En)),
        )
        .route(
            "/moje-podani/{id}/potvrzeni.pdf",
            get(|s, p, h| receipt_pdf(s, p, h, Lang::Cs)),
        )
        .route(
            "/en/my-submissions/{id}/receipt.pdf",
            get(|s, p, h| receipt_pdf(s, p, h, Lang::En)),
        )
}

/// Where a submission's receipt is downloaded as PDF/A.
pub(crate) fn receipt_pdf_href(lang: Lang, id: &str) -> String {
    match lang {
        Lang::Cs => format!("/moje-podani/{id}/potvrzeni.pdf"),
        Lang::En => format!("/en/my-submissions/{id}/receipt.pdf"),
    }
}

/// The way to sign in and come back to the submission's page (the page, not the download: a
/// browser that followed the sign-in would otherwise land on a file).
fn sign_in_first(lang: Lang, id: &str) -> Response {
    crate::form_pages::sign_in_first(lang, &crate::form_pages::paths::detail(lang, id))
}

async fn receipt_pdf(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    lang: Lang,
) -> Response {
    let catalog = Some(state.catalog.clone());
    let Some(viewer) = current_viewer() else {
        return sign_in_first(lang, &id);
    };
    let receipt = match urad_filing::receipt(&state.db, &viewer.person_id, &id).await {
        Ok(Some(r)) => r,
        Ok(None) => return error_page_with(lang, StatusCode::NOT_FOUND, &headers, catalog),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the receipt");
            return error_page_with(lang, StatusCode::SERVICE_UNAVAILABLE, &headers, catalog);
        }
    };
    // A stamp that cannot be read is left off the PDF; the receipt itself stands.
    let time_stamp = urad_filing::timestamp::stored_stamp(&state.db, &id)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read the receipt's time stamp");
            None
        });
    let office = &state.catalog.office;
    let form = state.forms.version(&receipt.form_id, receipt.form_version);
    let data = urad_documents::receipt::ReceiptData {
        office: urad_documents::receipt::OfficeData {
            name: office.name.clone(),
            address: office.address.clone(),
            data_box: office.data_box.clone(),
        },
        reference: receipt.reference.clone(),
        submission_id: receipt.id.clone(),
        received_at: jiff::Timestamp::from_second(receipt.received_at).unwrap_or_default(),
        scope: receipt.scope.clone(),
        sequence: receipt.sequence,
        submitter_name: viewer.name.clone(),
        submitter_id: receipt.person_id.clone(),
        form_id: receipt.form_id.clone(),
        form_version: receipt.form_version,
        form_title: form.map_or_else(
            || urad_core::Text::new(receipt.form_id.clone(), receipt.form_id.clone()),
            |f| f.ui.title.clone(),
        ),
        data_sha256: receipt.data_sha256.clone(),
        log_index: receipt.log_index,
        attachments: receipt
            .attachments
            .iter()
            .map(|a| urad_documents::receipt::AttachmentLine {
                slot: form
                    .and_then(|f| f.ui.attachments.iter().find(|s| s.id == a.slot))
                    .map_or_else(|| a.slot.clone(), |s| s.label.get(lang).to_owned()),
                file_name: a.file_name.clone(),
                media_type: a.media_type.clone(),
                size: u64::try_from(a.size).unwrap_or(0),
                sha256: a.sha256.clone(),
            })
            .collect(),
        time_stamp: time_stamp.map(|t| urad_documents::receipt::TimeStampLine {
            time: jiff::Timestamp::from_second(t.stamped_at).unwrap_or_default(),
            authority: t.tsa_url,
        }),
    };
    // Typesetting is CPU work of some milliseconds: off the request threads.
    let rendered =
        tokio::task::spawn_blocking(move || urad_documents::receipt_pdf(&data, lang)).await;
    match rendered {
        Ok(Ok(pdf)) => download(
            pdf,
            "application/pdf",
            &file_name(&receipt.reference, "pdf"),
        ),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot typeset the receipt");
            error_page_with(lang, StatusCode::SERVICE_UNAVAILABLE, &headers, catalog)
        }
        Err(e) => {
            tracing::error!(error = %e, "the receipt's typesetting stopped");
            error_page_with(lang, StatusCode::SERVICE_UNAVAILABLE, &headers, catalog)
        }
    }
}

/// Where a submission's receipt file is downloaded.
pub(crate) fn receipt_file_href(lang: Lang, id: &str) -> String {
    match lang {
        Lang::Cs => format!("/moje-podani/{id}/potvrzeni.json"),
        Lang::En => format!("/en/my-submissions/{id}/receipt.json"),
    }
}

/// A download's file name from the reference number: `potvrzeni-KUMSK-12-2027.json`.
pub(crate) fn file_name(reference: &str, extension: &str) -> String {
    let safe: String = reference
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("potvrzeni-{}.{extension}", safe.trim_matches('-'))
}

/// The answer that makes a browser save `body` as `name`.
pub(crate) fn download(body: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

async fn receipt_file(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    lang: Lang,
) -> Response {
    let catalog = Some(state.catalog.clone());
    let Some(viewer) = current_viewer() else {
        return sign_in_first(lang, &id);
    };
    let clock = state.clock.as_ref();
    let found = state
        .receipt_log
        .receipt_file(&state.db, clock, &viewer.person_id, &id)
        .await;
    match found {
        Ok(Some(file)) => {
            let reference = urad_filing::receipt(&state.db, &viewer.person_id, &id)
                .await
                .ok()
                .flatten()
                .map(|r| r.reference)
                .unwrap_or_default();
            download(
                file.to_json().into_bytes(),
                "application/json",
                &file_name(&reference, "json"),
            )
        }
        Ok(None) => error_page_with(lang, StatusCode::NOT_FOUND, &headers, catalog),
        Err(e) => {
            tracing::error!(error = %e, "cannot make the receipt file");
            error_page_with(lang, StatusCode::SERVICE_UNAVAILABLE, &headers, catalog)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_keep_only_letters_and_digits_of_the_reference() {
        assert_eq!(
            super::file_name("KUMSK 12/2027", "json"),
            "potvrzeni-KUMSK-12-2027.json"
        );
        assert_eq!(super::file_name("../\"x", "pdf"), "potvrzeni-x.pdf");
    }
}

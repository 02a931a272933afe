//! Error responses: a friendly page in the visitor's language with the request id, or JSON for
//! the API. Nothing here panics; a panic elsewhere becomes a 500 page.

use crate::i18n::Tr;
use crate::pages::{Layout, Page};
use askama::Template;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use std::any::Any;
use urad_core::Lang;

#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub layout: Layout,
    pub status: u16,
    pub heading: String,
    pub message: String,
    pub request_id: String,
}

/// Renders the error page for `status` in `lang`, without the office's contacts.
pub(crate) fn error_page(lang: Lang, status: StatusCode, headers: &HeaderMap) -> Response {
    error_page_with(lang, status, headers, None)
}

/// Renders the error page for `status` in `lang`; with the catalogue, the footer shows the
/// office's contacts.
pub(crate) fn error_page_with(
    lang: Lang,
    status: StatusCode,
    headers: &HeaderMap,
    catalog: Option<std::sync::Arc<urad_catalog::Catalog>>,
) -> Response {
    let tr = Tr::new(lang);
    let (heading, message) = match status {
        StatusCode::NOT_FOUND => (tr.ts("error-404-title"), tr.ts("error-404-text")),
        StatusCode::BAD_REQUEST => (tr.ts("error-400-title"), tr.ts("error-400-text")),
        _ => (tr.ts("error-500-title"), tr.ts("error-500-text")),
    };
    let request_id = headers
        .get(crate::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let page = ErrorPage {
        layout: Layout::new(lang, heading.clone(), Page::Home, catalog),
        status: status.as_u16(),
        heading,
        message,
        request_id,
    };
    render(status, &page)
}

/// Renders a template; a template error (a bug) becomes a plain 500 rather than a panic.
pub(crate) fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub(crate) fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    let mut response = error_page(
        Lang::Cs,
        StatusCode::INTERNAL_SERVER_ERROR,
        &HeaderMap::new(),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

//! Rendered catalogue pages and API answers, kept in memory.
//!
//! Everything the catalogue routes answer depends only on the URL and the catalogue snapshot,
//! which never changes while a process runs; so a rendered `200` answer is kept and served
//! again, like a reverse proxy would. The cache lives beside the snapshot in [`AppState`] and
//! goes with it. It is bounded by bytes and evicts by the S3-FIFO policy of `quick_cache`, so
//! an attacker's many distinct URLs cost at most its budget.
//!
//! Each page is also kept gzip-compressed, because compressing it anew for every visitor cost
//! more than everything else the server does for a kept page. The fastest level is used: it
//! still shrinks a page about five times, at a fraction of the default level's cost on the
//! first render.

use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use quick_cache::sync::Cache;
use quick_cache::Weighter;

/// Total bytes of rendered pages kept.
const BUDGET_BYTES: u64 = 8 * 1024 * 1024;
/// Longer URLs are not worth keeping.
const MAX_KEY_BYTES: usize = 512;
/// Larger answers are not kept.
const MAX_BODY_BYTES: usize = 512 * 1024;

#[derive(Clone)]
pub(crate) struct RenderedPage {
    content_type: Option<HeaderValue>,
    body: Bytes,
    /// The body gzip-compressed, when that makes it smaller.
    gzip: Option<Bytes>,
}

impl RenderedPage {
    fn new(content_type: Option<HeaderValue>, body: Bytes) -> RenderedPage {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let gzip = encoder
            .write_all(&body)
            .and_then(|()| encoder.finish())
            .ok()
            .filter(|z| z.len() < body.len())
            .map(Bytes::from);
        RenderedPage {
            content_type,
            body,
            gzip,
        }
    }

    fn response(self, accepts_gzip: bool) -> Response {
        let mut parts = StatusCode::OK.into_response().into_parts().0;
        if let Some(ct) = &self.content_type {
            parts.headers.insert(header::CONTENT_TYPE, ct.clone());
        }
        self.response_with(parts, accepts_gzip)
    }

    /// The body for this client, with the headers that say which it is.
    fn response_with(self, mut parts: axum::http::response::Parts, accepts_gzip: bool) -> Response {
        let body = match (accepts_gzip, self.gzip) {
            (true, Some(z)) => {
                parts
                    .headers
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                z
            }
            _ => self.body,
        };
        parts.headers.remove(header::CONTENT_LENGTH);
        parts
            .headers
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        Response::from_parts(parts, axum::body::Body::from(body))
    }
}

/// Whether the client takes gzip (`Accept-Encoding: gzip` without `q=0`).
fn accepts_gzip(request: &Request) -> bool {
    request
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused =
                parts.any(|p| p.replace(' ', "").starts_with("q=0") && !p.contains("q=0."));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

#[derive(Clone)]
struct BySize;

impl Weighter<String, RenderedPage> for BySize {
    fn weight(&self, key: &String, page: &RenderedPage) -> u64 {
        (key.len() + page.body.len() + 64) as u64
    }
}

pub(crate) struct PageCache(Cache<String, RenderedPage, BySize>);

impl PageCache {
    pub fn new() -> PageCache {
        PageCache(Cache::with_weighter(2_000, BUDGET_BYTES, BySize))
    }
}

/// Serves a kept answer, or renders, keeps (when `200`) and serves it.
pub(crate) async fn serve_cached(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let key = request.uri().to_string();
    // A signed-in visitor's pages carry their name in the header: rendered for them alone.
    let personal = crate::account::current_viewer().is_some();
    if personal || request.method() != Method::GET || key.len() > MAX_KEY_BYTES {
        return next.run(request).await;
    }
    let gzip = accepts_gzip(&request);
    if let Some(page) = state.pages.0.get(&key) {
        return page.response(gzip);
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => {
            let page = RenderedPage::new(parts.headers.get(header::CONTENT_TYPE).cloned(), bytes);
            state.pages.0.insert(key, page.clone());
            page.response_with(parts, gzip)
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot buffer a page for the cache");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(accept: Option<&str>) -> Request {
        let mut b = Request::builder().uri("/");
        if let Some(a) = accept {
            b = b.header(header::ACCEPT_ENCODING, a);
        }
        b.body(axum::body::Body::empty()).unwrap()
    }

    #[test]
    fn gzip_is_served_only_to_clients_that_take_it() {
        assert!(accepts_gzip(&request(Some("gzip, deflate, br"))));
        assert!(accepts_gzip(&request(Some("br;q=1.0, gzip;q=0.8"))));
        assert!(accepts_gzip(&request(Some("*"))));
        assert!(!accepts_gzip(&request(Some("gzip;q=0"))));
        assert!(!accepts_gzip(&request(Some("br"))));
        assert!(!accepts_gzip(&request(None)));
    }

    #[test]
    fn a_kept_page_is_compressed_once_and_decompresses_to_itself() {
        use std::io::Read;
        let body = Bytes::from("<p>Kotlíková dotace</p>".repeat(200));
        let page = RenderedPage::new(Some(HeaderValue::from_static("text/html")), body.clone());
        let gz = page.gzip.clone().expect("a repetitive page compresses");
        assert!(gz.len() < body.len() / 10);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out.as_bytes(), &body[..]);
        let r = page.clone().response(true);
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(r.headers()[header::VARY], "accept-encoding");
        assert!(page
            .response(false)
            .headers()
            .get(header::CONTENT_ENCODING)
            .is_none());
        // Tiny bodies are not worth it.
        assert!(RenderedPage::new(None, Bytes::from("ok")).gzip.is_none());
    }
}

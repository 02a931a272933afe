//! Static assets (styles, fonts, icons) built into the binary: nothing is fetched at run time.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use urad_core::hex;

#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// A short fingerprint of an asset's content. Pages link `/assets/x.css?v=FINGERPRINT`, so a
/// new release is fetched at once even though browsers cache assets for a day.
pub(crate) fn fingerprint(path: &str) -> String {
    Assets::get(path).map_or_else(String::new, |f| hex(&f.metadata.sha256_hash()[..6]))
}

pub(crate) async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(file) = Assets::get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..12]));
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mime = file.metadata.mimetype();
    let mut response = file.data.into_owned().into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    response
}

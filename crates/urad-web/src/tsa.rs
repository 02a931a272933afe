//! The demo's own RFC 3161 time-stamping authority at `POST /tsa`: answers
//! `application/timestamp-query` with `application/timestamp-reply`, signed by the key and
//! self-signed certificate kept in the database (`urad_filing::timestamp::DemoTsa`). Served
//! only while the demo identity provider is on; a demonstration, not a qualified TSA.

use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use urad_filing::timestamp::{self, DEMO_TSA_PATH, QUERY_MEDIA_TYPE, REPLY_MEDIA_TYPE};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(DEMO_TSA_PATH, post(reply))
        .route(DEMO_TSA_CERTIFICATE_PATH, get(certificate))
}

/// The demo TSA's certificate as PEM, to verify its tokens with (`openssl ts -verify -CAfile`).
pub const DEMO_TSA_CERTIFICATE_PATH: &str = "/tsa/certificate.pem";

async fn certificate(State(state): State<AppState>) -> Response {
    if !demo_on(&state) {
        return (StatusCode::NOT_FOUND, "Not found / Nenalezeno").into_response();
    }
    match timestamp::demo_tsa(&state.db, state.clock.as_ref()).await {
        Ok(tsa) => (
            [(header::CONTENT_TYPE, "application/x-pem-file")],
            timestamp::certificate_pem(tsa.certificate_der()),
        )
            .into_response(),
        Err(e) => unavailable(&e),
    }
}

fn unavailable(e: &timestamp::TimestampError) -> Response {
    tracing::error!(error = %e, "the demo TSA's key cannot be read or made");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "Časová razítka teď nelze vydávat. / Time stamps cannot be issued just now.",
    )
        .into_response()
}

/// The demo is on when the demo identity provider is among the upstreams (`--demo-idp`).
fn demo_on(state: &AppState) -> bool {
    state.upstreams.iter().any(|u| u.config.demo)
}

async fn reply(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if !demo_on(&state) {
        return (StatusCode::NOT_FOUND, "Not found / Nenalezeno").into_response();
    }
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !media_type.starts_with(QUERY_MEDIA_TYPE) {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Očekáván {QUERY_MEDIA_TYPE} (RFC 3161). / Expected {QUERY_MEDIA_TYPE} (RFC 3161)."
            ),
        )
            .into_response();
    }
    let tsa = match timestamp::demo_tsa(&state.db, state.clock.as_ref()).await {
        Ok(tsa) => tsa,
        Err(e) => return unavailable(&e),
    };
    let answer = tsa.reply(&body, state.clock.now());
    ([(header::CONTENT_TYPE, REPLY_MEDIA_TYPE)], answer).into_response()
}

//! The identity gateway's HTTP face: discovery and the published signing keys. The flows
//! (authorize, token, userinfo, logout) come next; see issue #3.

use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use axum::Router;
use urad_identity::{discovery, keys};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route(discovery::JWKS_PATH, get(jwks))
}

/// OpenID Provider metadata.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "identity",
    responses((status = 200, description = "OpenID Connect Discovery metadata", content_type = "application/json")))]
pub(crate) async fn openid_configuration(State(state): State<AppState>) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=3600")],
        Json(discovery::metadata(&state.issuer)),
    )
        .into_response()
}

/// The public keys that verify the gateway's tokens: the active key, the next one (published
/// before it signs) and retired ones (until the tokens they signed have expired).
#[utoipa::path(get, path = "/oidc/jwks", tag = "identity",
    responses((status = 200, description = "JSON Web Key Set (RFC 7517)", content_type = "application/json")))]
pub(crate) async fn jwks(State(state): State<AppState>) -> Response {
    match keys::published(&state.db, state.clock.as_ref()).await {
        Ok(keys) => (
            // Short enough that a rotation reaches every relying party within the overlap.
            [(header::CACHE_CONTROL, "public, max-age=300")],
            Json(serde_json::json!({ "keys": keys })),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the signing keys");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

//! The receipt log's public endpoints (`/api/v1/receipt-log/…`): the latest signed tree head,
//! inclusion and consistency proofs, the leaves themselves and the office's public key — so
//! that anyone can audit that the log only grows and that nobody was put ahead in the queue.
//! See docs/receipts.md.

use crate::api::{ApiError, LocalizedText};
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use urad_core::hex;
use urad_filing::merkle::{leaf_hash, Hash};
use urad_filing::receipt::{Jwk, SignedTreeHead};
use urad_filing::receipt_log::ReceiptLogError;
use utoipa::{IntoParams, ToSchema};

/// Leaves answered at most by one request; a longer range is cut to this many.
pub(crate) const MAX_LEAVES: u64 = 1000;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/receipt-log/tree-head", get(tree_head))
        .route("/api/v1/receipt-log/inclusion-proof", get(inclusion_proof))
        .route(
            "/api/v1/receipt-log/consistency-proof",
            get(consistency_proof),
        )
        .route("/api/v1/receipt-log/leaves", get(leaves))
        .route("/api/v1/receipt-log/key", get(key))
}

/// A signed tree head of the receipt log.
#[derive(Serialize, ToSchema)]
pub(crate) struct TreeHeadDto {
    /// Receipts in the tree.
    #[schema(example = 1234)]
    tree_size: u64,
    /// When it was signed, milliseconds since the Unix epoch.
    #[schema(example = 1_800_000_000_000u64)]
    timestamp: u64,
    /// The Merkle tree's root hash (RFC 9162), hexadecimal.
    root_hash: String,
    /// The id of the office key that signed it (its RFC 7638 thumbprint).
    kid: String,
    /// Ed25519 signature, base64url, of RFC 9162's TreeHeadDataV2: timestamp and tree size
    /// as 8-byte big-endian integers, the byte 32, the 32 bytes of the root, two zero bytes.
    signature: String,
}

impl From<SignedTreeHead> for TreeHeadDto {
    fn from(h: SignedTreeHead) -> Self {
        TreeHeadDto {
            tree_size: h.tree_size,
            timestamp: h.timestamp,
            root_hash: h.root_hash,
            kid: h.kid,
            signature: h.signature,
        }
    }
}

/// The proof that a leaf is in a tree.
#[derive(Serialize, ToSchema)]
pub(crate) struct InclusionProofDto {
    leaf_index: u64,
    tree_size: u64,
    /// Hashes from the leaf up (RFC 9162 §2.1.3), hexadecimal.
    inclusion_proof: Vec<String>,
}

/// The proof that a larger tree extends a smaller one.
#[derive(Serialize, ToSchema)]
pub(crate) struct ConsistencyProofDto {
    first: u64,
    second: u64,
    /// RFC 9162 §2.1.4, hexadecimal.
    consistency_proof: Vec<String>,
}

/// A leaf: a receipt's canonical payload.
#[derive(Serialize, ToSchema)]
pub(crate) struct LeafDto {
    index: u64,
    /// The canonical receipt payload, exactly the bytes hashed (docs/receipts.md).
    payload: String,
    /// SHA-256 of the byte 0 and the payload, hexadecimal.
    leaf_hash: String,
}

/// A range of leaves.
#[derive(Serialize, ToSchema)]
pub(crate) struct LeavesDto {
    leaves: Vec<LeafDto>,
}

/// The office's public receipt key, a JWK (RFC 8037).
#[derive(Serialize, ToSchema)]
pub(crate) struct JwkDto {
    #[schema(example = "OKP")]
    kty: String,
    #[schema(example = "Ed25519")]
    crv: String,
    /// The public key, base64url.
    x: String,
    kid: String,
    #[schema(example = "EdDSA")]
    alg: String,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    use_: String,
}

impl From<Jwk> for JwkDto {
    fn from(k: Jwk) -> Self {
        JwkDto {
            kty: k.kty,
            crv: k.crv,
            x: k.x,
            kid: k.kid,
            alg: k.alg,
            use_: k.use_,
        }
    }
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; they are parsed by `number`
struct InclusionParams {
    /// The leaf (from 0).
    index: u64,
    /// The size of the tree (a signed head's, or any up to the log's size).
    tree_size: u64,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ConsistencyParams {
    /// The smaller tree's size.
    first: u64,
    /// The larger tree's size.
    second: u64,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct LeavesParams {
    /// The first leaf.
    start: u64,
    /// The leaf after the last (at most 1 000 are answered; fewer when the log ends sooner).
    end: u64,
}

fn refused(status: StatusCode, cs: String, en: String, field: Option<&str>) -> Response {
    let body = ApiError {
        error: en.clone(),
        message: LocalizedText { cs, en },
        field: field.map(str::to_owned),
    };
    (status, Json(body)).into_response()
}

/// A query parameter that is missing (`value` is `None`) or not a non-negative whole number.
struct BadParam {
    name: &'static str,
    value: Option<String>,
}

impl BadParam {
    fn response(self) -> Response {
        let name = self.name;
        let (cs, en) = match self.value {
            None => (
                format!("Chybí parametr „{name}“."),
                format!("The parameter `{name}` is missing."),
            ),
            Some(value) => (
                format!("Parametr „{name}“ musí být celé nezáporné číslo, ne „{value}“."),
                format!(
                    "The parameter `{name}` must be a non-negative whole number, not `{value}`."
                ),
            ),
        };
        refused(StatusCode::BAD_REQUEST, cs, en, Some(name))
    }
}

/// A required non-negative integer query parameter.
fn number(raw: Option<&str>, name: &'static str) -> Result<u64, BadParam> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or_default()).unwrap_or_default();
    let Some((_, value)) = pairs.iter().find(|(k, _)| k == name) else {
        return Err(BadParam { name, value: None });
    };
    value.parse::<u64>().map_err(|_| BadParam {
        name,
        value: Some(value.clone()),
    })
}

/// The answer to an error of the log: a request outside the log is the caller's (400 or
/// 404); anything else is the server's, logged, and told without details.
fn log_error(e: ReceiptLogError) -> Response {
    match e {
        ReceiptLogError::IndexOutsideTree { index, tree_size } => refused(
            StatusCode::BAD_REQUEST,
            format!("List s indexem {index} není ve stromu velikosti {tree_size}: index musí být menší než velikost stromu."),
            format!("Leaf {index} is not in a tree of size {tree_size}: the index must be smaller than the tree size."),
            Some("index"),
        ),
        ReceiptLogError::SizesOutOfOrder { first, second } => refused(
            StatusCode::BAD_REQUEST,
            format!("První velikost ({first}) nesmí být větší než druhá ({second})."),
            format!("The first size ({first}) must not be larger than the second ({second})."),
            Some("first"),
        ),
        ReceiptLogError::BeyondLog { tree_size, log_size } => refused(
            StatusCode::NOT_FOUND,
            format!("Počet listů v knize potvrzení o doručení je {log_size}: strom velikosti {tree_size} v ní (zatím) není."),
            format!("The receipt log's size is {log_size}: there is no tree of size {tree_size} in it (yet)."),
            None,
        ),
        ReceiptLogError::NoSuchLeaf { index, log_size } => refused(
            StatusCode::NOT_FOUND,
            format!("Počet listů v knize potvrzení o doručení je {log_size}: list s indexem {index} v ní (zatím) není."),
            format!("The receipt log's size is {log_size}: leaf {index} is not in it (yet)."),
            Some("start"),
        ),
        other => {
            tracing::error!(error = %other, "the receipt log cannot answer");
            refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Knihu potvrzení o doručení se teď nepodařilo načíst. Zkuste to prosím později.".into(),
                "The receipt log cannot be read right now. Please try again later.".into(),
                None,
            )
        }
    }
}

/// Answers that must not be cached: the log grows.
fn fresh(body: impl Serialize) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

fn hexes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| hex(h)).collect()
}

/// The latest signed tree head.
#[utoipa::path(get, path = "/api/v1/receipt-log/tree-head", tag = "receipt-log", responses(
    (status = 200, description = "The latest signed tree head (a new one is signed when receipts were added, at most one a second)", body = TreeHeadDto),
    (status = 500, description = "The log cannot be read", body = ApiError)))]
pub(crate) async fn tree_head(State(state): State<AppState>) -> Response {
    match state
        .receipt_log
        .latest_head(&state.db, state.clock.as_ref())
        .await
    {
        Ok(head) => fresh(TreeHeadDto::from(head)),
        Err(e) => log_error(e),
    }
}

/// The inclusion proof of a leaf in a tree.
#[utoipa::path(get, path = "/api/v1/receipt-log/inclusion-proof", tag = "receipt-log",
    params(InclusionParams), responses(
    (status = 200, description = "The proof", body = InclusionProofDto),
    (status = 400, description = "A parameter is missing or invalid, or the index is not below the tree size", body = ApiError),
    (status = 404, description = "The log has no tree of that size", body = ApiError)))]
pub(crate) async fn inclusion_proof(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Response {
    let (index, tree_size) = match (
        number(raw.as_deref(), "index"),
        number(raw.as_deref(), "tree_size"),
    ) {
        (Ok(i), Ok(s)) => (i, s),
        (Err(bad), _) | (_, Err(bad)) => return bad.response(),
    };
    match state
        .receipt_log
        .inclusion_proof(&state.db, index, tree_size)
        .await
    {
        Ok(proof) => fresh(InclusionProofDto {
            leaf_index: index,
            tree_size,
            inclusion_proof: hexes(&proof),
        }),
        Err(e) => log_error(e),
    }
}

/// The consistency proof between two tree sizes.
#[utoipa::path(get, path = "/api/v1/receipt-log/consistency-proof", tag = "receipt-log",
    params(ConsistencyParams), responses(
    (status = 200, description = "The proof (empty when the sizes are equal or the first is 0)", body = ConsistencyProofDto),
    (status = 400, description = "A parameter is missing or invalid, or the first size is larger", body = ApiError),
    (status = 404, description = "The log has no tree of the second size", body = ApiError)))]
pub(crate) async fn consistency_proof(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Response {
    let (first, second) = match (
        number(raw.as_deref(), "first"),
        number(raw.as_deref(), "second"),
    ) {
        (Ok(f), Ok(s)) => (f, s),
        (Err(bad), _) | (_, Err(bad)) => return bad.response(),
    };
    match state
        .receipt_log
        .consistency_proof(&state.db, first, second)
        .await
    {
        Ok(proof) => fresh(ConsistencyProofDto {
            first,
            second,
            consistency_proof: hexes(&proof),
        }),
        Err(e) => log_error(e),
    }
}

/// The leaves of a range: every receipt's canonical payload, for audits.
#[utoipa::path(get, path = "/api/v1/receipt-log/leaves", tag = "receipt-log",
    params(LeavesParams), responses(
    (status = 200, description = "The leaves from `start`, at most 1 000", body = LeavesDto),
    (status = 400, description = "A parameter is missing or invalid, or `end` is not after `start`", body = ApiError),
    (status = 404, description = "The log has no leaf `start`", body = ApiError)))]
pub(crate) async fn leaves(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let (start, end) = match (
        number(raw.as_deref(), "start"),
        number(raw.as_deref(), "end"),
    ) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(bad), _) | (_, Err(bad)) => return bad.response(),
    };
    if end <= start {
        return refused(
            StatusCode::BAD_REQUEST,
            format!("„end“ ({end}) musí být větší než „start“ ({start})."),
            format!("`end` ({end}) must be larger than `start` ({start})."),
            Some("end"),
        );
    }
    let end = end.min(start.saturating_add(MAX_LEAVES));
    match state.receipt_log.leaves(&state.db, start, end).await {
        Ok(leaves) => fresh(LeavesDto {
            leaves: leaves
                .into_iter()
                .map(|l| LeafDto {
                    leaf_hash: hex(&leaf_hash(l.payload.as_bytes())),
                    index: l.index,
                    payload: l.payload,
                })
                .collect(),
        }),
        Err(e) => log_error(e),
    }
}

/// The office's public receipt key.
#[utoipa::path(get, path = "/api/v1/receipt-log/key", tag = "receipt-log", responses(
    (status = 200, description = "The Ed25519 key that signs receipts and tree heads, as a JWK", body = JwkDto),
    (status = 500, description = "The key cannot be read", body = ApiError)))]
pub(crate) async fn key(State(state): State<AppState>) -> Response {
    match state
        .receipt_log
        .public_jwk(&state.db, state.clock.as_ref())
        .await
    {
        Ok(jwk) => Json(JwkDto::from(jwk)).into_response(),
        Err(e) => log_error(e),
    }
}

//! Offline verification of a receipt file (`urad verify-receipt`): everything it checks is in
//! the file itself, except what the verifier brings — the office key it trusts, and the
//! submitted data and attachments to compare with the receipt's SHA-256s.

use crate::merkle::{leaf_hash, verify_inclusion};
use crate::receipt::{rfc3339, unb64};
use crate::receipt::{verify_receipt, Jwk, ReceiptPayload, PAYLOAD_FORMAT};
use crate::receipt_log::{hashes_from_hex, ReceiptFile, FILE_FORMAT};
use crate::timestamp::{certificate_subject, verify_token};
use sha2::{Digest, Sha256};

/// A file the verifier has, by its SHA-256 and size (hashed as it was read, not kept).
#[derive(Clone, Debug)]
pub struct GivenFile {
    /// How to name it to people (its path).
    pub label: String,
    /// SHA-256, hexadecimal.
    pub sha256: String,
    pub size: u64,
}

/// What to check beyond the file itself.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// The office keys the verifier trusts (`--key`); empty: the file's own key is taken.
    pub pinned_keys: Vec<Jwk>,
    /// The submitted data (`--data`).
    pub data: Option<GivenFile>,
    /// Attached files (`--attachment`).
    pub attachments: Vec<GivenFile>,
    /// The time-stamping authority's certificate the verifier trusts (`--tsa-certificate`,
    /// DER); none: the certificate in the token is taken.
    pub tsa_certificate: Option<Vec<u8>>,
}

/// One thing checked, in plain words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub passed: bool,
    pub text: String,
}

/// Input that cannot be checked at all (not a receipt file, not a key).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct Unusable(pub String);

/// What the verification found.
#[derive(Clone, Debug)]
pub struct Verification {
    pub checks: Vec<Check>,
    /// The receipt's payload once its signature verified.
    pub payload: Option<ReceiptPayload>,
}

impl Verification {
    /// Whether everything checked holds.
    pub fn holds(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    fn pass(&mut self, text: impl Into<String>) {
        self.checks.push(Check {
            passed: true,
            text: text.into(),
        });
    }

    fn fail(&mut self, text: impl Into<String>) {
        self.checks.push(Check {
            passed: false,
            text: text.into(),
        });
    }
}

/// Reads a key file: one JWK, or a JWK Set (`{"keys": […]}`) whose Ed25519 keys are all
/// trusted.
pub fn parse_keys(text: &str) -> Result<Vec<Jwk>, Unusable> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Unusable(format!("the key file is not JSON: {e}")))?;
    let candidates = match value.get("keys").and_then(|k| k.as_array()) {
        Some(keys) => keys.clone(),
        None => vec![value],
    };
    let keys: Vec<Jwk> = candidates
        .into_iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k).ok())
        .filter(|k| k.public_key().is_ok())
        .collect();
    if keys.is_empty() {
        return Err(Unusable(
            "the key file holds no Ed25519 public key (a JWK with kty OKP, crv Ed25519)".into(),
        ));
    }
    Ok(keys)
}

/// Reads a receipt file.
pub fn parse_file(text: &str) -> Result<ReceiptFile, Unusable> {
    let file: ReceiptFile = serde_json::from_str(text)
        .map_err(|e| Unusable(format!("this is not a urad receipt file: {e}")))?;
    if file.format != FILE_FORMAT {
        return Err(Unusable(format!(
            "the file's format is `{}`, not {FILE_FORMAT}",
            file.format
        )));
    }
    Ok(file)
}

/// Checks a receipt file: the receipt's signature, the tree head's signature, the inclusion
/// proof against the head's root, and what `options` adds. Every check is listed, passed or
/// not; the checks that depend on a failed one are not made.
pub fn verify_file(text: &str, options: &VerifyOptions) -> Result<Verification, Unusable> {
    let file = parse_file(text)?;
    let mut v = Verification {
        checks: Vec::new(),
        payload: None,
    };
    let key = &file.key;
    if key.public_key().is_err() {
        v.fail("the file's key is not an Ed25519 public key");
        return Ok(v);
    }
    if options.pinned_keys.is_empty() {
        v.pass(format!(
            "the office key is taken from the file itself (key {}); pass --key with the office's published key to pin it",
            key.kid
        ));
    } else if options.pinned_keys.iter().any(|k| k.same_key(key)) {
        v.pass(format!(
            "the office key in the file is the pinned key {}",
            key.kid
        ));
    } else {
        v.fail(format!(
            "the office key in the file ({}) is not the pinned key",
            key.kid
        ));
    }

    let payload_bytes = match verify_receipt(&file.receipt, key) {
        Ok(bytes) => {
            v.pass("the receipt's signature verifies with the office key (EdDSA, Ed25519)");
            bytes
        }
        Err(e) => {
            v.fail(format!("the receipt's signature: {e}"));
            return Ok(v);
        }
    };
    let payload: ReceiptPayload = match serde_json::from_slice(&payload_bytes) {
        Ok(p) => p,
        Err(e) => {
            v.fail(format!(
                "the signed receipt is not a receipt of this format: {e}"
            ));
            return Ok(v);
        }
    };
    if payload.format != PAYLOAD_FORMAT {
        v.fail(format!(
            "the signed receipt's format is `{}`, not {PAYLOAD_FORMAT}",
            payload.format
        ));
    }
    if payload.canonical() != payload_bytes {
        v.fail("the signed receipt is not in canonical form, so it cannot be a leaf of the log");
    }
    v.pass(format!(
        "receipt {}: received {}, sequence {} in {}, form {} version {}, submitter {}, {} attachment(s)",
        payload.reference,
        payload.received_at,
        payload.sequence,
        payload.scope,
        payload.form_id,
        payload.form_version,
        payload.submitter,
        payload.attachments.len()
    ));
    if payload.log_index != file.log_index {
        v.fail(format!(
            "the receipt says it is leaf {} of the log, the file says {}",
            payload.log_index, file.log_index
        ));
    }

    let head = &file.tree_head;
    match head.verify(key) {
        Ok(()) => v.pass(format!(
            "the signed tree head (tree of {} receipts, signed at {} ms) verifies with the office key",
            head.tree_size, head.timestamp
        )),
        Err(e) => v.fail(format!("the signed tree head's signature: {e}")),
    }
    let included = match (head.root(), hashes_from_hex(&file.inclusion_proof)) {
        (Some(root), Some(proof)) => verify_inclusion(
            &leaf_hash(&payload_bytes),
            payload.log_index,
            head.tree_size,
            &proof,
            &root,
        ),
        _ => false,
    };
    if included {
        v.pass(format!(
            "the receipt is leaf {} of the tree of {} receipts: the inclusion proof leads to the signed root",
            payload.log_index, head.tree_size
        ));
    } else {
        v.fail(format!(
            "the inclusion proof does not lead from the receipt (leaf {}) to the signed tree head's root",
            payload.log_index
        ));
    }

    if let Some(data) = &options.data {
        if data.sha256.eq_ignore_ascii_case(&payload.data_sha256) {
            v.pass(format!(
                "{} is the submitted data (SHA-256 {})",
                data.label, payload.data_sha256
            ));
        } else {
            v.fail(format!(
                "{} is not the submitted data: its SHA-256 is {}, the receipt's {}",
                data.label, data.sha256, payload.data_sha256
            ));
        }
    }
    for given in &options.attachments {
        let named = payload
            .attachments
            .iter()
            .find(|a| a.sha256.eq_ignore_ascii_case(&given.sha256));
        match named {
            Some(a) if u64::try_from(a.size).ok() == Some(given.size) => v.pass(format!(
                "{} is the attachment `{}` in slot {} ({}, {} bytes)",
                given.label, a.file_name, a.slot, a.media_type, a.size
            )),
            _ => v.fail(format!(
                "{} is none of the receipt's attachments (its SHA-256 is {})",
                given.label, given.sha256
            )),
        }
    }
    check_time_stamp(&mut v, &file, &payload_bytes, options);
    v.payload = Some(payload);
    Ok(v)
}

/// The file's RFC 3161 token, when it has one: over SHA-256 of the signed payload, from a
/// certificate for time stamping (the pinned one when given), at the time the file states.
fn check_time_stamp(
    v: &mut Verification,
    file: &ReceiptFile,
    payload_bytes: &[u8],
    options: &VerifyOptions,
) {
    let Some(stamp) = &file.time_stamp else {
        v.pass(
            "the file has no time stamp yet (the office adds it within seconds of the receipt; \
             download the receipt again to get it)",
        );
        return;
    };
    let Some(der) = unb64(&stamp.token) else {
        v.fail("the time stamp's token is not base64url");
        return;
    };
    let digest: [u8; 32] = Sha256::digest(payload_bytes).into();
    match verify_token(&der, &digest, None, options.tsa_certificate.as_deref()) {
        Ok(token) => {
            let time = rfc3339(token.time).unwrap_or_default();
            let signer = certificate_subject(&token.certificate);
            if options.tsa_certificate.is_some() {
                v.pass(format!(
                    "the RFC 3161 time stamp of {} is over this receipt, signed by the pinned certificate ({signer}), time {time}",
                    stamp.authority
                ));
            } else {
                v.pass(format!(
                    "the RFC 3161 time stamp of {} is over this receipt, signed by the certificate in the token ({signer}), time {time}; pass --tsa-certificate to pin the authority",
                    stamp.authority
                ));
            }
            if time != stamp.time {
                v.fail(format!(
                    "the file says the time stamp's time is {}, the token says {time}",
                    stamp.time
                ));
            }
        }
        Err(e) => v.fail(format!("the time stamp: {e}")),
    }
}

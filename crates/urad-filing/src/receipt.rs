//! The signed receipt: a canonical JSON payload of a [`Receipt`], signed by the office's
//! Ed25519 key as a compact JWS (`alg: EdDSA`, RFC 8037), and the signed tree heads of the
//! receipt log, signed by the same key over their RFC 9162 encoding.
//!
//! The payload is byte-for-byte a function of the stored submission: its members are written
//! in lexicographic order (the fields of [`ReceiptPayload`] are declared in that order, and
//! serde writes them in declaration order, whatever features `serde_json` is built with),
//! without whitespace, strings escaped the one way `serde_json` escapes them, integers only.
//! That is the JSON Canonicalization Scheme (RFC 8785) for these values, so the receipt log
//! can recompute every leaf from the database, and so can an auditor from the published
//! leaves. Ed25519 signatures are deterministic, so the JWS itself is reproducible too.

use crate::merkle::Hash;
use crate::Receipt;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The payload's `format`: what a verifier expects to find.
pub const PAYLOAD_FORMAT: &str = "urad-receipt/1";
/// The JWS `typ` of a receipt, so that nothing else signed by the key passes for one.
pub const RECEIPT_TYP: &str = "urad-receipt+json";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the receipt is not a compact JWS (three base64url parts)")]
    Malformed,
    #[error("the receipt's header says alg `{0}`, not EdDSA")]
    Algorithm(String),
    #[error("the receipt's header says typ `{0}`, not {RECEIPT_TYP}")]
    Type(String),
    #[error("the receipt names key `{0}`, not the office key given")]
    OtherKey(String),
    #[error("the signature does not verify with the office key")]
    Signature,
    #[error("the key is not an Ed25519 public key (JWK kty OKP, crv Ed25519, x of 32 bytes)")]
    Key,
    #[error("the key cannot be stored or read back")]
    Stored,
}

/// What the receipt says, member by member in the order they are written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptPayload {
    /// The files that came with the submission, in the order of the receipt.
    pub attachments: Vec<PayloadAttachment>,
    /// SHA-256 (hex) of the submitted data exactly as stored.
    pub data_sha256: String,
    pub form_id: String,
    pub form_version: u32,
    /// [`PAYLOAD_FORMAT`].
    pub format: String,
    /// The submission's leaf in the receipt log.
    pub log_index: u64,
    /// The receipt instant, RFC 3339 in UTC (`2026-12-01T20:16:09Z`).
    pub received_at: String,
    /// The registry-journal reference number (`KUMSK 12345/2026`).
    pub reference: String,
    /// What the sequence counts in (`call:KD-2026`, `form:obecne-podani`).
    pub scope: String,
    pub sequence: i64,
    /// The submitter's person id.
    pub submitter: String,
}

/// One attached file as the payload names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayloadAttachment {
    pub file_name: String,
    pub media_type: String,
    /// SHA-256 (hex) of the file's bytes.
    pub sha256: String,
    pub size: i64,
    pub slot: String,
}

/// Unix seconds as RFC 3339 in UTC; `None` outside the years jiff represents.
pub fn rfc3339(unix_seconds: i64) -> Option<String> {
    jiff::Timestamp::from_second(unix_seconds)
        .ok()
        .map(|t| t.to_string())
}

impl ReceiptPayload {
    /// The payload of a receipt as stored. A receipt whose instant or log index cannot be
    /// written (a negative index) gets `None`: the database does not hold such rows.
    pub fn of(receipt: &Receipt) -> Option<ReceiptPayload> {
        Some(ReceiptPayload {
            attachments: receipt
                .attachments
                .iter()
                .map(|a| PayloadAttachment {
                    file_name: a.file_name.clone(),
                    media_type: a.media_type.clone(),
                    sha256: a.sha256.clone(),
                    size: a.size,
                    slot: a.slot.clone(),
                })
                .collect(),
            data_sha256: receipt.data_sha256.clone(),
            form_id: receipt.form_id.clone(),
            form_version: receipt.form_version,
            format: PAYLOAD_FORMAT.to_owned(),
            log_index: u64::try_from(receipt.log_index).ok()?,
            received_at: rfc3339(receipt.received_at)?,
            reference: receipt.reference.clone(),
            scope: receipt.scope.clone(),
            sequence: receipt.sequence,
            submitter: receipt.person_id.clone(),
        })
    }

    /// The canonical bytes: what is signed and what the receipt log's leaf is.
    pub fn canonical(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a struct of strings and integers serializes")
    }
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Lowercase hexadecimal back to bytes.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() & 1 == 1 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// A 32-byte hash from hexadecimal.
pub fn hash_from_hex(text: &str) -> Option<Hash> {
    unhex(text)?.try_into().ok()
}

/// The office's public receipt key as a JWK (RFC 8037: `kty` OKP, `crv` Ed25519).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    #[serde(default)]
    pub kid: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alg: String,
    #[serde(rename = "use", default, skip_serializing_if = "String::is_empty")]
    pub use_: String,
}

impl Jwk {
    fn of(public: &[u8]) -> Jwk {
        let mut jwk = Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: b64(public),
            kid: String::new(),
            alg: "EdDSA".into(),
            use_: "sig".into(),
        };
        jwk.kid = jwk.thumbprint();
        jwk
    }

    /// The RFC 7638 thumbprint (SHA-256 of the required members in order, base64url): the
    /// key's id.
    pub fn thumbprint(&self) -> String {
        let canonical = format!(
            r#"{{"crv":"{}","kty":"{}","x":"{}"}}"#,
            self.crv, self.kty, self.x
        );
        b64(&Sha256::digest(canonical.as_bytes()))
    }

    /// The raw public key, if this is an Ed25519 JWK.
    pub fn public_key(&self) -> Result<[u8; 32], SignatureError> {
        if self.kty != "OKP" || self.crv != "Ed25519" {
            return Err(SignatureError::Key);
        }
        unb64(&self.x)
            .and_then(|x| x.try_into().ok())
            .ok_or(SignatureError::Key)
    }

    /// Whether two JWKs are the same public key (whatever their optional members say).
    pub fn same_key(&self, other: &Jwk) -> bool {
        matches!((self.public_key(), other.public_key()), (Ok(a), Ok(b)) if a == b)
    }

    /// Checks an Ed25519 signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        let public = self.public_key()?;
        UnparsedPublicKey::new(&ED25519, public)
            .verify(message, signature)
            .map_err(|_| SignatureError::Signature)
    }
}

/// The office's receipt key pair.
pub struct ReceiptKey {
    kid: String,
    pkcs8: Vec<u8>,
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for ReceiptKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl ReceiptKey {
    /// A new random key; its id is the thumbprint of its public JWK.
    pub fn generate() -> Result<ReceiptKey, SignatureError> {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .map_err(|_| SignatureError::Stored)?;
        ReceiptKey::from_pkcs8(pkcs8.as_ref())
    }

    fn from_pkcs8(pkcs8: &[u8]) -> Result<ReceiptKey, SignatureError> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| SignatureError::Stored)?;
        let kid = Jwk::of(pair.public_key().as_ref()).kid;
        Ok(ReceiptKey {
            kid,
            pkcs8: pkcs8.to_vec(),
            pair,
        })
    }

    /// The PKCS#8 document, base64url: how the key is stored.
    pub fn to_stored(&self) -> String {
        b64(&self.pkcs8)
    }

    pub fn from_stored(encoded: &str) -> Result<ReceiptKey, SignatureError> {
        ReceiptKey::from_pkcs8(&unb64(encoded).ok_or(SignatureError::Stored)?)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn public_jwk(&self) -> Jwk {
        Jwk::of(self.pair.public_key().as_ref())
    }

    /// An Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let signature = self.pair.sign(message);
        signature
            .as_ref()
            .try_into()
            .expect("Ed25519 signatures are 64 bytes")
    }

    /// The receipt as a compact JWS over its canonical payload.
    pub fn sign_receipt(&self, payload: &ReceiptPayload) -> String {
        let header = JwsHeader {
            alg: "EdDSA".into(),
            kid: self.kid.clone(),
            typ: RECEIPT_TYP.into(),
        };
        let header = serde_json::to_vec(&header).expect("strings serialize");
        let input = format!("{}.{}", b64(&header), b64(&payload.canonical()));
        let signature = self.sign(input.as_bytes());
        format!("{input}.{}", b64(&signature))
    }
}

/// The protected header of a receipt, members in lexicographic order.
#[derive(Serialize, Deserialize)]
struct JwsHeader {
    alg: String,
    kid: String,
    typ: String,
}

/// Checks a receipt JWS with the office's key; returns the payload's bytes exactly as signed.
/// Only `alg: EdDSA` with `typ` [`RECEIPT_TYP`] is accepted, and a header with members this
/// code does not know (`crit` …) is refused.
pub fn verify_receipt(jws: &str, key: &Jwk) -> Result<Vec<u8>, SignatureError> {
    let mut parts = jws.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SignatureError::Malformed);
    };
    let header = unb64(h).ok_or(SignatureError::Malformed)?;
    let header: JwsHeaderRead =
        serde_json::from_slice(&header).map_err(|_| SignatureError::Malformed)?;
    if header.alg != "EdDSA" {
        return Err(SignatureError::Algorithm(header.alg));
    }
    if header.typ != RECEIPT_TYP {
        return Err(SignatureError::Type(header.typ));
    }
    if !key.kid.is_empty() && header.kid != key.kid {
        return Err(SignatureError::OtherKey(header.kid));
    }
    let payload = unb64(p).ok_or(SignatureError::Malformed)?;
    let signature = unb64(s).ok_or(SignatureError::Signature)?;
    key.verify(format!("{h}.{p}").as_bytes(), &signature)?;
    Ok(payload)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JwsHeaderRead {
    alg: String,
    #[serde(default)]
    kid: String,
    #[serde(default)]
    typ: String,
}

/// A signed tree head of the receipt log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedTreeHead {
    /// The number of leaves (receipts) the tree has.
    pub tree_size: u64,
    /// When it was signed: milliseconds since the Unix epoch (as RFC 9162).
    pub timestamp: u64,
    /// The tree's root hash, hexadecimal.
    pub root_hash: String,
    /// The id of the key that signed it.
    pub kid: String,
    /// Ed25519 signature (base64url) of [`tree_head_data`] of the three above.
    pub signature: String,
}

/// What a tree head's signature covers: RFC 9162's `TreeHeadDataV2` in its TLS encoding —
/// `timestamp` (8 bytes, big-endian), `tree_size` (8 bytes), `root_hash` (1-byte length, then
/// the 32 bytes) and empty `extensions` (2-byte length 0): 51 bytes.
pub fn tree_head_data(timestamp: u64, tree_size: u64, root: &Hash) -> Vec<u8> {
    let mut data = Vec::with_capacity(51);
    data.extend_from_slice(&timestamp.to_be_bytes());
    data.extend_from_slice(&tree_size.to_be_bytes());
    data.push(32);
    data.extend_from_slice(root);
    data.extend_from_slice(&[0, 0]);
    data
}

impl SignedTreeHead {
    /// Signs the tree of `tree_size` leaves with `root` at `timestamp` (ms).
    pub fn sign(key: &ReceiptKey, tree_size: u64, timestamp: u64, root: &Hash) -> SignedTreeHead {
        let signature = key.sign(&tree_head_data(timestamp, tree_size, root));
        SignedTreeHead {
            tree_size,
            timestamp,
            root_hash: urad_core::hex(root),
            kid: key.kid().to_owned(),
            signature: b64(&signature),
        }
    }

    /// The root hash, if it is 32 bytes of hexadecimal.
    pub fn root(&self) -> Option<Hash> {
        hash_from_hex(&self.root_hash)
    }

    /// Checks the signature with the office's key.
    pub fn verify(&self, key: &Jwk) -> Result<(), SignatureError> {
        if !key.kid.is_empty() && self.kid != key.kid {
            return Err(SignatureError::OtherKey(self.kid.clone()));
        }
        let root = self.root().ok_or(SignatureError::Malformed)?;
        let signature = unb64(&self.signature).ok_or(SignatureError::Signature)?;
        key.verify(
            &tree_head_data(self.timestamp, self.tree_size, &root),
            &signature,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReceiptAttachment;

    fn receipt() -> Receipt {
        Receipt {
            id: "d1".into(),
            reference: "KUMSK 7/2027".into(),
            scope: "call:KD-2026".into(),
            sequence: 3,
            received_at: 1_798_759_800,
            person_id: "p-1".into(),
            form_id: "kotlikova-dotace".into(),
            form_version: 2,
            data_sha256: "ab".repeat(32),
            log_index: 41,
            attachments: vec![ReceiptAttachment {
                slot: "photo".into(),
                file_name: "Kotel \"starý\".jpg".into(),
                media_type: "image/jpeg".into(),
                size: 1234,
                sha256: "cd".repeat(32),
            }],
        }
    }

    #[test]
    fn the_payload_is_canonical_json_in_a_fixed_byte_form() {
        let payload = ReceiptPayload::of(&receipt()).unwrap();
        let expected = format!(
            concat!(
                r#"{{"attachments":[{{"file_name":"Kotel \"starý\".jpg","media_type":"image/jpeg","#,
                r#""sha256":"{cd}","size":1234,"slot":"photo"}}],"data_sha256":"{ab}","#,
                r#""form_id":"kotlikova-dotace","form_version":2,"format":"urad-receipt/1","#,
                r#""log_index":41,"received_at":"2026-12-31T23:30:00Z","reference":"KUMSK 7/2027","#,
                r#""scope":"call:KD-2026","sequence":3,"submitter":"p-1"}}"#
            ),
            ab = "ab".repeat(32),
            cd = "cd".repeat(32)
        );
        assert_eq!(String::from_utf8(payload.canonical()).unwrap(), expected);
        // Read back, it is the same payload and the same bytes.
        let back: ReceiptPayload = serde_json::from_slice(&payload.canonical()).unwrap();
        assert_eq!(back, payload);
        // A member the format does not have is refused, not ignored.
        let extra = expected.replacen('{', r#"{"admitted":true,"#, 1);
        assert!(serde_json::from_str::<ReceiptPayload>(&extra).is_err());
    }

    #[test]
    fn receipts_sign_and_verify_and_the_key_survives_storage() {
        let key = ReceiptKey::generate().unwrap();
        let stored = ReceiptKey::from_stored(&key.to_stored()).unwrap();
        assert_eq!(stored.kid(), key.kid());
        let jwk = key.public_jwk();
        assert_eq!((jwk.kty.as_str(), jwk.crv.as_str()), ("OKP", "Ed25519"));
        assert_eq!(jwk.kid, jwk.thumbprint());
        let payload = ReceiptPayload::of(&receipt()).unwrap();
        let jws = stored.sign_receipt(&payload);
        // Ed25519 is deterministic: the same receipt signs to the same JWS.
        assert_eq!(jws, key.sign_receipt(&payload));
        assert_eq!(verify_receipt(&jws, &jwk).unwrap(), payload.canonical());

        // Another key, a changed payload or signature, another algorithm: refused.
        let other = ReceiptKey::generate().unwrap().public_jwk();
        assert!(matches!(
            verify_receipt(&jws, &other),
            Err(SignatureError::OtherKey(_))
        ));
        let unnamed = Jwk {
            kid: String::new(),
            ..other
        };
        assert_eq!(
            verify_receipt(&jws, &unnamed),
            Err(SignatureError::Signature)
        );
        let parts: Vec<&str> = jws.split('.').collect();
        let mut changed = payload.clone();
        changed.sequence = 1;
        let forged = format!("{}.{}.{}", parts[0], b64(&changed.canonical()), parts[2]);
        assert_eq!(
            verify_receipt(&forged, &jwk),
            Err(SignatureError::Signature)
        );
        let mut signature = unb64(parts[2]).unwrap();
        signature[10] ^= 1;
        let forged = format!("{}.{}.{}", parts[0], parts[1], b64(&signature));
        assert_eq!(
            verify_receipt(&forged, &jwk),
            Err(SignatureError::Signature)
        );
        let none = b64(br#"{"alg":"none","typ":"urad-receipt+json"}"#);
        assert!(matches!(
            verify_receipt(&format!("{none}.{}.", parts[1]), &jwk),
            Err(SignatureError::Algorithm(_))
        ));
        assert_eq!(verify_receipt("a.b", &jwk), Err(SignatureError::Malformed));
    }

    #[test]
    fn tree_heads_sign_their_rfc_9162_encoding() {
        let key = ReceiptKey::generate().unwrap();
        let root = [7u8; 32];
        let head = SignedTreeHead::sign(&key, 12, 1_800_000_000_000, &root);
        let data = tree_head_data(1_800_000_000_000, 12, &root);
        assert_eq!(data.len(), 51);
        assert_eq!(&data[8..16], &12u64.to_be_bytes());
        assert_eq!((data[16], &data[49..]), (32, &[0u8, 0][..]));
        head.verify(&key.public_jwk()).unwrap();
        let mut bigger = head.clone();
        bigger.tree_size = 13;
        assert_eq!(
            bigger.verify(&key.public_jwk()),
            Err(SignatureError::Signature)
        );
        let mut other_root = head.clone();
        other_root.root_hash = urad_core::hex(&[8u8; 32]);
        assert!(other_root.verify(&key.public_jwk()).is_err());
        assert_eq!(unhex("0aff"), Some(vec![10, 255]));
        assert_eq!(unhex("0g"), None);
    }
}

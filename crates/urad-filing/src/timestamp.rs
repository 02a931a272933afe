//! RFC 3161 time stamps of received submissions.
//!
//! What is stamped: SHA-256 of a submission's canonical receipt payload
//! ([`ReceiptPayload::canonical`]), the same bytes the receipt signs and the receipt log
//! holds, so a token proves that this exact receipt existed at the token's time.
//!
//! When: after the submission is committed, never inside it — a time-stamping authority
//! (TSA) that is down or slow must not stop or undo a submission. [`stamp_submission`] stamps
//! one; [`stamp_missing`] stamps every committed submission still without a token (the
//! catch-up after an outage).
//!
//! The client ([`TsaClient`]) sends a `TimeStampReq` (SHA-256 imprint, a random nonce,
//! `certReq`) and accepts a reply only after checking it whole ([`verify_reply`]): status
//! granted, a CMS SignedData over a `TSTInfo` whose imprint and nonce are ours, a signature
//! that verifies with the signer's certificate carried in the token, that certificate's
//! `id-kp-timeStamping` extended key usage and validity at the token's time, and — when the
//! operator pinned one — that it is the pinned certificate. ECDSA P-256 and RSA (PKCS #1
//! v1.5) with SHA-256 are accepted.
//!
//! [`DemoTsa`] is the demo's own TSA: a P-256 key with a self-signed certificate, made once
//! and kept in the database. It is a demonstration, not a qualified TSA.

use crate::receipt::{b64, unb64, ReceiptPayload};
use crate::Receipt;
use cmpv2::status::{PkiFailureInfoValues, PkiStatus, PkiStatusInfo};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{BitString, GeneralizedTime, Int, OctetString, SetOfVec, UtcTime};
use der::oid::ObjectIdentifier;
use der::{Any, Decode, Encode, Sequence, Tag, Tagged};
use p256::ecdsa::signature::{Signer, Verifier};
use sha2::{Digest, Sha256};
use std::time::Duration;
use urad_core::{Clock, Lang};
use urad_store::{sql, Db, StoreError};
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifier, AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate};
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

/// The media type of a request (RFC 3161, section 3.4).
pub const QUERY_MEDIA_TYPE: &str = "application/timestamp-query";
/// The media type of a reply.
pub const REPLY_MEDIA_TYPE: &str = "application/timestamp-reply";
/// Where the demo TSA answers, under the portal's origin.
pub const DEMO_TSA_PATH: &str = "/tsa";
/// How long the client waits for a TSA.
const TSA_TIMEOUT: Duration = Duration::from_secs(10);
/// Replies larger than this are refused unread (a token with a certificate chain is a few KB).
const MAX_REPLY_BYTES: usize = 256 * 1024;

const ID_SHA_256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ECDSA_WITH_SHA_256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP_256_R_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA_256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
const ID_CE_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
/// The demo TSA's policy: the placeholder OpenSSL's examples use, which names no real policy
/// (a qualified TSA's policy is ETSI EN 319 421's or its own).
pub const DEMO_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.3.4.1");

#[derive(Debug, thiserror::Error)]
pub enum TimestampError {
    #[error("the time-stamping authority {url} cannot be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the time-stamping authority answered HTTP {0}")]
    HttpStatus(u16),
    #[error("the time-stamping authority's answer is not a time-stamp reply: {0}")]
    Malformed(String),
    #[error("the time-stamping authority refused the request (status {status}{detail})")]
    Rejected { status: String, detail: String },
    #[error("the signature of the time-stamp token does not verify")]
    BadSignature,
    #[error("the token carries no certificate of its signer")]
    NoCertificate,
    #[error("the signer's certificate is not for time stamping (no id-kp-timeStamping)")]
    NotForTimeStamping,
    #[error("the signer's certificate is not the configured (pinned) one")]
    NotPinned,
    #[error("the token's time lies outside its certificate's validity")]
    OutsideValidity,
    #[error("unsupported algorithm {0}")]
    UnsupportedAlgorithm(String),
    #[error("the token stamps other data than what was sent")]
    ImprintMismatch,
    #[error("the token's nonce is not the request's (a replayed or mixed-up reply)")]
    NonceMismatch,
    #[error("the certificate file cannot be read: {0}")]
    Certificate(String),
    #[error("no submission {0}")]
    UnknownSubmission(String),
    #[error("the stored time-stamp data cannot be read")]
    Stored,
    #[error("cannot encode: {0}")]
    Encoding(String),
    #[error("database error: {0}")]
    Store(#[from] StoreError),
}

impl From<der::Error> for TimestampError {
    fn from(e: der::Error) -> Self {
        TimestampError::Malformed(e.to_string())
    }
}

impl TimestampError {
    /// What a citizen is told: the submission stands whatever went wrong with its stamp.
    pub fn message(&self, lang: Lang) -> &'static str {
        match (self, lang) {
            (TimestampError::UnknownSubmission(_), Lang::Cs) => "Takové podání neexistuje.",
            (TimestampError::UnknownSubmission(_), Lang::En) => "There is no such submission.",
            (_, Lang::Cs) => "Časové razítko se teď nepodařilo získat. Vaše podání je přijato a platí; razítko doplníme později.",
            (_, Lang::En) => "The time stamp could not be obtained just now. Your submission has been received and stands; the stamp will be added later.",
        }
    }
}

/// A verified time-stamp token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// The TimeStampToken (a CMS ContentInfo), DER.
    pub der: Vec<u8>,
    /// The token's genTime, Unix seconds.
    pub time: i64,
    /// The signer's certificate, DER.
    pub certificate: Vec<u8>,
}

/// A random nonce of 63 bits (positive, so its INTEGER encoding has no sign byte games).
pub fn new_nonce() -> u64 {
    rand_core::RngCore::next_u64(&mut rand_core::OsRng) >> 1
}

fn int_of(n: u64) -> Result<Int, TimestampError> {
    let der = n
        .to_der()
        .map_err(|e| TimestampError::Encoding(e.to_string()))?;
    Int::from_der(&der).map_err(|e| TimestampError::Encoding(e.to_string()))
}

fn sha256_id() -> AlgorithmIdentifier<Any> {
    AlgorithmIdentifier {
        oid: ID_SHA_256,
        parameters: None,
    }
}

/// A certificate's subject as people read it (`CN=…`), or a note that it cannot be read.
pub fn certificate_subject(der: &[u8]) -> String {
    Certificate::from_der(der)
        .map(|c| c.tbs_certificate.subject.to_string())
        .unwrap_or_else(|_| "an unreadable certificate".to_owned())
}

/// The DER of a `TimeStampReq` for a SHA-256 `digest` with `nonce`, asking for the signer's
/// certificate in the token.
pub fn encode_request(digest: &[u8; 32], nonce: u64) -> Result<Vec<u8>, TimestampError> {
    let request = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: sha256_id(),
            hashed_message: OctetString::new(digest.as_slice())
                .map_err(|e| TimestampError::Encoding(e.to_string()))?,
        },
        req_policy: None,
        nonce: Some(int_of(nonce)?),
        cert_req: true,
        extensions: None,
    };
    request
        .to_der()
        .map_err(|e| TimestampError::Encoding(e.to_string()))
}

/// Checks a `TimeStampResp` for `digest` and (when the request had one) `nonce`; the token
/// when every check passes.
pub fn verify_reply(
    reply: &[u8],
    digest: &[u8; 32],
    nonce: Option<u64>,
    pinned: Option<&[u8]>,
) -> Result<Token, TimestampError> {
    let response = TimeStampResp::from_der(reply)?;
    match response.status.status {
        PkiStatus::Accepted | PkiStatus::GrantedWithMods => {}
        other => {
            let mut detail = String::new();
            if let Some(texts) = &response.status.status_string {
                for t in texts {
                    detail.push_str(": ");
                    detail.push_str(t.as_str());
                }
            }
            if let Some(fail) = response.status.fail_info {
                detail.push_str(&format!(", failure {fail:?}"));
            }
            return Err(TimestampError::Rejected {
                status: format!("{other:?}"),
                detail,
            });
        }
    }
    let token = response
        .time_stamp_token
        .ok_or_else(|| TimestampError::Malformed("granted, but without a token".into()))?;
    let der = token.to_der()?;
    verify_token(&der, digest, nonce, pinned)
}

/// Checks a time-stamp token (DER of its ContentInfo) for `digest` and, when given, `nonce`.
pub fn verify_token(
    token: &[u8],
    digest: &[u8; 32],
    nonce: Option<u64>,
    pinned: Option<&[u8]>,
) -> Result<Token, TimestampError> {
    let info = ContentInfo::from_der(token)?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(TimestampError::Malformed(
            "the token is not CMS SignedData".into(),
        ));
    }
    let signed: SignedData = info.content.decode_as()?;
    if signed.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(TimestampError::Malformed(
            "the token does not hold a TSTInfo".into(),
        ));
    }
    let econtent = signed
        .encap_content_info
        .econtent
        .as_ref()
        .filter(|c| c.tag() == Tag::OctetString)
        .ok_or_else(|| TimestampError::Malformed("the token's TSTInfo is missing".into()))?;
    let tst_der = econtent.value();
    let tst = TstInfo::from_der(tst_der)?;
    let [signer] = signed.signer_infos.0.as_slice() else {
        return Err(TimestampError::Malformed(
            "the token must have exactly one signer".into(),
        ));
    };
    let certificate = signer_certificate(&signed, signer)?;
    let certificate_der = certificate.to_der()?;
    if let Some(pinned) = pinned {
        if pinned != certificate_der.as_slice() {
            return Err(TimestampError::NotPinned);
        }
    }
    if !is_for_time_stamping(&certificate)? {
        return Err(TimestampError::NotForTimeStamping);
    }
    verify_signer(signer, &certificate, tst_der)?;
    let time = i64::try_from(tst.gen_time.to_unix_duration().as_secs())
        .map_err(|_| TimestampError::Malformed("genTime out of range".into()))?;
    let validity = &certificate.tbs_certificate.validity;
    let not_before = validity.not_before.to_unix_duration().as_secs();
    let not_after = validity.not_after.to_unix_duration().as_secs();
    if !(not_before..=not_after).contains(&(time as u64)) {
        return Err(TimestampError::OutsideValidity);
    }
    if tst.message_imprint.hash_algorithm.oid != ID_SHA_256
        || tst.message_imprint.hashed_message.as_bytes() != digest.as_slice()
    {
        return Err(TimestampError::ImprintMismatch);
    }
    if let Some(nonce) = nonce {
        if tst.nonce != Some(int_of(nonce)?) {
            return Err(TimestampError::NonceMismatch);
        }
    }
    Ok(Token {
        der: token.to_vec(),
        time,
        certificate: certificate_der,
    })
}

/// The certificate in the token that the signer identifies.
fn signer_certificate(
    signed: &SignedData,
    signer: &SignerInfo,
) -> Result<Certificate, TimestampError> {
    let certificates = signed
        .certificates
        .as_ref()
        .ok_or(TimestampError::NoCertificate)?;
    certificates
        .0
        .iter()
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c),
            CertificateChoices::Other(_) => None,
        })
        .find(|c| match &signer.sid {
            SignerIdentifier::IssuerAndSerialNumber(id) => {
                id.issuer == c.tbs_certificate.issuer
                    && id.serial_number == c.tbs_certificate.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => c
                .tbs_certificate
                .extensions
                .iter()
                .flatten()
                .filter(|e| e.extn_id == ObjectIdentifier::new_unwrap("2.5.29.14"))
                .any(|e| {
                    OctetString::from_der(e.extn_value.as_bytes())
                        .is_ok_and(|v| v.as_bytes() == ski.0.as_bytes())
                }),
        })
        .cloned()
        .ok_or(TimestampError::NoCertificate)
}

fn is_for_time_stamping(certificate: &Certificate) -> Result<bool, TimestampError> {
    for extension in certificate.tbs_certificate.extensions.iter().flatten() {
        if extension.extn_id == ID_CE_EXT_KEY_USAGE {
            let usage = ExtendedKeyUsage::from_der(extension.extn_value.as_bytes())?;
            return Ok(usage.0.contains(&ID_KP_TIME_STAMPING));
        }
    }
    Ok(false)
}

/// The signed attributes must name the TSTInfo's content type and digest, and their DER must
/// carry the signer's signature.
fn verify_signer(
    signer: &SignerInfo,
    certificate: &Certificate,
    tst_der: &[u8],
) -> Result<(), TimestampError> {
    if signer.digest_alg.oid != ID_SHA_256 {
        return Err(TimestampError::UnsupportedAlgorithm(
            signer.digest_alg.oid.to_string(),
        ));
    }
    let attributes = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| TimestampError::Malformed("the signer has no signed attributes".into()))?;
    let single = |oid: ObjectIdentifier| {
        attributes
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.iter().next())
            .ok_or_else(|| TimestampError::Malformed(format!("no signed attribute {oid}")))
    };
    let content_type: ObjectIdentifier = single(ID_CONTENT_TYPE)?.decode_as()?;
    if content_type != ID_CT_TST_INFO {
        return Err(TimestampError::Malformed(
            "the signed content type is not TSTInfo".into(),
        ));
    }
    let message_digest: OctetString = single(ID_MESSAGE_DIGEST)?.decode_as()?;
    if message_digest.as_bytes() != Sha256::digest(tst_der).as_slice() {
        // The TSTInfo was changed after signing.
        return Err(TimestampError::BadSignature);
    }
    let signed_bytes = attributes.to_der()?;
    let signature = signer.signature.as_bytes();
    let key = &certificate.tbs_certificate.subject_public_key_info;
    let point = key
        .subject_public_key
        .as_bytes()
        .ok_or(TimestampError::BadSignature)?;
    match (key.algorithm.oid, signer.signature_algorithm.oid) {
        (ID_EC_PUBLIC_KEY, ECDSA_WITH_SHA_256 | ID_EC_PUBLIC_KEY) => {
            let curve: Option<ObjectIdentifier> = key
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as().ok());
            if curve != Some(SECP_256_R_1) {
                return Err(TimestampError::UnsupportedAlgorithm(
                    "an elliptic curve other than P-256".into(),
                ));
            }
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_err(|_| TimestampError::BadSignature)?;
            let signature = p256::ecdsa::Signature::from_der(signature)
                .map_err(|_| TimestampError::BadSignature)?;
            key.verify(&signed_bytes, &signature)
                .map_err(|_| TimestampError::BadSignature)
        }
        (RSA_ENCRYPTION, SHA_256_WITH_RSA | RSA_ENCRYPTION) => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            let key = rsa::RsaPublicKey::from_pkcs1_der(point)
                .map_err(|_| TimestampError::BadSignature)?;
            key.verify(
                rsa::Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(&signed_bytes),
                signature,
            )
            .map_err(|_| TimestampError::BadSignature)
        }
        (k, s) => Err(TimestampError::UnsupportedAlgorithm(format!(
            "key {k}, signature {s}"
        ))),
    }
}

/// A certificate from a file's bytes: PEM (`-----BEGIN CERTIFICATE-----`) or DER. Its DER.
pub fn read_certificate(bytes: &[u8]) -> Result<Vec<u8>, TimestampError> {
    let der = match std::str::from_utf8(bytes) {
        Ok(text) if text.contains("-----BEGIN CERTIFICATE-----") => {
            let body: String = text
                .lines()
                .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
                .skip(1)
                .take_while(|l| !l.starts_with("-----END"))
                .map(str::trim)
                .collect();
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .map_err(|e| TimestampError::Certificate(format!("not valid PEM: {e}")))?
        }
        _ => bytes.to_vec(),
    };
    Certificate::from_der(&der)
        .map_err(|e| TimestampError::Certificate(format!("not an X.509 certificate: {e}")))?;
    Ok(der)
}

/// A certificate's DER as PEM.
pub fn certificate_pem(der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// A configured time-stamping authority.
#[derive(Clone, Debug)]
pub struct TsaClient {
    http: reqwest::Client,
    url: String,
    pinned: Option<Vec<u8>>,
}

impl TsaClient {
    /// `pinned`: the DER of the only certificate accepted as the signer's, if any.
    pub fn new(http: reqwest::Client, url: impl Into<String>, pinned: Option<Vec<u8>>) -> Self {
        TsaClient {
            http,
            url: url.into(),
            pinned,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Asks the TSA for a token over `digest` and verifies it.
    pub async fn stamp(&self, digest: &[u8; 32]) -> Result<Token, TimestampError> {
        let nonce = new_nonce();
        let request = encode_request(digest, nonce)?;
        let unreachable = |e: reqwest::Error| TimestampError::Unreachable {
            url: self.url.clone(),
            reason: e.to_string(),
        };
        let response = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, QUERY_MEDIA_TYPE)
            .timeout(TSA_TIMEOUT)
            .body(request)
            .send()
            .await
            .map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(TimestampError::HttpStatus(response.status().as_u16()));
        }
        let media_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if !media_type.starts_with(REPLY_MEDIA_TYPE) {
            return Err(TimestampError::Malformed(format!(
                "media type `{media_type}`, not {REPLY_MEDIA_TYPE}"
            )));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_REPLY_BYTES as u64)
        {
            return Err(TimestampError::Malformed("the reply is too large".into()));
        }
        let body = response.bytes().await.map_err(unreachable)?;
        if body.len() > MAX_REPLY_BYTES {
            return Err(TimestampError::Malformed("the reply is too large".into()));
        }
        verify_reply(&body, digest, Some(nonce), self.pinned.as_deref())
    }
}

/// What is stamped for a receipt: SHA-256 of its canonical payload.
pub fn receipt_digest(receipt: &Receipt) -> Option<[u8; 32]> {
    ReceiptPayload::of(receipt).map(|p| Sha256::digest(p.canonical()).into())
}

/// A submission's stored time stamp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub submission_id: String,
    /// The TimeStampToken, DER.
    pub token: Vec<u8>,
    /// The token's time, Unix seconds.
    pub stamped_at: i64,
    /// The TSA that issued it.
    pub tsa_url: String,
}

/// The receipt of a submission, whoever submitted it.
async fn any_receipt(db: &Db, submission_id: &str) -> Result<Receipt, TimestampError> {
    let person: Option<String> = db
        .fetch_optional(sql("SELECT person_id FROM submission WHERE id = $1").bind(submission_id))
        .await?
        .map(|r| r.get("person_id"))
        .transpose()?;
    let unknown = || TimestampError::UnknownSubmission(submission_id.to_owned());
    let person = person.ok_or_else(unknown)?;
    crate::receipt(db, &person, submission_id)
        .await
        .map_err(|e| match e {
            crate::FilingError::Store(e) => TimestampError::Store(e),
            _ => unknown(),
        })?
        .ok_or_else(unknown)
}

/// The SHA-256 a submission's token stamps (of its canonical receipt payload).
pub async fn submission_digest(db: &Db, submission_id: &str) -> Result<[u8; 32], TimestampError> {
    receipt_digest(&any_receipt(db, submission_id).await?).ok_or(TimestampError::Stored)
}

/// Stamps a committed submission: asks `tsa` for a token over its receipt payload, verifies
/// it, and stores it. A submission stamped before keeps its first token (which is returned).
/// Any error leaves the submission as it was, without a token.
pub async fn stamp_submission(
    db: &Db,
    clock: &dyn Clock,
    tsa: &TsaClient,
    submission_id: &str,
) -> Result<Stamp, TimestampError> {
    if let Some(stamp) = stored_stamp(db, submission_id).await? {
        return Ok(stamp);
    }
    let digest = submission_digest(db, submission_id).await?;
    let token = tsa.stamp(&digest).await?;
    db.write_one(
        sql("INSERT INTO submission_timestamp (submission_id, token, stamped_at, tsa_url, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (submission_id) DO NOTHING")
        .bind(submission_id)
        .bind(b64(&token.der))
        .bind(token.time)
        .bind(tsa.url())
        .bind(clock.now()),
    )
    .await?;
    stored_stamp(db, submission_id)
        .await?
        .ok_or(TimestampError::Stored)
}

/// A submission's stored time stamp, if it has one.
pub async fn stored_stamp(db: &Db, submission_id: &str) -> Result<Option<Stamp>, TimestampError> {
    let row = db
        .fetch_optional(
            sql(
                "SELECT submission_id, token, stamped_at, tsa_url FROM submission_timestamp \
                 WHERE submission_id = $1",
            )
            .bind(submission_id),
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let token: String = row.get("token")?;
    Ok(Some(Stamp {
        submission_id: row.get("submission_id")?,
        token: unb64(&token).ok_or(TimestampError::Stored)?,
        stamped_at: row.get("stamped_at")?,
        tsa_url: row.get("tsa_url")?,
    }))
}

/// What a catch-up did.
#[derive(Debug, Default)]
pub struct CatchUp {
    /// Submissions stamped now.
    pub stamped: Vec<String>,
    /// Submissions still without a token, with why.
    pub failed: Vec<(String, TimestampError)>,
}

/// Stamps up to `limit` committed submissions that have no token yet, oldest first (in
/// receipt-log order). A TSA that stays down fails them all again, harmlessly; a later run
/// catches up.
pub async fn stamp_missing(
    db: &Db,
    clock: &dyn Clock,
    tsa: &TsaClient,
    limit: i64,
) -> Result<CatchUp, TimestampError> {
    let rows = db
        .fetch_all(
            sql("SELECT s.id FROM submission s \
                 LEFT JOIN submission_timestamp t ON t.submission_id = s.id \
                 WHERE t.submission_id IS NULL ORDER BY s.log_index LIMIT $1")
            .bind(limit),
        )
        .await?;
    let mut done = CatchUp::default();
    for row in rows {
        let id: String = row.get("id")?;
        match stamp_submission(db, clock, tsa, &id).await {
            Ok(_) => done.stamped.push(id),
            Err(TimestampError::Store(e)) => return Err(TimestampError::Store(e)),
            Err(e) => done.failed.push((id, e)),
        }
    }
    Ok(done)
}

/// ESSCertIDv2 (RFC 5035): which certificate signed. OpenSSL's `ts -verify` insists on it.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EssCertIdV2 {
    /// Absent means SHA-256.
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
}

/// SigningCertificateV2 (RFC 5035), without policies.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// The demo's time-stamping authority. Not qualified: its certificate is self-signed and its
/// clock is the server's.
pub struct DemoTsa {
    key: p256::ecdsa::SigningKey,
    certificate: Certificate,
    certificate_der: Vec<u8>,
}

fn random_positive_serial() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    // Positive and with a non-zero first byte: a minimal INTEGER of exactly these bytes.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    bytes
}

fn encoding(e: impl std::fmt::Display) -> TimestampError {
    TimestampError::Encoding(e.to_string())
}

fn utc_time(unix_seconds: i64) -> Result<Time, TimestampError> {
    let seconds = u64::try_from(unix_seconds).map_err(encoding)?;
    Ok(Time::UtcTime(
        UtcTime::from_unix_duration(Duration::from_secs(seconds)).map_err(encoding)?,
    ))
}

impl DemoTsa {
    /// A new key and a self-signed certificate, valid for ten years from `now`.
    pub fn generate(now: i64) -> Result<DemoTsa, TimestampError> {
        Self::generate_with(now, true)
    }

    /// For tests of the client: a TSA whose certificate lacks `id-kp-timeStamping` when
    /// `for_time_stamping` is false.
    #[doc(hidden)]
    pub fn generate_with(now: i64, for_time_stamping: bool) -> Result<DemoTsa, TimestampError> {
        let key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let certificate = self_signed(&key, now, for_time_stamping)?;
        Self::from_parts(key, certificate)
    }

    fn from_parts(
        key: p256::ecdsa::SigningKey,
        certificate: Certificate,
    ) -> Result<DemoTsa, TimestampError> {
        let certificate_der = certificate.to_der().map_err(encoding)?;
        Ok(DemoTsa {
            key,
            certificate,
            certificate_der,
        })
    }

    /// The certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// Answers a DER `TimeStampReq` with a `TimeStampResp`: a token at `now`, or a rejection
    /// that says what was wrong with the request.
    pub fn reply(&self, request: &[u8], now: i64) -> Vec<u8> {
        let answer = match TimeStampReq::from_der(request) {
            Err(_) => Err(PkiFailureInfoValues::BadDataFormat),
            Ok(r) if r.message_imprint.hash_algorithm.oid != ID_SHA_256 => {
                Err(PkiFailureInfoValues::BadAlg)
            }
            Ok(r) if r.message_imprint.hashed_message.as_bytes().len() != 32 => {
                Err(PkiFailureInfoValues::BadDataFormat)
            }
            Ok(r) if r.req_policy.is_some_and(|p| p != DEMO_POLICY) => {
                Err(PkiFailureInfoValues::UnacceptedPolicy)
            }
            Ok(r) => self
                .token(&r, now)
                .map_err(|_| PkiFailureInfoValues::SystemFailure),
        };
        let response = match answer {
            Ok(token) => TimeStampResp {
                status: PkiStatusInfo {
                    status: PkiStatus::Accepted,
                    status_string: None,
                    fail_info: None,
                },
                time_stamp_token: Some(token),
            },
            Err(failure) => TimeStampResp {
                status: PkiStatusInfo {
                    status: PkiStatus::Rejection,
                    status_string: None,
                    fail_info: Some(failure.into()),
                },
                time_stamp_token: None,
            },
        };
        response
            .to_der()
            .expect("a response built from valid parts encodes")
    }

    fn token(&self, request: &TimeStampReq, now: i64) -> Result<ContentInfo, TimestampError> {
        let seconds = u64::try_from(now).map_err(encoding)?;
        let tst = TstInfo {
            version: TspVersion::V1,
            policy: DEMO_POLICY,
            message_imprint: request.message_imprint.clone(),
            serial_number: Int::new(&random_positive_serial()).map_err(encoding)?,
            gen_time: GeneralizedTime::from_unix_duration(Duration::from_secs(seconds))
                .map_err(encoding)?,
            accuracy: None,
            ordering: false,
            nonce: request.nonce.clone(),
            tsa: None,
            extensions: None,
        };
        let tst_der = tst.to_der().map_err(encoding)?;
        let attribute = |oid, value: Any| -> Result<Attribute, TimestampError> {
            Ok(Attribute {
                oid,
                values: SetOfVec::try_from(vec![value]).map_err(encoding)?,
            })
        };
        let signing_certificate = SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                hash_algorithm: None,
                cert_hash: OctetString::new(Sha256::digest(&self.certificate_der).to_vec())
                    .map_err(encoding)?,
            }],
        };
        let signed_attrs = SetOfVec::try_from(vec![
            attribute(
                ID_CONTENT_TYPE,
                Any::encode_from(&ID_CT_TST_INFO).map_err(encoding)?,
            )?,
            attribute(
                ID_MESSAGE_DIGEST,
                Any::encode_from(
                    &OctetString::new(Sha256::digest(&tst_der).to_vec()).map_err(encoding)?,
                )
                .map_err(encoding)?,
            )?,
            attribute(
                ID_AA_SIGNING_CERTIFICATE_V2,
                Any::encode_from(&signing_certificate).map_err(encoding)?,
            )?,
        ])
        .map_err(encoding)?;
        let signature: p256::ecdsa::Signature =
            self.key.sign(&signed_attrs.to_der().map_err(encoding)?);
        let signer = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: self.certificate.tbs_certificate.issuer.clone(),
                serial_number: self.certificate.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: sha256_id(),
            signed_attrs: Some(signed_attrs),
            signature_algorithm: AlgorithmIdentifierOwned {
                oid: ECDSA_WITH_SHA_256,
                parameters: None,
            },
            signature: OctetString::new(signature.to_der().as_bytes()).map_err(encoding)?,
            unsigned_attrs: None,
        };
        let signed = SignedData {
            version: CmsVersion::V3,
            digest_algorithms: SetOfVec::try_from(vec![sha256_id()]).map_err(encoding)?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: ID_CT_TST_INFO,
                econtent: Some(Any::new(Tag::OctetString, tst_der).map_err(encoding)?),
            },
            certificates: Some(CertificateSet(
                SetOfVec::try_from(vec![CertificateChoices::Certificate(
                    self.certificate.clone(),
                )])
                .map_err(encoding)?,
            )),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer]).map_err(encoding)?),
        };
        Ok(ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&signed).map_err(encoding)?,
        })
    }
}

fn self_signed(
    key: &p256::ecdsa::SigningKey,
    now: i64,
    for_time_stamping: bool,
) -> Result<Certificate, TimestampError> {
    use std::str::FromStr;
    let name = Name::from_str("CN=urad demo TSA (not qualified),O=urad demo").map_err(encoding)?;
    let algorithm = AlgorithmIdentifierOwned {
        oid: ECDSA_WITH_SHA_256,
        parameters: None,
    };
    let point = key.verifying_key().to_encoded_point(false);
    let extensions = if for_time_stamping {
        // Critical and the only purpose, as RFC 3161 section 2.3 requires.
        let usage = ExtendedKeyUsage(vec![ID_KP_TIME_STAMPING]);
        vec![Extension {
            extn_id: ID_CE_EXT_KEY_USAGE,
            critical: true,
            extn_value: OctetString::new(usage.to_der().map_err(encoding)?).map_err(encoding)?,
        }]
    } else {
        let usage = ExtendedKeyUsage(vec![ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1")]);
        vec![Extension {
            extn_id: ID_CE_EXT_KEY_USAGE,
            critical: false,
            extn_value: OctetString::new(usage.to_der().map_err(encoding)?).map_err(encoding)?,
        }]
    };
    let tbs = TbsCertificate {
        version: x509_cert::Version::V3,
        serial_number: SerialNumber::new(&random_positive_serial()).map_err(encoding)?,
        signature: algorithm.clone(),
        issuer: name.clone(),
        validity: Validity {
            // A minute back, so a token made right now is inside it whatever the rounding.
            not_before: utc_time(now - 60)?,
            not_after: utc_time(now + 10 * 365 * 24 * 3600)?,
        },
        subject: name,
        subject_public_key_info: SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: ID_EC_PUBLIC_KEY,
                parameters: Some(Any::encode_from(&SECP_256_R_1).map_err(encoding)?),
            },
            subject_public_key: BitString::from_bytes(point.as_bytes()).map_err(encoding)?,
        },
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    let signature: p256::ecdsa::Signature = key.sign(&tbs.to_der().map_err(encoding)?);
    Ok(Certificate {
        tbs_certificate: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(signature.to_der().as_bytes()).map_err(encoding)?,
    })
}

/// The demo TSA of this database: made on first use and kept, so every process (and every
/// restart) signs with the same key; when processes race, one insert wins and all use it.
pub async fn demo_tsa(db: &Db, clock: &dyn Clock) -> Result<DemoTsa, TimestampError> {
    if let Some(tsa) = stored_demo_tsa(db).await? {
        return Ok(tsa);
    }
    let now = clock.now();
    let made = DemoTsa::generate(now)?;
    db.write_one(
        sql(
            "INSERT INTO demo_tsa_key (slot, private_key, certificate, created_at) \
             VALUES ('demo', $1, $2, $3) ON CONFLICT (slot) DO NOTHING",
        )
        .bind(b64(&made.key.to_bytes()))
        .bind(b64(&made.certificate_der))
        .bind(now),
    )
    .await?;
    stored_demo_tsa(db).await?.ok_or(TimestampError::Stored)
}

async fn stored_demo_tsa(db: &Db) -> Result<Option<DemoTsa>, TimestampError> {
    let Some(row) = db
        .fetch_optional(sql(
            "SELECT private_key, certificate FROM demo_tsa_key WHERE slot = 'demo'",
        ))
        .await?
    else {
        return Ok(None);
    };
    let key: String = row.get("private_key")?;
    let certificate: String = row.get("certificate")?;
    let key = unb64(&key)
        .and_then(|k| p256::ecdsa::SigningKey::from_slice(&k).ok())
        .ok_or(TimestampError::Stored)?;
    let certificate = unb64(&certificate)
        .and_then(|c| Certificate::from_der(&c).ok())
        .ok_or(TimestampError::Stored)?;
    DemoTsa::from_parts(key, certificate).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000;

    fn digest(text: &str) -> [u8; 32] {
        Sha256::digest(text.as_bytes()).into()
    }

    #[test]
    fn a_request_is_a_sha256_imprint_with_the_nonce_and_asks_for_the_certificate() {
        let d = digest("abc");
        let der = encode_request(&d, 0x314C_FCE4_E065_1827).unwrap();
        // The bytes `openssl ts -query -data abc.txt -sha256 -cert` gives for this nonce,
        // except that SHA-256's parameters are absent rather than NULL (RFC 5754) and certReq.
        let parsed = TimeStampReq::from_der(&der).unwrap();
        assert_eq!(parsed.version, TspVersion::V1);
        assert_eq!(parsed.message_imprint.hash_algorithm.oid, ID_SHA_256);
        assert_eq!(parsed.message_imprint.hashed_message.as_bytes(), d);
        assert_eq!(
            parsed.nonce.unwrap().as_bytes(),
            [0x31, 0x4C, 0xFC, 0xE4, 0xE0, 0x65, 0x18, 0x27]
        );
        assert!(parsed.cert_req);
        assert!(parsed.req_policy.is_none());
        // certReq TRUE is the last element: 01 01 ff.
        assert_eq!(&der[der.len() - 3..], [0x01, 0x01, 0xff]);
    }

    #[test]
    fn nonces_are_positive_and_differ() {
        let a = new_nonce();
        let b = new_nonce();
        assert!(a < 1 << 63 && b < 1 << 63);
        assert_ne!(a, b);
        // A nonce with the top bit of its first byte set gets a leading zero byte.
        let int = int_of(0x80).unwrap();
        assert_eq!(int.as_bytes(), [0x00, 0x80]);
    }

    #[test]
    fn the_demo_tsa_answers_with_a_token_that_verifies() {
        let tsa = DemoTsa::generate(NOW).unwrap();
        let d = digest("receipt");
        let reply = tsa.reply(&encode_request(&d, 42).unwrap(), NOW);
        let token = verify_reply(&reply, &d, Some(42), Some(tsa.certificate_der())).unwrap();
        assert_eq!(token.time, NOW);
        assert_eq!(token.certificate, tsa.certificate_der());
        // The token alone verifies too, as it is read back from storage.
        assert_eq!(verify_token(&token.der, &d, None, None).unwrap(), token);
    }

    #[test]
    fn every_wrong_token_is_refused() {
        let tsa = DemoTsa::generate(NOW).unwrap();
        let d = digest("receipt");
        let reply = tsa.reply(&encode_request(&d, 42).unwrap(), NOW);
        assert!(matches!(
            verify_reply(&reply, &digest("other"), Some(42), None),
            Err(TimestampError::ImprintMismatch)
        ));
        assert!(matches!(
            verify_reply(&reply, &d, Some(43), None),
            Err(TimestampError::NonceMismatch)
        ));
        let other = DemoTsa::generate(NOW).unwrap();
        assert!(matches!(
            verify_reply(&reply, &d, Some(42), Some(other.certificate_der())),
            Err(TimestampError::NotPinned)
        ));
        let web = DemoTsa::generate_with(NOW, false).unwrap();
        let reply_web = web.reply(&encode_request(&d, 42).unwrap(), NOW);
        assert!(matches!(
            verify_reply(&reply_web, &d, Some(42), None),
            Err(TimestampError::NotForTimeStamping)
        ));
        // The genTime changed after signing: the digest attribute no longer matches.
        let token = verify_reply(&reply, &d, Some(42), None).unwrap();
        let time = GeneralizedTime::from_unix_duration(Duration::from_secs(NOW as u64))
            .unwrap()
            .to_der()
            .unwrap();
        let later = GeneralizedTime::from_unix_duration(Duration::from_secs(NOW as u64 + 3600))
            .unwrap()
            .to_der()
            .unwrap();
        let at = token
            .der
            .windows(time.len())
            .position(|w| w == time.as_slice())
            .unwrap();
        let mut forged = token.der.clone();
        forged[at..at + later.len()].copy_from_slice(&later);
        assert!(matches!(
            verify_token(&forged, &d, None, None),
            Err(TimestampError::BadSignature)
        ));
        assert!(matches!(
            verify_reply(b"garbage", &d, None, None),
            Err(TimestampError::Malformed(_))
        ));
    }

    #[test]
    fn bad_requests_get_a_rejection_that_says_why() {
        let tsa = DemoTsa::generate(NOW).unwrap();
        let reply = tsa.reply(b"not DER", NOW);
        let parsed = TimeStampResp::from_der(&reply).unwrap();
        assert_eq!(parsed.status.status, PkiStatus::Rejection);
        assert!(parsed.time_stamp_token.is_none());
        assert!(parsed
            .status
            .fail_info
            .unwrap()
            .contains(PkiFailureInfoValues::BadDataFormat));
        let err = verify_reply(&reply, &digest("x"), None, None).unwrap_err();
        assert!(matches!(err, TimestampError::Rejected { .. }), "{err}");
    }

    #[test]
    fn certificates_are_read_as_pem_or_der() {
        let tsa = DemoTsa::generate(NOW).unwrap();
        let pem = certificate_pem(tsa.certificate_der());
        assert_eq!(
            read_certificate(pem.as_bytes()).unwrap(),
            tsa.certificate_der()
        );
        assert_eq!(
            read_certificate(tsa.certificate_der()).unwrap(),
            tsa.certificate_der()
        );
        assert!(matches!(
            read_certificate(b"hello"),
            Err(TimestampError::Certificate(_))
        ));
    }
}

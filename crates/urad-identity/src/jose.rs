//! The small part of JOSE the gateway needs: compact JWS signed with ES256 (ECDSA P-256,
//! SHA-256) or RS256 (RSASSA-PKCS1-v1_5, SHA-256) and the public keys as JWK. Signatures are
//! made and checked by `ring` (assembly-optimised, constant-time; already in the build through
//! rustls), which is several times faster than the pure-Rust curves: every token the gateway
//! issues costs one or two signatures. RustCrypto's `p256` and `rsa` only generate keys and
//! convert them to JWK, which `ring` does not do. Written on these rather than a general JWT
//! library so that the accepted
//! algorithms are exactly the ones listed in [`Alg`]: a token that names any other `alg`
//! (`none`, `HS256` …) is refused before anything else, and a key is only ever used with the
//! algorithm of its own type, so an RSA public key can never be taken as an HMAC secret.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::{SigningKey, VerifyingKey};
use ring::rand::SystemRandom;
use ring::signature::{self as ring_sig, EcdsaKeyPair, KeyPair, RsaKeyPair};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JoseError {
    #[error("the token is not a compact JWS")]
    Malformed,
    #[error("the token's algorithm `{0}` is not accepted")]
    Algorithm(String),
    #[error("no key with id `{0}`")]
    UnknownKey(String),
    #[error("no key of the type and algorithm the token names (`{0}`)")]
    KeyMismatch(String),
    #[error("the signature does not verify")]
    Signature,
    #[error("the key cannot be read")]
    Key,
}

/// The signature algorithms the gateway signs and verifies with; nothing else is accepted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Alg {
    /// ECDSA P-256 with SHA-256: the default for everything the gateway signs.
    #[default]
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256: for relying parties and upstreams that only do RSA.
    Rs256,
}

impl Alg {
    pub const ALL: [Alg; 2] = [Alg::Es256, Alg::Rs256];

    /// The `alg` value (RFC 7518).
    pub fn name(self) -> &'static str {
        match self {
            Alg::Es256 => "ES256",
            Alg::Rs256 => "RS256",
        }
    }

    /// The `kty` of the keys this algorithm uses.
    pub fn kty(self) -> &'static str {
        match self {
            Alg::Es256 => "EC",
            Alg::Rs256 => "RSA",
        }
    }

    pub fn parse(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl std::str::FromStr for Alg {
    type Err = String;
    fn from_str(s: &str) -> Result<Alg, String> {
        Alg::parse(s).ok_or_else(|| format!("`{s}` is not ES256 or RS256"))
    }
}

impl std::fmt::Display for Alg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The smallest RSA modulus accepted or generated (NIST SP 800-131A, and what NIA and the
/// banks publish).
pub const RSA_MIN_BITS: usize = 2048;

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a text, base64url: how codes, tokens and cookies are stored, and the PKCE S256
/// challenge of a verifier.
pub fn sha256_b64(text: &str) -> String {
    use sha2::Digest;
    b64(&sha2::Sha256::digest(text.as_bytes()))
}

pub fn unb64(text: &str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JoseError::Malformed)
}

/// A public key as a JWK (RFC 7517): EC P-256 (`crv`, `x`, `y`) or RSA (`n`, `e`). Members
/// other providers publish and the gateway does not need (`x5c`, `x5t`, `key_ops` …) are
/// ignored when reading; absent optional members (`use`, `alg`, `kid`) read as empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub crv: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub x: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub y: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub n: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub e: String,
    #[serde(default)]
    pub kid: String,
    #[serde(rename = "use", default, skip_serializing_if = "String::is_empty")]
    pub use_: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alg: String,
}

impl Jwk {
    /// Whether this key may verify a signature made with `alg`: the key type must be the
    /// algorithm's, and `alg` and `use`, when the key names them, must agree.
    pub fn fits(&self, alg: Alg) -> bool {
        self.kty == alg.kty()
            && (self.alg.is_empty() || self.alg == alg.name())
            && (self.use_.is_empty() || self.use_ == "sig")
    }
}

/// Reads a JWK Set (`{"keys": [...]}`) as published by a relying party or an upstream
/// provider. Keys the gateway cannot read (other shapes, encryption keys) are left out rather
/// than failing the set: they could not verify anything anyway.
pub fn parse_jwks(json: &str) -> Result<Vec<Jwk>, JoseError> {
    let set: Value = serde_json::from_str(json).map_err(|_| JoseError::Malformed)?;
    let keys = set["keys"].as_array().ok_or(JoseError::Malformed)?;
    Ok(keys
        .iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
        .filter(|k| Alg::ALL.iter().any(|a| k.fits(*a)))
        .collect())
}

/// A private key that signs compact JWS: what the token endpoint needs of a signing key.
pub trait JwsSigner {
    fn kid(&self) -> &str;
    fn alg(&self) -> Alg;
    fn public_jwk(&self) -> Jwk;
    /// Signs `claims` as a compact JWS with `typ` in the header (`JWT`, `at+jwt` …).
    fn sign(&self, typ: &str, claims: &Value) -> String;
}

/// The JWS signing input and the finished token around a signature function.
fn compact(
    alg: Alg,
    kid: &str,
    typ: &str,
    claims: &Value,
    sign: impl Fn(&[u8]) -> Vec<u8>,
) -> String {
    let header = serde_json::json!({ "alg": alg.name(), "typ": typ, "kid": kid });
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = sign(signing_input.as_bytes());
    format!("{signing_input}.{}", b64(&signature))
}

/// An ES256 key pair with its key id.
#[derive(Clone)]
pub struct EcKey {
    pub kid: String,
    /// The private scalar, kept for storage; `ring` does not give it back.
    scalar: Arc<[u8]>,
    key: Arc<EcdsaKeyPair>,
}

impl std::fmt::Debug for EcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl EcKey {
    /// A new random key. Its id is the RFC 7638 thumbprint of its public key.
    pub fn generate() -> EcKey {
        let key = SigningKey::random(&mut rand_core::OsRng);
        let kid = thumbprint(&jwk(key.verifying_key(), ""));
        EcKey::from_scalar(kid, &key.to_bytes()).expect("a fresh P-256 key is valid")
    }

    fn from_scalar(kid: String, scalar: &[u8]) -> Result<EcKey, JoseError> {
        let public = SigningKey::from_slice(scalar)
            .map_err(|_| JoseError::Key)?
            .verifying_key()
            .to_encoded_point(false);
        let key = EcdsaKeyPair::from_private_key_and_public_key(
            &ring_sig::ECDSA_P256_SHA256_FIXED_SIGNING,
            scalar,
            public.as_bytes(),
            &SystemRandom::new(),
        )
        .map_err(|_| JoseError::Key)?;
        Ok(EcKey {
            kid,
            scalar: scalar.into(),
            key: Arc::new(key),
        })
    }

    /// The private scalar, base64url — how the key is stored.
    pub fn to_stored(&self) -> String {
        b64(&self.scalar)
    }

    pub fn from_stored(kid: &str, encoded: &str) -> Result<EcKey, JoseError> {
        EcKey::from_scalar(kid.to_owned(), &unb64(encoded)?)
    }

    pub fn public_jwk(&self) -> Jwk {
        let point = self.key.public_key().as_ref();
        let key = VerifyingKey::from_sec1_bytes(point).expect("ring holds a valid P-256 point");
        jwk(&key, &self.kid)
    }

    /// Signs `claims` as a compact JWS with `typ` in the header (`JWT`, `logout+jwt` …).
    pub fn sign(&self, typ: &str, claims: &Value) -> String {
        compact(Alg::Es256, &self.kid, typ, claims, |input| {
            self.key
                .sign(&SystemRandom::new(), input)
                .expect("the system's random source works")
                .as_ref()
                .to_vec()
        })
    }
}

impl JwsSigner for EcKey {
    fn kid(&self) -> &str {
        &self.kid
    }
    fn alg(&self) -> Alg {
        Alg::Es256
    }
    fn public_jwk(&self) -> Jwk {
        EcKey::public_jwk(self)
    }
    fn sign(&self, typ: &str, claims: &Value) -> String {
        EcKey::sign(self, typ, claims)
    }
}

/// An RS256 key pair (2048-bit) with its key id.
#[derive(Clone)]
pub struct RsaKey {
    pub kid: String,
    /// PKCS#8 DER, kept for storage.
    pkcs8: Arc<[u8]>,
    key: Arc<RsaKeyPair>,
    public: RsaPublicKey,
}

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl RsaKey {
    /// A new random 2048-bit key; its id is the RFC 7638 thumbprint of its public key.
    pub fn generate() -> Result<RsaKey, JoseError> {
        let private =
            RsaPrivateKey::new(&mut rand_core::OsRng, RSA_MIN_BITS).map_err(|_| JoseError::Key)?;
        let kid = thumbprint(&rsa_jwk(&RsaPublicKey::from(&private), ""));
        let der = private.to_pkcs8_der().map_err(|_| JoseError::Key)?;
        RsaKey::from_pkcs8(kid, der.as_bytes())
    }

    fn from_pkcs8(kid: String, der: &[u8]) -> Result<RsaKey, JoseError> {
        let public =
            RsaPublicKey::from(&RsaPrivateKey::from_pkcs8_der(der).map_err(|_| JoseError::Key)?);
        let key = RsaKeyPair::from_pkcs8(der).map_err(|_| JoseError::Key)?;
        Ok(RsaKey {
            kid,
            pkcs8: der.into(),
            key: Arc::new(key),
            public,
        })
    }

    /// The private key as PKCS#8 DER, base64url — how the key is stored.
    pub fn to_stored(&self) -> Result<String, JoseError> {
        Ok(b64(&self.pkcs8))
    }

    pub fn from_stored(kid: &str, encoded: &str) -> Result<RsaKey, JoseError> {
        RsaKey::from_pkcs8(kid.to_owned(), &unb64(encoded)?)
    }

    pub fn public_jwk(&self) -> Jwk {
        rsa_jwk(&self.public, &self.kid)
    }

    pub fn sign(&self, typ: &str, claims: &Value) -> String {
        compact(Alg::Rs256, &self.kid, typ, claims, |input| {
            // PKCS#1 v1.5 signatures are deterministic; the random source blinds the private
            // key operation against timing attacks.
            let mut signature = vec![0; self.key.public().modulus_len()];
            self.key
                .sign(
                    &ring_sig::RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    input,
                    &mut signature,
                )
                .expect("a PKCS#1 signature fits the modulus");
            signature
        })
    }
}

impl JwsSigner for RsaKey {
    fn kid(&self) -> &str {
        &self.kid
    }
    fn alg(&self) -> Alg {
        Alg::Rs256
    }
    fn public_jwk(&self) -> Jwk {
        RsaKey::public_jwk(self)
    }
    fn sign(&self, typ: &str, claims: &Value) -> String {
        RsaKey::sign(self, typ, claims)
    }
}

/// A stored signing key of either algorithm.
#[derive(Clone, Debug)]
pub enum AnyKey {
    Ec(EcKey),
    Rsa(Box<RsaKey>),
}

impl AnyKey {
    fn inner(&self) -> &dyn JwsSigner {
        match self {
            AnyKey::Ec(k) => k,
            AnyKey::Rsa(k) => k.as_ref(),
        }
    }
}

impl JwsSigner for AnyKey {
    fn kid(&self) -> &str {
        self.inner().kid()
    }
    fn alg(&self) -> Alg {
        self.inner().alg()
    }
    fn public_jwk(&self) -> Jwk {
        self.inner().public_jwk()
    }
    fn sign(&self, typ: &str, claims: &Value) -> String {
        self.inner().sign(typ, claims)
    }
}

/// Verifies a compact JWS against the given public keys and returns its header and claims.
/// Claims (expiry, audience …) are the caller's to check.
///
/// The header's `alg` must be ES256 or RS256. The key is the one named by `kid`; a token
/// without `kid` (some relying parties' assertions) is tried against every key that fits.
/// A key verifies only tokens of its own type and, when it names one, its own `alg`; keys
/// published for encryption (`use: enc`) verify nothing.
pub fn verify(token: &str, keys: &[Jwk]) -> Result<(Value, Value), JoseError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::Malformed);
    };
    let header: Value = serde_json::from_slice(&unb64(h)?).map_err(|_| JoseError::Malformed)?;
    let name = header["alg"].as_str().unwrap_or_default();
    let alg = Alg::parse(name).ok_or_else(|| JoseError::Algorithm(name.to_owned()))?;
    // Extensions the gateway does not understand must not be ignored (RFC 7515 §4.1.11).
    if header.get("crit").is_some() {
        return Err(JoseError::Malformed);
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let named: Vec<&Jwk> = keys
        .iter()
        .filter(|k| kid.is_none_or(|kid| k.kid == kid))
        .collect();
    if named.is_empty() {
        return Err(JoseError::UnknownKey(kid.unwrap_or_default().to_owned()));
    }
    let usable: Vec<&Jwk> = named.into_iter().filter(|k| k.fits(alg)).collect();
    if usable.is_empty() {
        return Err(JoseError::KeyMismatch(alg.name().to_owned()));
    }
    let signature = unb64(s).map_err(|_| JoseError::Signature)?;
    let input = format!("{h}.{p}");
    let mut outcome = Err(JoseError::Signature);
    for jwk in usable {
        outcome = match alg {
            Alg::Es256 => verify_es256(jwk, input.as_bytes(), &signature),
            Alg::Rs256 => verify_rs256(jwk, input.as_bytes(), &signature),
        };
        if outcome.is_ok() {
            break;
        }
    }
    outcome?;
    let claims: Value = serde_json::from_slice(&unb64(p)?).map_err(|_| JoseError::Malformed)?;
    Ok((header, claims))
}

/// The claims of a compact JWS **without verifying it**: only to learn which client sent a
/// client assertion, so that its keys can be looked up and the assertion then verified.
pub fn unverified_claims(token: &str) -> Result<Value, JoseError> {
    let payload = token.split('.').nth(1).ok_or(JoseError::Malformed)?;
    serde_json::from_slice(&unb64(payload)?).map_err(|_| JoseError::Malformed)
}

fn verify_es256(jwk: &Jwk, input: &[u8], signature: &[u8]) -> Result<(), JoseError> {
    let point = ec_point(jwk)?;
    ring_sig::UnparsedPublicKey::new(&ring_sig::ECDSA_P256_SHA256_FIXED, point)
        .verify(input, signature)
        .map_err(|_| JoseError::Signature)
}

fn verify_rs256(jwk: &Jwk, input: &[u8], signature: &[u8]) -> Result<(), JoseError> {
    // Parsed (and the size checked) by the rsa crate; the signature checked by ring.
    let key = rsa_public_key(jwk)?;
    ring_sig::RsaPublicKeyComponents {
        n: key.n().to_bytes_be(),
        e: key.e().to_bytes_be(),
    }
    .verify(&ring_sig::RSA_PKCS1_2048_8192_SHA256, input, signature)
    .map_err(|_| JoseError::Signature)
}

/// The RSA public key of a JWK; moduli under [`RSA_MIN_BITS`] are refused.
pub fn rsa_public_key(jwk: &Jwk) -> Result<RsaPublicKey, JoseError> {
    if jwk.kty != "RSA" {
        return Err(JoseError::Key);
    }
    let n = BigUint::from_bytes_be(&unb64(&jwk.n).map_err(|_| JoseError::Key)?);
    let e = BigUint::from_bytes_be(&unb64(&jwk.e).map_err(|_| JoseError::Key)?);
    if n.bits() < RSA_MIN_BITS {
        return Err(JoseError::Key);
    }
    RsaPublicKey::new(n, e).map_err(|_| JoseError::Key)
}

/// The uncompressed SEC1 point of a P-256 JWK (ring checks that it is on the curve).
fn ec_point(jwk: &Jwk) -> Result<Vec<u8>, JoseError> {
    if jwk.kty != "EC" || jwk.crv != "P-256" {
        return Err(JoseError::Key);
    }
    let (x, y) = (unb64(&jwk.x)?, unb64(&jwk.y)?);
    if x.len() != 32 || y.len() != 32 {
        return Err(JoseError::Key);
    }
    let mut sec1 = Vec::with_capacity(65);
    sec1.push(0x04);
    sec1.extend_from_slice(&x);
    sec1.extend_from_slice(&y);
    Ok(sec1)
}

fn jwk(key: &VerifyingKey, kid: &str) -> Jwk {
    let point = key.to_encoded_point(false);
    Jwk {
        kty: "EC".into(),
        crv: "P-256".into(),
        x: b64(point.x().map(|x| x.as_slice()).unwrap_or_default()),
        y: b64(point.y().map(|y| y.as_slice()).unwrap_or_default()),
        kid: kid.to_owned(),
        use_: "sig".into(),
        alg: "ES256".into(),
        ..Jwk::default()
    }
}

fn rsa_jwk(key: &RsaPublicKey, kid: &str) -> Jwk {
    Jwk {
        kty: "RSA".into(),
        n: b64(&key.n().to_bytes_be()),
        e: b64(&key.e().to_bytes_be()),
        kid: kid.to_owned(),
        use_: "sig".into(),
        alg: "RS256".into(),
        ..Jwk::default()
    }
}

/// RFC 7638 JWK thumbprint: SHA-256 of the required members in lexicographic order.
pub fn thumbprint(j: &Jwk) -> String {
    let canonical = if j.kty == "RSA" {
        format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, j.e, j.n)
    } else {
        format!(
            r#"{{"crv":"{}","kty":"{}","x":"{}","y":"{}"}}"#,
            j.crv, j.kty, j.x, j.y
        )
    };
    sha256_b64(&canonical)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signs_and_verifies_and_survives_storage() {
        let key = EcKey::generate();
        let stored = EcKey::from_stored(&key.kid, &key.to_stored()).unwrap();
        let token = stored.sign("JWT", &json!({ "sub": "abc", "n": 1 }));
        let (header, claims) = verify(&token, &[key.public_jwk()]).unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], key.kid.as_str());
        assert_eq!(claims["sub"], "abc");
    }

    /// ring signs; RustCrypto's p256, an implementation of its own, must accept the signature
    /// over the JWS signing input with the public key the JWKS publishes.
    #[test]
    fn es256_signatures_verify_with_an_independent_implementation() {
        use p256::ecdsa::signature::Verifier;
        let key = EcKey::generate();
        let token = key.sign("JWT", &json!({ "sub": "abc" }));
        let parts: Vec<&str> = token.split('.').collect();
        let jwk = key.public_jwk();
        let point = ec_point(&jwk).unwrap();
        let independent = VerifyingKey::from_sec1_bytes(&point).unwrap();
        let signature = p256::ecdsa::Signature::from_slice(&unb64(parts[2]).unwrap()).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        independent.verify(input.as_bytes(), &signature).unwrap();
        assert!(independent.verify(b"other input", &signature).is_err());
        assert_eq!(key.kid, thumbprint(&jwk));
    }

    #[test]
    fn refuses_tampering_other_keys_and_other_algorithms() {
        let key = EcKey::generate();
        let other = EcKey::generate();
        let token = key.sign("JWT", &json!({ "sub": "abc" }));
        let parts: Vec<&str> = token.split('.').collect();

        let forged_claims = b64(json!({ "sub": "admin" }).to_string().as_bytes());
        let tampered = format!("{}.{}.{}", parts[0], forged_claims, parts[2]);
        assert_eq!(
            verify(&tampered, &[key.public_jwk()]),
            Err(JoseError::Signature)
        );

        let mut wrong_kid = other.public_jwk();
        wrong_kid.kid = key.kid.clone();
        assert_eq!(verify(&token, &[wrong_kid]), Err(JoseError::Signature));
        assert!(matches!(
            verify(&token, &[other.public_jwk()]),
            Err(JoseError::UnknownKey(_))
        ));

        let none = format!("{}.{}.", b64(br#"{"alg":"none","kid":"x"}"#), parts[1]);
        assert_eq!(
            verify(&none, &[key.public_jwk()]),
            Err(JoseError::Algorithm("none".into()))
        );
        let hs = format!("{}.{}.{}", b64(br#"{"alg":"HS256"}"#), parts[1], parts[2]);
        assert_eq!(
            verify(&hs, &[key.public_jwk()]),
            Err(JoseError::Algorithm("HS256".into()))
        );
        assert_eq!(
            verify("a.b", &[key.public_jwk()]),
            Err(JoseError::Malformed)
        );
    }

    /// One RSA key for the RSA tests: generating 2048-bit keys is slow in debug builds.
    fn rsa_key() -> RsaKey {
        static KEY: std::sync::OnceLock<RsaKey> = std::sync::OnceLock::new();
        KEY.get_or_init(|| RsaKey::generate().unwrap()).clone()
    }

    #[test]
    fn rs256_signs_and_verifies_and_survives_storage() {
        let key = rsa_key();
        let stored = RsaKey::from_stored(&key.kid, &key.to_stored().unwrap()).unwrap();
        let token = stored.sign("JWT", &json!({ "sub": "abc" }));
        let (header, claims) = verify(&token, &[key.public_jwk()]).unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(claims["sub"], "abc");
        let jwk = key.public_jwk();
        assert_eq!((jwk.kty.as_str(), jwk.e.as_str()), ("RSA", "AQAB"));
        // A 2048-bit modulus is 256 bytes: 342 base64url characters.
        assert_eq!(jwk.n.len(), 342);
        assert_eq!(key.kid, thumbprint(&jwk));

        // The signature is RSASSA-PKCS1-v1_5 over SHA-256, checked here without `verify`.
        use rsa::signature::Verifier;
        let parts: Vec<&str> = token.split('.').collect();
        let independent =
            rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(rsa_public_key(&jwk).unwrap());
        let signature =
            rsa::pkcs1v15::Signature::try_from(unb64(parts[2]).unwrap().as_slice()).unwrap();
        independent
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .unwrap();

        let forged = format!(
            "{}.{}.{}",
            parts[0],
            b64(json!({ "sub": "admin" }).to_string().as_bytes()),
            parts[2]
        );
        assert_eq!(
            verify(&forged, &[key.public_jwk()]),
            Err(JoseError::Signature)
        );
    }

    #[test]
    fn keys_as_other_providers_publish_them_are_read() {
        let key = rsa_key();
        let jwk = key.public_jwk();
        // As NIA or a bank publishes it: no `alg`, an `x5c` chain, other members, and an
        // encryption key beside it.
        let set = json!({ "keys": [
            { "kty": "RSA", "kid": "enc-1", "use": "enc", "n": jwk.n, "e": jwk.e },
            { "kty": "RSA", "kid": key.kid, "use": "sig", "n": jwk.n, "e": jwk.e,
              "x5c": ["MIIC..."], "x5t": "abc", "key_ops": ["verify"] },
            { "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }
        ]});
        let keys = parse_jwks(&set.to_string()).unwrap();
        assert_eq!(keys.len(), 1, "only the RSA signing key is usable");
        assert!(keys[0].alg.is_empty());
        let token = key.sign("JWT", &json!({ "sub": "x" }));
        verify(&token, &keys).unwrap();
        assert!(parse_jwks("[]").is_err());
    }

    #[test]
    fn refuses_alg_and_key_type_mismatches() {
        let rsa = rsa_key();
        let ec = EcKey::generate();
        let rs_token = rsa.sign("JWT", &json!({ "sub": "x" }));
        let es_token = ec.sign("JWT", &json!({ "sub": "x" }));

        // The kid names a key of the other type.
        let mut ec_as_rsa_kid = ec.public_jwk();
        ec_as_rsa_kid.kid = rsa.kid.clone();
        assert_eq!(
            verify(&rs_token, &[ec_as_rsa_kid]),
            Err(JoseError::KeyMismatch("RS256".into()))
        );
        let mut rsa_as_ec_kid = rsa.public_jwk();
        rsa_as_ec_kid.kid = ec.kid.clone();
        assert_eq!(
            verify(&es_token, &[rsa_as_ec_kid]),
            Err(JoseError::KeyMismatch("ES256".into()))
        );

        // The header claims ES256 over an RSA signature, with the RSA key's kid.
        let parts: Vec<&str> = rs_token.split('.').collect();
        let relabelled = format!(
            "{}.{}.{}",
            b64(json!({ "alg": "ES256", "kid": rsa.kid })
                .to_string()
                .as_bytes()),
            parts[1],
            parts[2]
        );
        assert_eq!(
            verify(&relabelled, &[rsa.public_jwk()]),
            Err(JoseError::KeyMismatch("ES256".into()))
        );

        // A key that names another alg does not verify this one, even of the right type.
        let mut wrong_alg = rsa.public_jwk();
        wrong_alg.alg = "PS256".into();
        assert_eq!(
            verify(&rs_token, &[wrong_alg]),
            Err(JoseError::KeyMismatch("RS256".into()))
        );

        // HS256 "signed" with the RSA public key as the secret is refused by its alg.
        let hs = format!(
            "{}.{}.{}",
            b64(json!({ "alg": "HS256", "kid": rsa.kid })
                .to_string()
                .as_bytes()),
            parts[1],
            parts[2]
        );
        assert_eq!(
            verify(&hs, &[rsa.public_jwk()]),
            Err(JoseError::Algorithm("HS256".into()))
        );

        // Without a kid, every key that fits is tried.
        let no_kid = {
            let signing_input = format!("{}.{}", b64(br#"{"alg":"RS256"}"#), parts[1]);
            let mut sig = vec![0; rsa.key.public().modulus_len()];
            rsa.key
                .sign(
                    &ring_sig::RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    signing_input.as_bytes(),
                    &mut sig,
                )
                .unwrap();
            format!("{signing_input}.{}", b64(&sig))
        };
        verify(&no_kid, &[ec.public_jwk(), rsa.public_jwk()]).unwrap();
        assert_eq!(
            verify(&no_kid, &[ec.public_jwk()]),
            Err(JoseError::KeyMismatch("RS256".into()))
        );
    }

    #[test]
    fn short_rsa_keys_are_refused() {
        use rsa::signature::{SignatureEncoding, Signer};
        let private = RsaPrivateKey::new(&mut rand_core::OsRng, 1024).unwrap();
        // Such a key is not even loaded for signing …
        let der = private.to_pkcs8_der().unwrap();
        assert_eq!(
            RsaKey::from_pkcs8("short".into(), der.as_bytes()).err(),
            Some(JoseError::Key)
        );
        // … and a token another party signed with one does not verify.
        let jwk = rsa_jwk(&RsaPublicKey::from(&private), "short");
        let signing_input = format!(
            "{}.{}",
            b64(br#"{"alg":"RS256","kid":"short"}"#),
            b64(br#"{"sub":"x"}"#)
        );
        let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(private);
        let sig = signer.sign(signing_input.as_bytes()).to_vec();
        let token = format!("{signing_input}.{}", b64(&sig));
        assert_eq!(verify(&token, &[jwk]), Err(JoseError::Key));
    }

    #[test]
    fn key_ids_are_rfc7638_thumbprints() {
        // RFC 7638 thumbprints are 43 base64url characters (SHA-256) and differ per key.
        let a = EcKey::generate();
        let b = EcKey::generate();
        assert_eq!(a.kid.len(), 43);
        assert_ne!(a.kid, b.kid);
        assert_eq!(a.public_jwk().x.len(), 43);
    }
}

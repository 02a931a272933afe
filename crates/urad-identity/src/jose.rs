//! The small part of JOSE the gateway needs: compact JWS signed with ES256 (ECDSA P-256,
//! SHA-256) and the public keys as JWK. Written on the RustCrypto `p256` crate rather than a
//! general JWT library so that the accepted algorithms are exactly the ones listed here: a
//! token that names any other `alg` (`none`, `HS256` …) is refused before anything else.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JoseError {
    #[error("the token is not a compact JWS")]
    Malformed,
    #[error("the token's algorithm `{0}` is not accepted")]
    Algorithm(String),
    #[error("no key with id `{0}`")]
    UnknownKey(String),
    #[error("the signature does not verify")]
    Signature,
    #[error("the key cannot be read")]
    Key,
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JoseError::Malformed)
}

/// A public key as a JWK (RFC 7517), as published in the JWKS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub y: String,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
}

/// An ES256 key pair with its key id.
#[derive(Clone)]
pub struct EcKey {
    pub kid: String,
    key: SigningKey,
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
        let kid = thumbprint(key.verifying_key());
        EcKey { kid, key }
    }

    /// The private scalar, base64url — how the key is stored.
    pub fn to_stored(&self) -> String {
        b64(&self.key.to_bytes())
    }

    pub fn from_stored(kid: &str, encoded: &str) -> Result<EcKey, JoseError> {
        let bytes = unb64(encoded)?;
        let key = SigningKey::from_slice(&bytes).map_err(|_| JoseError::Key)?;
        Ok(EcKey {
            kid: kid.to_owned(),
            key,
        })
    }

    pub fn public_jwk(&self) -> Jwk {
        jwk(self.key.verifying_key(), &self.kid)
    }

    /// Signs `claims` as a compact JWS with `typ` in the header (`JWT`, `logout+jwt` …).
    pub fn sign(&self, typ: &str, claims: &Value) -> String {
        let header = serde_json::json!({ "alg": "ES256", "typ": typ, "kid": self.kid });
        let signing_input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature: Signature = self.key.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", b64(&signature.to_bytes()))
    }
}

/// Verifies a compact JWS against the given public keys and returns its header and claims.
/// Claims (expiry, audience …) are the caller's to check.
pub fn verify(token: &str, keys: &[Jwk]) -> Result<(Value, Value), JoseError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::Malformed);
    };
    let header: Value = serde_json::from_slice(&unb64(h)?).map_err(|_| JoseError::Malformed)?;
    let alg = header["alg"].as_str().unwrap_or_default();
    if alg != "ES256" {
        return Err(JoseError::Algorithm(alg.to_owned()));
    }
    let kid = header["kid"].as_str().unwrap_or_default();
    let jwk = keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or_else(|| JoseError::UnknownKey(kid.to_owned()))?;
    let key = verifying_key(jwk)?;
    let signature = Signature::from_slice(&unb64(s)?).map_err(|_| JoseError::Signature)?;
    key.verify(format!("{h}.{p}").as_bytes(), &signature)
        .map_err(|_| JoseError::Signature)?;
    let claims: Value = serde_json::from_slice(&unb64(p)?).map_err(|_| JoseError::Malformed)?;
    Ok((header, claims))
}

fn verifying_key(jwk: &Jwk) -> Result<VerifyingKey, JoseError> {
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
    VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| JoseError::Key)
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
    }
}

/// RFC 7638 JWK thumbprint: SHA-256 of the required members in lexicographic order.
fn thumbprint(key: &VerifyingKey) -> String {
    use sha2::Digest;
    let j = jwk(key, "");
    let canonical = format!(
        r#"{{"crv":"{}","kty":"{}","x":"{}","y":"{}"}}"#,
        j.crv, j.kty, j.x, j.y
    );
    b64(&sha2::Sha256::digest(canonical.as_bytes()))
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

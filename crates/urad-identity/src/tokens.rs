//! The tokens the gateway hands out: the ID token (OpenID Connect Core §2) and a JWT access
//! token (RFC 9068) for userinfo and the region's APIs. Access tokens are always signed with
//! the active ES256 key; an ID token with the active key of the algorithm its client asked for.

use crate::grants::{pairwise_subject, random_token, Grant};
use crate::jose::{EcKey, JwsSigner};
use serde_json::{json, Value};

pub const ID_TOKEN_TTL_SECS: i64 = 300;
pub const ACCESS_TOKEN_TTL_SECS: i64 = 300;

/// The ID token for `grant`, addressed to its client, signed with the key of the client's
/// `id_token_signed_response_alg`.
pub fn id_token(
    key: &dyn JwsSigner,
    issuer: &str,
    grant: &Grant,
    nonce: Option<&str>,
    now: i64,
) -> String {
    let mut claims = json!({
        "iss": issuer,
        "sub": pairwise_subject(&grant.client_id, &grant.person_id),
        "aud": grant.client_id,
        "azp": grant.client_id,
        "iat": now,
        "exp": now + ID_TOKEN_TTL_SECS,
        "auth_time": grant.auth_time,
        "acr": grant.loa.uri(),
        "amr": grant.amr,
        "sid": grant.sid,
    });
    if let Some(n) = nonce {
        claims["nonce"] = Value::from(n);
    }
    key.sign("JWT", &claims)
}

/// A short-lived access token (`typ: at+jwt`), whose audience is the gateway itself.
pub fn access_token(key: &EcKey, issuer: &str, grant: &Grant, now: i64) -> String {
    key.sign(
        "at+jwt",
        &json!({
            "iss": issuer,
            "sub": pairwise_subject(&grant.client_id, &grant.person_id),
            "aud": issuer,
            "client_id": grant.client_id,
            "scope": grant.scope,
            "iat": now,
            "exp": now + ACCESS_TOKEN_TTL_SECS,
            "jti": random_token(),
            "auth_time": grant.auth_time,
            "acr": grant.loa.uri(),
            "sid": grant.sid,
        }),
    )
}

/// The claims a scope releases (OpenID Connect Core §5.4).
pub fn claims_for_scopes(scope: &str, all: &Value) -> serde_json::Map<String, Value> {
    let mut released = serde_json::Map::new();
    for s in scope.split(' ') {
        let names: &[&str] = match s {
            "profile" => &[
                "name",
                "given_name",
                "family_name",
                "middle_name",
                "birthdate",
                "gender",
                "locale",
            ],
            "email" => &["email", "email_verified"],
            "address" => &["address"],
            "phone" => &["phone_number", "phone_number_verified"],
            "birthdate" => &["birthdate"],
            _ => &[],
        };
        for name in names {
            if let Some(v) = all.get(*name) {
                released.insert((*name).to_owned(), v.clone());
            }
        }
    }
    released
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::verify;
    use crate::loa::Loa;

    fn grant() -> Grant {
        Grant {
            client_id: "portal".into(),
            sid: "sid-1".into(),
            person_id: "p-1".into(),
            scope: "openid".into(),
            auth_time: 1_000,
            loa: Loa::Substantial,
            amr: vec!["eid".into()],
        }
    }

    #[test]
    fn id_tokens_carry_what_the_client_must_check() {
        let key = EcKey::generate();
        let token = id_token(
            &key,
            "https://portal.example.cz",
            &grant(),
            Some("n-1"),
            2_000,
        );
        let (header, c) = verify(&token, &[key.public_jwk()]).unwrap();
        assert_eq!(header["typ"], "JWT");
        assert_eq!(c["iss"], "https://portal.example.cz");
        assert_eq!(c["aud"], "portal");
        assert_eq!(c["exp"], 2_000 + ID_TOKEN_TTL_SECS);
        assert_eq!(c["auth_time"], 1_000);
        assert_eq!(c["nonce"], "n-1");
        assert_eq!(c["acr"], "http://eidas.europa.eu/LoA/substantial");
        assert_eq!(c["amr"], json!(["eid"]));
        assert_eq!(c["sub"], pairwise_subject("portal", "p-1"));
        let without = id_token(&key, "https://portal.example.cz", &grant(), None, 2_000);
        assert!(verify(&without, &[key.public_jwk()])
            .unwrap()
            .1
            .get("nonce")
            .is_none());
    }

    #[test]
    fn scopes_release_only_their_claims() {
        let all = json!({ "name": "Jana", "birthdate": "1980-01-01", "address": { "locality": "Ostrava" }, "email": "j@x.cz" });
        let profile = claims_for_scopes("openid profile", &all);
        assert_eq!(profile.get("name"), Some(&json!("Jana")));
        assert!(profile.get("address").is_none() && profile.get("email").is_none());
        let address = claims_for_scopes("openid address", &all);
        assert_eq!(address.keys().collect::<Vec<_>>(), vec!["address"]);
        assert!(claims_for_scopes("openid", &all).is_empty());
    }

    #[test]
    fn access_tokens_are_rfc_9068_jwts() {
        let key = EcKey::generate();
        let token = access_token(&key, "https://portal.example.cz", &grant(), 2_000);
        let (header, c) = verify(&token, &[key.public_jwk()]).unwrap();
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(c["aud"], "https://portal.example.cz");
        assert_eq!(c["client_id"], "portal");
        assert_eq!(c["jti"].as_str().unwrap().len(), 43);
        assert_ne!(
            token,
            access_token(&key, "https://portal.example.cz", &grant(), 2_000)
        );
    }
}

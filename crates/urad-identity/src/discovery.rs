//! OpenID Provider metadata (OpenID Connect Discovery 1.0, RFC 8414).

use crate::loa::Loa;
use serde_json::{json, Value};

/// Paths of the provider's endpoints, below the issuer.
pub const AUTHORIZATION_PATH: &str = "/oidc/authorize";
pub const TOKEN_PATH: &str = "/oidc/token";
pub const USERINFO_PATH: &str = "/oidc/userinfo";
pub const JWKS_PATH: &str = "/oidc/jwks";
pub const REVOCATION_PATH: &str = "/oidc/revoke";
pub const END_SESSION_PATH: &str = "/oidc/logout";

/// The client authentication methods the token and revocation endpoints accept: exactly
/// those `urad client add --auth` registers.
pub const CLIENT_AUTH_METHODS: [&str; 4] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "none",
];

/// The metadata document for the issuer `issuer` (an origin such as `https://portal.kraj.cz`).
pub fn metadata(issuer: &str) -> Value {
    let issuer = issuer.trim_end_matches('/');
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}{AUTHORIZATION_PATH}"),
        "token_endpoint": format!("{issuer}{TOKEN_PATH}"),
        "userinfo_endpoint": format!("{issuer}{USERINFO_PATH}"),
        "jwks_uri": format!("{issuer}{JWKS_PATH}"),
        "revocation_endpoint": format!("{issuer}{REVOCATION_PATH}"),
        "end_session_endpoint": format!("{issuer}{END_SESSION_PATH}"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
        "userinfo_signing_alg_values_supported": ["none"],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256"],
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "email", "address", "birthdate", "offline_access"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid",
            "name", "given_name", "family_name", "birthdate", "email", "address"
        ],
        "acr_values_supported": Loa::ALL.iter().map(|l| l.uri()).collect::<Vec<_>>(),
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": ["cs", "en"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": true,
        "authorization_response_iss_parameter_supported": true,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_names_the_endpoints_and_the_eidas_levels() {
        let m = metadata("https://portal.example.cz/");
        assert_eq!(m["issuer"], "https://portal.example.cz");
        assert_eq!(m["jwks_uri"], "https://portal.example.cz/oidc/jwks");
        assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(m["response_types_supported"], json!(["code"]));
        assert_eq!(
            m["id_token_signing_alg_values_supported"],
            json!(["ES256", "RS256"])
        );
        assert_eq!(
            m["token_endpoint_auth_methods_supported"],
            json!([
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
                "none"
            ])
        );
        assert_eq!(
            m["acr_values_supported"],
            json!([
                "http://eidas.europa.eu/LoA/low",
                "http://eidas.europa.eu/LoA/substantial",
                "http://eidas.europa.eu/LoA/high"
            ])
        );
    }
}

//! The demo identity provider: a real, separate OpenID Connect issuer inside the binary
//! (`{issuer}/demo-idp`), standing in for NIA and Bank iD, which cannot run here. The gateway
//! talks to it over HTTP exactly as to any other upstream. Its people are invented test
//! citizens and officials; every page it shows says it is a demonstration.

use crate::grants::{ordered_token, pkce_matches, storage_key};
use crate::jose::EcKey;
use crate::loa::Loa;
use serde_json::{json, Value};
use sqlx::Row;
use urad_core::Clock;
use urad_store::{sql, Db, StoreError};

/// Path of the demo issuer below the portal's origin.
pub const PATH: &str = "/demo-idp";
/// The gateway's client at the demo provider. The secret is public on purpose: the demo
/// provider lets anyone sign in as anyone, it guards nothing.
pub const GATEWAY_CLIENT_ID: &str = "urad-gateway";
pub const GATEWAY_CLIENT_SECRET: &str = "demo-only-not-a-secret";
const CODE_TTL_SECS: i64 = 60;

/// An invented person.
#[derive(Clone, Debug)]
pub struct DemoPerson {
    pub id: &'static str,
    pub given_name: &'static str,
    pub family_name: &'static str,
    pub birthdate: &'static str,
    pub street: &'static str,
    pub locality: &'static str,
    pub postal_code: &'static str,
    pub email: &'static str,
    /// The strongest means this person has (an eObčanka with a chip reaches `high`).
    pub max_loa: Loa,
    /// A staff role at the office, for officials (what the demo page calls them).
    pub role: Option<&'static str>,
    /// The groups the office's staff provider would assert: the back office's roles
    /// (`official:<agenda>`, `agenda_lead:<agenda>`, `registry_clerk`, `administrator`).
    pub groups: &'static [&'static str],
}

/// Test citizens of various ages, addresses and levels, and demo officials.
pub const PEOPLE: &[DemoPerson] = &[
    DemoPerson {
        id: "jana-novakova",
        given_name: "Jana",
        family_name: "Nováková",
        birthdate: "1988-03-14",
        street: "Nádražní 12",
        locality: "Ostrava",
        postal_code: "702 00",
        email: "jana.novakova@example.cz",
        max_loa: Loa::High,
        role: None,
        groups: &[],
    },
    DemoPerson {
        id: "petr-svoboda",
        given_name: "Petr",
        family_name: "Svoboda",
        birthdate: "1951-11-02",
        street: "Hlavní 5",
        locality: "Frýdek-Místek",
        postal_code: "738 01",
        email: "petr.svoboda@example.cz",
        max_loa: Loa::Substantial,
        role: None,
        groups: &[],
    },
    DemoPerson {
        id: "eliska-kralova",
        given_name: "Eliška",
        family_name: "Králová",
        birthdate: "2007-06-30",
        street: "Zahradní 221",
        locality: "Opava",
        postal_code: "746 01",
        email: "eliska.kralova@example.cz",
        max_loa: Loa::Low,
        role: None,
        groups: &[],
    },
    DemoPerson {
        id: "karel-dvorak",
        given_name: "Karel",
        family_name: "Dvořák",
        birthdate: "1975-01-20",
        street: "Masarykova 40",
        locality: "Karviná",
        postal_code: "733 01",
        email: "karel.dvorak@example.cz",
        max_loa: Loa::High,
        role: None,
        groups: &[],
    },
    DemoPerson {
        id: "ursula-urednikova",
        given_name: "Uršula",
        family_name: "Úředníková",
        birthdate: "1980-09-09",
        street: "28. října 117",
        locality: "Ostrava",
        postal_code: "702 18",
        email: "ursula.urednikova@kraj.example.cz",
        max_loa: Loa::High,
        role: Some("official"),
        groups: &["official:internal-affairs", "official:grants"],
    },
    DemoPerson {
        id: "radek-podatelna",
        given_name: "Radek",
        family_name: "Podatelný",
        birthdate: "1992-12-01",
        street: "28. října 117",
        locality: "Ostrava",
        postal_code: "702 18",
        email: "radek.podatelny@kraj.example.cz",
        max_loa: Loa::Substantial,
        role: Some("registry_clerk"),
        groups: &["registry_clerk"],
    },
    DemoPerson {
        id: "libor-vedouci",
        given_name: "Libor",
        family_name: "Vedoucí",
        birthdate: "1971-04-18",
        street: "28. října 117",
        locality: "Ostrava",
        postal_code: "702 18",
        email: "libor.vedouci@kraj.example.cz",
        max_loa: Loa::High,
        role: Some("agenda_lead"),
        groups: &["agenda_lead:internal-affairs", "agenda_lead:grants"],
    },
    DemoPerson {
        id: "alena-spravcova",
        given_name: "Alena",
        family_name: "Správcová",
        birthdate: "1985-02-27",
        street: "28. října 117",
        locality: "Ostrava",
        postal_code: "702 18",
        email: "alena.spravcova@kraj.example.cz",
        max_loa: Loa::High,
        role: Some("administrator"),
        groups: &["administrator"],
    },
];

pub fn person(id: &str) -> Option<&'static DemoPerson> {
    PEOPLE.iter().find(|p| p.id == id)
}

impl DemoPerson {
    /// The claims the demo provider asserts, in the shape NIA and banks use.
    pub fn claims(&self) -> Value {
        let mut c = json!({
            "given_name": self.given_name,
            "family_name": self.family_name,
            "birthdate": self.birthdate,
            "email": self.email,
            "email_verified": true,
            "address": {
                "street_address": self.street,
                "locality": self.locality,
                "postal_code": self.postal_code,
                "country": "CZ",
            },
            // An invented identifier standing for the one the national registers verified;
            // the gateway links logins only through such identifiers, never names.
            "verified_id": format!("demo-{}", self.id),
        });
        if !self.groups.is_empty() {
            c["groups"] = json!(self.groups);
        }
        c
    }

    /// Age in whole years on `today` (`YYYY-MM-DD`), for the page.
    pub fn age_on(&self, today: &str) -> Option<u32> {
        let parse = |d: &str| -> Option<(u32, u32, u32)> {
            let mut it = d.split('-').map(|p| p.parse::<u32>().ok());
            Some((it.next()??, it.next()??, it.next()??))
        };
        let (by, bm, bd) = parse(self.birthdate)?;
        let (ty, tm, td) = parse(today)?;
        let years = ty.checked_sub(by)?;
        Some(if (tm, td) < (bm, bd) {
            years - 1
        } else {
            years
        })
    }
}

/// The demo provider's signing key, created once and shared by every process.
pub async fn key(db: &Db, clock: &dyn Clock) -> Result<EcKey, sqlx::Error> {
    if let Some(row) =
        sqlx::query("SELECT kid, private_key FROM demo_idp_key ORDER BY created_at LIMIT 1")
            .fetch_optional(db.reader())
            .await?
    {
        let kid: String = row.try_get("kid")?;
        let stored: String = row.try_get("private_key")?;
        return EcKey::from_stored(&kid, &stored).map_err(|e| sqlx::Error::Decode(Box::new(e)));
    }
    let fresh = EcKey::generate();
    // Two processes starting at once: the first row wins and both read it back.
    sqlx::query("INSERT INTO demo_idp_key (kid, private_key, created_at) VALUES ($1, $2, $3) ON CONFLICT (kid) DO NOTHING")
        .bind(&fresh.kid)
        .bind(fresh.to_stored())
        .bind(clock.now())
        .execute(db.writer())
        .await?;
    let row =
        sqlx::query("SELECT kid, private_key FROM demo_idp_key ORDER BY created_at, kid LIMIT 1")
            .fetch_one(db.reader())
            .await?;
    EcKey::from_stored(
        &row.try_get::<String, _>("kid")?,
        &row.try_get::<String, _>("private_key")?,
    )
    .map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// A sign-in at the demo provider, waiting for its code to be redeemed.
pub struct DemoCode<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub code_challenge: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub person: &'a str,
    pub loa: Loa,
}

pub async fn issue_code(
    db: &Db,
    clock: &dyn Clock,
    c: &DemoCode<'_>,
) -> Result<String, StoreError> {
    let code = ordered_token();
    let now = clock.now();
    db.write_one(
        sql("INSERT INTO demo_idp_code (code_sha256, client_id, redirect_uri, code_challenge, nonce, person, loa, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(storage_key(&code))
        .bind(c.client_id)
        .bind(c.redirect_uri)
        .bind(c.code_challenge)
        .bind(c.nonce)
        .bind(c.person)
        .bind(c.loa.code())
        .bind(now)
        .bind(now + CODE_TTL_SECS),
    )
    .await?;
    Ok(code)
}

/// Redeems a code once; returns the ID token's claims (without `iss`, `aud`, times).
pub async fn redeem_code(
    db: &Db,
    clock: &dyn Clock,
    code: &str,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> Result<Option<(&'static DemoPerson, Loa, Option<String>)>, StoreError> {
    let now = clock.now();
    let written = db
        .write_one(
            sql("UPDATE demo_idp_code SET used_at = $1 WHERE code_sha256 = $2 AND used_at IS NULL AND expires_at > $1 \
                 RETURNING redirect_uri, code_challenge, nonce, person, loa")
            .bind(now)
            .bind(storage_key(code)),
        )
        .await?;
    let Some(row) = written.rows.first() else {
        return Ok(None);
    };
    let stored_redirect: String = row.get("redirect_uri")?;
    let challenge: Option<String> = row.get("code_challenge")?;
    let pkce_ok = match (&challenge, verifier) {
        (Some(c), Some(v)) => pkce_matches(v, c),
        (None, None) => true,
        _ => false,
    };
    if stored_redirect != redirect_uri || !pkce_ok {
        return Ok(None);
    }
    let person_id: String = row.get("person")?;
    let loa: String = row.get("loa")?;
    let (Some(p), Ok(loa)) = (person(&person_id), loa.parse::<Loa>()) else {
        return Ok(None);
    };
    Ok(Some((p, loa, row.get("nonce")?)))
}

/// The `amr` for a sign-in at `loa`: what the person used.
pub fn amr(loa: Loa) -> &'static str {
    match loa {
        Loa::Low => "pwd",
        Loa::Substantial => "mfa",
        Loa::High => "sc",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_have_distinct_ids_and_ages_count_the_birthday() {
        let mut ids: Vec<_> = PEOPLE.iter().map(|p| p.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), PEOPLE.len());
        let eliska = person("eliska-kralova").unwrap();
        assert_eq!(eliska.age_on("2025-06-29"), Some(17));
        assert_eq!(eliska.age_on("2025-06-30"), Some(18));
        assert!(PEOPLE.iter().any(|p| p.role.is_some()));
        assert!(PEOPLE.iter().any(|p| p.max_loa == Loa::Low));
    }
}

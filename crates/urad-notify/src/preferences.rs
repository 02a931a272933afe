//! Each person's notification preferences. Without any stored: e-mail on, to the address
//! their identity gives (if it gives one), in Czech. Notices in the portal are always made.

use crate::NotifyError;
use serde::Serialize;
use urad_core::{Clock, Lang};
use urad_store::{sql, Db};

/// A person's preferences, as they apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Preferences {
    /// Where e-mail goes: the person's own choice, or else the address from their identity;
    /// `None` when neither is known (then no e-mail is sent).
    pub email: Option<String>,
    /// Whether `email` is the person's own choice rather than their identity's. [`set`]
    /// stores the address only if it is.
    pub own_email: bool,
    pub email_enabled: bool,
    /// The language of the e-mails (notices keep both).
    pub lang: Lang,
}

/// A person's preferences; `identity_email` is the address their identity gives, if any.
pub async fn get(
    db: &Db,
    person_id: &str,
    identity_email: Option<&str>,
) -> Result<Preferences, NotifyError> {
    let row = db
        .fetch_optional(
            sql(
                "SELECT email, email_enabled, lang FROM notification_preference \
                 WHERE person_id = $1",
            )
            .bind(person_id),
        )
        .await?;
    let identity_email = identity_email
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned);
    Ok(match row {
        None => Preferences {
            email: identity_email,
            own_email: false,
            email_enabled: true,
            lang: Lang::Cs,
        },
        Some(row) => {
            let own: Option<String> = row.get("email")?;
            let lang = match row.get::<String>("lang")?.as_str() {
                "en" => Lang::En,
                _ => Lang::Cs,
            };
            Preferences {
                own_email: own.is_some(),
                email: own.or(identity_email),
                email_enabled: row.get("email_enabled")?,
                lang,
            }
        }
    })
}

/// Stores a person's preferences. The address is stored only when `own_email` (else the
/// identity's applies, also when it changes); it must be an e-mail address.
pub async fn set(
    db: &Db,
    clock: &dyn Clock,
    person_id: &str,
    preferences: &Preferences,
) -> Result<(), NotifyError> {
    let own = match (&preferences.email, preferences.own_email) {
        (Some(address), true) => Some(check_address(address)?),
        _ => None,
    };
    db.write_one(
        sql(
            "INSERT INTO notification_preference (person_id, email, email_enabled, lang, \
             updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (person_id) DO UPDATE SET \
             email = excluded.email, email_enabled = excluded.email_enabled, \
             lang = excluded.lang, updated_at = excluded.updated_at",
        )
        .bind(person_id)
        .bind(own)
        .bind(i64::from(preferences.email_enabled))
        .bind(preferences.lang.code())
        .bind(clock.now()),
    )
    .await?;
    Ok(())
}

/// The address, trimmed, if lettre reads it as one (`local@domain`, no display name).
pub fn check_address(address: &str) -> Result<String, NotifyError> {
    let trimmed = address.trim();
    trimmed
        .parse::<lettre::Address>()
        .map(|_| trimmed.to_owned())
        .map_err(|_| NotifyError::InvalidEmail(trimmed.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked() {
        assert_eq!(
            check_address(" jana@example.cz ").unwrap(),
            "jana@example.cz"
        );
        for bad in [
            "",
            "jana",
            "Jana <jana@example.cz>",
            "a@b@c",
            "jana@example.cz\r\nBcc: x@y.cz",
        ] {
            assert!(check_address(bad).is_err(), "{bad:?}");
        }
    }
}

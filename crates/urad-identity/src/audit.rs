//! Security events of the identity gateway, kept in the database (`audit_event`): sign-in,
//! sign-out, failed sign-ins and client authentications, step-up and token reuse. Recording
//! never fails the request it describes: a database error is logged instead.

use serde_json::Value;
use sqlx::Row;
use urad_core::Clock;
use urad_store::{sql, Db};

/// What happened. The names are stable: operators query and alert on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    SignIn,
    SignInFailed,
    StepUp,
    SignOut,
    ClientAuthFailed,
    TokenReuse,
    RateLimited,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::SignIn => "sign_in",
            Kind::SignInFailed => "sign_in_failed",
            Kind::StepUp => "step_up",
            Kind::SignOut => "sign_out",
            Kind::ClientAuthFailed => "client_auth_failed",
            Kind::TokenReuse => "token_reuse",
            Kind::RateLimited => "rate_limited",
        }
    }
}

/// One event; fields that do not apply stay `None`.
#[derive(Clone, Debug)]
pub struct Event<'a> {
    pub kind: Kind,
    pub person_id: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub sid: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub detail: Value,
}

impl<'a> Event<'a> {
    pub fn new(kind: Kind) -> Event<'a> {
        Event {
            kind,
            person_id: None,
            client_id: None,
            sid: None,
            ip: None,
            detail: Value::Object(Default::default()),
        }
    }
}

/// Appends `event`; on a database error logs it and carries on.
pub async fn record(db: &Db, clock: &dyn Clock, event: Event<'_>) {
    let result = db
        .write_one(
            sql(
                "INSERT INTO audit_event (at, kind, person_id, client_id, sid, ip, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(clock.now())
            .bind(event.kind.code())
            .bind(event.person_id)
            .bind(event.client_id)
            .bind(event.sid)
            .bind(event.ip)
            .bind(event.detail.to_string()),
        )
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, kind = event.kind.code(), "cannot record an audit event");
    }
}

/// A recorded event, as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub at: i64,
    pub kind: String,
    pub person_id: Option<String>,
    pub client_id: Option<String>,
    pub sid: Option<String>,
    pub detail: Value,
}

/// The newest events, newest first (operators, tests, "My account").
pub async fn recent(
    db: &Db,
    person_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Recorded>, sqlx::Error> {
    const SELECT: &str = "SELECT at, kind, person_id, client_id, sid, detail FROM audit_event";
    let rows = match person_id {
        Some(p) => {
            sqlx::query(&format!(
                "{SELECT} WHERE person_id = $1 ORDER BY id DESC LIMIT $2"
            ))
            .bind(p)
            .bind(limit)
            .fetch_all(db.reader())
            .await?
        }
        None => {
            sqlx::query(&format!("{SELECT} ORDER BY id DESC LIMIT $1"))
                .bind(limit)
                .fetch_all(db.reader())
                .await?
        }
    };
    rows.iter()
        .map(|r| {
            let detail: String = r.try_get("detail")?;
            Ok(Recorded {
                at: r.try_get("at")?,
                kind: r.try_get("kind")?,
                person_id: r.try_get("person_id")?,
                client_id: r.try_get("client_id")?,
                sid: r.try_get("sid")?,
                detail: serde_json::from_str(&detail).unwrap_or(Value::Null),
            })
        })
        .collect()
}

//! Notifications: telling a person that something happened in their matter (a submission
//! received, a request to complete it, a decision, a deadline coming).
//!
//! - [`templates`]: the texts, as data in `content/notifications/<kind>.toml`, in Czech and
//!   English with `{placeholders}`, checked at load;
//! - [`notices`]: notices in the portal, kept in both languages;
//! - [`preferences`]: each person's choices (e-mail on or off, the address, the language);
//! - [`email`]: e-mail over SMTP (lettre), sent by durable jobs on the queue [`EMAIL_QUEUE`]
//!   (urad-jobs): a mail server that is down delays mail, never loses it.
//!
//! [`notify`] gives the statements of one notification — the notice, and the e-mail job if
//! the person wants e-mail — for the caller's own [`urad_store::Db::write`], so that the
//! change the notification is about, its notice and its e-mail are committed together or not
//! at all. See docs/notifications.md.

pub mod email;
pub mod notices;
pub mod preferences;
pub mod templates;

pub use email::{spawn_email_worker, SmtpConfig, EMAIL_QUEUE};
pub use templates::{Rendered, Templates, Values};

use sha2::{Digest, Sha256};
use urad_core::{Clock, Lang};
use urad_store::statement::Statement;
use urad_store::{Db, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("no notification template of the kind `{0}`")]
    UnknownKind(String),
    #[error("the notification `{kind}` needs a value for `{{{placeholder}}}`")]
    MissingValue { kind: String, placeholder: String },
    #[error("the notification `{kind}` has no placeholder `{{{placeholder}}}`")]
    UnknownValue { kind: String, placeholder: String },
    #[error("`{0}` is not an e-mail address")]
    InvalidEmail(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Jobs(#[from] urad_jobs::JobError),
}

impl NotifyError {
    /// What to tell the person, in their language (for the preferences page).
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (NotifyError::InvalidEmail(a), Lang::Cs) => format!("„{a}“ není e-mailová adresa."),
            (NotifyError::InvalidEmail(a), Lang::En) => format!("“{a}” is not an e-mail address."),
            (_, Lang::Cs) => {
                "Oznámení se teď nepodařilo uložit ani načíst; zkuste to prosím znovu.".into()
            }
            (_, Lang::En) => {
                "The notifications could not be saved or loaded now; please try again.".into()
            }
        }
    }
}

/// One notification to one person: the kind of its template and the values of its
/// placeholders. `Notification::new(person, "decision_issued").case(id).value("reference", r)`.
#[derive(Clone, Debug)]
pub struct Notification {
    pub person_id: String,
    pub kind: String,
    pub case_id: Option<String>,
    pub values: Values,
    /// The person's address as their identity gives it (the `email` claim), if known: used
    /// unless they chose another.
    pub identity_email: Option<String>,
    pub dedup_key: Option<String>,
}

impl Notification {
    pub fn new(person_id: &str, kind: &str) -> Notification {
        Notification {
            person_id: person_id.to_owned(),
            kind: kind.to_owned(),
            case_id: None,
            values: Values::new(),
            identity_email: None,
            dedup_key: None,
        }
    }

    /// The case the notification is about; the notice links to it.
    pub fn case(mut self, case_id: &str) -> Notification {
        self.case_id = Some(case_id.to_owned());
        self
    }

    /// `{name}` is `value` in both languages.
    pub fn value(mut self, name: &str, value: impl Into<String>) -> Notification {
        self.values = self.values.set(name, value);
        self
    }

    /// `{name}` differs by language.
    pub fn text(mut self, name: &str, value: urad_core::Text) -> Notification {
        self.values = self.values.text(name, value);
        self
    }

    pub fn identity_email(mut self, email: Option<&str>) -> Notification {
        self.identity_email = email.map(str::to_owned);
        self
    }

    /// Notifies once for ever: the same key again adds neither a notice nor an e-mail (for
    /// callers that may repeat their work, e.g. `decision:<case id>`).
    pub fn dedup_key(mut self, key: &str) -> Notification {
        self.dedup_key = Some(key.to_owned());
        self
    }
}

/// The statements of one notification, for the caller's batch: the portal notice and, when
/// the person has e-mail on and an address is known, an e-mail job on [`EMAIL_QUEUE`] in
/// their language. Reads the person's preferences; writes nothing itself.
pub async fn notify(
    db: &Db,
    clock: &dyn Clock,
    templates: &Templates,
    notification: &Notification,
) -> Result<Vec<Statement>, NotifyError> {
    let rendered = templates.render(&notification.kind, &notification.values)?;
    let prefs = preferences::get(
        db,
        &notification.person_id,
        notification.identity_email.as_deref(),
    )
    .await?;
    let notice_id = match &notification.dedup_key {
        Some(key) => keyed_id(key),
        None => new_id(),
    };
    let notice = notices::NewNotice {
        id: notice_id.clone(),
        person_id: notification.person_id.clone(),
        kind: notification.kind.clone(),
        case_id: notification.case_id.clone(),
        title: rendered.subject.clone(),
        body: rendered.body.clone(),
    };
    let mut statements = vec![notices::notice_statement(&notice, clock)];
    if let (true, Some(to)) = (prefs.email_enabled, &prefs.email) {
        let mail = email::EmailJob {
            to: to.clone(),
            lang: prefs.lang,
            subject: rendered.subject.get(prefs.lang).to_owned(),
            body: rendered.body.get(prefs.lang).to_owned(),
            person_id: notification.person_id.clone(),
            notice_id,
        };
        let mut job = mail.job(&notification.kind);
        if let Some(key) = &notification.dedup_key {
            job = job.dedup_key(format!("email:{key}"));
        }
        statements.push(urad_jobs::enqueue(&job, clock));
    }
    Ok(statements)
}

/// A random id that sorts in the order this process made them (see urad-jobs).
pub(crate) fn new_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut last = LAST.load(Ordering::Relaxed);
    let stamp = loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => break next,
            Err(seen) => last = seen,
        }
    };
    let random = rand_core::RngCore::next_u64(&mut rand_core::OsRng);
    format!("{stamp:016x}{random:016x}")
}

/// The id of a notice with a dedup key: the same for the same key.
fn keyed_id(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("k{}", urad_core::hex(&digest[..16]))
}

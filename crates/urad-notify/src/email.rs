//! E-mail over SMTP, by durable jobs. [`crate::notify`] renders the e-mail in the person's
//! language when the notification is made and enqueues it on [`EMAIL_QUEUE`] with the change
//! it is about; the e-mail worker ([`spawn_email_worker`]) sends it through lettre's async
//! SMTP client. A mail server that is down or answers "try later" (4xx) delays the e-mail:
//! the job is retried with backoff for about a day ([`EMAIL_MAX_ATTEMPTS`]); one that refuses
//! it for good (5xx) or an address that is none makes the job `failed` at once. A failed job
//! stays in the queue, visible, until someone resends it.
//!
//! Configuration ([`SmtpConfig::from_env`]):
//! - `URAD_SMTP_URL`: the mail server, `smtps://user:password@host:465` (TLS),
//!   `smtp://user:password@host:587?tls=required` (STARTTLS), or `smtp://host:25` (plain, for
//!   a relay on the same machine or tests). Without it no e-mail worker runs and e-mail waits
//!   in the queue.
//! - `URAD_MAIL_FROM`: the sender, `Krajský úřad <podatelna@kraj.example.cz>`; required with
//!   `URAD_SMTP_URL`.

use crate::NotifyError;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use urad_core::{Clock, Lang};
use urad_jobs::{Handler, Job, JobFailure, NewJob, WorkerConfig, WorkerHandle};
use urad_store::Db;

/// The job queue of e-mail.
pub const EMAIL_QUEUE: &str = "email";

/// Attempts an e-mail gets: with the default backoff (30 s doubling up to an hour) about 23
/// hours of a mail server being down.
pub const EMAIL_MAX_ATTEMPTS: i64 = 30;

/// An e-mail to send: the payload of a job on [`EMAIL_QUEUE`], rendered when it was enqueued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailJob {
    pub to: String,
    pub lang: Lang,
    pub subject: String,
    /// Plain text.
    pub body: String,
    pub person_id: String,
    /// The portal notice it goes with.
    pub notice_id: String,
}

impl EmailJob {
    /// The job that sends it; `kind` is the notification's kind.
    pub fn job(&self, kind: &str) -> NewJob {
        let payload = serde_json::to_value(self).expect("plain strings serialize");
        NewJob::new(EMAIL_QUEUE, kind, &payload).max_attempts(EMAIL_MAX_ATTEMPTS)
    }
}

/// How to reach the mail server, and who the e-mail is from. `Debug` hides the password.
#[derive(Clone)]
pub struct SmtpConfig {
    url: String,
    from: Mailbox,
    /// How long one connection to the server may take (connecting, each command).
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("url", &self.url_redacted())
            .field("from", &self.from.to_string())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl SmtpConfig {
    /// `url` as in `URAD_SMTP_URL`, `from` as in `URAD_MAIL_FROM` (see the module's docs).
    pub fn new(url: &str, from: &str) -> Result<SmtpConfig, NotifyError> {
        let from: Mailbox = from.trim().parse().map_err(|e| {
            NotifyError::Config(format!(
                "URAD_MAIL_FROM `{from}` is not a sender such as \
                 `Krajský úřad <podatelna@kraj.example.cz>`: {e}"
            ))
        })?;
        let config = SmtpConfig {
            url: url.trim().to_owned(),
            from,
            timeout: Duration::from_secs(30),
        };
        config.transport()?;
        Ok(config)
    }

    /// From `URAD_SMTP_URL` and `URAD_MAIL_FROM` as `var` gives them; `None` without
    /// `URAD_SMTP_URL` (no e-mail is sent; it waits in the queue).
    pub fn from_env(
        var: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<SmtpConfig>, NotifyError> {
        let Some(url) = var("URAD_SMTP_URL").filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        let from = var("URAD_MAIL_FROM")
            .filter(|f| !f.trim().is_empty())
            .ok_or_else(|| {
                NotifyError::Config(
                    "URAD_SMTP_URL is set but URAD_MAIL_FROM is not: say who the e-mail is from, \
                     e.g. `Krajský úřad <podatelna@kraj.example.cz>`"
                        .into(),
                )
            })?;
        SmtpConfig::new(&url, &from).map(Some)
    }

    /// The server's URL with its password hidden, for logs.
    pub fn url_redacted(&self) -> String {
        urad_store::redact(&self.url)
    }

    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, NotifyError> {
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&self.url).map_err(|e| {
            NotifyError::Config(format!(
                "URAD_SMTP_URL `{}` is not a mail server's URL (smtps://user:password@host:465, \
                 smtp://user:password@host:587?tls=required or smtp://host:25): {e}",
                self.url_redacted()
            ))
        })?;
        Ok(builder.timeout(Some(self.timeout)).build())
    }
}

/// Sends the e-mail jobs: the handler of [`EMAIL_QUEUE`].
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(config: &SmtpConfig) -> Result<Mailer, NotifyError> {
        Ok(Mailer {
            transport: config.transport()?,
            from: config.from.clone(),
        })
    }

    /// The message of an e-mail job: text/plain in UTF-8, the subject encoded by lettre, and a
    /// Message-ID made from the job's id (so that a repeated delivery is recognisable as one).
    pub fn message(&self, job_id: &str, mail: &EmailJob) -> Result<Message, JobFailure> {
        let to: Mailbox = mail.to.parse().map_err(|e| {
            JobFailure::permanent(format!("`{}` is not an e-mail address: {e}", mail.to))
        })?;
        let domain = self.from.email.domain().to_owned();
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{job_id}@{domain}>")))
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| JobFailure::permanent(format!("cannot build the e-mail: {e}")))
    }

    /// Sends one e-mail job.
    pub async fn send(&self, job: &Job) -> Result<(), JobFailure> {
        let mail: EmailJob = job.payload().map_err(|e| {
            JobFailure::permanent(format!("the job's payload is not an e-mail: {e}"))
        })?;
        let message = self.message(&job.id, &mail)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(JobFailure::permanent(format!(
                "the mail server refused the e-mail for good: {e}"
            ))),
            Err(e) => Err(JobFailure::retry(format!("cannot send the e-mail: {e}"))),
        }
    }
}

impl Handler for Mailer {
    fn handle(
        &self,
        job: Job,
    ) -> Pin<Box<dyn Future<Output = Result<(), JobFailure>> + Send + '_>> {
        Box::pin(async move { self.send(&job).await })
    }
}

/// The e-mail worker's defaults: [`EMAIL_QUEUE`], polled every second, a lease of five
/// minutes, the default backoff.
pub fn email_worker_config() -> WorkerConfig {
    WorkerConfig::new(EMAIL_QUEUE)
}

/// Starts the worker that sends e-mail, on a task of its own; stop it with
/// [`WorkerHandle::shutdown`]. Run one per process (several processes may each run one).
pub fn spawn_email_worker(
    db: Db,
    clock: Arc<dyn Clock>,
    config: &SmtpConfig,
) -> Result<WorkerHandle, NotifyError> {
    spawn_email_worker_with(db, clock, config, email_worker_config())
}

/// [`spawn_email_worker`] with other worker settings (tests poll faster).
pub fn spawn_email_worker_with(
    db: Db,
    clock: Arc<dyn Clock>,
    config: &SmtpConfig,
    worker: WorkerConfig,
) -> Result<WorkerHandle, NotifyError> {
    let mailer = Mailer::new(config)?;
    tracing::info!(server = %config.url_redacted(), from = %config.from, "e-mail worker starts");
    Ok(urad_jobs::spawn_worker(db, clock, worker, Arc::new(mailer)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_comes_from_the_environment_and_hides_the_password() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert!(SmtpConfig::from_env(&env(&[])).unwrap().is_none());
        let missing_from = SmtpConfig::from_env(&env(&[("URAD_SMTP_URL", "smtp://localhost:25")]))
            .unwrap_err()
            .to_string();
        assert!(missing_from.contains("URAD_MAIL_FROM"), "{missing_from}");
        let config = SmtpConfig::from_env(&env(&[
            ("URAD_SMTP_URL", "smtps://urad:tajne@mail.example.cz:465"),
            ("URAD_MAIL_FROM", "Krajský úřad <podatelna@kraj.example.cz>"),
        ]))
        .unwrap()
        .unwrap();
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("tajne") && shown.contains("urad:***@"),
            "{shown}"
        );
        assert_eq!(config.from().email.to_string(), "podatelna@kraj.example.cz");
        assert!(SmtpConfig::from_env(&env(&[
            ("URAD_SMTP_URL", "smtp://localhost:587?tls=required"),
            ("URAD_MAIL_FROM", "podatelna@kraj.example.cz"),
        ]))
        .unwrap()
        .is_some());
        for (url, from) in [
            ("http://mail.example.cz", "a@b.cz"),
            ("smtp://mail.example.cz:25", "not an address"),
        ] {
            assert!(SmtpConfig::new(url, from).is_err(), "{url} {from}");
        }
    }

    #[test]
    fn messages_are_plain_utf8_text_with_an_encoded_subject() {
        let config = SmtpConfig::new(
            "smtp://127.0.0.1:2525",
            "Krajský úřad <podatelna@kraj.example.cz>",
        )
        .unwrap();
        let mailer = Mailer::new(&config).unwrap();
        let mail = EmailJob {
            to: "jana.novakova@example.cz".into(),
            lang: Lang::Cs,
            subject: "Rozhodnutí ve věci KUOK 12/2027".into(),
            body: "Dobrý den,\nbylo vydáno rozhodnutí.".into(),
            person_id: "p1".into(),
            notice_id: "n1".into(),
        };
        let raw = String::from_utf8(mailer.message("job1", &mail).unwrap().formatted()).unwrap();
        assert!(
            raw.contains("Content-Type: text/plain; charset=utf-8"),
            "{raw}"
        );
        assert!(raw.contains("Message-ID: <job1@kraj.example.cz>"), "{raw}");
        assert!(raw.contains("Subject: =?utf-8?"), "{raw}");
        assert!(raw.is_ascii(), "encoded for transport: {raw}");
        let bad = EmailJob {
            to: "nobody".into(),
            ..mail
        };
        assert!(mailer.message("job2", &bad).unwrap_err().permanent);
    }
}

//! Wiring of the back office (`urad-cases`): its configuration from the content folder, and
//! the worker that takes received submissions in and lets unanswered completion requests
//! lapse.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use urad_cases::agenda::BackOffice;
use urad_cases::deadline::day_text;
use urad_catalog::model::CatalogData;
use urad_core::content::{file_error, list_dir, read_file, ContentErrors, ContentFile};
use urad_core::{Clock, Lang, Text};
use urad_forms::Forms;
use urad_store::Db;

/// How often the worker looks for new submissions and lapsed deadlines when idle.
const INTAKE_EVERY: Duration = Duration::from_secs(1);

/// The back office's configuration and the agenda of each form (through its service).
#[derive(Clone, Debug)]
pub struct BackOfficeSetup {
    pub office: Arc<BackOffice>,
    pub form_agendas: Arc<BTreeMap<String, String>>,
}

impl BackOfficeSetup {
    /// Loads the back office from its content files, named by their path under
    /// `back-office/` (`agendas.toml`, `workflows/<key>.toml`), and checks it against the
    /// catalogue's agendas; maps each form to the agenda of its service.
    pub fn from_files(
        files: &[(String, ContentFile)],
        catalog: &CatalogData,
        forms: &Forms,
    ) -> Result<BackOfficeSetup, ContentErrors> {
        let agendas: Vec<&str> = catalog.agendas.iter().map(|a| a.key.as_str()).collect();
        let Some((_, agendas_file)) = files.iter().find(|(name, _)| name == "agendas.toml") else {
            return Err(ContentErrors(vec![file_error(
                "content/back-office/agendas.toml",
                "is missing: the back office needs the settings of each agenda".into(),
            )]));
        };
        let workflows: Vec<ContentFile> = files
            .iter()
            .filter(|(name, _)| name.starts_with("workflows/") && name.ends_with(".toml"))
            .map(|(_, f)| f.clone())
            .collect();
        let office = BackOffice::load(agendas_file, &workflows, &agendas)?;
        let form_agendas = forms
            .all_latest()
            .filter_map(|f| {
                let service = f.ui.service.as_deref()?;
                let agenda = catalog
                    .services
                    .iter()
                    .find(|s| s.slug == service)?
                    .agenda
                    .clone();
                Some((f.id.clone(), agenda))
            })
            .collect();
        Ok(BackOfficeSetup {
            office: Arc::new(office),
            form_agendas: Arc::new(form_agendas),
        })
    }

    /// Reminds applicants of completion requests whose last day is near: a notice and an
    /// e-mail each, once (written with the mark that it was sent). Returns how many.
    pub async fn remind(
        &self,
        db: &Db,
        clock: &dyn Clock,
        templates: &urad_notify::templates::Templates,
        forms: &Forms,
        public_url: &str,
    ) -> Result<usize, urad_cases::cases::CaseError> {
        let now = clock.now();
        let mut sent = 0;
        for (request, case) in urad_cases::cases::reminders_due(db, now).await? {
            let service = match urad_filing::received(db, &case.submission_id).await {
                Ok(Some((r, _))) => forms.version(&r.form_id, r.form_version).map_or_else(
                    || Text::new(r.form_id.clone(), r.form_id.clone()),
                    |f| f.ui.title.clone(),
                ),
                _ => Text::new(case.reference.clone(), case.reference.clone()),
            };
            let email = urad_identity::sessions::latest_email(db, &case.applicant_id)
                .await
                .unwrap_or(None);
            let day = &request.last_day;
            let notification =
                urad_notify::Notification::new(&case.applicant_id, "deadline_reminder")
                    .case(&case.id)
                    .value("reference", case.reference.as_str())
                    .text("service", service)
                    .text(
                        "deadline",
                        Text::new(day_text(day, Lang::Cs), day_text(day, Lang::En)),
                    )
                    .value(
                        "url",
                        format!("{public_url}/moje-podani/{}", case.submission_id),
                    )
                    .identity_email(email.as_deref())
                    .dedup_key(&format!("reminder:{}", request.id));
            let statements = urad_notify::notify(db, clock, templates, &notification)
                .await
                .map_err(|e| urad_cases::cases::CaseError::Unavailable(e.to_string()))?;
            let written = db
                .write(
                    std::iter::once(urad_cases::cases::mark_reminded(&request.id, now))
                        .chain(statements.into_iter().map(|s| s.only_if_previous_changed())),
                )
                .await?;
            if written.first().is_some_and(|w| w.changed > 0) {
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// One round of intake (up to `limit` submissions) and of lapsing deadlines.
    pub async fn run_once(
        &self,
        db: &Db,
        clock: &dyn Clock,
        limit: i64,
    ) -> Result<(urad_cases::cases::Intake, usize), urad_cases::cases::CaseError> {
        let agendas = self.form_agendas.clone();
        let agenda_of = move |form: &str| agendas.get(form).cloned();
        let taken = urad_cases::cases::intake(db, clock, &self.office, &agenda_of, limit).await?;
        let lapsed = urad_cases::cases::lapse_overdue(db, clock, &self.office).await?;
        Ok((taken, lapsed))
    }

    /// Runs intake (and the reminders, when notices can be sent) until the process ends; a
    /// failed round is logged and retried.
    pub fn spawn_worker(
        self,
        db: Db,
        clock: Arc<dyn Clock>,
        reminders: Option<(Arc<urad_notify::templates::Templates>, Arc<Forms>, String)>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let Some((templates, forms, public_url)) = &reminders {
                    if let Err(e) = self
                        .remind(&db, clock.as_ref(), templates, forms, public_url)
                        .await
                    {
                        tracing::warn!(error = %e, "sending deadline reminders failed; retrying");
                    }
                }
                match self.run_once(&db, clock.as_ref(), 500).await {
                    // A full batch: more are waiting, go on at once.
                    Ok((taken, _)) if taken.opened + taken.answers >= 500 => continue,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "back-office intake failed; retrying"),
                }
                tokio::time::sleep(INTAKE_EVERY).await;
            }
        })
    }
}

/// The files of a `back-office/` folder, named by their path below it.
pub fn read_files(dir: &Path) -> Result<Vec<(String, ContentFile)>, ContentErrors> {
    let mut files = vec![(
        "agendas.toml".to_owned(),
        read_file(&dir.join("agendas.toml"))?,
    )];
    let workflows = dir.join("workflows");
    if workflows.exists() {
        for path in list_dir(&workflows)? {
            if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                files.push((format!("workflows/{name}"), read_file(&path)?));
            }
        }
    }
    Ok(files)
}

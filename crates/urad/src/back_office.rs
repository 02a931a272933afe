//! Wiring of the back office (`urad-cases`): its configuration from the content folder, and
//! the worker that takes received submissions in and lets unanswered completion requests
//! lapse.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use urad_cases::agenda::BackOffice;
use urad_catalog::model::CatalogData;
use urad_core::content::ContentErrors;
use urad_core::Clock;
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
    /// Reads `content/back-office/` and checks it against the catalogue's agendas.
    pub fn load(
        content: &Path,
        catalog: &CatalogData,
        forms: &Forms,
    ) -> Result<BackOfficeSetup, ContentErrors> {
        let agendas: Vec<&str> = catalog.agendas.iter().map(|a| a.key.as_str()).collect();
        let office = BackOffice::load_dir(content, &agendas)?;
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

    /// Runs intake until the process ends; a failed round is logged and retried.
    pub fn spawn_worker(self, db: Db, clock: Arc<dyn Clock>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
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

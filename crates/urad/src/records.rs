//! `urad records …`: the case files as records. `export-sip` writes a closed case file as an
//! NSESSS SIP package for the archive (`urad_cases::sip`, see docs/records.md): the received
//! submission (its data and every attached file), the decision as issued, and the case's
//! history.

use crate::{AttachmentArgs, ContentArgs, StoreArgs};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use futures_util::TryStreamExt;
use std::path::PathBuf;
use std::sync::Arc;
use urad_cases::sip::{
    self, DocumentOrigin, Settlement, SipCase, SipComponent, SipDocument, SipEvent, SipOriginator,
    SipPlanClass,
};
use urad_core::{Clock, SystemClock};

#[derive(Subcommand, Debug)]
pub enum RecordsCommand {
    /// Write a closed case file as an NSESSS SIP package (a ZIP with mets.xml and the files)
    /// for the archive. Exit 0 when written, 1 when the case is not closed or not found.
    ExportSip(ExportSipArgs),
}

#[derive(Args, Debug)]
pub struct ExportSipArgs {
    /// The case's id or its reference number (`KUMSK 12/2026`).
    #[arg(long)]
    pub case: String,
    /// Where to write the package; default: `<package id>.zip` in the current folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Who exports it, for the package's provenance.
    #[arg(long, default_value = "urad records export-sip")]
    pub by: String,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub attachments: AttachmentArgs,
    #[command(flatten)]
    pub content: ContentArgs,
}

pub async fn run(command: RecordsCommand) -> Result<()> {
    match command {
        RecordsCommand::ExportSip(args) => export_sip(&args).await,
    }
}

async fn export_sip(args: &ExportSipArgs) -> Result<()> {
    let db = args.store.open().await?;
    let store = args.attachments.open(&db, &args.store.data_dir)?;
    let catalog = args
        .content
        .source()?
        .validate()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let forms = args.content.forms().map_err(|e| anyhow::anyhow!("{e}"))?;
    let office = args
        .content
        .back_office(&catalog, &forms)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .office;
    let records = Records {
        db,
        store,
        catalog: Arc::new(catalog),
        forms: Arc::new(forms),
        office,
    };
    let found = records
        .db
        .fetch_optional(
            urad_store::sql("SELECT id FROM case_file WHERE id = $1 OR reference = $1")
                .bind(args.case.as_str()),
        )
        .await?;
    let Some(row) = found else {
        bail!("no case `{}`", args.case);
    };
    let case_id: String = row.get("id")?;
    let now = SystemClock.now();
    let package = records.sip(&case_id, &args.by, now).await?;
    let out = match &args.out {
        Some(p) => p.clone(),
        None => PathBuf::from(format!("{}.zip", package.id)),
    };
    std::fs::write(&out, &package.bytes)
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "wrote {} ({} bytes): case {}, {} document(s)",
        out.display(),
        package.bytes.len(),
        package.reference,
        package.documents
    );
    Ok(())
}

/// What building a case's package needs: the database, the attachments and the content.
#[derive(Clone)]
pub struct Records {
    pub db: urad_store::Db,
    pub store: urad_filing::attachments::Attachments,
    pub catalog: Arc<urad_catalog::model::CatalogData>,
    pub forms: Arc<urad_forms::Forms>,
    pub office: Arc<urad_cases::agenda::BackOffice>,
}

/// A case's SIP package.
pub struct Package {
    pub id: String,
    pub reference: String,
    pub documents: usize,
    pub bytes: Vec<u8>,
}

impl Records {
    /// The SIP package of a closed case (an open one is refused).
    pub async fn sip(&self, case_id: &str, by: &str, now: i64) -> Result<Package> {
        let (db, store, catalog, forms, office) = (
            &self.db,
            &self.store,
            &self.catalog,
            &self.forms,
            &self.office,
        );
        let case = urad_cases::cases::get(db, case_id)
            .await?
            .context("the case disappeared")?;
        let Some((receipt, data)) = urad_filing::received(db, &case.submission_id).await? else {
            bail!("the case's submission {} is missing", case.submission_id);
        };

        let form_title = forms
            .version(&receipt.form_id, receipt.form_version)
            .map_or_else(|| receipt.form_id.clone(), |f| f.ui.title.cs.clone());
        let mut submission = vec![SipComponent {
            file_name: "podani.json".into(),
            media_type: "application/json".into(),
            bytes: serde_json::to_vec_pretty(&data)?,
            output_format: false,
        }];
        for a in urad_filing::attachments::list(db, &case.applicant_id, &case.submission_id).await?
        {
            let (_, stream) =
                urad_filing::attachments::read(store, &case.applicant_id, &a.id).await?;
            let chunks: Vec<bytes::Bytes> = stream.try_collect().await?;
            submission.push(SipComponent {
                file_name: a.file_name.clone(),
                media_type: a.media_type.clone(),
                bytes: chunks.concat(),
                output_format: a.media_type == "application/pdf",
            });
        }
        let mut documents = vec![SipDocument {
            id: format!("podani-{}", receipt.id),
            title: format!("{form_title} ({})", receipt.reference),
            created_at: receipt.received_at,
            origin: DocumentOrigin::Received,
            components: submission,
        }];
        if let Some(decision) = urad_cases::cases::decision_of_case(db, &case.id).await? {
            let pdf = urad_cases::cases::decision_pdf(db, &case.applicant_id, &case.id)
                .await?
                .context("the decision's document cannot be read")?;
            documents.push(SipDocument {
                id: format!("rozhodnuti-{}", decision.id),
                title: format!("Rozhodnutí {}", decision.reference),
                created_at: decision.issued_at,
                origin: DocumentOrigin::Own,
                components: vec![SipComponent {
                    file_name: "rozhodnuti.pdf".into(),
                    media_type: "application/pdf".into(),
                    bytes: pdf,
                    output_format: true,
                }],
            });
        }
        let events = urad_cases::cases::events(db, &case.id, false)
            .await?
            .into_iter()
            .map(|e| SipEvent {
                at: e.at,
                what: match (&e.from_state, &e.to_state) {
                    (Some(from), Some(to)) => format!("{}: {from} → {to}", e.kind),
                    _ => e.kind.clone(),
                },
            })
            .collect();
        let settings = office.agenda(&case.agenda);
        let agenda_name = catalog
            .agendas
            .iter()
            .find(|a| a.key == case.agenda)
            .map_or_else(|| case.agenda.clone(), |a| a.name.cs.clone());
        let sip_case = SipCase {
            reference: case.reference.clone(),
            title: form_title,
            agenda: SipPlanClass {
                code: case.agenda.clone(),
                name: agenda_name,
            },
            originator: SipOriginator {
                name: catalog.office.name.cs.clone(),
                ico: catalog.office.code.clone(),
            },
            opened_at: case.opened_at,
            closed_at: case.closed_at,
            settled_by: Settlement::Document,
            retention: settings.retention,
            documents,
            events,
        };
        let package = match sip::build(&sip_case, by, now) {
            Ok(p) => p,
            Err(sip::SipError::NotClosed(_)) => bail!(
                "case {} is not closed: only closed case files go to the archive",
                case.reference
            ),
            Err(e) => bail!("cannot build the package: {e}"),
        };
        Ok(Package {
            id: sip::package_id(&sip_case, now)?,
            reference: case.reference.clone(),
            documents: sip_case.documents.len(),
            bytes: package,
        })
    }
}

/// Hands each closed case to the office's records-management system (spisová služba): the
/// job the closing enqueued builds the case's SIP package and sends it with `PUT
/// {url}/{package id}.zip`. The system's answer decides: 2xx is done; 4xx (it refuses the
/// package) fails the job for good, visible in the queue for resending; anything else, or no
/// answer, is tried again later with backoff.
pub fn spawn_handoff_worker(
    records: Records,
    clock: Arc<dyn Clock>,
    url: String,
    http: reqwest::Client,
) -> urad_jobs::WorkerHandle {
    let db = records.db.clone();
    let handler_clock = clock.clone();
    let handler = move |job: urad_jobs::Job| {
        let (records, clock, url, http) = (
            records.clone(),
            handler_clock.clone(),
            url.clone(),
            http.clone(),
        );
        async move {
            let payload: serde_json::Value = job
                .payload()
                .map_err(|e| urad_jobs::JobFailure::permanent(format!("bad payload: {e}")))?;
            let Some(case_id) = payload["case_id"].as_str() else {
                return Err(urad_jobs::JobFailure::permanent(
                    "the payload names no case",
                ));
            };
            let package = records
                .sip(case_id, "urad (předání do spisové služby)", clock.now())
                .await
                .map_err(|e| urad_jobs::JobFailure::retry(format!("{e:#}")))?;
            let target = format!("{}/{}.zip", url.trim_end_matches('/'), package.id);
            let answer = http
                .put(&target)
                .header("content-type", "application/zip")
                .body(package.bytes)
                .send()
                .await
                .map_err(|e| urad_jobs::JobFailure::retry(format!("{target}: {e}")))?;
            let status = answer.status();
            if status.is_success() {
                Ok(())
            } else if status.is_client_error() {
                Err(urad_jobs::JobFailure::permanent(format!(
                    "{target}: the records-management system refused the package ({status})"
                )))
            } else {
                Err(urad_jobs::JobFailure::retry(format!("{target}: {status}")))
            }
        }
    };
    urad_jobs::spawn_worker(
        db,
        clock,
        urad_jobs::WorkerConfig::new(urad_cases::cases::RECORDS_QUEUE),
        Arc::new(handler),
    )
}

//! Official documents as PDF/A: a Typst template from the content (`content/documents/`)
//! compiled with the data of one document, which the template reads as JSON
//! (`json("/data.json")`). The data is never pasted into the source, so whatever a citizen
//! typed is printed as text and cannot change the template.
//!
//! Typst runs as a library in a world of our own (see [`world`]): the templates, the data and
//! the fonts built into the binary, nothing else. Templates are parsed once when the content
//! is loaded and checked by rendering them with sample data, so that a broken template stops
//! `urad check-content` and `urad serve` with its file and line rather than a citizen's
//! download. Rendering is CPU work of a few milliseconds: call it from `spawn_blocking` in
//! async code.
//!
//! Document types: the receipt of a submission ([`receipt`]) and the decision of a case
//! ([`decision`]). `docs/documents.md` tells how to add one.

pub mod decision;
pub mod receipt;
mod world;

pub use decision::{appeal_instruction, decision_pdf, DecisionData, DecisionKind};
pub use receipt::{receipt_pdf, AttachmentLine, OfficeData, ReceiptData};
pub use world::DATA_PATH;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, LazyLock};
use typst::diag::{Severity, SourceDiagnostic, Warned};
use typst::foundations::{Bytes, Datetime, Smart};
use typst::syntax::{FileId, Source};
use typst::WorldExt;
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};
use urad_core::content::{
    file_error, file_error_field, list_dir, read_file, ContentError, ContentErrors, ContentFile,
};
use world::{DocumentWorld, TemplateSource};

/// The PDF/A level of every document: PDF/A-2a is archival (fonts embedded, colours
/// device-independent, metadata in XMP), with Unicode text that can be searched and copied,
/// and tagged for screen readers.
pub const PDF_STANDARD: PdfStandard = PdfStandard::A_2a;
/// `pdfaid:part` and `pdfaid:conformance` of [`PDF_STANDARD`], as the XMP metadata states them.
pub const PDFA_PART: &str = "2";
pub const PDFA_CONFORMANCE: &str = "A";

/// How many renders the results Typst memoizes survive (the layout of what did not change is
/// reused, the rest evicted, so memory stays bounded in a long-running server).
const MEMO_MAX_AGE: usize = 16;

/// Something that went wrong making a document.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The template does not compile with the data, or the result is not valid PDF/A.
    #[error("the document template has {} problem(s):\n{}", .0.len(), Diagnostics(.0))]
    Template(Vec<Diagnostic>),
    /// The content has no template for this kind of document.
    #[error("there is no template for the document `{0}`")]
    UnknownKind(String),
    #[error("cannot pass the data to the template: {0}")]
    Data(#[from] serde_json::Error),
}

/// One problem Typst reported, located in the template it is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The template's name (`content/documents/receipt.typ`), or `-` when Typst gave no place.
    pub file: String,
    /// 1-based; 0 when Typst gave no place.
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hints: Vec<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )?;
        for hint in &self.hints {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

struct Diagnostics<'a>(&'a [Diagnostic]);

impl fmt::Display for Diagnostics<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.0 {
            writeln!(f, "  {d}")?;
        }
        Ok(())
    }
}

/// A kind of document the platform makes: the template file that makes it and sample data
/// to check that template with when the content is loaded.
pub struct DocumentKind {
    /// The template's file under `content/documents/`, which names the kind: `receipt.typ`.
    pub file: &'static str,
    /// Data of the shape the template is given, for checking it.
    pub sample: fn() -> serde_json::Value,
}

/// Every kind of document; each needs its template in the content.
pub const KINDS: &[DocumentKind] = &[receipt::KIND, decision::KIND];

/// The content folder's document templates, parsed and checked.
#[derive(Clone)]
pub struct Documents {
    sources: Arc<HashMap<FileId, TemplateSource>>,
}

/// Metadata of one PDF that is not in its template.
pub struct PdfMeta<'a> {
    /// A stable identifier of the document (the same receipt always gets the same PDF id).
    pub ident: &'a str,
    /// The document's creation instant (the receipt's; the start of a decision's day of
    /// issue), written into its metadata.
    pub created: jiff::Timestamp,
}

impl Documents {
    /// Parses and checks the templates: `files` are the files of `content/documents/`, each
    /// with its path relative to that folder; `shown` names the folder in errors. Every kind of
    /// [`KINDS`] must have its template, and each must render its sample data as valid PDF/A
    /// without a warning; other `.typ` files are modules the templates may import.
    pub fn load(files: &[(String, ContentFile)], shown: &str) -> Result<Documents, ContentErrors> {
        let mut errors = Vec::new();
        let mut sources = HashMap::new();
        for (relative, file) in files {
            if !relative.ends_with(".typ") {
                errors.push(file_error(
                    &file.name,
                    "only Typst templates (.typ) belong in the documents folder".into(),
                ));
                continue;
            }
            let Some(id) = world::file_id(&format!("/{relative}")) else {
                errors.push(file_error(
                    &file.name,
                    "is not a valid template path".into(),
                ));
                continue;
            };
            sources.insert(
                id,
                TemplateSource {
                    name: file.name.clone(),
                    source: Source::new(id, file.text.clone()),
                },
            );
        }
        let documents = Documents {
            sources: Arc::new(sources),
        };
        for kind in KINDS {
            let id =
                world::file_id(&format!("/{}", kind.file)).expect("kind files are valid paths");
            if !documents.sources.contains_key(&id) {
                errors.push(file_error_field(
                    &format!("{shown}/{}", kind.file),
                    kind.file,
                    "is missing: the platform makes this document from it".into(),
                ));
                continue;
            }
            let meta = PdfMeta {
                ident: "check",
                created: jiff::Timestamp::UNIX_EPOCH,
            };
            let data = serde_json::to_vec(&(kind.sample)()).expect("sample data serializes");
            if let Err(e) = documents.compile(id, data, &meta, true) {
                errors.extend(to_content_errors(e, &format!("{shown}/{}", kind.file)));
            }
        }
        if errors.is_empty() {
            Ok(documents)
        } else {
            Err(ContentErrors(errors))
        }
    }

    /// Reads and loads `dir` (`content/documents`): its `.typ` files.
    pub fn load_dir(dir: &Path) -> Result<Documents, ContentErrors> {
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for path in list_dir(dir)? {
            let relative = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            match read_file(&path) {
                Ok(file) => files.push((relative, file)),
                Err(e) => errors.extend(e.0),
            }
        }
        match Documents::load(&files, &dir.display().to_string()) {
            Ok(documents) if errors.is_empty() => Ok(documents),
            Ok(_) => Err(ContentErrors(errors)),
            Err(e) => {
                errors.extend(e.0);
                Err(ContentErrors(errors))
            }
        }
    }

    /// How many templates there are (the documents' and the modules they import).
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// The templates of the demo content, as built into the binary.
    pub fn built_in() -> &'static Documents {
        static BUILT_IN: LazyLock<Documents> = LazyLock::new(|| {
            let files = [
                (
                    receipt::KIND.file.to_owned(),
                    ContentFile {
                        name: "content/documents/receipt.typ (built in)".into(),
                        text: include_str!("../../../content/documents/receipt.typ").into(),
                    },
                ),
                (
                    decision::KIND.file.to_owned(),
                    ContentFile {
                        name: "content/documents/decision.typ (built in)".into(),
                        text: include_str!("../../../content/documents/decision.typ").into(),
                    },
                ),
            ];
            Documents::load(&files, "content/documents (built in)")
                .unwrap_or_else(|e| panic!("the built-in document templates are broken: {e}"))
        });
        &BUILT_IN
    }

    /// Renders the document of kind `file` (`receipt.typ`, `decision.typ`) with `data` as PDF/A.
    pub fn render(
        &self,
        file: &str,
        data: &impl serde::Serialize,
        meta: &PdfMeta<'_>,
    ) -> Result<Vec<u8>, DocumentError> {
        let id = world::file_id(&format!("/{file}"))
            .filter(|id| self.sources.contains_key(id))
            .ok_or_else(|| DocumentError::UnknownKind(file.to_owned()))?;
        let data = serde_json::to_vec(data)?;
        self.compile(id, data, meta, false)
    }

    /// Compiles `main` with `data` and exports it; with `strict`, a warning is an error too.
    fn compile(
        &self,
        main: FileId,
        data: Vec<u8>,
        meta: &PdfMeta<'_>,
        strict: bool,
    ) -> Result<Vec<u8>, DocumentError> {
        let world = DocumentWorld {
            sources: &self.sources,
            main,
            data: Bytes::new(data),
        };
        let Warned { output, warnings } = typst::compile::<PagedDocument>(&world);
        let result = match output {
            Err(errors) => Err(self.diagnostics(&world, &errors)),
            Ok(_) if strict && !warnings.is_empty() => Err(self.diagnostics(&world, &warnings)),
            Ok(document) => typst_pdf::pdf(&document, &pdf_options(meta))
                .map_err(|errors| self.diagnostics(&world, &errors)),
        };
        typst::comemo::evict(MEMO_MAX_AGE);
        result
    }

    fn diagnostics(&self, world: &DocumentWorld<'_>, found: &[SourceDiagnostic]) -> DocumentError {
        let located = found
            .iter()
            .map(|d| {
                let place = d.span.id().zip(world.range(d.span));
                let (file, line, column) = match place {
                    Some((id, range)) => match self.sources.get(&id) {
                        Some(t) => {
                            let (line, column) = t
                                .source
                                .lines()
                                .byte_to_line_column(range.start)
                                .unwrap_or((0, 0));
                            (t.name.clone(), line + 1, column + 1)
                        }
                        None => (world::DATA_PATH.to_owned(), 0, 0),
                    },
                    None => ("-".to_owned(), 0, 0),
                };
                let severity = match d.severity {
                    Severity::Error => "",
                    Severity::Warning => "warning: ",
                };
                Diagnostic {
                    file,
                    line,
                    column,
                    message: format!("{severity}{}", d.message),
                    hints: d.hints.iter().map(|h| h.v.to_string()).collect(),
                }
            })
            .collect();
        DocumentError::Template(located)
    }
}

fn pdf_options(meta: &PdfMeta<'_>) -> PdfOptions {
    let created = meta.created;
    let utc = created.to_zoned(jiff::tz::TimeZone::UTC);
    let datetime = Datetime::from_ymd_hms(
        utc.year().into(),
        utc.month().unsigned_abs(),
        utc.day().unsigned_abs(),
        utc.hour().unsigned_abs(),
        utc.minute().unsigned_abs(),
        utc.second().unsigned_abs(),
    );
    PdfOptions {
        ident: Smart::Custom(meta.ident.to_owned()),
        creator: Smart::Custom(Some(concat!("urad ", env!("CARGO_PKG_VERSION")).to_owned())),
        timestamp: datetime.map(Timestamp::new_utc),
        standards: PdfStandards::new(&[PDF_STANDARD]).expect("PDF/A-2a is a valid standard"),
        tagged: true,
        ..PdfOptions::default()
    }
}

/// A template's problems as content errors, so that `urad check-content` lists them with the
/// others.
fn to_content_errors(e: DocumentError, file: &str) -> Vec<ContentError> {
    match e {
        DocumentError::Template(diagnostics) => diagnostics
            .into_iter()
            .map(|d| {
                let mut message = d.message;
                for hint in d.hints {
                    message.push_str(&format!(" (hint: {hint})"));
                }
                ContentError {
                    file: if d.line == 0 { file.to_owned() } else { d.file },
                    line: d.line.max(1),
                    column: d.column.max(1),
                    field: "template".into(),
                    message,
                }
            })
            .collect(),
        other => vec![file_error_field(file, "template", other.to_string())],
    }
}

#[cfg(test)]
mod tests;

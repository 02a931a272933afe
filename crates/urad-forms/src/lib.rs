//! Online forms. Each form is data under `content/forms/<form>/`: the JSON Schema 2020-12 of
//! what it asks for and the UI hints that present it (see [`definition`]), versioned; the
//! server validates what people send against the schema ([`FormDefinition::check`]) and
//! explains each problem at its field in Czech or English.

pub mod definition;
mod validate;

pub use definition::{
    AttachmentSlot, Condition, Field, FormDefinition, IdentityClaim, Step, Ui, Widget,
};
pub use validate::FieldError;

use std::collections::BTreeMap;
use std::path::Path;
use urad_core::content::{
    file_error, list_dir, read_file, ContentError, ContentErrors, ContentFile,
};

/// Every version of every form, loaded and checked.
#[derive(Clone, Debug, Default)]
pub struct Forms {
    /// By form id, then version.
    forms: BTreeMap<String, BTreeMap<u32, FormDefinition>>,
}

impl Forms {
    /// The latest version of a form: what a new submission uses.
    pub fn latest(&self, id: &str) -> Option<&FormDefinition> {
        self.forms.get(id)?.values().next_back()
    }

    /// A given version of a form: what a draft or submission made with it is read with.
    pub fn version(&self, id: &str, version: u32) -> Option<&FormDefinition> {
        self.forms.get(id)?.get(&version)
    }

    /// The latest version of every form, by id.
    pub fn all_latest(&self) -> impl Iterator<Item = &FormDefinition> {
        self.forms.values().filter_map(|v| v.values().next_back())
    }

    /// Loads the form files, named by their path under the forms folder
    /// (`kotlikova-dotace/v1.toml`, `kotlikova-dotace/v1.schema.json`); `shown` is how the
    /// folder is named in errors. Every problem in every file is reported at once.
    pub fn load(files: &[(String, ContentFile)], shown: &str) -> Result<Forms, ContentErrors> {
        let mut errors: Vec<ContentError> = Vec::new();
        let mut pairs: BTreeMap<(String, u32), VersionFiles> = BTreeMap::new();
        for (relative, file) in files {
            let Some((id, name)) = relative.split_once('/') else {
                errors.push(file_error(
                    &file.name,
                    "a form's files belong in a folder named after the form".into(),
                ));
                continue;
            };
            let (version, is_schema) = match name
                .strip_suffix(".schema.json")
                .map(|v| (v, true))
                .or_else(|| name.strip_suffix(".toml").map(|v| (v, false)))
            {
                Some((v, is_schema)) => (
                    v.strip_prefix('v').and_then(|n| n.parse::<u32>().ok()),
                    is_schema,
                ),
                None => (None, false),
            };
            let Some(version) = version.filter(|v| *v > 0) else {
                errors.push(file_error(
                    &file.name,
                    "form files are named v<N>.schema.json and v<N>.toml (N = 1, 2 …)".into(),
                ));
                continue;
            };
            if !valid_id(id) {
                errors.push(file_error(
                    &file.name,
                    format!("`{id}` is not a form id: lowercase letters, digits and dashes"),
                ));
                continue;
            }
            let pair = pairs.entry((id.to_owned(), version)).or_default();
            if is_schema {
                pair.0 = Some(file);
            } else {
                pair.1 = Some(file);
            }
        }
        let mut forms = Forms::default();
        for ((id, version), pair) in pairs {
            match pair {
                (Some(schema), Some(ui)) => {
                    if let Some(def) = definition::build(&id, version, schema, ui, &mut errors) {
                        forms.forms.entry(id).or_default().insert(version, def);
                    }
                }
                (Some(only), None) | (None, Some(only)) => errors.push(file_error(
                    &only.name,
                    format!("version {version} of form `{id}` needs both v{version}.schema.json and v{version}.toml in {shown}/{id}/"),
                )),
                (None, None) => {}
            }
        }
        if errors.is_empty() {
            Ok(forms)
        } else {
            Err(ContentErrors(errors))
        }
    }

    /// Reads and loads `dir` (`content/forms`).
    pub fn load_dir(dir: &Path) -> Result<Forms, ContentErrors> {
        let shown = dir.display().to_string();
        let mut files = Vec::new();
        for folder in list_dir(dir)?.into_iter().filter(|p| p.is_dir()) {
            let id = folder
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            for path in list_dir(&folder)? {
                let name = path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                files.push((format!("{id}/{name}"), read_file(&path)?));
            }
        }
        Forms::load(&files, &shown)
    }
}

/// The schema file and the UI file of one version, as found.
type VersionFiles<'f> = (Option<&'f ContentFile>, Option<&'f ContentFile>);

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

//! Validation of what someone filled in: the form's JSON Schema decides, and each problem is
//! told in words the person can act on, in their language, at the field it is about — in the
//! order of the form, for the error summary at the top of a page.

use crate::definition::{pointer_to_path, FormDefinition};
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;
use urad_core::Lang;

/// One problem with the data, at one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field's dotted path (`building.type`); `-` for the form as a whole.
    pub field: String,
    /// The JSON Schema keyword that failed (`required`, `pattern` …).
    pub keyword: String,
    pub message: String,
}

impl FormDefinition {
    /// Checks `data` against the schema. Returns one error per field (the first found), in
    /// the order the fields appear in the form's steps; empty when the data is valid.
    pub fn check(&self, data: &Value, lang: Lang) -> Vec<FieldError> {
        let mut found: Vec<FieldError> = Vec::new();
        for e in self.validator.iter_errors(data) {
            let mut field = pointer_to_path(e.instance_path().as_str());
            if let ValidationErrorKind::Required { property } = e.kind() {
                let name = property.as_str().unwrap_or_default();
                field = if field == "-" {
                    name.to_owned()
                } else {
                    format!("{field}.{name}")
                };
            }
            // A whole group missing (`sender`): the error goes to its first field on the form,
            // where the person can act on it.
            if self.field_type(&field).is_none() {
                let group = format!("{field}.");
                if let Some(first) = self
                    .ui
                    .steps
                    .iter()
                    .flat_map(|s| s.fields.iter())
                    .find(|f| f.starts_with(&group))
                {
                    field = first.clone();
                }
            }
            if found.iter().any(|f| f.field == field) {
                continue;
            }
            let keyword = e.kind().keyword().to_owned();
            let message = self.message(&field, &keyword, e.kind(), lang);
            found.push(FieldError {
                field,
                keyword,
                message,
            });
        }
        let order = |field: &str| {
            self.ui
                .steps
                .iter()
                .flat_map(|s| s.fields.iter())
                .position(|f| f == field)
                .unwrap_or(usize::MAX)
        };
        found.sort_by_key(|f| order(&f.field));
        found
    }

    /// The form's own message for this field and keyword, else a general one naming the field.
    fn message(
        &self,
        field: &str,
        keyword: &str,
        kind: &ValidationErrorKind,
        lang: Lang,
    ) -> String {
        let ui = self.ui.fields.get(field);
        if let Some(text) = ui.and_then(|f| f.errors.get(keyword)) {
            return text.get(lang).to_owned();
        }
        let label = ui.map_or(field, |f| f.label.get(lang));
        let cs = lang == Lang::Cs;
        let limit = |v: &Value| v.to_string();
        match kind {
            ValidationErrorKind::Required { .. } => {
                if cs {
                    format!("Vyplňte pole „{label}“.")
                } else {
                    format!("Fill in “{label}”.")
                }
            }
            ValidationErrorKind::Enum { .. } | ValidationErrorKind::Constant { .. } => {
                if cs {
                    format!("V poli „{label}“ vyberte jednu z nabízených možností.")
                } else {
                    format!("Choose one of the options for “{label}”.")
                }
            }
            ValidationErrorKind::Minimum { limit: l }
            | ValidationErrorKind::ExclusiveMinimum { limit: l } => {
                if cs {
                    format!("Pole „{label}“ musí být alespoň {}.", limit(l))
                } else {
                    format!("“{label}” must be at least {}.", limit(l))
                }
            }
            ValidationErrorKind::Maximum { limit: l }
            | ValidationErrorKind::ExclusiveMaximum { limit: l } => {
                if cs {
                    format!("Pole „{label}“ může být nejvýše {}.", limit(l))
                } else {
                    format!("“{label}” can be at most {}.", limit(l))
                }
            }
            ValidationErrorKind::MaxLength { limit: l } => {
                if cs {
                    format!("Pole „{label}“ může mít nejvýše {l} znaků.")
                } else {
                    format!("“{label}” can have at most {l} characters.")
                }
            }
            ValidationErrorKind::MinLength { limit: l } => {
                if cs {
                    format!("Pole „{label}“ musí mít alespoň {l} znaků.")
                } else {
                    format!("“{label}” needs at least {l} characters.")
                }
            }
            ValidationErrorKind::Type { .. } => {
                if cs {
                    format!("V poli „{label}“ není platná hodnota.")
                } else {
                    format!("“{label}” does not hold a valid value.")
                }
            }
            _ => {
                if cs {
                    format!("Pole „{label}“ nemá správný tvar.")
                } else {
                    format!("“{label}” is not in the right form.")
                }
            }
        }
    }
}

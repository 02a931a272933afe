//! A form definition: the JSON Schema of its data and the UI hints that present it, both
//! content files under `content/forms/<form>/`, one pair per version:
//!
//! - `v<N>.schema.json` — JSON Schema 2020-12 of the data, the contract for the server's
//!   validation and for API clients;
//! - `v<N>.toml` — how people see it: title, steps, every field's label, help, widget,
//!   options and error messages (Czech and English), conditional parts, data filled in from
//!   the identity, and attachment slots with their types and sizes.
//!
//! A version is never edited once people have used it; a change is a new version, and a
//! submission records the version it was made with. Every problem in a definition is reported
//! with its file, line and field (see [`urad_core::content`]).

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use urad_core::content::{
    check_text, error_at, file_error, file_error_field, parse, ContentError, ContentFile,
};
use urad_core::Text;

/// The UI hints of one version of a form, as written in `v<N>.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ui {
    pub title: Text,
    /// What the form is for, shown on its first step.
    pub intro: Option<Text>,
    /// The service of the catalogue this form belongs to, if any.
    pub service: Option<String>,
    pub steps: Vec<Step>,
    /// Every field of the schema, by its dotted path (`building.type`).
    #[serde(default)]
    pub fields: BTreeMap<String, Field>,
    #[serde(default)]
    pub attachments: Vec<AttachmentSlot>,
}

/// One page of the form.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    pub title: Text,
    /// The fields on this page, in order (dotted paths).
    #[serde(default)]
    pub fields: Vec<String>,
    /// The attachment slots on this page, in order.
    #[serde(default)]
    pub attachments: Vec<String>,
    /// The page is shown only when this holds.
    pub show_if: Option<Condition>,
}

/// How one field is asked for.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub label: Text,
    pub help: Option<Text>,
    pub widget: Widget,
    /// A label for each value of an `enum` field (every value needs one).
    #[serde(default)]
    pub options: BTreeMap<String, Text>,
    /// Filled in from the signed-in person's verified identity, and shown as verified.
    pub from_identity: Option<IdentityClaim>,
    /// The field is asked for only when this holds.
    pub show_if: Option<Condition>,
    /// Messages for the JSON Schema keywords this field can fail (`required`, `pattern` …);
    /// a keyword without one gets a general message.
    #[serde(default)]
    pub errors: BTreeMap<String, Text>,
}

/// The control a field is shown with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Widget {
    Text,
    Textarea,
    Number,
    Date,
    Email,
    Tel,
    Radios,
    Select,
    Checkbox,
}

impl Widget {
    /// The JSON Schema `type`s the widget can fill.
    fn accepts(self, ty: &str) -> bool {
        match self {
            Widget::Text | Widget::Textarea | Widget::Email | Widget::Tel | Widget::Date => {
                ty == "string"
            }
            Widget::Number => ty == "integer" || ty == "number",
            Widget::Radios | Widget::Select => matches!(ty, "string" | "integer"),
            Widget::Checkbox => ty == "boolean",
        }
    }
}

/// Identity data a field can be filled from (OpenID Connect claims the gateway passes on).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityClaim {
    GivenName,
    FamilyName,
    Name,
    Birthdate,
    Email,
    /// The permanent address as one line.
    Address,
}

/// A condition on another field's value.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: String,
    /// Holds when the field has one of these values.
    #[serde(rename = "in")]
    pub one_of: Vec<Value>,
}

impl Condition {
    /// Whether the condition holds for `data`.
    pub fn holds(&self, data: &Value) -> bool {
        value_at(data, &self.field).is_some_and(|v| self.one_of.contains(v))
    }
}

/// Files of one kind that a submission carries.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentSlot {
    pub id: String,
    pub label: Text,
    pub help: Option<Text>,
    /// Media types accepted, decided from the file's content.
    pub types: Vec<String>,
    /// At most this many files in the slot.
    #[serde(default = "one")]
    pub max_files: u32,
    /// Bytes per file at most; the office-wide limit applies when smaller.
    pub max_file_bytes: Option<u64>,
    /// Whether at least one file is needed (when the slot is shown at all).
    #[serde(default)]
    pub required: bool,
    pub show_if: Option<Condition>,
}

fn one() -> u32 {
    1
}

/// Media types an attachment slot may accept: those whose content the filing office can
/// recognise.
pub const MEDIA_TYPES: &[&str] = &[
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/tiff",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/xml",
    "text/plain",
];

/// The value at a dotted path of a JSON document.
pub fn value_at<'v>(data: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(data, |v, key| v.get(key))
}

/// One version of one form: its schema (compiled) and its UI hints.
#[derive(Clone, Debug)]
pub struct FormDefinition {
    pub id: String,
    pub version: u32,
    pub schema: Value,
    pub(crate) validator: std::sync::Arc<jsonschema::Validator>,
    pub ui: Ui,
    /// Each field's JSON Schema type, by dotted path.
    field_types: BTreeMap<String, String>,
}

impl FormDefinition {
    /// The JSON Schema `type` of a field (`string`, `integer`, `boolean` …), by dotted path.
    pub fn field_type(&self, path: &str) -> Option<&str> {
        self.field_types.get(path).map(String::as_str)
    }
}

/// Builds a definition from its two files, recording every problem found.
pub(crate) fn build(
    id: &str,
    version: u32,
    schema_file: &ContentFile,
    ui_file: &ContentFile,
    errors: &mut Vec<ContentError>,
) -> Option<FormDefinition> {
    let before = errors.len();
    let schema: Option<Value> = match serde_json::from_str(&schema_file.text) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(ContentError {
                file: schema_file.name.clone(),
                line: e.line(),
                column: e.column(),
                field: "-".into(),
                message: format!("not JSON: {e}"),
            });
            None
        }
    };
    let validator = schema
        .as_ref()
        .and_then(|s| compile(s, schema_file, errors));
    let ui: Option<Ui> = parse(ui_file, errors);
    let (schema, ui) = (schema?, ui?);

    let mut field_types = BTreeMap::new();
    leaf_fields(&schema, "", &mut field_types);
    check_ui(&ui, ui_file, &schema, &field_types, errors);

    if errors.len() > before {
        return None;
    }
    Some(FormDefinition {
        id: id.to_owned(),
        version,
        schema,
        validator: std::sync::Arc::new(validator?),
        ui,
        field_types,
    })
}

/// Checks that `schema` is a JSON Schema 2020-12 and compiles it.
fn compile(
    schema: &Value,
    schema_file: &ContentFile,
    errors: &mut Vec<ContentError>,
) -> Option<jsonschema::Validator> {
    if schema.get("$schema").and_then(Value::as_str)
        != Some("https://json-schema.org/draft/2020-12/schema")
    {
        errors.push(file_error_field(
            &schema_file.name,
            "$schema",
            "must be https://json-schema.org/draft/2020-12/schema".into(),
        ));
    }
    match jsonschema::draft202012::meta::validate(schema) {
        Err(e) => {
            errors.push(file_error_field(
                &schema_file.name,
                &pointer_to_path(e.instance_path().as_str()),
                format!("not a valid JSON Schema 2020-12: {e}"),
            ));
            None
        }
        Ok(()) => match jsonschema::draft202012::new(schema) {
            Ok(v) => Some(v),
            Err(e) => {
                errors.push(file_error(
                    &schema_file.name,
                    format!("the schema does not compile: {e}"),
                ));
                None
            }
        },
    }
}

/// The fields of a schema: every property that is not itself an object, by dotted path,
/// with its `type`.
fn leaf_fields(schema: &Value, prefix: &str, out: &mut BTreeMap<String, String>) {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, sub) in props {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let ty = sub.get("type").and_then(Value::as_str).unwrap_or("");
        if ty == "object" {
            leaf_fields(sub, &path, out);
        } else {
            out.insert(path, ty.to_owned());
        }
    }
}

/// The schema of the field at a dotted path.
fn field_schema<'s>(schema: &'s Value, path: &str) -> Option<&'s Value> {
    path.split('.')
        .try_fold(schema, |s, key| s.get("properties")?.get(key))
}

/// JSON Schema keywords a field's `errors` may give messages for.
const KEYWORDS: &[&str] = &[
    "required",
    "type",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "format",
];

fn check_ui(
    ui: &Ui,
    file: &ContentFile,
    schema: &Value,
    field_types: &BTreeMap<String, String>,
    errors: &mut Vec<ContentError>,
) {
    // Errors are located at the first mention of what they are about.
    let at = |needle: &str| {
        let start = file.text.find(needle).unwrap_or(0);
        start..start
    };
    check_text(file, &ui.title, at("title"), "title", errors);
    if let Some(intro) = &ui.intro {
        check_text(file, intro, at("intro"), "intro", errors);
    }
    if ui.steps.is_empty() {
        errors.push(error_at(
            file,
            0..0,
            "steps".into(),
            "a form needs at least one step".into(),
        ));
    }

    let slots: BTreeMap<&str, &AttachmentSlot> =
        ui.attachments.iter().map(|a| (a.id.as_str(), a)).collect();
    let mut placed_fields: BTreeMap<&str, &str> = BTreeMap::new();
    let mut placed_slots: BTreeMap<&str, &str> = BTreeMap::new();
    let mut step_ids = Vec::new();
    for step in &ui.steps {
        let field = format!("steps.{}", step.id);
        if step_ids.contains(&step.id.as_str()) {
            errors.push(error_at(
                file,
                at(&step.id),
                field.clone(),
                "two steps have this id".into(),
            ));
        }
        step_ids.push(&step.id);
        check_text(
            file,
            &step.title,
            at(&step.id),
            &format!("{field}.title"),
            errors,
        );
        for f in &step.fields {
            if !field_types.contains_key(f) {
                errors.push(error_at(
                    file,
                    at(f),
                    format!("{field}.fields"),
                    format!("`{f}` is not a field of the schema"),
                ));
            } else if let Some(other) = placed_fields.insert(f, &step.id) {
                errors.push(error_at(
                    file,
                    at(f),
                    format!("{field}.fields"),
                    format!("`{f}` is on step `{other}` already"),
                ));
            }
        }
        for a in &step.attachments {
            if !slots.contains_key(a.as_str()) {
                errors.push(error_at(
                    file,
                    at(a),
                    format!("{field}.attachments"),
                    format!("`{a}` is not an attachment slot of this form"),
                ));
            } else if let Some(other) = placed_slots.insert(a, &step.id) {
                errors.push(error_at(
                    file,
                    at(a),
                    format!("{field}.attachments"),
                    format!("`{a}` is on step `{other}` already"),
                ));
            }
        }
        check_condition(
            step.show_if.as_ref(),
            file,
            &format!("{field}.show_if"),
            field_types,
            errors,
            &at,
        );
    }

    for (path, ty) in field_types {
        if !ui.fields.contains_key(path) {
            errors.push(error_at(
                file,
                0..0,
                format!("fields.{path}"),
                "the schema has this field but it has no label and widget here".into(),
            ));
        }
        if !placed_fields.contains_key(path.as_str()) {
            errors.push(error_at(
                file,
                0..0,
                "steps".into(),
                format!("field `{path}` (type {ty}) is on no step"),
            ));
        }
    }
    for (path, f) in &ui.fields {
        let name = format!("fields.{path}");
        let span = at(&format!("\"{path}\""));
        let Some(ty) = field_types.get(path) else {
            errors.push(error_at(
                file,
                span,
                name,
                "is not a field of the schema".into(),
            ));
            continue;
        };
        if !f.widget.accepts(ty) {
            errors.push(error_at(
                file,
                span.clone(),
                format!("{name}.widget"),
                format!("{:?} cannot fill a field of type `{ty}`", f.widget),
            ));
        }
        check_label(file, &f.label, f.help.as_ref(), span.clone(), &name, errors);
        for (keyword, text) in &f.errors {
            if !KEYWORDS.contains(&keyword.as_str()) {
                errors.push(error_at(
                    file,
                    span.clone(),
                    format!("{name}.errors.{keyword}"),
                    format!(
                        "not a JSON Schema keyword a field can fail ({})",
                        KEYWORDS.join(", ")
                    ),
                ));
            }
            check_text(
                file,
                text,
                span.clone(),
                &format!("{name}.errors.{keyword}"),
                errors,
            );
        }
        let values: Vec<String> = field_schema(schema, path)
            .and_then(|s| s.get("enum"))
            .and_then(Value::as_array)
            .map(|vs| vs.iter().map(enum_key).collect())
            .unwrap_or_default();
        let choice = matches!(f.widget, Widget::Radios | Widget::Select);
        if choice && values.is_empty() {
            errors.push(error_at(
                file,
                span.clone(),
                format!("{name}.widget"),
                "radios and select need an `enum` in the schema".into(),
            ));
        }
        for v in &values {
            if !f.options.contains_key(v) {
                errors.push(error_at(
                    file,
                    span.clone(),
                    format!("{name}.options"),
                    format!("value `{v}` of the schema's enum has no label"),
                ));
            }
        }
        for (v, text) in &f.options {
            if !values.contains(v) {
                errors.push(error_at(
                    file,
                    span.clone(),
                    format!("{name}.options.{v}"),
                    "is not a value of the schema's enum".into(),
                ));
            }
            check_text(
                file,
                text,
                span.clone(),
                &format!("{name}.options.{v}"),
                errors,
            );
        }
        check_condition(
            f.show_if.as_ref(),
            file,
            &format!("{name}.show_if"),
            field_types,
            errors,
            &at,
        );
    }

    let mut slot_ids = Vec::new();
    for slot in &ui.attachments {
        let name = format!("attachments.{}", slot.id);
        let span = at(&format!("\"{}\"", slot.id));
        if slot_ids.contains(&slot.id.as_str()) {
            errors.push(error_at(
                file,
                span.clone(),
                name.clone(),
                "two slots have this id".into(),
            ));
        }
        slot_ids.push(&slot.id);
        check_label(
            file,
            &slot.label,
            slot.help.as_ref(),
            span.clone(),
            &name,
            errors,
        );
        if slot.types.is_empty() {
            errors.push(error_at(
                file,
                span.clone(),
                format!("{name}.types"),
                "is empty".into(),
            ));
        }
        for t in &slot.types {
            if !MEDIA_TYPES.contains(&t.as_str()) {
                errors.push(error_at(
                    file,
                    span.clone(),
                    format!("{name}.types"),
                    format!("`{t}` is not one of {}", MEDIA_TYPES.join(", ")),
                ));
            }
        }
        if slot.max_files == 0 {
            errors.push(error_at(
                file,
                span.clone(),
                format!("{name}.max_files"),
                "must be at least 1".into(),
            ));
        }
        if !placed_slots.contains_key(slot.id.as_str()) {
            errors.push(error_at(
                file,
                span.clone(),
                name.clone(),
                "is on no step".into(),
            ));
        }
        check_condition(
            slot.show_if.as_ref(),
            file,
            &format!("{name}.show_if"),
            field_types,
            errors,
            &at,
        );
    }
}

/// A label and its optional help, both needed in Czech and English.
fn check_label(
    file: &ContentFile,
    label: &Text,
    help: Option<&Text>,
    span: std::ops::Range<usize>,
    name: &str,
    errors: &mut Vec<ContentError>,
) {
    check_text(file, label, span.clone(), &format!("{name}.label"), errors);
    if let Some(help) = help {
        check_text(file, help, span, &format!("{name}.help"), errors);
    }
}

/// Checks an optional condition (`show_if`).
fn check_condition(
    c: Option<&Condition>,
    file: &ContentFile,
    name: &str,
    field_types: &BTreeMap<String, String>,
    errors: &mut Vec<ContentError>,
    at: &dyn Fn(&str) -> std::ops::Range<usize>,
) {
    let Some(c) = c else { return };
    if !field_types.contains_key(&c.field) {
        errors.push(error_at(
            file,
            at(&c.field),
            format!("{name}.field"),
            format!("`{}` is not a field of the schema", c.field),
        ));
    }
    if c.one_of.is_empty() {
        errors.push(error_at(
            file,
            at(&c.field),
            format!("{name}.in"),
            "is empty".into(),
        ));
    }
}

/// An enum value as an options key (`"coal"` → `coal`, `1` → `1`).
fn enum_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `/building/type` → `building.type`.
pub(crate) fn pointer_to_path(pointer: &str) -> String {
    let path = pointer.trim_start_matches('/').replace('/', ".");
    if path.is_empty() {
        "-".into()
    } else {
        path
    }
}

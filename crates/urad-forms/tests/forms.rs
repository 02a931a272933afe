//! The forms shipped in `content/forms`, and what the loader says about broken ones.

use serde_json::json;
use std::path::PathBuf;
use urad_core::content::ContentFile;
use urad_core::Lang;
use urad_forms::{Forms, Widget};

fn shipped() -> Forms {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../content/forms");
    match Forms::load_dir(&dir) {
        Ok(forms) => forms,
        Err(e) => panic!("{e}"),
    }
}

fn boiler_application() -> serde_json::Value {
    json!({
        "applicant": {"name": "Jana Nováková", "birth_date": "1980-04-12", "permanent_address_building_id": "12345"},
        "building": {"building_id": "12345", "type": "family_house", "approved": true,
                     "municipality_code": "554821", "energy_class": "C"},
        "old_boiler": {"fuel": "coal", "feeding": "manual", "emission_class": "2"},
        "new_source": "heat_pump",
        "eligible_costs_czk": 180000,
        "micro_measures": false,
        "payment": {"bank_account": "19-2000145399/0800"}
    })
}

#[test]
fn every_shipped_form_loads_with_its_service_and_both_languages() {
    let forms = shipped();
    let ids: Vec<&str> = forms.all_latest().map(|f| f.id.as_str()).collect();
    for id in [
        "kotlikova-dotace",
        "verejna-sbirka",
        "osvedceni-stk",
        "predani-zdravotnicke-dokumentace",
        "obecne-podani",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    for form in forms.all_latest() {
        assert!(!form.ui.title.cs.is_empty() && !form.ui.title.en.is_empty());
        assert!(form.version >= 1);
        assert_eq!(forms.version(&form.id, form.version).unwrap().id, form.id);
    }
}

#[test]
fn a_valid_boiler_application_passes() {
    let forms = shipped();
    let form = forms.latest("kotlikova-dotace").unwrap();
    assert_eq!(form.check(&boiler_application(), Lang::Cs), vec![]);
    assert_eq!(form.ui.fields["building.type"].widget, Widget::Radios);
    assert_eq!(form.field_type("eligible_costs_czk"), Some("integer"));
}

#[test]
fn errors_name_the_field_in_form_order_with_the_forms_own_words() {
    let forms = shipped();
    let form = forms.latest("kotlikova-dotace").unwrap();
    let mut data = boiler_application();
    data["payment"]["bank_account"] = json!("12345");
    data["building"].as_object_mut().unwrap().remove("type");
    data["eligible_costs_czk"] = json!("a lot");
    let errors = form.check(&data, Lang::Cs);
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "building.type",
            "eligible_costs_czk",
            "payment.bank_account"
        ]
    );
    assert_eq!(errors[0].keyword, "required");
    assert_eq!(errors[0].message, "Vyplňte pole „Druh stavby“.");
    assert_eq!(
        errors[1].message,
        "Zadejte částku celým číslem v korunách, například 180000."
    );
    let en = form.check(&data, Lang::En);
    assert_eq!(
        en[2].message,
        "Enter the account as 19-2000145399/0800 or 2000145399/0800."
    );
    assert_eq!(en[0].message, "Fill in “Type of building”.");
}

#[test]
fn values_outside_the_lists_and_limits_are_refused() {
    let forms = shipped();
    let form = forms.latest("kotlikova-dotace").unwrap();
    let mut data = boiler_application();
    data["old_boiler"]["fuel"] = json!("peat");
    data["eligible_costs_czk"] = json!(-5);
    let errors = form.check(&data, Lang::En);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].field, "old_boiler.fuel");
    assert_eq!(errors[0].keyword, "enum");
    assert!(errors[0].message.contains("Fuel of the old boiler"));
    assert_eq!(errors[1].field, "eligible_costs_czk");
    assert_eq!(
        errors[1].message,
        "“Eligible costs in CZK” must be at least 0."
    );
}

#[test]
fn conditions_follow_the_data() {
    let forms = shipped();
    let form = forms.latest("kotlikova-dotace").unwrap();
    let slot = form
        .ui
        .attachments
        .iter()
        .find(|a| a.id == "installer_certificate")
        .unwrap();
    let condition = slot.show_if.as_ref().unwrap();
    let mut data = boiler_application();
    assert!(condition.holds(&data));
    data["new_source"] = json!("gas_condensing");
    assert!(!condition.holds(&data));
}

fn file(name: &str, text: &str) -> (String, ContentFile) {
    (
        name.to_owned(),
        ContentFile {
            name: format!("content/forms/{name}"),
            text: text.to_owned(),
        },
    )
}

const SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "kind": { "type": "string", "enum": ["a", "b"] },
    "note": { "type": "string" }
  }
}"#;

#[test]
fn broken_definitions_are_reported_with_file_line_and_field() {
    let ui = r#"
title = { cs = "Formulář", en = "" }

[[steps]]
id = "one"
title = { cs = "Jedna", en = "One" }
fields = ["kind", "nope"]

[fields.kind]
label = { cs = "Druh", en = "Kind" }
widget = "checkbox"
options.a = { cs = "A", en = "A" }

[fields.extra]
label = { cs = "Navíc", en = "Extra" }
widget = "text"

[[attachments]]
id = "scan"
label = { cs = "Sken", en = "Scan" }
types = ["application/x-msdownload"]
"#;
    let err = Forms::load(
        &[
            file("demo/v1.schema.json", SCHEMA),
            file("demo/v1.toml", ui),
        ],
        "content/forms",
    )
    .unwrap_err();
    let text = err.to_string();
    for expected in [
        "content/forms/demo/v1.toml:2:1: field `title.en`: is empty",
        "field `steps.one.fields`: `nope` is not a field of the schema",
        "field `fields.kind.widget`: Checkbox cannot fill a field of type `string`",
        "field `fields.kind.options`: value `b` of the schema's enum has no label",
        "field `fields.note`: the schema has this field but it has no label and widget here",
        "field `steps`: field `note` (type string) is on no step",
        "field `fields.extra`: is not a field of the schema",
        "field `attachments.scan.types`: `application/x-msdownload` is not one of",
        "field `attachments.scan`: is on no step",
    ] {
        assert!(text.contains(expected), "missing «{expected}» in:\n{text}");
    }
}

#[test]
fn a_version_needs_both_files_a_real_schema_and_a_proper_name() {
    let ui = r#"
title = { cs = "F", en = "F" }
[[steps]]
id = "s"
title = { cs = "S", en = "S" }
"#;
    let err = Forms::load(
        &[
            file("alone/v1.toml", ui),
            file(
                "bad/v1.schema.json",
                r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": 7}"#,
            ),
            file("bad/v1.toml", ui),
            file("Bad_Name/v1.toml", ui),
            file("demo/version1.toml", ui),
            file("syntax/v2.schema.json", "{ not json"),
            file("syntax/v2.toml", ui),
        ],
        "content/forms",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("version 1 of form `alone` needs both"),
        "{err}"
    );
    assert!(
        err.contains(
            "content/forms/bad/v1.schema.json:1:1: field `type`: not a valid JSON Schema 2020-12"
        ),
        "{err}"
    );
    assert!(err.contains("`Bad_Name` is not a form id"), "{err}");
    assert!(
        err.contains("content/forms/demo/version1.toml:1:1: field `-`: form files are named"),
        "{err}"
    );
    assert!(
        err.contains("content/forms/syntax/v2.schema.json:1:3: field `-`: not JSON"),
        "{err}"
    );

    // Two versions: the latest is what new submissions use; the older stays readable.
    let forms = Forms::load(
        &[
            file(
                "demo/v1.schema.json",
                &SCHEMA.replace(",\n    \"note\": { \"type\": \"string\" }", ""),
            ),
            file("demo/v2.schema.json", SCHEMA),
            file("demo/v1.toml", &two_field_ui(false)),
            file("demo/v2.toml", &two_field_ui(true)),
        ],
        "content/forms",
    );
    let forms = forms.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(forms.latest("demo").unwrap().version, 2);
    assert!(forms
        .version("demo", 1)
        .unwrap()
        .field_type("note")
        .is_none());
    assert!(forms.version("demo", 3).is_none());
}

fn two_field_ui(with_note: bool) -> String {
    let mut ui = String::from(
        r#"
title = { cs = "F", en = "F" }
[[steps]]
id = "s"
title = { cs = "S", en = "S" }
fields = ["kind"NOTE]

[fields.kind]
label = { cs = "Druh", en = "Kind" }
widget = "radios"
options.a = { cs = "A", en = "A" }
options.b = { cs = "B", en = "B" }
"#,
    );
    if with_note {
        ui = ui.replace("NOTE", r#", "note""#);
        ui.push_str(
            "[fields.note]\nlabel = { cs = \"Pozn.\", en = \"Note\" }\nwidget = \"textarea\"\n",
        );
    } else {
        ui = ui.replace("NOTE", "");
    }
    ui
}

#[test]
fn a_part_of_the_schema_can_depend_on_an_answer() {
    let forms = shipped();
    let form = forms.latest("verejna-sbirka").unwrap();
    let mut data = json!({
        "organiser": {"name": "Spolek Modrý pták", "ico": "12345678", "seat": "Ostrava", "representative": "Jana Nováková"},
        "purpose": "Na opravu kapličky v obci.",
        "area": "region",
        "starts_on": "2027-01-01",
        "method": "bank_account",
        "bank_account": "2000145399/0800"
    });
    assert_eq!(form.check(&data, Lang::Cs), vec![]);
    // Only some municipalities: then they must be listed.
    data["area"] = json!("municipalities");
    let errors = form.check(&data, Lang::Cs);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "municipalities");
    assert_eq!(
        errors[0].message,
        "Vypište obce, ve kterých se sbírka koná."
    );
    let shown = form.ui.fields["municipalities"].show_if.as_ref().unwrap();
    assert!(shown.holds(&data));
}

#[test]
fn a_missing_group_is_reported_at_its_first_field() {
    let forms = shipped();
    let form = forms.latest("obecne-podani").unwrap();
    let errors = form.check(&json!({"subject": "Věc", "text": "Text"}), Lang::En);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "sender.name");
    assert_eq!(errors[0].message, "Fill in “Full name or organisation”.");
}

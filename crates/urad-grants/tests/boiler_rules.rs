//! The boiler programme of shared/domain/boiler-grant.md, rule by rule, through the what-if
//! replay's engine with the programme file the platform ships (content/grants/KD-2026.toml).

use serde_json::{json, Value};
use std::path::Path;
use urad_grants::application::parse_lines;
use urad_grants::engine::{Allocation, Engine, Outcome, StepResult};
use urad_grants::programme::{self, Programme};
use urad_grants::replay::CallFile;
use urad_grants::FileRegistry;

fn programme() -> Programme {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content/grants/KD-2026.toml");
    programme::parse(&file, &std::fs::read_to_string(&file).unwrap()).unwrap()
}

const OPENS: &str = "2026-03-02T08:00:00+01:00";

/// A call of the shipped programme with this budget, opening at OPENS and closing at the end of
/// June; municipality 554821 is a priority one.
fn call(programme: &Programme, budget_czk: i64) -> urad_grants::Call {
    let file = json!({
        "programme": "KD-2026",
        "opens_at": OPENS,
        "closes_at": "2026-06-30T14:00:00+02:00",
        "budget_czk": budget_czk,
        "priority_municipalities": ["554821"],
    });
    let (_, call) = CallFile::from_json(&file.to_string())
        .unwrap()
        .resolve(std::slice::from_ref(programme))
        .unwrap();
    call
}

/// An application that passes every rule with every attachment: a heat pump for 100 000 CZK in
/// a family house in a municipality that is not a priority one; building `B<n>`, owner `P<n>`.
fn application(n: i64) -> Value {
    json!({
        "application_id": format!("A{n}"),
        "received_at": "2026-03-02T07:00:00Z",
        "sequence": n,
        "applicant": {
            "person_id": format!("P{n}"),
            "birth_date": "1970-05-01",
            "permanent_address_building_id": format!("B{n}"),
        },
        "building": {
            "building_id": format!("B{n}"),
            "type": "family_house",
            "approved": true,
            "municipality_code": "500011",
            "energy_class": "D",
        },
        "old_boiler": { "fuel": "coal", "feeding": "manual", "emission_class": "2" },
        "new_source": "heat_pump",
        "eligible_costs_czk": 100000,
        "micro_measures": true,
        "attachments": [
            { "kind": "old_boiler_photo", "media_type": "image/jpeg" },
            { "kind": "invoice_or_budget", "media_type": "application/pdf" },
            { "kind": "installer_certificate", "media_type": "application/pdf" },
        ],
    })
}

/// The registry for applications 1..=n: building B<i> owned by P<i>.
fn registry(n: i64) -> Value {
    let owners: serde_json::Map<String, Value> = (1..=n)
        .map(|i| (format!("B{i}"), json!([format!("P{i}")])))
        .collect();
    json!({ "owners": owners, "past_boiler_grants": [], "unavailable": [] })
}

#[derive(Debug, PartialEq)]
struct Line {
    outcome: &'static str,
    amount: i64,
    reasons: Vec<String>,
}

fn replay(budget: i64, registry: &Value, applications: &[Value]) -> Vec<Line> {
    let programme = programme();
    let call = call(&programme, budget);
    let registry = FileRegistry::from_json(&registry.to_string()).unwrap();
    let text: String = applications.iter().map(|a| format!("{a}\n")).collect();
    let applications = parse_lines(&text).unwrap();
    urad_grants::replay::evaluate(&programme, call, &registry, &applications)
        .into_iter()
        .map(|d| Line {
            outcome: d.outcome.code(),
            amount: d.amount_czk,
            reasons: d.reasons,
        })
        .collect()
}

/// One application alone, with a budget that is plenty.
fn one(change: impl FnOnce(&mut Value, &mut Value)) -> Line {
    let mut a = application(1);
    let mut r = registry(1);
    change(&mut a, &mut r);
    replay(50_000_000, &r, &[a]).remove(0)
}

fn approved(amount: i64) -> Line {
    Line {
        outcome: "approved",
        amount,
        reasons: vec![],
    }
}

fn rejected(reasons: &[&str]) -> Line {
    Line {
        outcome: "rejected",
        amount: 0,
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
    }
}

#[test]
fn an_application_that_meets_every_rule_is_approved() {
    assert_eq!(one(|_, _| {}), approved(80_000));
}

#[test]
fn the_amount_is_the_share_of_capped_costs_at_most_the_cap_plus_the_bonus() {
    let amount = |source: &str, costs: i64, municipality: &str| {
        one(|a, _| {
            a["new_source"] = source.into();
            a["eligible_costs_czk"] = costs.into();
            a["building"]["municipality_code"] = municipality.into();
        })
        .amount
    };
    let plain = "500011";
    assert_eq!(amount("heat_pump", 100_000, plain), 80_000);
    // 80 % of 149 999 is 119 999.2: floored.
    assert_eq!(amount("heat_pump", 149_999, plain), 119_999);
    // Costs capped at 150 000: 80 % is 120 000, the cap.
    assert_eq!(amount("heat_pump", 400_000, plain), 120_000);
    assert_eq!(amount("biomass_automatic", 150_000, plain), 120_000);
    // 75 % of 150 000 = 112 500 = its cap; 75 % of 99 999 = 74 999.25.
    assert_eq!(amount("biomass_manual", 150_000, plain), 112_500);
    assert_eq!(amount("biomass_manual", 99_999, plain), 74_999);
    // Gas: 75 % of 150 000 is 112 500, above its cap of 95 000.
    assert_eq!(amount("gas_condensing", 150_000, plain), 95_000);
    assert_eq!(amount("gas_condensing", 100_000, plain), 75_000);
    // The bonus is added after the cap.
    assert_eq!(amount("heat_pump", 400_000, "554821"), 127_500);
    assert_eq!(amount("gas_condensing", 1, "554821"), 7_500);
}

#[test]
fn the_applicant_must_be_adult_on_the_day_of_receipt_in_prague() {
    // Received 2026-03-14 23:30 UTC, which is already 15 March in Prague.
    let at = |birth: &str| {
        one(|a, _| {
            a["received_at"] = "2026-03-14T23:30:00Z".into();
            a["applicant"]["birth_date"] = birth.into();
        })
    };
    assert_eq!(at("2008-03-15"), approved(80_000), "18 on that very day");
    assert_eq!(at("2008-03-16"), rejected(&["not_adult"]));
    // 29 February births: crates/urad-grants/src/expr.rs (full_years).
}

#[test]
fn the_applicant_must_own_the_building() {
    assert_eq!(
        one(|_, r| r["owners"]["B1"] = json!(["P9"])),
        rejected(&["not_owner"])
    );
    // A co-owner may apply, with the other owners' consent.
    let line = one(|_, r| r["owners"]["B1"] = json!(["P9", "P1"]));
    assert_eq!(line.outcome, "needs_completion");
    assert_eq!(line.reasons, ["missing_attachment:coowner_consent"]);
    let line = one(|a, r| {
        r["owners"]["B1"] = json!(["P9", "P1"]);
        a["attachments"]
            .as_array_mut()
            .unwrap()
            .push(json!({"kind": "coowner_consent", "media_type": "application/pdf"}));
    });
    assert_eq!(line, approved(80_000));
}

#[test]
fn the_building_must_be_a_family_house_or_the_recreational_home_one_lives_in() {
    let of_type = |kind: &str, address: &str| {
        one(|a, _| {
            a["building"]["type"] = kind.into();
            a["applicant"]["permanent_address_building_id"] = address.into();
        })
    };
    assert_eq!(of_type("family_house", "B7").outcome, "approved");
    assert_eq!(of_type("recreational", "B1").outcome, "approved");
    assert_eq!(of_type("recreational", "B7"), rejected(&["building_type"]));
    assert_eq!(
        of_type("apartment_building", "B1"),
        rejected(&["building_type"])
    );
    assert_eq!(of_type("other", "B1"), rejected(&["building_type"]));
}

#[test]
fn the_building_must_be_approved_for_use() {
    assert_eq!(
        one(|a, _| a["building"]["approved"] = false.into()),
        rejected(&["building_not_approved"])
    );
}

#[test]
fn the_old_boiler_must_be_a_hand_fed_solid_fuel_boiler_of_class_1_2_or_unknown() {
    for fuel in ["coal", "wood", "combined"] {
        assert_eq!(
            one(|a, _| a["old_boiler"]["fuel"] = fuel.into()).outcome,
            "approved"
        );
    }
    for fuel in ["gas", "oil", "electric"] {
        assert_eq!(
            one(|a, _| a["old_boiler"]["fuel"] = fuel.into()),
            rejected(&["old_boiler_fuel"])
        );
    }
    assert_eq!(
        one(|a, _| a["old_boiler"]["feeding"] = "automatic".into()),
        rejected(&["old_boiler_feeding"])
    );
    for class in ["1", "2", "unknown"] {
        assert_eq!(
            one(|a, _| a["old_boiler"]["emission_class"] = class.into()).outcome,
            "approved"
        );
    }
    for class in ["3", "4", "5"] {
        assert_eq!(
            one(|a, _| a["old_boiler"]["emission_class"] = class.into()),
            rejected(&["old_boiler_class"])
        );
    }
}

#[test]
fn the_new_source_must_be_eligible_and_cost_something() {
    for source in ["coal", "combined"] {
        assert_eq!(
            one(|a, _| a["new_source"] = source.into()),
            rejected(&["new_source_not_eligible"])
        );
    }
    assert_eq!(
        one(|a, _| a["eligible_costs_czk"] = 0.into()),
        rejected(&["no_eligible_costs"])
    );
}

#[test]
fn a_building_below_class_c_needs_micro_measures() {
    let with = |class: &str, micro: bool| {
        one(|a, _| {
            a["building"]["energy_class"] = class.into();
            a["micro_measures"] = micro.into();
        })
    };
    for class in ["A", "B", "C"] {
        assert_eq!(with(class, false).outcome, "approved");
    }
    assert_eq!(with("D", true).outcome, "approved");
    for class in ["D", "E", "F", "G"] {
        assert_eq!(with(class, false), rejected(&["micro_measures_missing"]));
    }
}

#[test]
fn a_building_with_a_grant_paid_earlier_gets_no_second_one() {
    assert_eq!(
        one(|_, r| r["past_boiler_grants"] = json!(["B1"])),
        rejected(&["prior_subsidy"])
    );
}

#[test]
fn every_failed_rule_is_listed_in_the_programme_order_and_attachments_then_not() {
    let line = one(|a, r| {
        a["applicant"]["birth_date"] = "2010-01-01".into();
        a["building"]["type"] = "apartment_building".into();
        a["building"]["approved"] = false.into();
        a["old_boiler"] = json!({"fuel": "gas", "feeding": "automatic", "emission_class": "5"});
        a["new_source"] = "coal".into();
        a["eligible_costs_czk"] = 0.into();
        a["building"]["energy_class"] = "G".into();
        a["micro_measures"] = false.into();
        a["attachments"] = json!([]);
        r["owners"]["B1"] = json!(["P2", "P3"]);
        r["past_boiler_grants"] = json!(["B1"]);
    });
    assert_eq!(
        line,
        rejected(&[
            "not_adult",
            "not_owner",
            "building_type",
            "building_not_approved",
            "old_boiler_fuel",
            "old_boiler_feeding",
            "old_boiler_class",
            "new_source_not_eligible",
            "no_eligible_costs",
            "micro_measures_missing",
            "prior_subsidy",
        ])
    );
}

#[test]
fn missing_attachments_are_listed_in_the_table_order_and_a_wrong_type_is_missing() {
    let line = one(|a, r| {
        r["owners"]["B1"] = json!(["P1", "P2"]);
        a["attachments"] = json!([
            // A photo must be an image; a PDF of it does not count.
            { "kind": "old_boiler_photo", "media_type": "application/pdf" },
            { "kind": "installer_certificate", "media_type": "image/png" },
        ]);
    });
    assert_eq!(line.outcome, "needs_completion");
    assert_eq!(line.amount, 80_000);
    assert_eq!(
        line.reasons,
        [
            "missing_attachment:old_boiler_photo",
            "missing_attachment:invoice_or_budget",
            "missing_attachment:installer_certificate",
            "missing_attachment:coowner_consent",
        ]
    );
    // A gas boiler needs no installer's certificate; an image invoice is fine.
    let line = one(|a, _| {
        a["new_source"] = "gas_condensing".into();
        a["attachments"] = json!([
            { "kind": "old_boiler_photo", "media_type": "image/png" },
            { "kind": "invoice_or_budget", "media_type": "image/jpeg" },
        ]);
    });
    assert_eq!(line, approved(75_000));
}

#[test]
fn only_the_earliest_application_for_a_building_counts_whatever_its_outcome() {
    let mut first = application(1);
    first["old_boiler"]["fuel"] = "gas".into(); // rejected, but still the earlier one
    let mut second = application(2);
    second["building"]["building_id"] = "B1".into();
    second["applicant"]["person_id"] = "P1".into();
    let lines = replay(50_000_000, &registry(2), &[second.clone(), first.clone()]);
    assert_eq!(lines[0], rejected(&["old_boiler_fuel"]));
    assert_eq!(lines[1], rejected(&["duplicate_application"]));

    // An application outside the call window is not an earlier application.
    first["received_at"] = "2026-03-02T06:59:59Z".into();
    first["old_boiler"]["fuel"] = "coal".into();
    let lines = replay(50_000_000, &registry(2), &[first, second]);
    assert_eq!(lines[0], rejected(&["outside_call_window"]));
    assert_eq!(lines[1], approved(80_000));
}

#[test]
fn the_call_window_includes_its_opening_and_excludes_its_closing_instant() {
    let at = |instant: &str| one(|a, _| a["received_at"] = instant.into());
    assert_eq!(at(OPENS).outcome, "approved");
    assert_eq!(
        at("2026-03-02T06:59:59Z"),
        rejected(&["outside_call_window"])
    );
    assert_eq!(
        at("2026-06-30T12:00:00Z"),
        rejected(&["outside_call_window"])
    );
    assert_eq!(at("2026-06-30T11:59:59Z").outcome, "approved");
    // Outside the window nothing else is checked.
    let line = one(|a, _| {
        a["received_at"] = "2027-01-01T00:00:00Z".into();
        a["old_boiler"]["fuel"] = "gas".into();
    });
    assert_eq!(line, rejected(&["outside_call_window"]));
}

#[test]
fn the_budget_goes_in_receipt_order_and_later_smaller_ones_do_not_jump_the_reserve_list() {
    // Budget 200 000: 80 000 + 80 000 fit (40 000 left), then 80 000 does not.
    let mut apps: Vec<Value> = (1..=5).map(application).collect();
    apps[3]["eligible_costs_czk"] = 10_000.into(); // would get 8 000: fits the 40 000 left
    apps[4]["old_boiler"]["fuel"] = "gas".into(); // rejected: no place in any list
    let lines = replay(200_000, &registry(5), &apps);
    assert_eq!(lines[0], approved(80_000));
    assert_eq!(lines[1], approved(80_000));
    assert_eq!(
        lines[2],
        Line {
            outcome: "reserve",
            amount: 80_000,
            reasons: vec![]
        }
    );
    assert_eq!(
        lines[3],
        Line {
            outcome: "reserve",
            amount: 8_000,
            reasons: vec![]
        }
    );
    assert_eq!(lines[4], rejected(&["old_boiler_fuel"]));

    // Exactly the remaining budget still fits.
    let lines = replay(160_000, &registry(3), &apps[..3]);
    assert_eq!(lines[1], approved(80_000));
    assert_eq!(lines[2].outcome, "reserve");
    let lines = replay(159_999, &registry(2), &apps[..2]);
    assert_eq!(lines[1].outcome, "reserve");
}

#[test]
fn an_application_waiting_for_completion_keeps_its_budget_and_a_reserve_one_lists_what_is_missing()
{
    let mut apps: Vec<Value> = (1..=3).map(application).collect();
    apps[0]["attachments"] = json!([]);
    apps[2]["attachments"] = json!([{ "kind": "old_boiler_photo", "media_type": "image/png" }]);
    let lines = replay(160_000, &registry(3), &apps);
    assert_eq!(lines[0].outcome, "needs_completion");
    assert_eq!(lines[0].amount, 80_000);
    assert_eq!(lines[1], approved(80_000));
    assert_eq!(
        lines[2],
        Line {
            outcome: "reserve",
            amount: 80_000,
            reasons: vec![
                "missing_attachment:invoice_or_budget".into(),
                "missing_attachment:installer_certificate".into()
            ]
        }
    );
}

#[test]
fn a_registry_that_does_not_answer_sends_the_application_to_a_person_in_its_place() {
    let mut apps: Vec<Value> = (1..=4).map(application).collect();
    apps[3]["building"]["approved"] = false.into();
    apps[1]["attachments"] = json!([]); // not listed while in manual review
    let mut r = registry(4);
    r["unavailable"] = json!(["B1", "B4"]);
    r["owners"].as_object_mut().unwrap().remove("B2"); // no record: no answer either
    let lines = replay(160_000, &r, &apps);
    let review = |amount| Line {
        outcome: "manual_review",
        amount,
        reasons: vec!["registry_unavailable".into()],
    };
    // B1 and B2 take the budget as eligible ones would, B3 then does not fit, B4 fails a rule
    // that needs no registry.
    assert_eq!(lines[0], review(80_000));
    assert_eq!(lines[1], review(80_000));
    assert_eq!(
        lines[2],
        Line {
            outcome: "reserve",
            amount: 80_000,
            reasons: vec![]
        }
    );
    assert_eq!(lines[3], rejected(&["building_not_approved"]));
    // In manual review on the reserve list: outcome stays manual_review.
    let mut r = registry(2);
    r["unavailable"] = json!(["B2"]);
    let lines = replay(80_000, &r, &apps[..2]);
    assert_eq!(lines[1], review(80_000));
}

#[test]
fn freed_budget_goes_to_the_first_reserve_application_that_fits() {
    let programme = programme();
    let engine = Engine::new(&programme, call(&programme, 170_000));
    let registry = FileRegistry::from_json(&registry(4).to_string()).unwrap();
    let mut apps: Vec<Value> = (1..=4).map(application).collect();
    apps[2]["eligible_costs_czk"] = 200_000.into(); // 120 000
    apps[3]["eligible_costs_czk"] = 50_000.into(); // 40 000
    let text: String = apps.iter().map(|a| format!("{a}\n")).collect();
    let mut state = Allocation::new(engine.call.budget_czk);
    let decisions: Vec<_> = parse_lines(&text)
        .unwrap()
        .iter()
        .map(|a| {
            let facts = registry.facts(&a.building.building_id);
            engine.decide(
                &mut state,
                a,
                facts.as_ref(),
                engine.day_of(a.received_at),
                true,
            )
        })
        .collect();
    let outcomes: Vec<_> = decisions.iter().map(|d| d.outcome).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Approved,
            Outcome::Approved,
            Outcome::Reserve,
            Outcome::Reserve
        ]
    );
    assert_eq!(state.remaining_czk, 10_000);
    // The first approved one misses its deadline: 80 000 comes back, 90 000 is free. A3
    // (120 000) still does not fit; A4 (40 000) does.
    let promoted = state.release(80_000);
    assert_eq!(
        promoted
            .iter()
            .map(|w| w.application_id.as_str())
            .collect::<Vec<_>>(),
        ["A4"]
    );
    assert_eq!(state.remaining_czk, 50_000);
    let promoted = state.release(80_000);
    assert_eq!(
        promoted
            .iter()
            .map(|w| w.application_id.as_str())
            .collect::<Vec<_>>(),
        ["A3"]
    );
    assert!(state.reserve.is_empty());

    // The trace shows each rule with the values it saw.
    let trace = &decisions[0].trace;
    let step = trace.iter().find(|s| s.check == "building_type").unwrap();
    assert_eq!(step.result, StepResult::Passed);
    assert_eq!(
        step.values["application.building.type"],
        json!("family_house")
    );
    let step = trace.iter().find(|s| s.check == "not_owner").unwrap();
    assert_eq!(step.values["registry.owners"], json!(["P1"]));
    assert_eq!(step.values["application.applicant.person_id"], json!("P1"));
    assert!(trace
        .iter()
        .any(|s| s.check == "amount" && s.result == StepResult::Value(80_000)));
}

#[test]
fn the_replay_is_deterministic_whatever_the_order_of_the_file() {
    let mut apps: Vec<Value> = (1..=40).map(application).collect();
    for (i, a) in apps.iter_mut().enumerate() {
        a["eligible_costs_czk"] = ((i as i64 * 7919) % 160_000).into();
        if i % 7 == 0 {
            a["attachments"] = json!([]);
        }
    }
    let forwards = replay(1_000_000, &registry(40), &apps);
    apps.reverse();
    let backwards = replay(1_000_000, &registry(40), &apps);
    assert_eq!(forwards, backwards);
    assert!(forwards.iter().any(|l| l.outcome == "reserve"));
    assert!(forwards.iter().any(|l| l.outcome == "needs_completion"));
}

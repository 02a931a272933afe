//! `cargo xtask bench robot`: the grants robot's engine over synthetic boiler applications.
//!
//! Writes N (default 100 000) applications with a registry and a call, runs the release
//! build's `urad robot evaluate` over them, and prints evaluations per second. The ceiling,
//! measured in the same run, is the same command over the same file with a call that has
//! already closed: every line is then read, checked, sorted and written but no rule runs. The
//! ratio says how much of the machine's JSON-in, JSON-out speed the rules leave. The run is
//! repeated and the outputs compared byte for byte (the replay must be deterministic).

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const TARGET_PER_SECOND: f64 = 20_000.0;

pub fn robot(args: &[&str]) -> Result<()> {
    let count: usize = match args {
        [] => 100_000,
        ["--applications", n] => n.parse().context("--applications takes a whole number")?,
        _ => bail!("usage: cargo xtask bench robot [--applications N]"),
    };
    crate::run(crate::cargo().args(["build", "--release", "--locked", "-p", "urad"]))?;
    let urad = crate::target_dir().join("release/urad");
    let dir = crate::tempdir("urad-bench-robot")?;
    let (applications, registry) = synthetic(count);
    std::fs::write(dir.join("applications.jsonl"), applications)?;
    std::fs::write(dir.join("registry.json"), registry)?;
    let call = |opens: &str, closes: &str| {
        serde_json::json!({
            "programme": "KD-2026",
            "opens_at": opens,
            "closes_at": closes,
            // Enough for about a third: the rest goes to the reserve list.
            "budget_czk": count as i64 * 30_000,
            "priority_municipalities": ["554821", "554804"],
        })
        .to_string()
    };
    std::fs::write(
        dir.join("call.json"),
        call("2026-03-02T08:00:00+01:00", "2026-06-30T14:00:00+02:00"),
    )?;
    std::fs::write(
        dir.join("closed.json"),
        call("2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z"),
    )?;

    let (ceiling_secs, _) = evaluate(&urad, &dir, "closed.json")?;
    let (secs, output) = evaluate(&urad, &dir, "call.json")?;
    let (_, again) = evaluate(&urad, &dir, "call.json")?;
    let deterministic = output == again;

    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for line in output.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        *outcomes
            .entry(v["outcome"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    let lines: usize = outcomes.values().sum();
    let rate = count as f64 / secs;
    let ceiling = count as f64 / ceiling_secs;
    println!("bench robot: {count} synthetic boiler applications, `urad robot evaluate` (release)");
    println!(
        "  ceiling (read, check, sort, write; no rule runs): {ceiling:>9.0} applications/s ({ceiling_secs:.2} s)"
    );
    println!(
        "  replay (every rule, amount, budget):              {rate:>9.0} evaluations/s ({secs:.2} s) = {:.2} of the ceiling",
        rate / ceiling
    );
    println!(
        "  target ≥ {TARGET_PER_SECOND:.0} evaluations/s: {} ({:.2}× the target)",
        if rate >= TARGET_PER_SECOND {
            "met"
        } else {
            "NOT met"
        },
        rate / TARGET_PER_SECOND
    );
    println!(
        "  outcomes: {}",
        outcomes
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  verified: one decision per application ({}), same output on a second run ({})",
        if lines == count { "yes" } else { "NO" },
        if deterministic { "yes" } else { "NO" }
    );
    let _ = std::fs::remove_dir_all(&dir);
    if lines != count || !deterministic {
        bail!("the replay's output does not hold");
    }
    Ok(())
}

/// Runs the replay once; its wall time and output.
fn evaluate(urad: &Path, dir: &Path, call: &str) -> Result<(f64, String)> {
    let started = Instant::now();
    let out = Command::new(urad)
        .args(["robot", "evaluate", "--call"])
        .arg(dir.join(call))
        .arg("--registry")
        .arg(dir.join("registry.json"))
        .arg(dir.join("applications.jsonl"))
        .arg("--content-dir")
        .arg(crate::root().join("content"))
        .stderr(Stdio::inherit())
        .output()
        .context("running urad robot evaluate")?;
    let secs = started.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!("urad robot evaluate failed: {}", out.status);
    }
    Ok((secs, String::from_utf8(out.stdout)?))
}

/// A small deterministic generator (SplitMix64): the same file on every run and machine.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Applications (JSON Lines, shuffled sequence order) and their registry: mostly eligible
/// ones, with every kind of failure, missing attachments, duplicates and registry outages.
fn synthetic(count: usize) -> (String, String) {
    let mut dice = Dice(2026);
    let mut lines = String::with_capacity(count * 700);
    let mut owners = serde_json::Map::new();
    let mut past = Vec::new();
    let mut unavailable = Vec::new();
    let mut order: Vec<usize> = (1..=count).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, dice.below(i as u64 + 1) as usize);
    }
    for (line, &sequence) in order.iter().enumerate() {
        // One in fifty applies for a building someone else applied for.
        let building = if line > 0 && dice.below(50) == 0 {
            dice.below(line as u64) + 1
        } else {
            sequence as u64
        };
        let person = format!("P{sequence}");
        let mut building_owners = vec![person.clone()];
        if dice.below(10) == 0 {
            building_owners.push(format!("Q{sequence}"));
        }
        if dice.below(40) == 0 {
            building_owners = vec![format!("X{sequence}")];
        }
        owners.insert(format!("B{building}"), building_owners.into());
        match dice.below(100) {
            0 => past.push(format!("B{building}")),
            1 => unavailable.push(format!("B{building}")),
            _ => {}
        }
        let source = dice.pick(&[
            "heat_pump",
            "heat_pump",
            "biomass_automatic",
            "biomass_manual",
            "gas_condensing",
            "coal",
        ]);
        let mut attachments = vec![
            r#"{"kind":"old_boiler_photo","media_type":"image/jpeg"}"#,
            r#"{"kind":"invoice_or_budget","media_type":"application/pdf"}"#,
        ];
        if source != "gas_condensing" {
            attachments.push(r#"{"kind":"installer_certificate","media_type":"application/pdf"}"#);
        }
        if dice.below(8) == 0 {
            attachments.remove(dice.below(attachments.len() as u64) as usize);
        }
        let minute = sequence / 1000;
        let _ = writeln!(
            lines,
            r#"{{"application_id":"A{sequence}","received_at":"2026-03-02T07:{:02}:{:02}Z","sequence":{sequence},"applicant":{{"person_id":"{person}","birth_date":"{}-0{}-1{}","permanent_address_building_id":"B{building}"}},"building":{{"building_id":"B{building}","type":"{}","approved":{},"municipality_code":"{}","energy_class":"{}"}},"old_boiler":{{"fuel":"{}","feeding":"{}","emission_class":"{}"}},"new_source":"{source}","eligible_costs_czk":{},"micro_measures":{},"attachments":[{}]}}"#,
            minute.min(59),
            (sequence % 60),
            1940 + dice.below(70),
            1 + dice.below(9),
            dice.below(10),
            dice.pick(&[
                "family_house",
                "family_house",
                "family_house",
                "family_house",
                "recreational",
                "apartment_building"
            ]),
            dice.below(30) != 0,
            dice.pick(&["554821", "554804", "500011", "598917", "599999"]),
            dice.pick(&["A", "C", "D", "E", "G"]),
            dice.pick(&["coal", "coal", "wood", "combined", "gas"]),
            if dice.below(25) == 0 {
                "automatic"
            } else {
                "manual"
            },
            dice.pick(&["1", "2", "2", "unknown", "3"]),
            dice.below(200_000),
            dice.below(3) != 0,
            attachments.join(","),
        );
    }
    let registry = serde_json::json!({
        "owners": owners,
        "past_boiler_grants": past,
        "unavailable": unavailable,
    });
    (lines, registry.to_string())
}

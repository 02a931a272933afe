//! The `urad` binary as an operator runs it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const URAD: &str = env!("CARGO_BIN_EXE_urad");

#[test]
fn help_explains_the_commands() {
    let out = Command::new(URAD).arg("--help").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for cmd in ["serve", "migrate", "seed", "check-content"] {
        assert!(text.contains(cmd), "{text}");
    }
    let out = Command::new(URAD)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("--listen")
            && text.contains("URAD_LISTEN")
            && text.contains("127.0.0.1:8080")
    );
    assert!(
        text.contains("--data-dir") && text.contains("URAD_DATA_DIR") && text.contains("./data")
    );
}

#[test]
fn first_start_creates_the_database_prints_the_address_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(URAD)
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("URAD_DATA_DIR", dir.path().join("data"))
        .env("URAD_CONTENT_DIR", crate::harness::content_dir())
        .env_remove("URAD_DATABASE_URL")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut json_logs = 0;
    let base = loop {
        let line = lines.next().expect("urad prints its address").unwrap();
        if let Some(rest) = line.strip_prefix("urad serves the portal at ") {
            break rest.trim_end_matches('/').to_owned();
        }
        let log: serde_json::Value = serde_json::from_str(&line).expect("log lines are JSON");
        assert!(log["level"].is_string());
        json_logs += 1;
    };
    assert!(
        json_logs >= 1,
        "the first start logs that it loaded the catalogue"
    );
    assert!(dir.path().join("data/urad.sqlite3").exists());
    let body = reqwest::blocking_get(&format!("{base}/readyz"));
    assert_eq!(body, "ready");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
}

/// SIGTERM at once after the address is printed, before the server's task may have run: the
/// handler is already installed, so the server still stops cleanly (a default SIGTERM would
/// end it with the signal).
#[test]
fn a_sigterm_right_after_the_start_still_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(URAD)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("URAD_DATA_DIR", dir.path().join("data"))
        .env("URAD_CONTENT_DIR", crate::harness::content_dir())
        .env_remove("URAD_DATABASE_URL")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while !lines
        .next()
        .expect("urad prints its address")
        .unwrap()
        .starts_with("urad serves the portal at ")
    {}
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn check_content_reports_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path();
    std::fs::create_dir_all(content.join("services")).unwrap();
    let src = crate::harness::content_dir();
    for f in ["office.toml", "agendas.toml", "life-situations.toml"] {
        std::fs::copy(src.join(f), content.join(f)).unwrap();
    }
    std::fs::write(
        content.join("services/bad-one.toml"),
        std::fs::read_to_string(src.join("services/kotlikova-dotace.toml"))
            .unwrap()
            .replace("slug = \"kotlikova-dotace\"", "slug = \"bad-one\"")
            .replace("agenda = \"environment\"", "agenda = \"astrology\""),
    )
    .unwrap();
    std::fs::write(
        content.join("clients.toml"),
        "[[client]]\nid = \"rp\"\nname = { cs = \"Klient\", en = \"Client\" }\n\
         redirect_uris = [\"http://rp.example.cz/cb\"]\npublic = true\n",
    )
    .unwrap();
    // A form whose UI hints name a field its schema does not have.
    let form = content.join("forms/obecne-podani");
    std::fs::create_dir_all(&form).unwrap();
    let forms = src.join("forms/obecne-podani");
    std::fs::copy(forms.join("v1.schema.json"), form.join("v1.schema.json")).unwrap();
    std::fs::write(
        form.join("v1.toml"),
        std::fs::read_to_string(forms.join("v1.toml"))
            .unwrap()
            .replace("\"subject\", \"reference\"", "\"subjekt\", \"reference\""),
    )
    .unwrap();
    let out = Command::new(URAD)
        .arg("check-content")
        .arg("--content-dir")
        .arg(content)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("bad-one.toml:3:10: field `agenda`: unknown agenda `astrology`"),
        "{err}"
    );
    // The clients file is checked in the same run, and `rp` is not a valid id either.
    assert!(err.contains("clients.toml:2:6: field `id`"), "{err}");
    assert!(
        err.contains("clients.toml:4:18: field `redirect_uris`: redirect URI `http://rp.example.cz/cb` is not allowed"),
        "{err}"
    );
    // And the forms.
    assert!(
        err.contains("forms/obecne-podani/v1.toml:13:")
            && err.contains(
                "field `steps.submission.fields`: `subjekt` is not a field of the schema"
            ),
        "{err}"
    );
}

#[test]
fn the_binary_carries_the_demo_content_for_anywhere_else() {
    let elsewhere = tempfile::tempdir().unwrap();
    let out = Command::new(URAD)
        .arg("check-content")
        .current_dir(elsewhere.path())
        .env_remove("URAD_CONTENT_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let services = crate::harness::content_dir()
        .join("services")
        .read_dir()
        .unwrap()
        .count();
    assert!(text.starts_with(&format!("{services} services")), "{text}");
    assert!(
        text.contains(
            " 2 clients, 5 forms, 2 document templates, 1 back-office workflow, 1 grant programme: all valid"
        ),
        "{text}"
    );
}

#[test]
fn clients_and_keys_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let urad = |args: &[&str]| {
        let out = Command::new(URAD)
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .env_remove("URAD_DATABASE_URL")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, _) = urad(&[
        "client",
        "add",
        "--id",
        "demo-app",
        "--redirect-uri",
        "https://app.example.cz/cb",
    ]);
    assert!(ok, "{out}");
    let secret = out
        .lines()
        .find_map(|l| l.split("store it safely): ").nth(1))
        .expect("the secret is printed");
    assert!(secret.len() >= 43);
    let (ok, _, err) = urad(&[
        "client",
        "add",
        "--id",
        "demo-app",
        "--redirect-uri",
        "https://app.example.cz/cb",
    ]);
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = urad(&[
        "client",
        "add",
        "--id",
        "other",
        "--redirect-uri",
        "http://app.example.cz/cb",
    ]);
    assert!(!ok && err.contains("https://"), "{err}");
    let (ok, out, _) = urad(&[
        "client",
        "add",
        "--id",
        "spa",
        "--redirect-uri",
        "http://localhost:5173/cb",
        "--public",
    ]);
    assert!(
        ok && out.contains("public client spa") && !out.contains("secret ("),
        "{out}"
    );
    let (ok, first, _) = urad(&["keys", "rotate"]);
    let (ok2, second, _) = urad(&["keys", "rotate"]);
    assert!(
        ok && ok2 && first != second && first.starts_with("rotated"),
        "{first} {second}"
    );
}

mod reqwest {
    /// A tiny blocking GET for the binary test (no runtime here).
    pub fn blocking_get(url: &str) -> String {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async { ::reqwest::get(url).await.unwrap().text().await.unwrap() })
    }
}

/// `urad robot evaluate` as shared/domain/boiler-grant.md specifies it: decisions a line in
/// sequence order; bad input named by line and field, exit 2, nothing on standard output.
#[test]
fn the_what_if_replay_decides_a_file_and_refuses_bad_input_whole() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let call = write(
        "call.json",
        r#"{"programme": "KD-2026", "opens_at": "2026-03-02T08:00:00+01:00", "closes_at": "2026-06-30T14:00:00+02:00", "budget_czk": 100000, "priority_municipalities": []}"#,
    );
    let registry = write(
        "registry.json",
        r#"{"owners": {"B1": ["P1"], "B2": ["P2"]}}"#,
    );
    let line = |id: &str, seq: i64, building: &str, person: &str| {
        serde_json::json!({
            "application_id": id, "received_at": "2026-03-02T07:00:00Z", "sequence": seq,
            "applicant": {"person_id": person, "birth_date": "1970-01-01", "permanent_address_building_id": building},
            "building": {"building_id": building, "type": "family_house", "approved": true, "municipality_code": "500011", "energy_class": "C"},
            "old_boiler": {"fuel": "coal", "feeding": "manual", "emission_class": "2"},
            "new_source": "heat_pump", "eligible_costs_czk": 100000, "micro_measures": false,
            "attachments": [{"kind": "old_boiler_photo", "media_type": "image/jpeg"},
                            {"kind": "invoice_or_budget", "media_type": "application/pdf"},
                            {"kind": "installer_certificate", "media_type": "application/pdf"}]
        })
        .to_string()
    };
    let run = |applications: &std::path::Path| {
        Command::new(URAD)
            .args(["robot", "evaluate", "--call"])
            .arg(&call)
            .arg("--registry")
            .arg(&registry)
            .arg(applications)
            .arg("--content-dir")
            .arg(crate::harness::content_dir())
            .output()
            .unwrap()
    };
    let good = write(
        "good.jsonl",
        &format!(
            "{}\n{}\n",
            line("A2", 2, "B2", "P2"),
            line("A1", 1, "B1", "P1")
        ),
    );
    let out = run(&good);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        concat!(
            r#"{"application_id":"A1","sequence":1,"outcome":"approved","amount_czk":80000,"reasons":[]}"#,
            "\n",
            r#"{"application_id":"A2","sequence":2,"outcome":"reserve","amount_czk":80000,"reasons":[]}"#,
            "\n",
        )
    );
    let bad = write(
        "bad.jsonl",
        &format!(
            "{}\n{}\n",
            line("A1", 1, "B1", "P1"),
            line("A2", 2, "B2", "P2").replace("family_house", "castle")
        ),
    );
    let out = run(&bad);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing is printed");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("line 2, field `building.type`") && err.contains("castle"),
        "{err}"
    );
}

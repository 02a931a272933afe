//! The JSON API and its OpenAPI document.

use crate::harness::TestApp;
use crate::on_both_backends;

on_both_backends!(
    api_lists_filters_and_searches,
    api_pages_are_consistent,
    api_rejects_bad_parameters_with_json_errors,
    api_returns_one_service_or_404,
    openapi_document_describes_the_api,
);

async fn api_lists_filters_and_searches(app: TestApp) {
    let all = app.json("/api/v1/services?per_page=100", 200).await;
    let total = all["total"].as_u64().unwrap();
    assert!(total >= 40, "at least 40 services, got {total}");
    assert_eq!(all["items"].as_array().unwrap().len() as u64, total);

    let found = app.json("/api/v1/services?q=kotlikva%20dotace", 200).await;
    assert_eq!(found["items"][0]["slug"], "kotlikova-dotace");

    let citizens = app
        .json(
            "/api/v1/services?applicant=citizen&channel=in_person&per_page=100",
            200,
        )
        .await;
    for s in citizens["items"].as_array().unwrap() {
        assert!(
            s["applicant_types"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == "citizen"),
            "{s}"
        );
        assert!(
            matches!(s["channel"].as_str(), Some("in_person" | "both")),
            "{s}"
        );
    }
    assert!(citizens["total"].as_u64().unwrap() > 0);

    let agenda = app
        .json("/api/v1/services?agenda=health&per_page=100", 200)
        .await;
    for s in agenda["items"].as_array().unwrap() {
        assert_eq!(s["agenda"], "health");
    }
}

async fn api_pages_are_consistent(app: TestApp) {
    let first = app.json("/api/v1/services?per_page=7", 200).await;
    let second = app.json("/api/v1/services?per_page=7&page=2", 200).await;
    assert_eq!(first["per_page"], 7);
    assert_eq!(second["page"], 2);
    assert_eq!(first["total"], second["total"]);
    let a: Vec<_> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slug"].clone())
        .collect();
    let b: Vec<_> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slug"].clone())
        .collect();
    assert_eq!(a.len(), 7);
    assert!(a.iter().all(|s| !b.contains(s)));
    let beyond = app.json("/api/v1/services?page=1000", 200).await;
    assert_eq!(beyond["items"].as_array().unwrap().len(), 0);
}

async fn api_rejects_bad_parameters_with_json_errors(app: TestApp) {
    let cases = [
        ("/api/v1/services?applicant=alien", "applicant"),
        ("/api/v1/services?channel=pigeon", "channel"),
        ("/api/v1/services?agenda=nope", "agenda"),
        ("/api/v1/services?page=-1", "page"),
        ("/api/v1/services?per_page=1000", "per_page"),
        ("/api/v1/services?per_page=0", "per_page"),
    ];
    for (path, field) in cases {
        let body = app.json(path, 400).await;
        assert_eq!(body["field"], field, "{path}");
        assert!(!body["message"]["cs"].as_str().unwrap().is_empty());
        assert!(!body["message"]["en"].as_str().unwrap().is_empty());
        assert_eq!(body["error"], body["message"]["en"]);
    }
}

async fn api_returns_one_service_or_404(app: TestApp) {
    let s = app.json("/api/v1/services/czech-point", 200).await;
    assert_eq!(s["slug"], "czech-point");
    assert_eq!(s["channel"], "in_person");
    assert!(!s["in_person"]["reason"]["cs"].as_str().unwrap().is_empty());
    assert!(!s["legal_basis"].as_array().unwrap().is_empty());
    assert!(s["fee_czk"].as_i64().unwrap() > 0);
    let missing = app.json("/api/v1/services/no-such", 404).await;
    assert_eq!(missing["field"], "slug");
}

async fn openapi_document_describes_the_api(app: TestApp) {
    let doc = app.json("/api/openapi.json", 200).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/services",
        "/api/v1/services/{slug}",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
    }
    let params: Vec<&str> = doc["paths"]["/api/v1/services"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for p in [
        "q",
        "applicant",
        "situation",
        "agenda",
        "channel",
        "page",
        "per_page",
    ] {
        assert!(params.contains(&p), "{p}");
    }
    assert!(doc["components"]["schemas"]["ServiceList"].is_object());
}

//! What operators rely on: probes, metrics, headers, limits, compression, assets, shutdown.

use crate::harness::TestApp;
use crate::on_both_backends;

on_both_backends!(
    probes_and_metrics,
    security_headers_and_request_ids,
    large_bodies_are_refused,
    responses_are_compressed,
    assets_are_built_in_and_cacheable,
    graceful_shutdown_finishes,
    kept_pages_are_served_again_but_errors_never_are,
);

async fn kept_pages_are_served_again_but_errors_never_are(app: TestApp) {
    for path in [
        "/sluzby?q=dotace",
        "/api/v1/services?q=dotace",
        "/en/services/czech-point",
    ] {
        let first = app.get(path).await;
        let content_type = first.headers()["content-type"].clone();
        let first = first.text().await.unwrap();
        let again = app.get(path).await;
        assert_eq!(again.headers()["content-type"], content_type, "{path}");
        assert_eq!(again.text().await.unwrap(), first, "{path}");
    }
    assert_ne!(
        app.text("/sluzby?q=dotace", 200).await,
        app.text("/sluzby?q=kotel", 200).await
    );
    // Error pages carry their own request id every time.
    for _ in 0..2 {
        let r = app.get("/sluzby/no-such-service").await;
        assert_eq!(r.status(), 404);
        let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(r.text().await.unwrap().contains(&id));
    }
}

async fn probes_and_metrics(app: TestApp) {
    assert_eq!(app.text("/healthz", 200).await, "ok");
    assert_eq!(app.text("/readyz", 200).await, "ready");
    app.text("/sluzby", 200).await;
    let metrics = app.text("/metrics", 200).await;
    assert!(
        metrics.contains(r#"http_requests_total{method="GET",route="/sluzby",status="200"}"#),
        "{metrics}"
    );
    assert!(metrics.contains("http_request_duration_seconds_bucket"));
}

async fn security_headers_and_request_ids(app: TestApp) {
    let r = app.get("/").await;
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(csp.contains("default-src 'self'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h.contains_key("referrer-policy"));
    assert_eq!(h["x-request-id"].to_str().unwrap().len(), 36);
    // A request id given by a proxy is kept.
    let r = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
}

async fn large_bodies_are_refused(app: TestApp) {
    let r = app
        .client
        .post(app.url("/api/v1/services"))
        .body(vec![b'x'; 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
}

async fn responses_are_compressed(app: TestApp) {
    let r = app
        .client
        .get(app.url("/sluzby"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
}

async fn assets_are_built_in_and_cacheable(app: TestApp) {
    let r = app.get("/assets/gov/gov.css").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    let etag = r.headers()["etag"].clone();
    assert!(r.text().await.unwrap().len() > 1000);
    let again = app
        .client
        .get(app.url("/assets/gov/gov.css"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    app.text("/assets/nothing.css", 404).await;
    // Every asset the pages link to exists.
    let html = app.text("/", 200).await;
    for href in html
        .split("href=\"/assets/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
    {
        assert_eq!(
            app.get(&format!("/assets/{href}")).await.status(),
            200,
            "{href}"
        );
    }
}

async fn graceful_shutdown_finishes(app: TestApp) {
    app.text("/healthz", 200).await;
    let base = app.base.clone();
    app.shutdown().await;
    assert!(reqwest::get(format!("{base}/healthz")).await.is_err());
}

//! Loading the catalogue: first start, `seed`, and content that does not validate.

use crate::harness::{content_dir, copy_catalogue, fresh_database, Backend};
use std::path::Path;
use urad::{ContentArgs, StoreArgs};

async fn store(backend: Backend, dir: &Path) -> urad_store::Db {
    StoreArgs {
        data_dir: dir.join("data"),
        database_url: fresh_database(backend).await,
    }
    .open()
    .await
    .unwrap()
}

async fn malformed_content_is_refused_and_the_catalogue_kept(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = store(backend, dir.path()).await;
    let n = urad::seed(&db, &ContentArgs::dir(content_dir()))
        .await
        .unwrap();
    assert!(n >= 40);

    let bad = dir.path().join("content");
    copy_catalogue(&bad);
    let file = bad.join("services/czech-point.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("channel = \"in_person\"", "channel = \"telepathy\""),
    )
    .unwrap();
    std::fs::write(
        bad.join("services/broken.toml"),
        "slug = \"broken\"\nname = { cs = \"X\" }\n",
    )
    .unwrap();

    let err = urad::seed(&db, &ContentArgs::dir(&bad))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("czech-point.toml:")
            && err.contains("field `channel`")
            && err.contains("telepathy"),
        "{err}"
    );
    assert!(err.contains("broken.toml:2:"), "{err}");
    // Nothing was half-written: the previous catalogue is intact.
    assert_eq!(
        urad_catalog::store::count_services(&db).await.unwrap(),
        n as i64
    );
    let data = urad_catalog::store::load(&db).await.unwrap();
    assert!(data
        .services
        .iter()
        .any(|s| s.slug == "czech-point" && s.channel == urad_core::Channel::InPerson));
}

async fn seed_replaces_the_catalogue(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let db = store(backend, dir.path()).await;
    urad::seed(&db, &ContentArgs::dir(content_dir()))
        .await
        .unwrap();
    let changed = dir.path().join("content");
    copy_catalogue(&changed);
    std::fs::remove_file(changed.join("services/verejna-sbirka.toml")).unwrap();
    let n = urad::seed(&db, &ContentArgs::dir(&changed)).await.unwrap();
    let data = urad_catalog::store::load(&db).await.unwrap();
    assert_eq!(data.services.len(), n);
    assert!(!data.services.iter().any(|s| s.slug == "verejna-sbirka"));
    // What is stored reads back equal to what the files say.
    let fresh = urad::read_content(&ContentArgs::dir(&changed)).unwrap();
    let kotlik = |d: &urad_catalog::CatalogData| {
        d.services
            .iter()
            .find(|s| s.slug == "kotlikova-dotace")
            .cloned()
    };
    assert_eq!(kotlik(&data), kotlik(&fresh));
    assert_eq!(data.office, fresh.office);
}

crate::for_both_backends!(
    malformed_content_is_refused_and_the_catalogue_kept,
    seed_replaces_the_catalogue
);

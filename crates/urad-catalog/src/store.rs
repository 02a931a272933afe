//! The catalogue's tables. `replace` swaps the whole catalogue in one transaction, so a reader
//! sees the old catalogue or the new one, never a mix.

use crate::model::*;
use serde::de::DeserializeOwned;
use sqlx::Row;
use urad_store::Db;

#[derive(Debug, thiserror::Error)]
pub enum CatalogStoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("stored catalogue document is unreadable: {0}")]
    Document(#[from] serde_json::Error),
    #[error("the catalogue is empty: run `urad seed`")]
    Empty,
}

/// Replaces the catalogue in the database with `data`.
pub async fn replace(db: &Db, data: &CatalogData) -> Result<(), CatalogStoreError> {
    let mut tx = db.begin_write().await?;
    for table in [
        "service_life_situation",
        "service_applicant_type",
        "service",
        "life_situation",
        "agenda",
        "office",
    ] {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("INSERT INTO office (id, document) VALUES (1, $1)")
        .bind(serde_json::to_string(&data.office)?)
        .execute(&mut *tx)
        .await?;
    for (position, agenda) in data.agendas.iter().enumerate() {
        sqlx::query("INSERT INTO agenda (key, position, document) VALUES ($1, $2, $3)")
            .bind(&agenda.key)
            .bind(position as i64)
            .bind(serde_json::to_string(agenda)?)
            .execute(&mut *tx)
            .await?;
    }
    for (position, situation) in data.situations.iter().enumerate() {
        sqlx::query("INSERT INTO life_situation (key, position, document) VALUES ($1, $2, $3)")
            .bind(&situation.key)
            .bind(position as i64)
            .bind(serde_json::to_string(situation)?)
            .execute(&mut *tx)
            .await?;
    }
    for (service, source) in data.services.iter().zip(&data.sources) {
        sqlx::query(
            "INSERT INTO service (slug, agenda_key, channel, popularity, fee_czk, processing_days, source_file, document) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&service.slug)
        .bind(&service.agenda)
        .bind(service.channel.code())
        .bind(i64::from(service.popularity))
        .bind(service.fee.map(|f| f.0))
        .bind(i64::from(service.processing_days))
        .bind(source)
        .bind(serde_json::to_string(service)?)
        .execute(&mut *tx)
        .await?;
        for t in &service.applicant_types {
            sqlx::query(
                "INSERT INTO service_applicant_type (service_slug, applicant_type) VALUES ($1, $2)",
            )
            .bind(&service.slug)
            .bind(t.code())
            .execute(&mut *tx)
            .await?;
        }
        for s in &service.life_situations {
            sqlx::query(
                "INSERT INTO service_life_situation (service_slug, situation_key) VALUES ($1, $2)",
            )
            .bind(&service.slug)
            .bind(s)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Number of services stored; 0 before the first seed.
pub async fn count_services(db: &Db) -> Result<i64, CatalogStoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM service")
        .fetch_one(db.reader())
        .await?;
    Ok(row.try_get::<i64, _>("n")?)
}

/// Loads the whole catalogue.
pub async fn load(db: &Db) -> Result<CatalogData, CatalogStoreError> {
    let office_doc: Option<String> = sqlx::query("SELECT document FROM office WHERE id = 1")
        .fetch_optional(db.reader())
        .await?
        .map(|r| r.try_get("document"))
        .transpose()?;
    let office: Office = serde_json::from_str(&office_doc.ok_or(CatalogStoreError::Empty)?)?;
    let agendas = documents(db, "SELECT document FROM agenda ORDER BY position").await?;
    let situations = documents(db, "SELECT document FROM life_situation ORDER BY position").await?;
    let rows = sqlx::query("SELECT source_file, document FROM service ORDER BY slug")
        .fetch_all(db.reader())
        .await?;
    let mut services = Vec::with_capacity(rows.len());
    let mut sources = Vec::with_capacity(rows.len());
    for row in rows {
        sources.push(row.try_get::<String, _>("source_file")?);
        services.push(serde_json::from_str(
            &row.try_get::<String, _>("document")?,
        )?);
    }
    Ok(CatalogData {
        office,
        agendas,
        situations,
        services,
        sources,
    })
}

async fn documents<T: DeserializeOwned>(db: &Db, sql: &str) -> Result<Vec<T>, CatalogStoreError> {
    sqlx::query(sql)
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(|row| {
            Ok(serde_json::from_str(
                &row.try_get::<String, _>("document")?,
            )?)
        })
        .collect()
}

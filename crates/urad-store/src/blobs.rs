//! The blob store: where files (attachments) live, outside the database. One type over
//! `object_store`, so that the code does not know which of the two deployments it runs in:
//!
//! - a local folder, by default `DATA_DIR/blobs` (a laptop, one process);
//! - an S3-compatible bucket (`s3://BUCKET/PREFIX`), when several processes serve one
//!   PostgreSQL database. Credentials and region come from the usual `AWS_*` environment
//!   variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, …); the endpoint of
//!   a store that is not Amazon's from the endpoint setting or `AWS_ENDPOINT`.
//!
//! Blobs are written as a stream ([`BlobStore::create`], [`BlobWriter`]): parts go to the store
//! as they arrive, so a file is never held whole in memory, and a blob becomes visible only
//! when [`BlobWriter::finish`] completes it (a multipart upload, or a staging file renamed).
//! When `finish` returns the blob is durable: S3 answers a completed upload only once it is
//! stored; a local folder is synced to the disk first ([`FolderSync`], shared by concurrent
//! writers).

use crate::folder_sync::FolderSync;
use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use std::ops::Range;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("unsupported blob store URL `{0}`: use s3://BUCKET/PREFIX or file:///FOLDER")]
    UnsupportedUrl(String),
    #[error("cannot create the blob folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("no blob `{0}`")]
    NotFound(String),
    #[error("blob store error: {0}")]
    Store(#[from] object_store::Error),
    #[error("cannot make the blob folder durable: {0}")]
    Sync(std::io::Error),
}

/// Parts of a streamed blob are sent to the store in chunks of this size (S3's smallest part
/// is 5 MiB); at most [`PARTS_IN_FLIGHT`] of them are buffered while they are being sent.
const CHUNK_BYTES: usize = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 2;

/// A store of blobs named by keys (`attachments/<draft>/<file>`).
#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    description: String,
    /// For a local folder: the shared sync that makes written blobs durable.
    folder_sync: Option<Arc<FolderSync>>,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

impl BlobStore {
    /// A local folder, created if missing.
    pub fn local(folder: &std::path::Path) -> Result<BlobStore, BlobError> {
        std::fs::create_dir_all(folder).map_err(|source| BlobError::Folder {
            path: folder.display().to_string(),
            source,
        })?;
        // Empty folders of removed blobs go with them.
        let store = LocalFileSystem::new_with_prefix(folder)?.with_automatic_cleanup(true);
        Ok(BlobStore {
            store: Arc::new(store),
            prefix: String::new(),
            description: format!("folder {}", folder.display()),
            folder_sync: Some(Arc::new(FolderSync::new(folder.to_owned()))),
        })
    }

    /// An S3-compatible bucket, `s3://BUCKET` or `s3://BUCKET/PREFIX`. `endpoint` is the
    /// store's address when it is not Amazon's (`http://127.0.0.1:9000`); plain http is
    /// allowed only when the endpoint says so.
    pub fn s3(url: &str, endpoint: Option<&str>) -> Result<BlobStore, BlobError> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| BlobError::UnsupportedUrl(url.to_owned()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(BlobError::UnsupportedUrl(url.to_owned()));
        }
        // The HTTP client's TLS runs on ring; installing it again (another store) is no error.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(endpoint) = endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        let store = builder.build()?;
        Ok(BlobStore {
            store: Arc::new(store),
            prefix: prefix.trim_matches('/').to_owned(),
            description: format!("s3://{bucket}/{}", prefix.trim_matches('/')),
            folder_sync: None,
        })
    }

    /// The store a setting names: `s3://…`, `file:///FOLDER`, or none for `DATA_DIR/blobs`.
    pub fn open(
        url: Option<&str>,
        endpoint: Option<&str>,
        data_dir: &std::path::Path,
    ) -> Result<BlobStore, BlobError> {
        match url {
            None | Some("") => BlobStore::local(&data_dir.join("blobs")),
            Some(url) if url.starts_with("s3://") => BlobStore::s3(url, endpoint),
            Some(url) => match url.strip_prefix("file://") {
                Some(folder) => BlobStore::local(std::path::Path::new(folder)),
                None => Err(BlobError::UnsupportedUrl(url.to_owned())),
            },
        }
    }

    /// Where the blobs are, for the log.
    pub fn describe(&self) -> &str {
        &self.description
    }

    fn path(&self, key: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(key)
        } else {
            ObjectPath::from(format!("{}/{key}", self.prefix))
        }
    }

    /// Starts writing the blob `key`; it exists only once the writer is finished.
    pub async fn create(&self, key: &str) -> Result<BlobWriter, BlobError> {
        let upload = self.store.put_multipart(&self.path(key)).await?;
        Ok(BlobWriter {
            upload: WriteMultipart::new_with_chunk_size(upload, CHUNK_BYTES),
            folder_sync: self.folder_sync.clone(),
        })
    }

    /// Writes a small blob at once; durable when this returns.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), BlobError> {
        self.store
            .put(&self.path(key), PutPayload::from_bytes(bytes))
            .await?;
        durable(self.folder_sync.as_deref()).await
    }

    /// The blob's bytes as a stream.
    pub async fn read(
        &self,
        key: &str,
    ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        let result = self
            .store
            .get(&self.path(key))
            .await
            .map_err(|e| not_found(e, key))?;
        Ok(result.into_stream().map_err(BlobError::from).boxed())
    }

    /// Some bytes of the blob.
    pub async fn read_range(&self, key: &str, range: Range<u64>) -> Result<Bytes, BlobError> {
        self.store
            .get_range(&self.path(key), range)
            .await
            .map_err(|e| not_found(e, key))
    }

    /// The blob's size, or `None` when there is no such blob.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, BlobError> {
        match self.store.head(&self.path(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes the blob; removing one that is not there is no error (a sweep may run twice).
    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The keys of the blobs whose keys start with `prefix` (a folder: `attachments/<draft>`).
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        let folder = self.path(prefix);
        let strip = if self.prefix.is_empty() {
            0
        } else {
            self.prefix.len() + 1
        };
        let mut keys: Vec<String> = self
            .store
            .list(Some(&folder))
            .map_ok(|meta| meta.location.as_ref()[strip..].to_owned())
            .try_collect()
            .await?;
        keys.sort();
        Ok(keys)
    }
}

fn not_found(e: object_store::Error, key: &str) -> BlobError {
    match e {
        object_store::Error::NotFound { .. } => BlobError::NotFound(key.to_owned()),
        e => BlobError::Store(e),
    }
}

/// A blob being written (see [`BlobStore::create`]). Dropped without [`BlobWriter::finish`],
/// nothing becomes visible; [`BlobWriter::abort`] also frees what the store kept of it.
pub struct BlobWriter {
    upload: WriteMultipart,
    folder_sync: Option<Arc<FolderSync>>,
}

/// Waits until what was written to a local folder is on the disk (nothing to wait for on S3).
async fn durable(folder_sync: Option<&FolderSync>) -> Result<(), BlobError> {
    match folder_sync {
        Some(sync) => sync.sync().await.map_err(BlobError::Sync),
        None => Ok(()),
    }
}

impl BlobWriter {
    /// Appends bytes, waiting while too many parts are still being sent.
    pub async fn write(&mut self, bytes: Bytes) -> Result<(), BlobError> {
        self.upload.wait_for_capacity(PARTS_IN_FLIGHT).await?;
        self.upload.put(bytes);
        Ok(())
    }

    /// Completes the blob: from now on it can be read, and it is durable.
    pub async fn finish(self) -> Result<(), BlobError> {
        self.upload.finish().await?;
        durable(self.folder_sync.as_deref()).await
    }

    /// Gives the blob up.
    pub async fn abort(self) -> Result<(), BlobError> {
        self.upload.abort().await?;
        Ok(())
    }
}

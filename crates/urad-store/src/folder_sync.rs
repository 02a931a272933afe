//! Making the files of a local blob folder durable, for many writers at once. A receipt
//! promises that every attachment it lists is kept, so a file must be on the disk — not only
//! in the page cache — before its upload is answered. One `fsync` per file and per folder
//! would make each upload wait for the disk on its own; instead concurrent uploads share
//! one `syncfs(2)` of the folder's file system, as the database's group commit shares one
//! WAL sync: whoever finishes writing takes a ticket, and a sync that starts after a ticket
//! was taken covers that writer's data.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// The shared sync of one folder.
#[derive(Debug)]
pub struct FolderSync {
    folder: PathBuf,
    /// Held while a sync runs; the next one starts after it.
    running: tokio::sync::Mutex<()>,
    /// Tickets handed out: writers that asked for their data to be durable.
    requested: AtomicU64,
    /// Every ticket up to this one is durable.
    done: AtomicU64,
    /// Syncs run (for tests and the log).
    runs: AtomicU64,
}

impl FolderSync {
    pub fn new(folder: PathBuf) -> FolderSync {
        FolderSync {
            folder,
            running: tokio::sync::Mutex::new(()),
            requested: AtomicU64::new(0),
            done: AtomicU64::new(0),
            runs: AtomicU64::new(0),
        }
    }

    /// Returns once everything written to the folder before the call is durable.
    pub async fn sync(&self) -> std::io::Result<()> {
        let ticket = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        let _running = self.running.lock().await;
        if self.done.load(Ordering::SeqCst) >= ticket {
            // A sync that started after this ticket was taken has finished.
            return Ok(());
        }
        // Every ticket taken so far belongs to data written before this sync starts.
        let covered = self.requested.load(Ordering::SeqCst);
        let folder = self.folder.clone();
        tokio::task::spawn_blocking(move || sync_file_system(&folder))
            .await
            .map_err(std::io::Error::other)??;
        self.runs.fetch_add(1, Ordering::SeqCst);
        self.done.store(covered, Ordering::SeqCst);
        Ok(())
    }

    /// How many syncs ran.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::SeqCst)
    }
}

/// Flushes the file system that holds `folder`: data, metadata and directory entries of every
/// file in it (a renamed staging file included).
#[cfg(target_os = "linux")]
fn sync_file_system(folder: &std::path::Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let dir = std::fs::File::open(folder)?;
    // SAFETY: `syncfs` only reads the descriptor, which `dir` keeps open for the call.
    if unsafe { libc::syncfs(dir.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Elsewhere there is no `syncfs`: `sync(2)` flushes every file system.
#[cfg(all(unix, not(target_os = "linux")))]
fn sync_file_system(_folder: &std::path::Path) -> std::io::Result<()> {
    // SAFETY: `sync` takes no arguments and cannot fail.
    unsafe { libc::sync() };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_share_syncs() {
        let dir = tempfile::tempdir().unwrap();
        let sync = Arc::new(FolderSync::new(dir.path().to_owned()));
        sync.sync().await.unwrap();
        assert_eq!(sync.runs(), 1, "a lone writer gets its own sync");
        let writers: Vec<_> = (0..64)
            .map(|i| {
                let sync = sync.clone();
                let path = dir.path().join(format!("f{i}"));
                tokio::spawn(async move {
                    tokio::fs::write(&path, b"bytes").await.unwrap();
                    sync.sync().await
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap().unwrap();
        }
        let runs = sync.runs() - 1;
        assert!(
            (1..64).contains(&runs),
            "64 writers at once were served by {runs} syncs"
        );
        // A ticket taken after the last sync needs a new one.
        sync.sync().await.unwrap();
        assert_eq!(sync.runs(), runs + 2);
    }

    #[tokio::test]
    async fn a_folder_that_is_gone_is_an_error() {
        let sync = FolderSync::new("/nonexistent/urad-blobs".into());
        assert!(sync.sync().await.is_err());
    }
}

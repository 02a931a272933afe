//! The receipt log: an append-only Merkle tree (RFC 9162) whose leaf `i` is the canonical
//! receipt payload of the submission with `log_index = i`, with signed tree heads, inclusion
//! and consistency proofs, and the receipt file a citizen downloads.
//!
//! The leaves are not stored: they are recomputed from the submissions, which is what lets
//! anyone check that the log says what the registry journal says. Each process keeps the
//! tree in memory ([`ReceiptLog`]) and extends it with the submissions committed since it last
//! looked; `log_index` comes from a counter updated inside each submission's transaction, so
//! a reader that sees leaf `i` has seen every leaf before it (see `lib.rs`), and the log
//! never has a gap — a gap met here is reported as an error, not skipped.
//!
//! Tree heads are signed on demand: when someone asks for the latest head and leaves were
//! added (at most one a second per process, [`MIN_HEAD_INTERVAL`]), or when a receipt file
//! needs a head that includes its leaf. Every head is stored (one per tree size, the first
//! process to sign a size wins), so later heads can be proven consistent with earlier ones.

use crate::merkle::{self, leaf_hash, Hash, Tree};
use crate::receipt::{
    b64, hash_from_hex, rfc3339, Jwk, ReceiptKey, ReceiptPayload, SignatureError, SignedTreeHead,
};
use crate::{receipt, receipts_in_log_order, FilingError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};
use urad_core::{hex, Clock};
use urad_store::statement::Row;
use urad_store::{sql, Db, StoreError};

/// A process signs at most one tree head in this time (a receipt file waits for the next one
/// rather than signing a head per download during a surge).
pub const MIN_HEAD_INTERVAL: Duration = Duration::from_secs(1);
/// Submissions read at a time when the tree catches up.
const BATCH: i64 = 1000;
/// The receipt file's `format`.
pub const FILE_FORMAT: &str = "urad-receipt-file/1";
/// The key's row in `receipt_key`.
const SLOT: &str = "office";

#[derive(Debug, thiserror::Error)]
pub enum ReceiptLogError {
    #[error("database error: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Filing(#[from] FilingError),
    #[error("the stored receipt key is unusable: {0}")]
    Key(#[from] SignatureError),
    #[error("the receipt log has a gap: leaf {expected} is missing and leaf {found} follows")]
    Gap { expected: u64, found: u64 },
    #[error("submission {id} cannot be a leaf of the receipt log (its instant or index is out of range)")]
    Unwritable { id: String },
    #[error("the stored tree head of size {tree_size} does not match the leaves recomputed from the submissions")]
    Diverged { tree_size: u64 },
    #[error("the stored time stamp of submission {id} is unreadable")]
    StoredTimeStamp { id: String },
    #[error("leaf {index} is not in a tree of {tree_size} leaves")]
    IndexOutsideTree { index: u64, tree_size: u64 },
    #[error("the first tree size ({first}) is larger than the second ({second})")]
    SizesOutOfOrder { first: u64, second: u64 },
    #[error("the receipt log has {log_size} leaves, not {tree_size}")]
    BeyondLog { tree_size: u64, log_size: u64 },
    #[error("the receipt log has {log_size} leaves: leaf {index} is not in it")]
    NoSuchLeaf { index: u64, log_size: u64 },
}

/// One leaf as the log publishes it: the receipt payload's exact bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leaf {
    pub index: u64,
    /// The canonical receipt payload (its leaf hash is SHA-256 of 0x00 and these bytes).
    pub payload: String,
}

/// What a citizen downloads: everything needed to verify the receipt offline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptFile {
    /// [`FILE_FORMAT`].
    pub format: String,
    /// The receipt: a compact JWS (EdDSA) over its canonical payload.
    pub receipt: String,
    /// The receipt's leaf in the receipt log.
    pub log_index: u64,
    /// A signed tree head whose tree includes the leaf.
    pub tree_head: SignedTreeHead,
    /// The leaf's inclusion proof in that tree (hashes, hexadecimal, from the leaf up).
    pub inclusion_proof: Vec<String>,
    /// The office's public key that signed the receipt and the tree head.
    pub key: Jwk,
    /// The RFC 3161 time stamp over the receipt's canonical payload, once the time-stamping
    /// authority gave one (stamping runs after the commit, so a file downloaded in the first
    /// seconds, or while the authority is down, has none yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_stamp: Option<FileTimeStamp>,
}

/// A receipt file's time stamp.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileTimeStamp {
    /// The TimeStampToken (CMS ContentInfo), DER, base64url without padding.
    pub token: String,
    /// The token's time (its genTime), RFC 3339 UTC.
    pub time: String,
    /// The time-stamping authority that issued it.
    pub authority: String,
}

impl ReceiptFile {
    /// The file as it is downloaded.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("strings and integers serialize")
    }
}

/// The office's receipt key: the stored one, or a new one if there is none yet. Safe from
/// several processes at once: `slot` is unique, so exactly one insert wins and every process
/// reads that key back.
pub async fn ensure_key(db: &Db, clock: &dyn Clock) -> Result<ReceiptKey, ReceiptLogError> {
    if let Some(key) = stored_key(db).await? {
        return Ok(key);
    }
    let key = ReceiptKey::generate()?;
    let jwk = serde_json::to_string(&key.public_jwk()).expect("strings serialize");
    db.write_one(
        sql(
            "INSERT INTO receipt_key (kid, slot, private_key, public_jwk, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (slot) DO NOTHING",
        )
        .bind(key.kid())
        .bind(SLOT)
        .bind(key.to_stored())
        .bind(jwk)
        .bind(clock.now()),
    )
    .await?;
    stored_key(db)
        .await?
        .ok_or(ReceiptLogError::Key(SignatureError::Stored))
}

/// The stored receipt key, if one was made.
pub async fn stored_key(db: &Db) -> Result<Option<ReceiptKey>, ReceiptLogError> {
    let row = db
        .fetch_optional(sql("SELECT private_key FROM receipt_key WHERE slot = $1").bind(SLOT))
        .await?;
    match row {
        Some(row) => Ok(Some(ReceiptKey::from_stored(
            &row.get::<String>("private_key")?,
        )?)),
        None => Ok(None),
    }
}

fn head_from(row: &Row) -> Result<SignedTreeHead, ReceiptLogError> {
    let unsigned = |column: &str| StoreError::Column {
        column: column.to_owned(),
        problem: "expected a non-negative integer",
    };
    Ok(SignedTreeHead {
        tree_size: u64::try_from(row.get::<i64>("tree_size")?)
            .map_err(|_| unsigned("tree_size"))?,
        timestamp: u64::try_from(row.get::<i64>("timestamp")?)
            .map_err(|_| unsigned("timestamp"))?,
        root_hash: row.get("root_hash")?,
        kid: row.get("kid")?,
        signature: row.get("signature")?,
    })
}

/// The stored head of the largest tree.
pub async fn latest_stored_head(db: &Db) -> Result<Option<SignedTreeHead>, ReceiptLogError> {
    let row = db
        .fetch_optional(sql(
            "SELECT tree_size, root_hash, timestamp, kid, signature FROM receipt_tree_head \
             ORDER BY tree_size DESC LIMIT 1",
        ))
        .await?;
    row.map(|r| head_from(&r)).transpose()
}

/// Every stored head, smallest tree first.
pub async fn stored_heads(db: &Db) -> Result<Vec<SignedTreeHead>, ReceiptLogError> {
    let rows = db
        .fetch_all(sql(
            "SELECT tree_size, root_hash, timestamp, kid, signature FROM receipt_tree_head \
             ORDER BY tree_size",
        ))
        .await?;
    rows.iter().map(head_from).collect()
}

async fn stored_head(db: &Db, tree_size: u64) -> Result<Option<SignedTreeHead>, ReceiptLogError> {
    let row = db
        .fetch_optional(
            sql(
                "SELECT tree_size, root_hash, timestamp, kid, signature FROM receipt_tree_head \
                 WHERE tree_size = $1",
            )
            .bind(to_i64(tree_size)),
        )
        .await?;
    row.map(|r| head_from(&r)).transpose()
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The leaf of a receipt: its canonical payload and that payload's leaf hash.
fn leaf_of(receipt: &crate::Receipt) -> Result<(ReceiptPayload, Hash), ReceiptLogError> {
    let payload = ReceiptPayload::of(receipt).ok_or_else(|| ReceiptLogError::Unwritable {
        id: receipt.id.clone(),
    })?;
    let hash = leaf_hash(&payload.canonical());
    Ok((payload, hash))
}

/// Extends `tree` with the leaves committed since it was last extended.
async fn extend(db: &Db, tree: &mut Tree) -> Result<(), ReceiptLogError> {
    loop {
        let from = tree.len() as u64;
        let batch = receipts_in_log_order(db, to_i64(from), BATCH).await?;
        for (n, receipt) in batch.iter().enumerate() {
            let expected = from + n as u64;
            if u64::try_from(receipt.log_index).ok() != Some(expected) {
                return Err(ReceiptLogError::Gap {
                    expected,
                    found: u64::try_from(receipt.log_index).unwrap_or(0),
                });
            }
            tree.push(leaf_of(receipt)?.1);
        }
        if (batch.len() as i64) < BATCH {
            return Ok(());
        }
    }
}

/// Whether `head` is a head of this tree.
fn check(tree: &Tree, head: &SignedTreeHead) -> Result<(), ReceiptLogError> {
    let size = usize::try_from(head.tree_size).unwrap_or(usize::MAX);
    match (tree.root(size), head.root()) {
        (Some(ours), Some(theirs)) if ours == theirs => Ok(()),
        _ => Err(ReceiptLogError::Diverged {
            tree_size: head.tree_size,
        }),
    }
}

struct State {
    tree: Tree,
    /// When this process last signed a head.
    last_signed: Option<Instant>,
}

impl State {
    fn wait_before_signing(&self) -> Duration {
        self.last_signed.map_or(Duration::ZERO, |t| {
            MIN_HEAD_INTERVAL.saturating_sub(t.elapsed())
        })
    }
}

/// The receipt log as one process serves it: the office's key and the tree in memory.
pub struct ReceiptLog {
    key: tokio::sync::OnceCell<Arc<ReceiptKey>>,
    state: tokio::sync::Mutex<State>,
}

impl Default for ReceiptLog {
    fn default() -> Self {
        ReceiptLog::new()
    }
}

impl ReceiptLog {
    pub fn new() -> ReceiptLog {
        ReceiptLog {
            key: tokio::sync::OnceCell::new(),
            state: tokio::sync::Mutex::new(State {
                tree: Tree::new(),
                last_signed: None,
            }),
        }
    }

    /// The office's receipt key, read (or made) once.
    pub async fn key(
        &self,
        db: &Db,
        clock: &dyn Clock,
    ) -> Result<Arc<ReceiptKey>, ReceiptLogError> {
        self.key
            .get_or_try_init(|| async { ensure_key(db, clock).await.map(Arc::new) })
            .await
            .cloned()
    }

    /// The office's public receipt key.
    pub async fn public_jwk(&self, db: &Db, clock: &dyn Clock) -> Result<Jwk, ReceiptLogError> {
        Ok(self.key(db, clock).await?.public_jwk())
    }

    /// The tree, extended with every leaf committed until now.
    async fn synced(&self, db: &Db) -> Result<tokio::sync::MutexGuard<'_, State>, ReceiptLogError> {
        let mut state = self.state.lock().await;
        extend(db, &mut state.tree).await?;
        Ok(state)
    }

    /// The number of leaves committed until now.
    pub async fn size(&self, db: &Db) -> Result<u64, ReceiptLogError> {
        Ok(self.synced(db).await?.tree.len() as u64)
    }

    /// The latest signed tree head: a new one when leaves were added since the last and this
    /// process has not signed one in the last [`MIN_HEAD_INTERVAL`].
    pub async fn latest_head(
        &self,
        db: &Db,
        clock: &dyn Clock,
    ) -> Result<SignedTreeHead, ReceiptLogError> {
        self.head(db, clock, None).await
    }

    /// A signed tree head whose tree includes leaf `covering` (waiting for the next head when
    /// this process signed one very recently), or else the latest.
    async fn head(
        &self,
        db: &Db,
        clock: &dyn Clock,
        covering: Option<u64>,
    ) -> Result<SignedTreeHead, ReceiptLogError> {
        let key = self.key(db, clock).await?;
        loop {
            // The head first, then the leaves: every leaf a stored head covers was committed
            // before it was signed, so the tree then has them all.
            let stored = latest_stored_head(db).await?;
            let mut state = self.synced(db).await?;
            let size = state.tree.len() as u64;
            if let Some(index) = covering.filter(|i| *i >= size) {
                return Err(ReceiptLogError::IndexOutsideTree {
                    index,
                    tree_size: size,
                });
            }
            let wait = state.wait_before_signing();
            let enough = match (&stored, covering) {
                (Some(head), Some(index)) => head.tree_size > index,
                (Some(head), None) => head.tree_size >= size || !wait.is_zero(),
                (None, _) => false,
            };
            if let (true, Some(head)) = (enough, &stored) {
                check(&state.tree, head)?;
                return Ok(head.clone());
            }
            if !wait.is_zero() {
                drop(state);
                tokio::time::sleep(wait).await;
                continue;
            }
            let root = state
                .tree
                .root(size as usize)
                .expect("the tree has its own size");
            // Timestamps never go back from one head to the next, whichever clock signed.
            let now_ms = u64::try_from(clock.now()).unwrap_or(0).saturating_mul(1000);
            let timestamp = now_ms.max(stored.as_ref().map_or(0, |h| h.timestamp));
            let head = SignedTreeHead::sign(&key, size, timestamp, &root);
            db.write_one(
                sql("INSERT INTO receipt_tree_head (tree_size, root_hash, timestamp, kid, signature) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tree_size) DO NOTHING")
                .bind(to_i64(head.tree_size))
                .bind(head.root_hash.as_str())
                .bind(to_i64(head.timestamp))
                .bind(head.kid.as_str())
                .bind(head.signature.as_str()),
            )
            .await?;
            state.last_signed = Some(Instant::now());
            // Another process may have signed this size first: everyone serves the stored one.
            let kept = stored_head(db, size)
                .await?
                .ok_or(ReceiptLogError::Diverged { tree_size: size })?;
            check(&state.tree, &kept)?;
            return Ok(kept);
        }
    }

    /// The inclusion proof of leaf `index` in the tree of `tree_size` leaves.
    pub async fn inclusion_proof(
        &self,
        db: &Db,
        index: u64,
        tree_size: u64,
    ) -> Result<Vec<Hash>, ReceiptLogError> {
        if index >= tree_size {
            return Err(ReceiptLogError::IndexOutsideTree { index, tree_size });
        }
        let state = self.synced(db).await?;
        let log_size = state.tree.len() as u64;
        let beyond = ReceiptLogError::BeyondLog {
            tree_size,
            log_size,
        };
        let (index, size) = match (usize::try_from(index), usize::try_from(tree_size)) {
            (Ok(i), Ok(s)) => (i, s),
            _ => return Err(beyond),
        };
        state.tree.inclusion_proof(index, size).ok_or(beyond)
    }

    /// The consistency proof between the trees of `first` and `second` leaves.
    pub async fn consistency_proof(
        &self,
        db: &Db,
        first: u64,
        second: u64,
    ) -> Result<Vec<Hash>, ReceiptLogError> {
        if first > second {
            return Err(ReceiptLogError::SizesOutOfOrder { first, second });
        }
        let state = self.synced(db).await?;
        let log_size = state.tree.len() as u64;
        let beyond = ReceiptLogError::BeyondLog {
            tree_size: second,
            log_size,
        };
        let (first, second) = match (usize::try_from(first), usize::try_from(second)) {
            (Ok(f), Ok(s)) => (f, s),
            _ => return Err(beyond),
        };
        state.tree.consistency_proof(first, second).ok_or(beyond)
    }

    /// The leaves `start` up to `end` (not included), recomputed from the submissions; fewer
    /// when the log ends sooner. `start` must be a leaf of the log.
    pub async fn leaves(
        &self,
        db: &Db,
        start: u64,
        end: u64,
    ) -> Result<Vec<Leaf>, ReceiptLogError> {
        let log_size = self.size(db).await?;
        if start >= log_size {
            return Err(ReceiptLogError::NoSuchLeaf {
                index: start,
                log_size,
            });
        }
        let end = end.min(log_size);
        let receipts =
            receipts_in_log_order(db, to_i64(start), to_i64(end.saturating_sub(start))).await?;
        receipts
            .iter()
            .enumerate()
            .map(|(n, receipt)| {
                let index = start + n as u64;
                if u64::try_from(receipt.log_index).ok() != Some(index) {
                    return Err(ReceiptLogError::Gap {
                        expected: index,
                        found: u64::try_from(receipt.log_index).unwrap_or(0),
                    });
                }
                let (payload, _) = leaf_of(receipt)?;
                Ok(Leaf {
                    index,
                    payload: String::from_utf8(payload.canonical()).expect("JSON is UTF-8"),
                })
            })
            .collect()
    }

    /// The receipt file of a person's submission; `None` when it does not exist or is
    /// someone else's.
    pub async fn receipt_file(
        &self,
        db: &Db,
        clock: &dyn Clock,
        person_id: &str,
        submission_id: &str,
    ) -> Result<Option<ReceiptFile>, ReceiptLogError> {
        let Some(receipt) = receipt(db, person_id, submission_id).await? else {
            return Ok(None);
        };
        let (payload, leaf) = leaf_of(&receipt)?;
        let key = self.key(db, clock).await?;
        let head = self.head(db, clock, Some(payload.log_index)).await?;
        let proof = {
            let state = self.state.lock().await;
            // What the log holds at this place must be this receipt: a receipt whose stored
            // submission changed since the log read it is not handed out.
            let index = usize::try_from(payload.log_index).unwrap_or(usize::MAX);
            if state.tree.leaf(index) != Some(leaf) {
                return Err(ReceiptLogError::Diverged {
                    tree_size: head.tree_size,
                });
            }
            let size = usize::try_from(head.tree_size).unwrap_or(usize::MAX);
            state
                .tree
                .inclusion_proof(index, size)
                .ok_or(ReceiptLogError::Diverged {
                    tree_size: head.tree_size,
                })?
        };
        let time_stamp = crate::timestamp::stored_stamp(db, submission_id)
            .await
            .map_err(|e| match e {
                crate::timestamp::TimestampError::Store(e) => ReceiptLogError::Store(e),
                _ => ReceiptLogError::StoredTimeStamp {
                    id: submission_id.to_owned(),
                },
            })?
            .map(|stamp| FileTimeStamp {
                token: b64(&stamp.token),
                time: rfc3339(stamp.stamped_at).unwrap_or_default(),
                authority: stamp.tsa_url,
            });
        Ok(Some(ReceiptFile {
            format: FILE_FORMAT.to_owned(),
            receipt: key.sign_receipt(&payload),
            log_index: payload.log_index,
            tree_head: head,
            inclusion_proof: proof.iter().map(|h| hex(h)).collect(),
            key: key.public_jwk(),
            time_stamp,
        }))
    }
}

/// [`ReceiptLog::receipt_file`]: the file a citizen downloads for their submission.
pub async fn receipt_file(
    db: &Db,
    clock: &dyn Clock,
    log: &ReceiptLog,
    person_id: &str,
    submission_id: &str,
) -> Result<Option<ReceiptFile>, ReceiptLogError> {
    log.receipt_file(db, clock, person_id, submission_id).await
}

/// What [`audit`] found.
#[derive(Clone, Debug, Default)]
pub struct Audit {
    /// Submissions in the database.
    pub submissions: u64,
    /// Submissions from before the receipt log (no `log_index`).
    pub without_leaf: u64,
    /// Leaves recomputed from the submissions.
    pub leaves: u64,
    /// Stored signed tree heads.
    pub heads: u64,
    /// The head of the largest tree.
    pub latest: Option<SignedTreeHead>,
    /// Everything that does not hold, in plain words; empty when the log verifies.
    pub problems: Vec<String>,
}

/// Recomputes every leaf from the stored submissions (not from any process's memory) and
/// checks every stored tree head against them: its signature, its root, and that it is
/// consistent with the latest head by a consistency proof.
pub async fn audit(db: &Db) -> Result<Audit, ReceiptLogError> {
    let mut found = Audit::default();
    let counts = db
        .fetch_optional(sql(
            "SELECT COUNT(*) AS submissions, COUNT(log_index) AS with_leaf FROM submission",
        ))
        .await?;
    if let Some(row) = counts {
        found.submissions = u64::try_from(row.get::<i64>("submissions")?).unwrap_or(0);
        let with_leaf = u64::try_from(row.get::<i64>("with_leaf")?).unwrap_or(0);
        found.without_leaf = found.submissions - with_leaf.min(found.submissions);
    }
    let mut tree = Tree::new();
    if let Err(e) = extend(db, &mut tree).await {
        found.problems.push(e.to_string());
    }
    found.leaves = tree.len() as u64;
    if found.leaves + found.without_leaf != found.submissions && found.problems.is_empty() {
        found.problems.push(format!(
            "{} submissions have a leaf index, but the log has {} leaves",
            found.submissions - found.without_leaf,
            found.leaves
        ));
    }
    let heads = stored_heads(db).await?;
    found.heads = heads.len() as u64;
    let key = match stored_key(db).await {
        Ok(key) => key.map(|k| k.public_jwk()),
        Err(e) => {
            found.problems.push(e.to_string());
            None
        }
    };
    let Some(latest) = heads.last().cloned() else {
        return Ok(found);
    };
    let Some(key) = key else {
        found
            .problems
            .push("there are signed tree heads but no receipt key".into());
        return Ok(found);
    };
    let latest_root = latest.root();
    for head in &heads {
        let size = head.tree_size;
        if let Err(e) = head.verify(&key) {
            found
                .problems
                .push(format!("the tree head of size {size}: {e}"));
        }
        if size > found.leaves {
            found.problems.push(format!(
                "the tree head of size {size} covers more leaves than the {} recomputed",
                found.leaves
            ));
            continue;
        }
        if check(&tree, head).is_err() {
            found.problems.push(format!(
                "the tree head of size {size}: its root is not the root of the first {size} leaves recomputed from the submissions"
            ));
        }
        let proof = tree
            .consistency_proof(size as usize, latest.tree_size as usize)
            .unwrap_or_default();
        let consistent = match (head.root(), latest_root) {
            (Some(old), Some(new)) => {
                merkle::verify_consistency(size, latest.tree_size, &old, &new, &proof)
            }
            _ => false,
        };
        if !consistent {
            found.problems.push(format!(
                "the tree head of size {size} is not consistent with the latest (size {})",
                latest.tree_size
            ));
        }
    }
    found.latest = Some(latest);
    Ok(found)
}

/// Checks a hash list of hexadecimal strings (a proof as published).
pub fn hashes_from_hex(hashes: &[String]) -> Option<Vec<Hash>> {
    hashes.iter().map(|h| hash_from_hex(h)).collect()
}

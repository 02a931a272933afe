-- E-filing office: attachments of drafts (and so of submissions). The files are in the blob
-- store (urad_store::blobs); these rows name them. Owned by urad-filing (see
-- crates/urad-filing/src/attachments.rs and docs/attachments.md).

-- A file in one of a form's attachment slots. `slot_index` is the slot's place in the form
-- version (fixed: a version never changes), `position` the order the draft's files were
-- added in: receipts list them by both. The type is decided from the content.
CREATE TABLE attachment (
    id TEXT PRIMARY KEY,
    draft_id TEXT NOT NULL,
    slot TEXT NOT NULL,
    slot_index BIGINT NOT NULL,
    position BIGINT NOT NULL,
    file_name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    blob_key TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    UNIQUE (draft_id, position)
);
CREATE INDEX attachment_draft ON attachment (draft_id, slot_index, position);

-- Blobs whose attachment row is not (or no longer) committed: an upload in progress
-- (`uploading`, touched by its process while bytes arrive) or a blob given up (`discard`: a
-- refused upload, a removed attachment, an upload whose process stopped). Recorded before
-- the blob is written, so that a crash never leaves a blob nobody knows of; the sweep
-- removes the blobs of `discard` rows and takes over `uploading` rows not touched for long.
CREATE TABLE attachment_pending (
    id TEXT PRIMARY KEY,
    draft_id TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    state TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    touched_at BIGINT NOT NULL
);
CREATE INDEX attachment_pending_state ON attachment_pending (state, touched_at);

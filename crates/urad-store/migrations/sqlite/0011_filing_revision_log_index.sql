-- E-filing office, expand step (the old columns and rows stay valid):
-- `draft.revision` counts every change of a draft (its data or its attachments), so that a
-- submission commits exactly the draft it validated; `submission.log_index` is the
-- submission's leaf in the receipt log (the append-only Merkle log of receipts), given in
-- the submission's own transaction from the `receipt-log` counter, so it follows commit order
-- without gaps.
-- Owned by urad-filing (see crates/urad-filing/src/lib.rs).
ALTER TABLE draft ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE submission ADD COLUMN log_index BIGINT;
CREATE UNIQUE INDEX submission_log_index ON submission (log_index);

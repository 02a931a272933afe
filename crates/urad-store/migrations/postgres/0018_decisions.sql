-- Decisions (rozhodnutí) issued in cases: the PDF/A document as issued (its bytes, base64,
-- and their SHA-256), delivered to the applicant's portal inbox. Owned by urad-cases.
CREATE TABLE decision (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL UNIQUE REFERENCES case_file (id),
    applicant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    issued_by TEXT NOT NULL,
    pdf_base64 TEXT NOT NULL,
    pdf_sha256 TEXT NOT NULL,
    read_at BIGINT
);
CREATE INDEX decision_applicant ON decision (applicant_id, issued_at);

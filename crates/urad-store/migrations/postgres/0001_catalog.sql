-- Service catalogue. Owned by urad-catalog; replaced as a whole by `urad seed`.
CREATE TABLE office (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    document TEXT NOT NULL
);

CREATE TABLE agenda (
    key TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    document TEXT NOT NULL
);

CREATE TABLE life_situation (
    key TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    document TEXT NOT NULL
);

CREATE TABLE service (
    slug TEXT PRIMARY KEY,
    agenda_key TEXT NOT NULL REFERENCES agenda (key),
    channel TEXT NOT NULL CHECK (channel IN ('online', 'in_person', 'both')),
    popularity BIGINT NOT NULL,
    fee_czk BIGINT,
    processing_days BIGINT NOT NULL,
    source_file TEXT NOT NULL,
    document TEXT NOT NULL
);

CREATE TABLE service_applicant_type (
    service_slug TEXT NOT NULL REFERENCES service (slug) ON DELETE CASCADE,
    applicant_type TEXT NOT NULL
        CHECK (applicant_type IN ('citizen', 'sole_trader', 'company', 'municipality')),
    PRIMARY KEY (service_slug, applicant_type)
);

CREATE TABLE service_life_situation (
    service_slug TEXT NOT NULL REFERENCES service (slug) ON DELETE CASCADE,
    situation_key TEXT NOT NULL REFERENCES life_situation (key),
    PRIMARY KEY (service_slug, situation_key)
);

CREATE INDEX service_agenda ON service (agenda_key);
CREATE INDEX service_life_situation_key ON service_life_situation (situation_key);

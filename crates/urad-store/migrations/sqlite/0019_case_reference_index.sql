-- Officials look a case up by its reference number (the access log's filter, the journal).
CREATE INDEX case_file_reference ON case_file (reference);

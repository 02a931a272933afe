//! Integration tests: the real server over HTTP, on SQLite and on PostgreSQL.
//! All in one test binary (each file in tests/ would be a separate link).

mod harness;

mod api;
mod attachments;
mod audit;
mod back_office;
mod binary;
mod cases;
mod client_auth;
mod content_clients;
mod documents;
mod filing;
mod filing_api;
mod form_pages;
mod grants;
mod identity;
mod jobs;
mod notify;
mod ops;
mod pages;
mod receipts;
mod seed;
mod signin;
mod smtp;
mod timestamps;

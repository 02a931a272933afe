//! Integration tests: the real server over HTTP, on SQLite and on PostgreSQL.
//! All in one test binary (each file in tests/ would be a separate link).

mod harness;

mod api;
mod binary;
mod client_auth;
mod content_clients;
mod documents;
mod filing;
mod identity;
mod ops;
mod pages;
mod seed;
mod signin;

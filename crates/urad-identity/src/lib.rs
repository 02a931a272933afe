//! The identity gateway (Identitní brána): one login for all the region's services.
//!
//! urad is an OpenID Connect provider for the region's services and brokers the national
//! identity (NIA) and bank identity (Bank iD) behind it. This crate holds the parts that do not
//! speak HTTP: signing keys and their rotation ([`keys`]), JOSE ([`jose`]), registered clients
//! ([`clients`]; those declared in `content/clients.toml`: [`client_content`]), levels of
//! assurance ([`loa`]) and the discovery metadata ([`discovery`]).

pub mod audit;
pub mod authorize;
pub mod client_auth;
pub mod client_content;
pub mod clients;
pub mod demo_idp;
pub mod discovery;
pub mod grants;
pub mod jose;
pub mod keys;
pub mod loa;
pub mod sessions;
pub mod signin;
pub mod tokens;
pub mod upstream;

pub use loa::Loa;

//! Grants: programmes and their calls as data (`content/grants/`), their rules in CEL, the
//! registries the rules consult, and the decision engine that the processing robot and the
//! what-if replay (`urad robot evaluate`) share. See docs/grants.md.

pub mod application;
pub mod engine;
pub mod expr;
pub mod programme;
pub mod registry;
pub mod replay;
pub mod robot;

pub use application::{Application, InputError};
pub use engine::{Allocation, Decision, Engine, Outcome};
pub use programme::{Call, DefinitionError, Programme};
pub use registry::{BuildingFacts, FileRegistry, GrantHistory, PropertyRegistry, RegistryError};

//! The back office (issue #5): what happens to a submission after the filing office has
//! received it. Each agenda of the office (grants, transport, health …) handles its case
//! files by a workflow that is data, not code; deadlines follow the Czech rules for counting
//! time.

pub mod access;
pub mod agenda;
pub mod cases;
pub mod dashboard;
pub mod deadline;
pub mod sip;
pub mod workflow;

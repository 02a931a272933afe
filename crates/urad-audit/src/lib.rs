//! The personal-data access log (to be written).

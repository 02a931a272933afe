//! Deadlines by Czech rules (to be written).

//! Thin adapters over the DRS and AWS Backup clients: they build requests from validated
//! contract types, turn answers into this project's plain types, and classify every SDK error
//! into a [`crate::error::TaskError`].

pub mod backup;
pub mod drs;
pub mod errors;
pub mod executions;
pub mod recovery_instances;

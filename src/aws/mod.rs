//! Thin adapters over the DRS and AWS Backup clients: they build requests from validated
//! contract types, turn answers into this project's plain types, and classify every SDK error
//! into a [`crate::error::TaskError`].

pub mod approvals_table;
pub mod backup;
pub mod callback;
pub mod drs;
pub mod errors;
pub mod evidence;
pub mod executions;
pub mod lease_table;
pub mod recovery_instances;
pub mod reports;
pub mod wake_table;

use std::time::{SystemTime, UNIX_EPOCH};

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

use crate::error::TaskError;

/// Seconds since the epoch, now: what the tables' TTL attributes (`expiresAt`) count in.
pub fn epoch_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A time as the DRS and Backup APIs take it in a string field (ISO 8601, UTC).
pub(crate) fn api_time(t: SystemTime) -> Result<String, TaskError> {
    DateTime::from(t)
        .fmt(Format::DateTime)
        .map_err(|e| TaskError::Unexpected {
            message: format!("formatting a time for an API request: {e}"),
        })
}

//! dr-orchestrator: Lambda handlers that start and judge AWS Elastic Disaster Recovery (DRS)
//! recoveries and failbacks and AWS Backup restores, wired together by Step Functions workflows.
//!
//! The data path of every handler is the same: a JSON payload is parsed into a type from
//! [`contract`], checked by [`validate`] before any AWS call, sent through a thin adapter in
//! [`aws`], and the answer is shaped back into a small [`contract`] type (judged by [`status`]
//! for the status handler). Failures are one [`error::TaskError`] with a stable Step Functions
//! error name.

pub mod aws;
pub mod config;
pub mod contract;
pub mod error;
pub mod handlers;
pub mod idempotency;
pub mod runtime;
pub mod status;
pub mod validate;

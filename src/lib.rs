//! dr-orchestrator: Lambda handlers that start and judge AWS Elastic Disaster Recovery (DRS)
//! recoveries and failbacks and AWS Backup restores, wired together by Step Functions workflows.
//!
//! Every workflow starts with `prepare-plan`: [`plan`] holds a plan's rules (defaults, limits,
//! validation, batching, idempotency keys) and [`preflight`] judges what DRS reports about its
//! servers. The other handlers share one data path: a JSON payload is parsed into a type from
//! [`contract`], checked by [`validate`] before any AWS call, sent through a thin adapter in
//! [`aws`], and the answer is shaped back into a small [`contract`] type (judged by [`status`]
//! and [`wave`] for the status handler; [`progress`] moves a run on after each wave and settles
//! how it ended). Failures are one [`error::TaskError`] with a stable
//! Step Functions error name.

pub mod approval;
pub mod aws;
pub mod cleanup;
pub mod config;
pub mod contract;
pub mod error;
pub mod functions;
pub mod handlers;
pub mod idempotency;
pub mod notify;
pub mod outage;
pub mod plan;
pub mod preflight;
pub mod progress;
pub mod report;
pub mod restore_metadata;
pub mod runtime;
pub mod status;
pub mod validate;
pub mod wake;
pub mod wave;

//! The run report: what a run achieved, measured from what DRS and AWS Backup recorded
//! (per-server RTO and RPO against the plan's targets), and the pages that show it.
//!
//! - [`model`]: the shape of `report.json` and of the history index.
//! - [`measure`]: from AWS's facts to the report (pure).
//! - [`html`]: `report.html` and `runs/index.html` (askama templates, inline SVG).
//! - [`index`]: the history of runs, merged so that no entry is lost.

pub mod html;
pub mod index;
pub mod measure;
pub mod model;

//! What every Lambda binary does once per cold start: logging as Lambda asks for it, the
//! typed configuration, and the shared AWS SDK configuration (which honours `AWS_ENDPOINT_URL`
//! and the per-service `AWS_ENDPOINT_URL_DRS` / `AWS_ENDPOINT_URL_BACKUP`).

use aws_config::{BehaviorVersion, SdkConfig};

use crate::config::Config;

/// Sets up tracing (JSON when `AWS_LAMBDA_LOG_FORMAT=JSON`), reads the configuration and loads
/// the SDK configuration. A bad setting fails here, in the init phase.
pub async fn init() -> Result<(Config, SdkConfig), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
    Ok((config, sdk))
}

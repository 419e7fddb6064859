//! What every Lambda binary does once per cold start: logging as Lambda asks for it, the
//! typed configuration, and the function's AWS SDK clients (from the shared SDK
//! configuration, which honours `AWS_ENDPOINT_URL` and the per-service variables such as
//! `AWS_ENDPOINT_URL_DRS`).
//!
//! Most of a cold start is the SDK's HTTPS client reading and parsing the root certificates.
//! [`clients`] does that on a thread of its own, so the runtime asks Lambda for the first
//! event at once and the two overlap; the first invocation waits for the clients if they are
//! not ready yet. The clients are the SDK's own, built as they were on the init path.

use std::sync::Mutex;

use aws_config::{BehaviorVersion, SdkConfig};
use tokio::runtime::Handle;
use tokio::sync::OnceCell;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::error::TaskError;

/// Sets up tracing (JSON when `AWS_LAMBDA_LOG_FORMAT=JSON`) and reads the configuration. A bad
/// setting fails here, in the init phase.
pub fn init() -> Result<Config, lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    Ok(Config::from_env()?)
}

/// SDK clients being built on a thread of their own; [`SdkClients::get`] waits for them once.
#[derive(Debug)]
pub struct SdkClients<T> {
    ready: OnceCell<T>,
    pending: Mutex<Option<JoinHandle<T>>>,
}

/// Loads the SDK configuration and turns it into the function's clients with `build`, on a
/// thread of the runtime's blocking pool, in the runtime's context (the main thread drives its
/// I/O and timers meanwhile).
pub fn clients<T, F>(build: F) -> Result<SdkClients<T>, lambda_runtime::Error>
where
    T: Send + 'static,
    F: FnOnce(&SdkConfig) -> T + Send + 'static,
{
    let runtime = Handle::try_current()?;
    let building = runtime.clone().spawn_blocking(move || {
        let sdk = runtime.block_on(aws_config::defaults(BehaviorVersion::latest()).load());
        build(&sdk)
    });
    Ok(SdkClients {
        ready: OnceCell::new(),
        pending: Mutex::new(Some(building)),
    })
}

impl<T> SdkClients<T> {
    /// The clients, once built (the first call waits for the thread).
    pub async fn get(&self) -> Result<&T, TaskError> {
        self.ready
            .get_or_try_init(|| async {
                let pending = self
                    .pending
                    .lock()
                    .map_err(|_| unbuilt("an earlier invocation panicked while waiting"))?
                    .take();
                match pending {
                    Some(building) => building
                        .await
                        .map_err(|e| unbuilt(&format!("the thread building them ended: {e}"))),
                    None => Err(unbuilt("their build failed at an earlier invocation")),
                }
            })
            .await
    }
}

fn unbuilt(why: &str) -> TaskError {
    TaskError::Unexpected {
        message: format!("the function's AWS SDK clients could not be built: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn clients_built_on_their_thread_are_handed_out_once_and_kept() {
        let clients = clients(|sdk| {
            (
                std::thread::current().id(),
                sdk.behavior_version().is_some(),
            )
        })
        .unwrap();
        let first = clients.get().await.unwrap() as *const _;
        let (thread, configured) = clients.get().await.unwrap();
        assert_ne!(*thread, std::thread::current().id());
        assert!(configured);
        assert_eq!(first, clients.get().await.unwrap() as *const _);
    }

    #[tokio::test]
    async fn a_build_that_dies_is_an_unexpected_error_not_a_hang() {
        let clients: SdkClients<()> = clients(|_| panic!("no clients today")).unwrap();
        let err = clients.get().await.unwrap_err();
        assert!(matches!(err, TaskError::Unexpected { .. }), "{err:?}");
        assert!(err.to_string().contains("no clients today"), "{err}");
        // Asked again, it says so again instead of waiting.
        let again = clients.get().await.unwrap_err();
        assert!(again.to_string().contains("earlier invocation"), "{again}");
    }
}

//! The deployed Lambda entry point of every function: it serves the one the function's
//! `Handler` setting names (`_HANDLER`), so that `sam build` builds one binary for all ten.
use dr_orchestrator::functions::serve_handler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    serve_handler().await
}

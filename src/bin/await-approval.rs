//! Lambda entry point for `await-approval` under `cargo lambda watch`; the logic is in the library.
use dr_orchestrator::functions::{serve, Function};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    serve(Function::AwaitApproval).await
}

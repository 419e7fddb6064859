//! Lambda entry point for `answer-approval` under `cargo lambda watch`; the logic is in the library.
use dr_orchestrator::functions::{serve, Function};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    serve(Function::AnswerApproval).await
}

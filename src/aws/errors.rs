//! Maps an SDK error of either service to a [`TaskError`] by its modelled error code, keeping
//! AWS's `Retry-After` hint for throttling.

use aws_sdk_drs::config::http::HttpResponse;
use aws_sdk_drs::error::{ProvideErrorMetadata, SdkError};

use crate::error::TaskError;

/// Classifies the error of the call named `operation`.
pub fn classify<E>(operation: &str, err: SdkError<E, HttpResponse>) -> TaskError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let retry_after_seconds = match &err {
        SdkError::ServiceError(ctx) => ctx
            .raw()
            .headers()
            .get("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok()),
        _ => None,
    };
    let code = err.code().map(str::to_owned);
    let detail = err
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| aws_smithy_types::error::display::DisplayErrorContext(&err).to_string());
    let message = match &code {
        Some(code) => format!("{operation}: {code}: {detail}"),
        None => format!("{operation}: {detail}"),
    };
    if matches!(
        err,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_)
    ) {
        return TaskError::AwsUnavailable { message };
    }
    match code.as_deref() {
        Some("ThrottlingException" | "TooManyRequestsException") => TaskError::Throttled {
            message,
            retry_after_seconds,
        },
        Some("LimitExceededException") if is_rate_limit(&detail) => TaskError::Throttled {
            message,
            retry_after_seconds,
        },
        Some("ServiceQuotaExceededException" | "LimitExceededException") => {
            TaskError::QuotaExceeded { message }
        }
        Some("ConflictException" | "InvalidResourceStateException") => {
            TaskError::Conflict { message }
        }
        Some("ResourceNotFoundException") => TaskError::NotFound { message },
        Some("AccessDeniedException" | "UninitializedAccountException") => {
            TaskError::AccessDenied { message }
        }
        Some(
            "ValidationException"
            | "InvalidParameterValueException"
            | "MissingParameterValueException"
            | "InvalidRequestException",
        ) => TaskError::AwsRejected { message },
        Some(
            "InternalServerException"
            | "ServiceUnavailableException"
            | "DependencyFailureException",
        ) => TaskError::AwsUnavailable { message },
        _ => match &err {
            SdkError::ServiceError(ctx) if ctx.raw().status().is_server_error() => {
                TaskError::AwsUnavailable { message }
            }
            SdkError::ResponseError(_) => TaskError::AwsUnavailable { message },
            _ => TaskError::Unexpected { message },
        },
    }
}

/// AWS Backup reports both quota and request-rate limits as `LimitExceededException`.
fn is_rate_limit(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("rate") || m.contains("throttl")
}

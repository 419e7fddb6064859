//! Errors in the services' real REST-JSON wire form: the modelled HTTP status, the
//! `x-amzn-errortype` header, a JSON body with the modelled members (camelCase for DRS,
//! PascalCase for Backup), and `Retry-After` where DRS models `retryAfterSeconds`.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// An error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub error_type: &'static str,
    pub body: Value,
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn drs_throttled(op: &str, retry_after: u32) -> Self {
        ApiError {
            status: 429,
            error_type: "ThrottlingException",
            body: json!({"message": format!("Rate exceeded for {op}"), "serviceCode": "drs", "quotaCode": "L-DRS-API-RATE"}),
            retry_after: Some(retry_after),
        }
    }

    pub fn drs_internal(op: &str) -> Self {
        ApiError {
            status: 500,
            error_type: "InternalServerException",
            body: json!({"message": format!("Internal error while processing {op}")}),
            retry_after: Some(1),
        }
    }

    /// What a service in an outage answers, whatever the operation: a 503 with no modelled
    /// error type (the SDKs treat it as a transient server error).
    pub fn outage() -> Self {
        ApiError {
            status: 503,
            error_type: "ServiceUnavailable",
            body: json!({"message": "Service Unavailable"}),
            retry_after: None,
        }
    }

    pub fn conflict(message: String, resource_id: &str, resource_type: &str) -> Self {
        ApiError {
            status: 409,
            error_type: "ConflictException",
            body: json!({"message": message, "code": "CONFLICT", "resourceId": resource_id, "resourceType": resource_type}),
            retry_after: None,
        }
    }

    pub fn quota(message: String, quota_code: &str) -> Self {
        ApiError {
            status: 402,
            error_type: "ServiceQuotaExceededException",
            body: json!({"message": message, "code": "SERVICE_QUOTA_EXCEEDED", "serviceCode": "drs", "quotaCode": quota_code}),
            retry_after: None,
        }
    }

    pub fn validation(message: String, field: &str) -> Self {
        ApiError {
            status: 400,
            error_type: "ValidationException",
            body: json!({
                "message": message.clone(),
                "code": "VALIDATION_ERROR",
                "reason": "fieldValidationFailed",
                "fieldList": [{"name": field, "message": message}]
            }),
            retry_after: None,
        }
    }

    pub fn drs_not_found(message: String, resource_id: &str, resource_type: &str) -> Self {
        ApiError {
            status: 404,
            error_type: "ResourceNotFoundException",
            body: json!({"message": message, "code": "NOT_FOUND", "resourceId": resource_id, "resourceType": resource_type}),
            retry_after: None,
        }
    }

    fn backup(status: u16, error_type: &'static str, message: String) -> Self {
        ApiError {
            status,
            error_type,
            body: json!({"Code": error_type, "Message": message}),
            retry_after: None,
        }
    }

    pub fn backup_not_found(message: String) -> Self {
        Self::backup(400, "ResourceNotFoundException", message)
    }

    pub fn backup_invalid(message: String) -> Self {
        Self::backup(400, "InvalidParameterValueException", message)
    }

    pub fn backup_missing(message: String) -> Self {
        Self::backup(400, "MissingParameterValueException", message)
    }

    pub fn backup_throttled(op: &str) -> Self {
        Self::backup(
            400,
            "ThrottlingException",
            format!("Rate exceeded for {op}"),
        )
    }

    pub fn backup_unavailable(op: &str) -> Self {
        Self::backup(
            500,
            "ServiceUnavailableException",
            format!("{op} is unavailable, try again"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, Json(self.body)).into_response();
        resp.headers_mut().insert(
            "x-amzn-errortype",
            HeaderValue::from_static(self.error_type),
        );
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert("retry-after", HeaderValue::from(secs));
        }
        resp
    }
}

/// A successful JSON answer with the modelled status code.
pub fn ok(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        Json(body),
    )
        .into_response()
}

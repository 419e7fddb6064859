//! `answer-approval`: the approval endpoint, a Lambda function URL with `AWS_IAM` auth. Lambda
//! verifies the caller's signature and permission before this runs and passes the caller's ARN;
//! this checks that ARN against the deployment's approvers, checks the request, records the
//! answer once in the approvals table and only then resumes the waiting run with it.
//!
//! Answers (JSON): 200 answered; 400 `InvalidInput` naming the field; 401 not signed; 403
//! `NotAnApprover`; 404 `NotWaiting` (unknown id, or the run has not started waiting yet: try
//! again in a few seconds); 405 not a POST; 409 `AlreadyAnswered` (someone else, or another
//! decision, came first: that answer stands); 410 `NoLongerWaiting` (recorded, but the wait had
//! ended); 503 an AWS error (send it again: the same approver's same decision is sent again to
//! the run, so a retry is safe).

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use aws_lambda_events::http;
use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};
use tracing::{info, warn};

use crate::approval::{AnswerRequest, ApprovalAnswer, Approvers};
use crate::aws::approvals_table::{now_rfc3339, ApprovalsTable, Recorded, Resumed};
use crate::error::TaskError;

/// What the endpoint needs: the table, and who may answer.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub table: ApprovalsTable,
    pub approvers: Approvers,
}

/// The caller's ARN as AWS verified it, if the request was signed.
pub fn verified_caller(request: &LambdaFunctionUrlRequest) -> Option<&str> {
    request
        .request_context
        .authorizer
        .as_ref()?
        .iam
        .as_ref()?
        .user_arn
        .as_deref()
        .filter(|arn| !arn.is_empty())
}

/// The body of `request`, decoded.
fn body(request: &LambdaFunctionUrlRequest) -> Result<String, TaskError> {
    let raw = request.body.clone().unwrap_or_default();
    if !request.is_base64_encoded {
        return Ok(raw);
    }
    aws_smithy_types::base64::decode(&raw)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| TaskError::invalid("body", "must be UTF-8 JSON"))
}

/// An HTTP answer: its status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: i64,
    pub body: Value,
}

/// What was asked, before any AWS call: the verified caller and the answer it gives, or the
/// reply that refuses it.
pub fn admit(
    approvers: &Approvers,
    request: &LambdaFunctionUrlRequest,
) -> Result<(String, AnswerRequest), Reply> {
    let method = request.request_context.http.method.as_deref().unwrap_or("");
    if !method.eq_ignore_ascii_case("POST") {
        return Err(reply(
            405,
            json!({"error": "MethodNotAllowed", "message": "POST an answer: {\"approvalId\", \"decision\": \"APPROVE\" | \"REJECT\", \"reason\"}"}),
        ));
    }
    let Some(caller) = verified_caller(request) else {
        return Err(reply(
            401,
            json!({"error": "NotSigned", "message": "the approval endpoint takes requests signed with AWS credentials (the function URL's AuthType is AWS_IAM)"}),
        ));
    };
    if !approvers.admit(caller) {
        warn!(caller, "refused: not an approver");
        return Err(reply(
            403,
            json!({"error": "NotAnApprover", "caller": caller, "message": "the deployment's ApproverPrincipals do not name this caller; nothing was recorded"}),
        ));
    }
    let parsed = body(request).and_then(|b| AnswerRequest::parse(&b));
    match parsed {
        Ok(answer) => Ok((caller.to_owned(), answer)),
        Err(TaskError::InvalidInput { field, constraint }) => Err(reply(
            400,
            json!({"error": "InvalidInput", "field": field, "message": constraint}),
        )),
        Err(other) => Err(reply(
            400,
            json!({"error": other.name(), "message": other.to_string()}),
        )),
    }
}

/// Handles one request; every outcome is an HTTP answer.
pub async fn handle(
    endpoint: &Endpoint,
    event: LambdaEvent<LambdaFunctionUrlRequest>,
) -> Result<LambdaFunctionUrlResponse, TaskError> {
    let (caller, request) = match admit(&endpoint.approvers, &event.payload) {
        Ok(admitted) => admitted,
        Err(refusal) => return Ok(response(refusal.status, refusal.body)),
    };
    let answer = ApprovalAnswer::of(&request, &caller, now_rfc3339());
    match answer_with(&endpoint.table, &answer).await {
        Ok(done) => Ok(done),
        Err(e) => Ok(response(
            503,
            json!({"error": e.name(), "message": e.to_string(), "retry": "the answer may not be recorded: send it again"}),
        )),
    }
}

async fn answer_with(
    table: &ApprovalsTable,
    answer: &ApprovalAnswer,
) -> Result<LambdaFunctionUrlResponse, TaskError> {
    let (token, answer) = match table.record(answer).await? {
        Recorded::Recorded { token } => (token, answer.clone()),
        Recorded::NotWaiting => {
            return Ok(response(
                404,
                json!({"error": "NotWaiting", "approvalId": answer.approval_id, "message": "no run waits for this approval: check the id; if the request has just arrived, the run may not be waiting yet: try again in a few seconds"}),
            ));
        }
        // The same approver sending the same decision again (a retry after a lost reply, or
        // after the run could not be resumed): the recorded answer goes to the run again, so
        // that a retry is safe.
        Recorded::AlreadyAnswered {
            first,
            token,
            delivered,
        } if first.by == answer.by && first.verdict == answer.verdict => {
            if delivered {
                return Ok(response(
                    200,
                    json!({"answered": first, "message": "answered before: this was a retry"}),
                ));
            }
            (token, first)
        }
        Recorded::AlreadyAnswered { first, .. } => {
            return Ok(response(
                409,
                json!({"error": "AlreadyAnswered", "message": "this approval was answered already; the first answer stands", "answer": first}),
            ));
        }
    };
    let resumed = table.resume(&token, &answer).await?;
    info!(approval = %answer.approval_id, by = %answer.by, verdict = ?answer.verdict, ?resumed, "answered");
    Ok(match resumed {
        Resumed::Resumed => response(200, json!({"answered": answer})),
        Resumed::Gone => response(
            410,
            json!({"error": "NoLongerWaiting", "message": "the answer is recorded, but the run had stopped waiting (timed out or ended): it changed nothing", "answer": answer}),
        ),
    })
}

fn reply(status: i64, body: Value) -> Reply {
    Reply { status, body }
}

fn response(status: i64, body: Value) -> LambdaFunctionUrlResponse {
    let mut r = LambdaFunctionUrlResponse::default();
    r.status_code = status;
    r.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r.body = Some(body.to_string());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(caller: Option<&str>, method: &str, body: &str) -> LambdaFunctionUrlRequest {
        let mut context = json!({"http": {"method": method}, "timeEpoch": 0});
        if let Some(arn) = caller {
            context["authorizer"] = json!({"iam": {"userArn": arn}});
        }
        serde_json::from_value(json!({
            "requestContext": context, "body": body, "isBase64Encoded": false, "headers": {}
        }))
        .expect("a function URL request")
    }

    const APPROVER: &str = "arn:aws:sts::123456789012:assumed-role/DrApprover/ada";

    #[test]
    fn only_a_signed_post_of_a_named_approver_with_a_valid_answer_is_admitted() {
        let approvers = Approvers::parse("arn:aws:iam::123456789012:role/DrApprover").unwrap();
        let id =
            crate::approval::approval_id("arn:aws:states:eu-west-1:123456789012:execution:x:y", 0);
        let body =
            format!(r#"{{"approvalId": "{id}", "decision": "REJECT", "reason": "not now"}}"#);
        let (caller, answer) = admit(&approvers, &request(Some(APPROVER), "POST", &body)).unwrap();
        assert_eq!(
            (caller.as_str(), answer.reason.as_str()),
            (APPROVER, "not now")
        );
        let refused = |r: LambdaFunctionUrlRequest| admit(&approvers, &r).unwrap_err();
        assert_eq!(refused(request(Some(APPROVER), "GET", &body)).status, 405);
        assert_eq!(refused(request(None, "POST", &body)).status, 401);
        let intruder = refused(request(
            Some("arn:aws:sts::123456789012:assumed-role/Other/mallory"),
            "POST",
            &body,
        ));
        assert_eq!(
            (intruder.status, &intruder.body["error"]),
            (403, &json!("NotAnApprover"))
        );
        let bad = refused(request(Some(APPROVER), "POST", "{\"approvalId\": 1}"));
        assert_eq!(
            (bad.status, &bad.body["field"]),
            (400, &json!("approvalId"))
        );
        let not_json = refused(request(Some(APPROVER), "POST", "approve"));
        assert_eq!(
            (not_json.status, &not_json.body["field"]),
            (400, &json!("body"))
        );
    }
}

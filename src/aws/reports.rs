//! The report bucket: whole objects written and read, and the conditional writes that keep the
//! run history whole when two runs end at once (S3's `If-Match` / `If-None-Match`). The SDK's
//! types stay in here.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

use super::errors::classify;
use crate::error::TaskError;

/// An object as read, with the ETag a conditional write names.
pub struct Versioned {
    pub body: Vec<u8>,
    pub etag: String,
}

/// What a conditional write expects of the object it replaces.
pub enum Expect<'a> {
    /// The object has not changed since it was read with this ETag.
    Unchanged(&'a str),
    /// There is no such object yet.
    Absent,
}

/// Writes `body` under `key`.
pub async fn put(
    client: &Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    content_type: &str,
) -> Result<(), TaskError> {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| classify("PutObject", e))?;
    Ok(())
}

/// Writes `body` under `key` only if the object is as expected; `Ok(false)` when another
/// writer got there first (412 `PreconditionFailed`, or 409 `ConditionalRequestConflict`).
pub async fn put_if(
    client: &Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    content_type: &str,
    expect: Expect<'_>,
) -> Result<bool, TaskError> {
    let request = client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .body(ByteStream::from(body));
    let request = match expect {
        Expect::Unchanged(etag) => request.if_match(etag),
        Expect::Absent => request.if_none_match("*"),
    };
    match request.send().await {
        Ok(_) => Ok(true),
        Err(e)
            if matches!(
                e.code(),
                Some("PreconditionFailed" | "ConditionalRequestConflict")
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(classify("PutObject", e)),
    }
}

/// Reads `key`; `None` when there is no such object.
pub async fn get(client: &Client, bucket: &str, key: &str) -> Result<Option<Versioned>, TaskError> {
    match client.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => {
            let etag = out.e_tag().unwrap_or_default().to_owned();
            let body = out
                .body
                .collect()
                .await
                .map_err(|e| TaskError::AwsUnavailable {
                    message: format!("GetObject {key}: reading the body: {e}"),
                })?
                .to_vec();
            Ok(Some(Versioned { body, etag }))
        }
        Err(e) if e.code() == Some("NoSuchKey") => Ok(None),
        Err(e) => Err(classify("GetObject", e)),
    }
}

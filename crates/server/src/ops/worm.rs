//! Bucket retention (InitiateBucketWorm, CompleteBucketWorm, ExtendBucketWorm, GetBucketWorm,
//! AbortBucketWorm) and RestoreObject for archive objects.

use super::Answer;
use super::{blocking, check_access, empty, ok_xml, require_owner};
use crate::dialect::vocab::Vocab;
use crate::http::body::{read_small_body, Body};
use crate::http::req::Req;
use crate::http::util::{self};
use crate::http::xml::{parse, XmlOut};
use crate::State;
use http::{Method, Response, StatusCode};
use hyper::body::Incoming;
use ossd_engine::model::BucketRecord;
use ossd_engine::retention::RestoreOutcome;
use ossd_errors::{Code, Error, Result};
use std::sync::Arc;

pub(crate) fn days_from(raw: &[u8], root: &str) -> Result<u32> {
    let doc = parse(raw, root)?;
    let d = doc
        .text_of("RetentionPeriodInDays")
        .ok_or_else(|| Error::new(Code::MalformedXML).ctx("Detail", "RetentionPeriodInDays is missing"))?;
    let n: i64 = d
        .trim()
        .parse()
        .map_err(|_| Error::new(Code::InvalidWORMConfigurationNotNumber).ctx("RetentionPeriodInDays", d))?;
    u32::try_from(n).map_err(|_| Error::new(Code::InvalidWORMConfigurationDays).ctx("RetentionPeriodInDays", d))
}

/// Every `?worm`, `?wormId` and `?wormExtend` request on a bucket.
pub async fn handle(state: &Arc<State>, r: &Req, b: &BucketRecord, body: Incoming) -> Result<Response<Body>> {
    let vocab = Vocab::of(r.dialect);
    require_owner(r, b)?;
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    match (&r.method, r.q("wormId")) {
        (&Method::POST, None) if r.has("worm") => {
            let raw = read_small_body(state, body, 64 * 1024).await?;
            let days = days_from(&raw, "InitiateWormConfiguration")?;
            let w = blocking(move || engine.init_worm(&bucket, days)).await?;
            Response::builder().engine_header(vocab, "worm-id", w.id).body(Body::Empty).map_err(Error::internal)
        }
        (&Method::POST, Some(id)) if r.has("wormExtend") => {
            let raw = read_small_body(state, body, 64 * 1024).await?;
            let days = days_from(&raw, "ExtendWormConfiguration")?;
            let id = id.to_string();
            blocking(move || engine.extend_worm(&bucket, &id, days)).await?;
            empty(StatusCode::OK)
        }
        (&Method::POST, Some(id)) => {
            let id = id.to_string();
            blocking(move || engine.complete_worm(&bucket, &id)).await?;
            empty(StatusCode::OK)
        }
        (&Method::GET, None) if r.has("worm") => {
            let w = blocking(move || engine.worm(&bucket)).await?;
            let w = w.ok_or_else(|| Error::new(Code::NoSuchWORMConfiguration).ctx("BucketName", b.name.clone()))?;
            let mut x = XmlOut::new("WormConfiguration");
            x.el("WormId", &w.id)
                .el("State", &w.state)
                .el("RetentionPeriodInDays", &w.days.to_string())
                .el("CreationDate", &util::iso8601(w.created_ms));
            ok_xml(x.finish("WormConfiguration"))
        }
        (&Method::DELETE, None) if r.has("worm") => {
            blocking(move || engine.abort_worm(&bucket)).await?;
            empty(StatusCode::NO_CONTENT)
        }
        _ => Err(Error::new(Code::MethodNotAllowed).ctx("Method", r.method.as_str()).ctx("ResourceType", "Worm")),
    }
}

/// RestoreObject: 202 when a restore starts, 200 when an already restored object is extended,
/// 409 RestoreAlreadyInProgress while one runs.
pub async fn restore_object(state: &Arc<State>, r: &Req, b: &BucketRecord, body: Incoming) -> Result<Response<Body>> {
    check_access(r, b, None, true)?;
    let key = r.key()?.to_string();
    let raw = read_small_body(state, body, 64 * 1024).await?;
    let mut days = 1u32;
    if !raw.iter().all(|c| c.is_ascii_whitespace()) {
        let doc = parse(&raw, "RestoreRequest")?;
        if let Some(d) = doc.text_of("Days") {
            days = match d.trim().parse() {
                Ok(n) if (1..=7).contains(&n) => n,
                _ => return Err(Error::invalid_argument("Days", d, "The restore days must be between 1 and 7.")),
            };
        }
    }
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    let outcome = blocking(move || engine.restore_object(&bucket, &key, days)).await?;
    empty(match outcome {
        RestoreOutcome::Started => StatusCode::ACCEPTED,
        RestoreOutcome::Extended => StatusCode::OK,
    })
}

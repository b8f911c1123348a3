//! Bucket operations: PutBucket, DeleteBucket, bucket ACL, location, info, quota.

use super::validate::{bucket_acl, storage_class};
use super::{blocking, empty, ok_xml, require_owner};
use crate::dialect::vocab::Vocab;
use crate::http::body::{read_small_body, Body};
use crate::http::req::Req;
use crate::http::util::iso8601;
use crate::http::xml::{parse, XmlOut};
use crate::State;
use http::{Response, StatusCode};
use hyper::body::Incoming;
use ossd_engine::model::BucketRecord;
use ossd_errors::{Code, Error, Result};
use std::sync::Arc;

pub fn anonymous_denied() -> Error {
    Error::new(Code::AccessDenied).msg("AccessDenied")
}

pub fn owner(x: &mut XmlOut, id: &str) {
    x.open("Owner").el("ID", id).el("DisplayName", id).close("Owner");
}

pub async fn put_bucket(state: &Arc<State>, r: &Req, body: Incoming) -> Result<Response<Body>> {
    let Some(user) = r.user.clone() else {
        return Err(anonymous_denied());
    };
    let name = r.bucket()?.to_string();
    let acl = r.h("x-oss-acl").map(bucket_acl).transpose()?.unwrap_or_else(|| "private".into());
    let raw = read_small_body(state, body, 64 * 1024).await?;
    let mut class = "Standard".to_string();
    if !raw.iter().all(|b| b.is_ascii_whitespace()) {
        let doc = parse(&raw, "CreateBucketConfiguration")?;
        if let Some(c) = doc.text_of("StorageClass") {
            class = storage_class(Code::InvalidStorageClassCopy, "StorageClass", c)?;
        }
    }
    let engine = state.engine.clone();
    let recreate_is_error = Vocab::of(r.dialect).recreate_is_error();
    blocking(move || match engine.create_bucket(&user.access_key_id, &name, &acl, &class) {
        // S3, COS and OBS tell an owner that the bucket is already theirs; OSS answers 200.
        Err(e) if !recreate_is_error && e.code == Code::BucketAlreadyOwnedByYou => Ok(()),
        res => res.map(|_| ()),
    })
    .await?;
    Response::builder()
        .header(http::header::LOCATION, format!("/{}", r.bucket()?))
        .body(Body::Empty)
        .map_err(Error::internal)
}

pub async fn put_bucket_acl(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    require_owner(r, b)?;
    let Some(acl) = r.h("x-oss-acl").map(bucket_acl).transpose()? else {
        return Err(Error::new(Code::MissingArgument).ctx("ArgumentName", "x-oss-acl"));
    };
    let engine = state.engine.clone();
    let name = b.name.clone();
    blocking(move || engine.put_bucket_acl(&name, &acl)).await?;
    state.forget_bucket(&b.name);
    empty(StatusCode::OK)
}

pub fn get_bucket_acl(r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    require_owner(r, b)?;
    acl_policy(r, &b.owner, &b.acl)
}

/// The AccessControlPolicy document: OSS's one-word Grant, or S3's list of grants.
pub fn acl_policy(r: &Req, owner_id: &str, acl: &str) -> Result<Response<Body>> {
    let mut x = XmlOut::new("AccessControlPolicy");
    owner(&mut x, owner_id);
    x.open("AccessControlList");
    Vocab::of(r.dialect).write_grants(&mut x, owner_id, acl);
    x.close("AccessControlList");
    ok_xml(x.finish("AccessControlPolicy"))
}

pub fn get_bucket_location(r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    require_owner(r, b)?;
    ok_xml(Vocab::of(r.dialect).location_constraint(&b.region))
}

pub fn get_bucket_info(state: &State, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    let vocab = Vocab::of(r.dialect);
    require_owner(r, b)?;
    let mut x = XmlOut::new("BucketInfo");
    x.open("Bucket")
        .el("AccessMonitor", "Disabled")
        .el("CreationDate", &iso8601(b.created_ms))
        .el("ExtranetEndpoint", &state.public_endpoint)
        .el("IntranetEndpoint", &state.public_endpoint)
        .el("Location", &format!("oss-{}", b.region))
        .el("StorageClass", vocab.storage_class(&b.storage_class))
        .el("TransferAcceleration", "Disabled")
        .el("CrossRegionReplication", "Disabled")
        .el("DataRedundancyType", "LRS")
        .el("Name", &b.name)
        .el("Region", &b.region);
    owner(&mut x, &b.owner);
    x.open("AccessControlList").el("Grant", &b.acl).close("AccessControlList");
    x.open("ServerSideEncryptionRule").el("SSEAlgorithm", "None").close("ServerSideEncryptionRule");
    x.open("BucketPolicy").el("LogBucket", "").el("LogPrefix", "").close("BucketPolicy");
    x.close("Bucket");
    ok_xml(x.finish("BucketInfo"))
}

pub async fn delete_bucket(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    require_owner(r, b)?;
    let engine = state.engine.clone();
    let name = b.name.clone();
    // S3 removes a bucket's unfinished multipart uploads with it; OSS (and COS, OBS) count them as content.
    let drop_uploads = Vocab::of(r.dialect).bucket_delete_drops_uploads();
    blocking(move || engine.delete_bucket(&name, drop_uploads)).await?;
    state.forget_bucket(&b.name);
    empty(StatusCode::NO_CONTENT)
}

/// SetBucketQuota and GetBucketQuota: a cap, in bytes, on what the bucket holds (0: none).
pub async fn quota(state: &Arc<State>, r: &Req, b: &BucketRecord, body: Incoming) -> Result<Response<Body>> {
    require_owner(r, b)?;
    let engine = state.engine.clone();
    let name = b.name.clone();
    match r.method {
        http::Method::PUT => {
            let raw = read_small_body(state, body, 64 * 1024).await?;
            let doc = parse(&raw, "Quota")?;
            let q = doc.text_of("StorageQuota").unwrap_or("");
            let bytes: u64 = q
                .trim()
                .parse()
                .map_err(|_| Error::invalid_argument("StorageQuota", q, "StorageQuota must be a number of bytes."))?;
            blocking(move || engine.set_quota(&name, bytes)).await?;
            empty(StatusCode::OK)
        }
        http::Method::GET => {
            let q = blocking(move || engine.quota(&name)).await?;
            let mut x = XmlOut::new("Quota");
            x.el("StorageQuota", &q.to_string());
            ok_xml(x.finish("Quota"))
        }
        _ => Err(Error::new(Code::MethodNotAllowed).ctx("Method", r.method.as_str()).ctx("ResourceType", "Quota")),
    }
}

//! The router: the request's [`Op`], decided once, picks the handler. What the Op cannot know (whether the
//! bucket exists, a website bucket's anonymous GET) is settled here, in the order OSS answers it.

use super::op::{Op, Resource};
use super::{
    bucket, bucket_record, config, copy, get, list, multipart, not_implemented_op, object, ok_xml, post, require_owner,
    website, worm,
};
use crate::http::body::Body;
use crate::http::req::Req;
use crate::State;
use http::Response;
use hyper::body::Incoming;
use ossd_errors::{Code, Error, Result};
use std::sync::Arc;

fn method_not_allowed(r: &Req, resource: Resource) -> Error {
    Error::new(Code::MethodNotAllowed).ctx("Method", r.method.as_str()).ctx("ResourceType", resource.resource_type())
}

/// Answers `op` (any Op but `Options`, which the pipeline answers before authentication).
pub async fn route(state: &Arc<State>, r: &Req, op: Op, body: Incoming) -> Result<Response<Body>> {
    match op {
        // OBS's signature negotiation: this server speaks OBS API 3.0 (whether or not the bucket exists, so
        // that the client's real request gets the real answer).
        Op::ObsApiVersion(_) => {
            return Response::builder().header("x-obs-api", "3.0").body(Body::Empty).map_err(Error::internal)
        }
        Op::ListBuckets => return list::list_buckets(state, r).await,
        Op::MethodNotAllowed(Resource::Service) => return Err(method_not_allowed(r, Resource::Service)),
        _ => {}
    }
    let bucket_name = r.bucket()?;
    ossd_engine::names::check_bucket_name(bucket_name)?;
    if op == Op::PutBucket {
        return bucket::put_bucket(state, r, body).await;
    }
    let b = bucket_record(state, bucket_name).await?;
    if matches!(op, Op::ListObjects | Op::GetObject) {
        if let Some(site) = website::website_key(state, r).await? {
            return website::website_get(state, r, &b, site).await;
        }
    }
    // A configuration kind's operations, and the methods it does not answer (after the owner check), are its own.
    let config_kind = match op {
        Op::MethodNotAllowed(Resource::Cors) => Some(config::CORS),
        Op::MethodNotAllowed(Resource::Lifecycle) => Some(config::LIFECYCLE),
        Op::MethodNotAllowed(Resource::Website) => Some(config::WEBSITE),
        Op::MethodNotAllowed(Resource::Logging) => Some(config::LOGGING),
        _ => op.config_kind(),
    };
    if let Some(kind) = config_kind {
        return config::handle(state, r, &b, kind, body).await;
    }
    if op.is_live() {
        return super::live::handle(state, r, &b, op, body).await;
    }
    match op {
        Op::InitiateBucketWorm
        | Op::AbortBucketWorm
        | Op::CompleteBucketWorm
        | Op::ExtendBucketWorm
        | Op::GetBucketWorm
        | Op::MethodNotAllowed(Resource::Worm) => worm::handle(state, r, &b, body).await,
        Op::SetBucketQuota | Op::GetBucketQuota | Op::MethodNotAllowed(Resource::Quota) => {
            bucket::quota(state, r, &b, body).await
        }
        Op::NotImplemented { what, .. } => Err(not_implemented_op(what)),
        Op::PutBucketAcl => bucket::put_bucket_acl(state, r, &b).await,
        Op::GetBucketAcl => bucket::get_bucket_acl(r, &b),
        Op::GetBucketLocation => bucket::get_bucket_location(r, &b),
        Op::GetBucketInfo => bucket::get_bucket_info(state, r, &b),
        Op::ListMultipartUploads => multipart::list_uploads(state, r, &b).await,
        Op::ListObjectVersions => list::list_object_versions(state, r, &b).await,
        Op::GetBucketVersioning => {
            // Buckets are unversioned: an empty configuration, as for a bucket that never had versioning.
            require_owner(r, &b)?;
            ok_xml("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VersioningConfiguration/>".to_string())
        }
        Op::ListObjects | Op::ListObjectsV2 => list::list_objects(state, r, &b).await,
        Op::HeadBucket => {
            require_owner(r, &b)?;
            Ok(Response::new(Body::Empty))
        }
        Op::DeleteBucket => bucket::delete_bucket(state, r, &b).await,
        Op::DeleteMultipleObjects => object::delete_multiple(state, r, &b, body).await,
        Op::PostObject => post::post_object(state, r, &b, body).await,
        Op::PutObjectAcl => object::put_object_acl(state, r, &b).await,
        Op::PutObjectTagging => object::put_object_tagging(state, r, &b, body).await,
        Op::PutSymlink => object::put_symlink(state, r, &b).await,
        Op::UploadPart | Op::UploadPartCopy => multipart::upload_part(state, r, &b, body).await,
        Op::CopyObject => copy::copy_object(state, r, &b).await,
        Op::PutObject => object::put_object(state, r, &b, body).await,
        Op::GetObjectAcl => object::get_object_acl(state, r, &b).await,
        Op::GetObjectTagging => object::get_object_tagging(state, r, &b).await,
        Op::GetSymlink => object::get_symlink(state, r, &b).await,
        Op::ListParts => multipart::list_parts(state, r, &b).await,
        Op::GetObject => get::get_object(state, r, &b, false).await,
        Op::GetObjectMeta => get::get_object_meta(state, r, &b).await,
        Op::HeadObject => get::get_object(state, r, &b, true).await,
        Op::DeleteObjectTagging => object::delete_object_tagging(state, r, &b).await,
        Op::AbortMultipartUpload => multipart::abort(state, r, &b).await,
        Op::DeleteObject => object::delete_object(state, r, &b).await,
        Op::InitiateMultipartUpload => multipart::initiate(state, r, &b).await,
        Op::CompleteMultipartUpload => multipart::complete(state, r, &b, body).await,
        Op::AppendObject => object::append_object(state, r, &b, body).await,
        Op::RestoreObject => worm::restore_object(state, r, &b, body).await,
        Op::MethodNotAllowed(res @ (Resource::Bucket | Resource::Object | Resource::Service)) => {
            Err(method_not_allowed(r, res))
        }
        // Answered above, or (Options) by the pipeline.
        Op::ListBuckets
        | Op::PutBucket
        | Op::ObsApiVersion(_)
        | Op::Options(_)
        | Op::MethodNotAllowed(Resource::Cors | Resource::Lifecycle | Resource::Website | Resource::Logging)
        | Op::PutBucketCors
        | Op::GetBucketCors
        | Op::DeleteBucketCors
        | Op::PutBucketLifecycle
        | Op::GetBucketLifecycle
        | Op::DeleteBucketLifecycle
        | Op::PutBucketWebsite
        | Op::GetBucketWebsite
        | Op::DeleteBucketWebsite
        | Op::PutBucketLogging
        | Op::GetBucketLogging
        | Op::DeleteBucketLogging
        | Op::ListLiveChannel
        | Op::PutLiveChannel
        | Op::PutLiveChannelStatus
        | Op::GetLiveChannelInfo
        | Op::GetLiveChannelStat
        | Op::GetLiveChannelHistory
        | Op::DeleteLiveChannel
        | Op::PostVodPlaylist
        | Op::GetVodPlaylist => Err(Error::internal(format!("{} reached the bucket router", op.name()))),
    }
}

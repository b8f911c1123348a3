//! The router: which operation handler answers a request, from its method, addressing and sub-resources.

use super::{
    bucket, bucket_record, config, copy, get, list, multipart, not_implemented_op, object, ok_xml, post, require_owner,
    website, worm,
};
use crate::http::body::Body;
use crate::http::req::Req;
use crate::State;
use http::{Method, Response};
use hyper::body::Incoming;
use ossd_errors::{Code, Error, Result};
use ossd_sign::V1_SUBRESOURCES;
use std::sync::Arc;

/// Which sub-resources name an operation (as opposed to plain parameters).
const BUCKET_SUBRESOURCES_NOT_IMPLEMENTED: &[&str] = &[
    "referer",
    "policy",
    "encryption",
    "replication",
    "replicationLocation",
    "replicationProgress",
    "inventory",
    "tagging",
    "qos",
    "stat",
    "requestPayment",
    "transferAcceleration",
    "cname",
    "metaQuery",
    "httpsConfig",
    "resourceGroup",
    "style",
    "publicAccessBlock",
    "accessPoint",
    "objectInfo",
    "asyncFetch",
    "live",
];

pub async fn route(state: &Arc<State>, r: &Req, body: Incoming) -> Result<Response<Body>> {
    let m = &r.method;
    if *m == Method::HEAD && r.has("apiversion") {
        // OBS's signature negotiation: this server speaks OBS API 3.0 (whether or not the bucket exists,
        // so that the client's real request gets the real answer).
        return Response::builder().header("x-obs-api", "3.0").body(Body::Empty).map_err(Error::internal);
    }
    let Some(bucket_name) = r.bucket.as_deref() else {
        return match *m {
            Method::GET => list::list_buckets(state, r).await,
            _ => Err(Error::new(Code::MethodNotAllowed).ctx("Method", m.as_str()).ctx("ResourceType", "Service")),
        };
    };
    ossd_engine::names::check_bucket_name(bucket_name)?;
    if r.key.is_none() {
        let names_subresource = r.query.iter().any(|(k, _)| V1_SUBRESOURCES.contains(&k.as_str()) || k == "quota");
        if *m == Method::PUT && !names_subresource {
            return bucket::put_bucket(state, r, body).await;
        }
        let b = bucket_record(state, bucket_name).await?;
        if r.has("worm") || r.has("wormId") {
            return worm::handle(state, r, &b, body).await;
        }
        if r.has("quota") {
            return bucket::quota(state, r, &b, body).await;
        }
        for kind in [config::CORS, config::LIFECYCLE, config::WEBSITE, config::LOGGING] {
            if r.has(kind) {
                return config::handle(state, r, &b, kind, body).await;
            }
        }
        if let Some(site) = website::website_key(state, r).await? {
            return website::website_get(state, r, &b, site).await;
        }
        if let Some(sub) = unimplemented_subresource(r) {
            return Err(not_implemented_op(sub));
        }
        return match *m {
            Method::PUT if r.has("versioning") => Err(not_implemented_op("PutBucketVersioning")),
            Method::PUT => bucket::put_bucket_acl(state, r, &b).await,
            Method::GET if r.has("acl") => bucket::get_bucket_acl(r, &b),
            Method::GET if r.has("location") => bucket::get_bucket_location(r, &b),
            Method::GET if r.has("bucketInfo") => bucket::get_bucket_info(state, r, &b),
            Method::GET if r.has("uploads") => multipart::list_uploads(state, r, &b).await,
            Method::GET if r.has("versions") => list::list_object_versions(state, r, &b).await,
            Method::GET if r.has("versioning") => {
                // Buckets are unversioned: an empty configuration, as for a bucket that never had versioning.
                require_owner(r, &b)?;
                ok_xml("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VersioningConfiguration/>".to_string())
            }
            Method::GET => list::list_objects(state, r, &b).await,
            Method::HEAD => {
                require_owner(r, &b)?;
                Ok(Response::new(Body::Empty))
            }
            Method::DELETE => bucket::delete_bucket(state, r, &b).await,
            Method::POST if r.has("delete") => object::delete_multiple(state, r, &b, body).await,
            Method::POST => post::post_object(state, r, &b, body).await,
            _ => Err(Error::new(Code::MethodNotAllowed).ctx("Method", m.as_str()).ctx("ResourceType", "Bucket")),
        };
    }
    let b = bucket_record(state, bucket_name).await?;
    if let Some(sub) = unimplemented_subresource(r).filter(|s| *s != "tagging") {
        return Err(not_implemented_op(sub));
    }
    if let Some(site) = website::website_key(state, r).await? {
        return website::website_get(state, r, &b, site).await;
    }
    match *m {
        Method::PUT if r.has("acl") => object::put_object_acl(state, r, &b).await,
        Method::PUT if r.has("tagging") => object::put_object_tagging(state, r, &b, body).await,
        Method::PUT if r.has("symlink") => object::put_symlink(state, r, &b).await,
        Method::PUT if r.has("uploadId") => multipart::upload_part(state, r, &b, body).await,
        Method::PUT if r.headers.contains_key("x-oss-copy-source") => copy::copy_object(state, r, &b).await,
        Method::PUT => object::put_object(state, r, &b, body).await,
        Method::GET if r.has("acl") => object::get_object_acl(state, r, &b).await,
        Method::GET if r.has("tagging") => object::get_object_tagging(state, r, &b).await,
        Method::GET if r.has("symlink") => object::get_symlink(state, r, &b).await,
        Method::GET if r.has("uploadId") => multipart::list_parts(state, r, &b).await,
        Method::GET => get::get_object(state, r, &b, false).await,
        Method::HEAD if r.has("objectMeta") => get::get_object_meta(state, r, &b).await,
        Method::HEAD => get::get_object(state, r, &b, true).await,
        Method::DELETE if r.has("tagging") => object::delete_object_tagging(state, r, &b).await,
        Method::DELETE if r.has("uploadId") => multipart::abort(state, r, &b).await,
        Method::DELETE => object::delete_object(state, r, &b).await,
        Method::POST if r.has("uploads") => multipart::initiate(state, r, &b).await,
        Method::POST if r.has("uploadId") => multipart::complete(state, r, &b, body).await,
        Method::POST if r.has("append") => object::append_object(state, r, &b, body).await,
        Method::POST if r.has("restore") => worm::restore_object(state, r, &b, body).await,
        _ => Err(Error::new(Code::MethodNotAllowed).ctx("Method", m.as_str()).ctx("ResourceType", "Object")),
    }
}

fn unimplemented_subresource(r: &Req) -> Option<&'static str> {
    BUCKET_SUBRESOURCES_NOT_IMPLEMENTED.iter().copied().find(|s| r.has(s))
}

//! The operation a request asks for, decided once per request from its method, addressing, query and headers
//! (in any dialect): one typed `Op` that both dispatches and names the operation (by its OSS API name) in the
//! access log.

use crate::http::req::Req;
use http::{HeaderMap, Method};
use ossd_errors::Dialect;
use ossd_sign::V1_SUBRESOURCES;

/// OSS sub-resources (bucket-level, and on objects except `tagging`) that name an operation ossd does not
/// implement: such a request is answered 400 NotImplemented. The first of this list the query names wins.
pub const SUBRESOURCES_NOT_IMPLEMENTED: &[&str] = &[
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
];

/// What a request addresses: the service (no bucket), a bucket, or an object in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Service,
    Bucket,
    Object,
}

/// The resource a method is not allowed on (405 MethodNotAllowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Service,
    Bucket,
    Object,
    /// `?worm` / `?wormId`: the bucket's retention policy.
    Worm,
    /// `?quota`.
    Quota,
    Cors,
    Lifecycle,
    Website,
    Logging,
}

impl Resource {
    /// The `ResourceType` the MethodNotAllowed error carries.
    pub fn resource_type(self) -> &'static str {
        match self {
            Resource::Service => "Service",
            Resource::Bucket => "Bucket",
            Resource::Object => "Object",
            Resource::Worm => "Worm",
            Resource::Quota => "Quota",
            Resource::Cors => "cors",
            Resource::Lifecycle => "lifecycle",
            Resource::Website => "website",
            Resource::Logging => "logging",
        }
    }

    /// Worm, quota and the configuration kinds are the bucket owner's: the owner check is answered before
    /// MethodNotAllowed. Service, Bucket and Object answer MethodNotAllowed at once.
    pub fn owner_only(self) -> bool {
        !matches!(self, Resource::Service | Resource::Bucket | Resource::Object)
    }

    fn level(self) -> Level {
        match self {
            Resource::Service => Level::Service,
            Resource::Object => Level::Object,
            _ => Level::Bucket,
        }
    }
}

/// One operation ossd answers (or recognizes), named after Alibaba Cloud OSS's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    // The service.
    /// ListBuckets (GetService).
    ListBuckets,

    // Buckets.
    PutBucket,
    DeleteBucket,
    /// HEAD on a bucket: whether it exists and the requester owns it.
    HeadBucket,
    GetBucketInfo,
    GetBucketLocation,
    GetBucketAcl,
    /// PUT on a bucket with any sub-resource that is not routed elsewhere (`?acl` in practice).
    PutBucketAcl,
    /// ListObjects (GetBucket). An anonymous one without any query parameter on a website bucket serves the
    /// index document instead.
    ListObjects,
    /// ListObjectsV2 (`list-type=2`).
    ListObjectsV2,
    ListObjectVersions,
    /// Buckets are unversioned: an empty configuration.
    GetBucketVersioning,
    ListMultipartUploads,
    DeleteMultipleObjects,
    /// A browser form upload (POST on a bucket).
    PostObject,
    PutBucketCors,
    GetBucketCors,
    DeleteBucketCors,
    PutBucketLifecycle,
    GetBucketLifecycle,
    DeleteBucketLifecycle,
    PutBucketWebsite,
    GetBucketWebsite,
    DeleteBucketWebsite,
    PutBucketLogging,
    GetBucketLogging,
    DeleteBucketLogging,
    InitiateBucketWorm,
    AbortBucketWorm,
    CompleteBucketWorm,
    ExtendBucketWorm,
    GetBucketWorm,
    /// `PUT ?quota` (OBS's SetBucketQuota).
    SetBucketQuota,
    /// `GET ?quota` (OBS's GetBucketQuota).
    GetBucketQuota,

    // Objects.
    PutObject,
    /// GetObject (also with `x-oss-process`). An anonymous one without any query parameter on a website bucket
    /// may serve the index or error document instead.
    GetObject,
    HeadObject,
    GetObjectMeta,
    DeleteObject,
    CopyObject,
    AppendObject,
    PutObjectAcl,
    GetObjectAcl,
    PutObjectTagging,
    GetObjectTagging,
    DeleteObjectTagging,
    PutSymlink,
    GetSymlink,
    RestoreObject,
    InitiateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,

    // LiveChannels (`?live`, `?vod`): ListLiveChannel on the bucket, the rest on `/<channel>`.
    ListLiveChannel,
    PutLiveChannel,
    PutLiveChannelStatus,
    GetLiveChannelInfo,
    GetLiveChannelStat,
    GetLiveChannelHistory,
    DeleteLiveChannel,
    /// `POST /<channel>/<playlist>?vod`.
    PostVodPlaylist,
    GetVodPlaylist,

    // Any level.
    /// A CORS preflight (answered before authentication).
    Options(Level),
    /// OBS's signature negotiation (`HEAD ?apiversion`), answered whether or not the bucket exists.
    ObsApiVersion(Level),
    /// A known operation ossd does not implement: 400 NotImplemented.
    NotImplemented {
        /// The operation's OSS API name (or the sub-resource's, where OSS has none for the method).
        name: &'static str,
        /// What the NotImplemented error names (`The operation {what} is not implemented by ossd yet.`).
        what: &'static str,
        level: Level,
    },
    /// A method the addressed resource does not answer: 405 MethodNotAllowed.
    MethodNotAllowed(Resource),
}

/// What `Op::from_request` reads of a request. `headers` may be the request's own or already normalized into
/// OSS's vocabulary (`dialect::normalize`): the decision is the same.
#[derive(Clone, Copy)]
pub struct RequestShape<'a> {
    pub method: &'a Method,
    pub has_bucket: bool,
    pub has_key: bool,
    /// Decoded query pairs, in order.
    pub query: &'a [(String, String)],
    pub headers: &'a HeaderMap,
    pub dialect: Dialect,
}

impl<'a> RequestShape<'a> {
    /// The shape of a parsed request.
    pub fn of(r: &'a Req) -> RequestShape<'a> {
        RequestShape {
            method: &r.method,
            has_bucket: r.bucket.is_some(),
            has_key: r.key.is_some(),
            query: &r.query,
            headers: &r.headers,
            dialect: r.dialect,
        }
    }
}

impl RequestShape<'_> {
    fn has(&self, k: &str) -> bool {
        self.query.iter().any(|(n, _)| n == k)
    }

    fn q(&self, k: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    /// The copy-source header, in the dialect's prefix or OSS's.
    fn copy_source(&self) -> bool {
        self.headers.contains_key("x-oss-copy-source")
            || self
                .headers
                .keys()
                .any(|k| k.as_str().strip_prefix(self.dialect.prefix()).is_some_and(|rest| rest == "copy-source"))
    }

    fn unimplemented_subresource(&self) -> Option<&'static str> {
        SUBRESOURCES_NOT_IMPLEMENTED.iter().copied().find(|s| self.has(s))
    }

    fn level(&self) -> Level {
        match (self.has_bucket, self.has_key) {
            (_, true) => Level::Object,
            (true, false) => Level::Bucket,
            (false, false) => Level::Service,
        }
    }
}

impl Op {
    /// Decides the operation of a request. Pure: no store, no authentication; what depends on those (a
    /// website bucket's anonymous GET, the owner checks) is the operation's to answer.
    pub fn from_request(r: &RequestShape) -> Op {
        let m = r.method;
        let level = r.level();
        if *m == Method::OPTIONS {
            return Op::Options(level);
        }
        if *m == Method::HEAD && r.has("apiversion") {
            return Op::ObsApiVersion(level);
        }
        if !r.has_bucket {
            return match *m {
                Method::GET => Op::ListBuckets,
                _ => Op::MethodNotAllowed(Resource::Service),
            };
        }
        if r.has_key {
            Op::object_op(r)
        } else {
            Op::bucket_op(r)
        }
    }

    fn bucket_op(r: &RequestShape) -> Op {
        let m = r.method;
        let names_subresource = r.query.iter().any(|(k, _)| V1_SUBRESOURCES.contains(&k.as_str()) || k == "quota");
        if *m == Method::PUT && !names_subresource {
            return Op::PutBucket;
        }
        if r.has("worm") || r.has("wormId") {
            return match (m, r.has("wormId")) {
                (&Method::POST, false) if r.has("worm") => Op::InitiateBucketWorm,
                (&Method::POST, true) if r.has("wormExtend") => Op::ExtendBucketWorm,
                (&Method::POST, true) => Op::CompleteBucketWorm,
                (&Method::GET, false) if r.has("worm") => Op::GetBucketWorm,
                (&Method::DELETE, false) if r.has("worm") => Op::AbortBucketWorm,
                _ => Op::MethodNotAllowed(Resource::Worm),
            };
        }
        if r.has("quota") {
            return match *m {
                Method::PUT => Op::SetBucketQuota,
                Method::GET => Op::GetBucketQuota,
                _ => Op::MethodNotAllowed(Resource::Quota),
            };
        }
        let configs = [
            ("cors", [Op::PutBucketCors, Op::GetBucketCors, Op::DeleteBucketCors], Resource::Cors),
            (
                "lifecycle",
                [Op::PutBucketLifecycle, Op::GetBucketLifecycle, Op::DeleteBucketLifecycle],
                Resource::Lifecycle,
            ),
            ("website", [Op::PutBucketWebsite, Op::GetBucketWebsite, Op::DeleteBucketWebsite], Resource::Website),
            ("logging", [Op::PutBucketLogging, Op::GetBucketLogging, Op::DeleteBucketLogging], Resource::Logging),
        ];
        for (kind, [put, get, delete], resource) in configs {
            if r.has(kind) {
                return match *m {
                    Method::PUT => put,
                    Method::GET => get,
                    Method::DELETE => delete,
                    _ => Op::MethodNotAllowed(resource),
                };
            }
        }
        if r.has("live") {
            return match *m {
                Method::GET => Op::ListLiveChannel,
                _ => Op::MethodNotAllowed(Resource::Bucket),
            };
        }
        if let Some(sub) = r.unimplemented_subresource() {
            return not_implemented(r, sub);
        }
        match *m {
            Method::PUT if r.has("versioning") => {
                Op::NotImplemented { name: "PutBucketVersioning", what: "PutBucketVersioning", level: Level::Bucket }
            }
            Method::PUT => Op::PutBucketAcl,
            Method::GET if r.has("acl") => Op::GetBucketAcl,
            Method::GET if r.has("location") => Op::GetBucketLocation,
            Method::GET if r.has("bucketInfo") => Op::GetBucketInfo,
            Method::GET if r.has("uploads") => Op::ListMultipartUploads,
            Method::GET if r.has("versions") => Op::ListObjectVersions,
            Method::GET if r.has("versioning") => Op::GetBucketVersioning,
            Method::GET if r.q("list-type") == Some("2") => Op::ListObjectsV2,
            Method::GET => Op::ListObjects,
            Method::HEAD => Op::HeadBucket,
            Method::DELETE => Op::DeleteBucket,
            Method::POST if r.has("delete") => Op::DeleteMultipleObjects,
            Method::POST => Op::PostObject,
            _ => Op::MethodNotAllowed(Resource::Bucket),
        }
    }

    fn object_op(r: &RequestShape) -> Op {
        if let Some(op) = Op::live_op(r) {
            return op;
        }
        if let Some(sub) = r.unimplemented_subresource().filter(|s| *s != "tagging") {
            return not_implemented(r, sub);
        }
        match *r.method {
            Method::PUT if r.has("acl") => Op::PutObjectAcl,
            Method::PUT if r.has("tagging") => Op::PutObjectTagging,
            Method::PUT if r.has("symlink") => Op::PutSymlink,
            Method::PUT if r.has("uploadId") && r.copy_source() => Op::UploadPartCopy,
            Method::PUT if r.has("uploadId") => Op::UploadPart,
            Method::PUT if r.copy_source() => Op::CopyObject,
            Method::PUT => Op::PutObject,
            Method::GET if r.has("acl") => Op::GetObjectAcl,
            Method::GET if r.has("tagging") => Op::GetObjectTagging,
            Method::GET if r.has("symlink") => Op::GetSymlink,
            Method::GET if r.has("uploadId") => Op::ListParts,
            Method::GET => Op::GetObject,
            Method::HEAD if r.has("objectMeta") => Op::GetObjectMeta,
            Method::HEAD => Op::HeadObject,
            Method::DELETE if r.has("tagging") => Op::DeleteObjectTagging,
            Method::DELETE if r.has("uploadId") => Op::AbortMultipartUpload,
            Method::DELETE => Op::DeleteObject,
            Method::POST if r.has("uploads") => Op::InitiateMultipartUpload,
            Method::POST if r.has("uploadId") => Op::CompleteMultipartUpload,
            Method::POST if r.has("append") => Op::AppendObject,
            Method::POST if r.has("restore") => Op::RestoreObject,
            _ => Op::MethodNotAllowed(Resource::Object),
        }
    }

    /// A LiveChannel operation on `/<channel>` (`?live`) or a VOD playlist (`?vod`).
    fn live_op(r: &RequestShape) -> Option<Op> {
        let comp = r.q("comp").unwrap_or("");
        if r.has("live") {
            return Some(match *r.method {
                Method::PUT if r.has("status") => Op::PutLiveChannelStatus,
                Method::PUT => Op::PutLiveChannel,
                Method::GET if comp == "stat" => Op::GetLiveChannelStat,
                Method::GET if comp == "history" => Op::GetLiveChannelHistory,
                Method::GET => Op::GetLiveChannelInfo,
                Method::DELETE => Op::DeleteLiveChannel,
                _ => Op::MethodNotAllowed(Resource::Object),
            });
        }
        if r.has("vod") {
            return Some(match *r.method {
                Method::POST => Op::PostVodPlaylist,
                Method::GET => Op::GetVodPlaylist,
                _ => Op::MethodNotAllowed(Resource::Object),
            });
        }
        None
    }

    /// Whether the operation is a LiveChannel one (`ops::live`).
    pub fn is_live(&self) -> bool {
        matches!(
            self,
            Op::ListLiveChannel
                | Op::PutLiveChannel
                | Op::PutLiveChannelStatus
                | Op::GetLiveChannelInfo
                | Op::GetLiveChannelStat
                | Op::GetLiveChannelHistory
                | Op::DeleteLiveChannel
                | Op::PostVodPlaylist
                | Op::GetVodPlaylist
        )
    }

    /// The operation's OSS API name, as the access log gives it.
    pub fn name(&self) -> &'static str {
        match self {
            Op::ListBuckets => "ListBuckets",
            Op::PutBucket => "PutBucket",
            Op::DeleteBucket => "DeleteBucket",
            Op::HeadBucket => "HeadBucket",
            Op::GetBucketInfo => "GetBucketInfo",
            Op::GetBucketLocation => "GetBucketLocation",
            Op::GetBucketAcl => "GetBucketAcl",
            Op::PutBucketAcl => "PutBucketAcl",
            Op::ListObjects => "ListObjects",
            Op::ListObjectsV2 => "ListObjectsV2",
            Op::ListObjectVersions => "ListObjectVersions",
            Op::GetBucketVersioning => "GetBucketVersioning",
            Op::ListMultipartUploads => "ListMultipartUploads",
            Op::DeleteMultipleObjects => "DeleteMultipleObjects",
            Op::PostObject => "PostObject",
            Op::PutBucketCors => "PutBucketCors",
            Op::GetBucketCors => "GetBucketCors",
            Op::DeleteBucketCors => "DeleteBucketCors",
            Op::PutBucketLifecycle => "PutBucketLifecycle",
            Op::GetBucketLifecycle => "GetBucketLifecycle",
            Op::DeleteBucketLifecycle => "DeleteBucketLifecycle",
            Op::PutBucketWebsite => "PutBucketWebsite",
            Op::GetBucketWebsite => "GetBucketWebsite",
            Op::DeleteBucketWebsite => "DeleteBucketWebsite",
            Op::PutBucketLogging => "PutBucketLogging",
            Op::GetBucketLogging => "GetBucketLogging",
            Op::DeleteBucketLogging => "DeleteBucketLogging",
            Op::InitiateBucketWorm => "InitiateBucketWorm",
            Op::AbortBucketWorm => "AbortBucketWorm",
            Op::CompleteBucketWorm => "CompleteBucketWorm",
            Op::ExtendBucketWorm => "ExtendBucketWorm",
            Op::GetBucketWorm => "GetBucketWorm",
            Op::SetBucketQuota => "SetBucketQuota",
            Op::GetBucketQuota => "GetBucketQuota",
            Op::PutObject => "PutObject",
            Op::GetObject => "GetObject",
            Op::HeadObject => "HeadObject",
            Op::GetObjectMeta => "GetObjectMeta",
            Op::DeleteObject => "DeleteObject",
            Op::CopyObject => "CopyObject",
            Op::AppendObject => "AppendObject",
            Op::PutObjectAcl => "PutObjectACL",
            Op::GetObjectAcl => "GetObjectACL",
            Op::PutObjectTagging => "PutObjectTagging",
            Op::GetObjectTagging => "GetObjectTagging",
            Op::DeleteObjectTagging => "DeleteObjectTagging",
            Op::PutSymlink => "PutSymlink",
            Op::GetSymlink => "GetSymlink",
            Op::RestoreObject => "RestoreObject",
            Op::InitiateMultipartUpload => "InitiateMultipartUpload",
            Op::UploadPart => "UploadPart",
            Op::UploadPartCopy => "UploadPartCopy",
            Op::CompleteMultipartUpload => "CompleteMultipartUpload",
            Op::AbortMultipartUpload => "AbortMultipartUpload",
            Op::ListParts => "ListParts",
            Op::ListLiveChannel => "ListLiveChannel",
            Op::PutLiveChannel => "PutLiveChannel",
            Op::PutLiveChannelStatus => "PutLiveChannelStatus",
            Op::GetLiveChannelInfo => "GetLiveChannelInfo",
            Op::GetLiveChannelStat => "GetLiveChannelStat",
            Op::GetLiveChannelHistory => "GetLiveChannelHistory",
            Op::DeleteLiveChannel => "DeleteLiveChannel",
            Op::PostVodPlaylist => "PostVodPlaylist",
            Op::GetVodPlaylist => "GetVodPlaylist",
            Op::Options(_) => "Options",
            Op::ObsApiVersion(_) => "GetApiVersion",
            Op::NotImplemented { name, .. } => name,
            Op::MethodNotAllowed(_) => "Unknown",
        }
    }

    /// Whether the request addresses the service, a bucket or an object. Service and bucket operations are
    /// the "meta" operations of the meta-QPS limit.
    pub fn level(&self) -> Level {
        match self {
            Op::ListBuckets => Level::Service,
            Op::PutBucket
            | Op::DeleteBucket
            | Op::HeadBucket
            | Op::GetBucketInfo
            | Op::GetBucketLocation
            | Op::GetBucketAcl
            | Op::PutBucketAcl
            | Op::ListObjects
            | Op::ListObjectsV2
            | Op::ListObjectVersions
            | Op::GetBucketVersioning
            | Op::ListMultipartUploads
            | Op::DeleteMultipleObjects
            | Op::PostObject
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
            | Op::InitiateBucketWorm
            | Op::AbortBucketWorm
            | Op::CompleteBucketWorm
            | Op::ExtendBucketWorm
            | Op::GetBucketWorm
            | Op::SetBucketQuota
            | Op::GetBucketQuota
            | Op::ListLiveChannel => Level::Bucket,
            Op::PutObject
            | Op::GetObject
            | Op::HeadObject
            | Op::GetObjectMeta
            | Op::DeleteObject
            | Op::CopyObject
            | Op::AppendObject
            | Op::PutObjectAcl
            | Op::GetObjectAcl
            | Op::PutObjectTagging
            | Op::GetObjectTagging
            | Op::DeleteObjectTagging
            | Op::PutSymlink
            | Op::GetSymlink
            | Op::RestoreObject
            | Op::InitiateMultipartUpload
            | Op::UploadPart
            | Op::UploadPartCopy
            | Op::CompleteMultipartUpload
            | Op::AbortMultipartUpload
            | Op::ListParts
            | Op::PutLiveChannel
            | Op::PutLiveChannelStatus
            | Op::GetLiveChannelInfo
            | Op::GetLiveChannelStat
            | Op::GetLiveChannelHistory
            | Op::DeleteLiveChannel
            | Op::PostVodPlaylist
            | Op::GetVodPlaylist => Level::Object,
            Op::Options(l) | Op::ObsApiVersion(l) | Op::NotImplemented { level: l, .. } => *l,
            Op::MethodNotAllowed(res) => res.level(),
        }
    }

    /// A service or bucket operation: what the meta-operation QPS limit counts.
    pub fn is_meta(&self) -> bool {
        self.level() != Level::Object
    }

    /// The bucket configuration kind (`cors`, `lifecycle`, `website`, `logging`) a configuration operation
    /// reads or writes.
    pub fn config_kind(&self) -> Option<&'static str> {
        match self {
            Op::PutBucketCors | Op::GetBucketCors | Op::DeleteBucketCors => Some("cors"),
            Op::PutBucketLifecycle | Op::GetBucketLifecycle | Op::DeleteBucketLifecycle => Some("lifecycle"),
            Op::PutBucketWebsite | Op::GetBucketWebsite | Op::DeleteBucketWebsite => Some("website"),
            Op::PutBucketLogging | Op::GetBucketLogging | Op::DeleteBucketLogging => Some("logging"),
            _ => None,
        }
    }
}

/// The NotImplemented operation a sub-resource names, with OSS's API name for its method.
fn not_implemented(r: &RequestShape, sub: &'static str) -> Op {
    let m = r.method;
    let comp = r.q("comp").unwrap_or("");
    let name = match (sub, m) {
        ("referer", &Method::PUT) => "PutBucketReferer",
        ("referer", &Method::GET) => "GetBucketReferer",
        ("policy", &Method::PUT) => "PutBucketPolicy",
        ("policy", &Method::GET) => "GetBucketPolicy",
        ("policy", &Method::DELETE) => "DeleteBucketPolicy",
        ("encryption", &Method::PUT) => "PutBucketEncryption",
        ("encryption", &Method::GET) => "GetBucketEncryption",
        ("encryption", &Method::DELETE) => "DeleteBucketEncryption",
        ("replication", &Method::PUT) if comp == "enableRtc" => "PutBucketRTC",
        ("replication", &Method::POST) if comp == "delete" => "DeleteBucketReplication",
        ("replication", &Method::DELETE) => "DeleteBucketReplication",
        ("replication", &Method::PUT | &Method::POST) => "PutBucketReplication",
        ("replication", &Method::GET) => "GetBucketReplication",
        ("replicationLocation", &Method::GET) => "GetBucketReplicationLocation",
        ("replicationProgress", &Method::GET) => "GetBucketReplicationProgress",
        ("inventory", &Method::PUT) => "PutBucketInventory",
        ("inventory", &Method::GET) if r.has("inventoryId") => "GetBucketInventory",
        ("inventory", &Method::GET) => "ListBucketInventory",
        ("inventory", &Method::DELETE) => "DeleteBucketInventory",
        ("tagging", &Method::PUT) => "PutBucketTags",
        ("tagging", &Method::GET) => "GetBucketTags",
        ("tagging", &Method::DELETE) => "DeleteBucketTags",
        ("stat", &Method::GET) => "GetBucketStat",
        ("requestPayment", &Method::PUT) => "PutBucketRequestPayment",
        ("requestPayment", &Method::GET) => "GetBucketRequestPayment",
        ("transferAcceleration", &Method::PUT) => "PutBucketTransferAcceleration",
        ("transferAcceleration", &Method::GET) => "GetBucketTransferAcceleration",
        ("cname", &Method::GET) if comp == "token" => "GetCnameToken",
        ("cname", &Method::GET) => "ListCname",
        ("cname", &Method::POST) if comp == "token" => "CreateCnameToken",
        ("cname", &Method::POST) if comp == "add" => "PutCname",
        ("cname", &Method::POST) if comp == "delete" => "DeleteCname",
        ("metaQuery", &Method::GET) => "GetMetaQueryStatus",
        ("metaQuery", &Method::POST) if comp == "add" => "OpenMetaQuery",
        ("metaQuery", &Method::POST) if comp == "query" => "DoMetaQuery",
        ("metaQuery", &Method::POST) if comp == "delete" => "CloseMetaQuery",
        ("httpsConfig", &Method::PUT) => "PutBucketHttpsConfig",
        ("httpsConfig", &Method::GET) => "GetBucketHttpsConfig",
        ("resourceGroup", &Method::PUT) => "PutBucketResourceGroup",
        ("resourceGroup", &Method::GET) => "GetBucketResourceGroup",
        ("style", &Method::PUT) => "PutStyle",
        ("style", &Method::GET) if r.has("styleName") => "GetStyle",
        ("style", &Method::GET) => "ListStyle",
        ("style", &Method::DELETE) => "DeleteStyle",
        ("publicAccessBlock", &Method::PUT) => "PutBucketPublicAccessBlock",
        ("publicAccessBlock", &Method::GET) => "GetBucketPublicAccessBlock",
        ("publicAccessBlock", &Method::DELETE) => "DeleteBucketPublicAccessBlock",
        ("accessPoint", &Method::PUT) => "CreateAccessPoint",
        ("accessPoint", &Method::GET) if r.headers.contains_key("x-oss-access-point-name") => "GetAccessPoint",
        ("accessPoint", &Method::GET) => "ListAccessPoints",
        ("accessPoint", &Method::DELETE) => "DeleteAccessPoint",
        ("asyncFetch", &Method::POST) => "PutAsyncFetchTask",
        ("asyncFetch", &Method::GET) => "GetAsyncFetchTask",
        _ => sub,
    };
    Op::NotImplemented { name, what: sub, level: r.level() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    /// One request of the table: dialect, method, path (`/`, `/b` or `/b/k`), query, headers, expected name.
    type Row =
        (Dialect, &'static str, &'static str, &'static str, &'static [(&'static str, &'static str)], &'static str);

    fn op_of(d: Dialect, method: &str, path: &str, query: &str, headers: &[(&str, &str)]) -> Op {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let rest = path.strip_prefix('/').unwrap();
        let (has_bucket, has_key) = match rest.split_once('/') {
            Some((b, k)) => (!b.is_empty(), !k.is_empty()),
            None => (!rest.is_empty(), false),
        };
        let query: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (p.to_string(), String::new()),
            })
            .collect();
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        let shape = RequestShape { method: &method, has_bucket, has_key, query: &query, headers: &h, dialect: d };
        let op = Op::from_request(&shape);
        // Normalizing the headers into OSS's vocabulary (as the handlers see them) decides the same.
        let normalized = crate::dialect::normalize(d, &h, has_key);
        assert_eq!(Op::from_request(&RequestShape { headers: &normalized, ..shape }), op, "{method} {path}?{query:?}");
        op
    }

    fn check(rows: &[Row]) -> usize {
        for (d, method, path, query, headers, want) in rows {
            let op = op_of(*d, method, path, query, headers);
            assert_eq!(op.name(), *want, "{d:?} {method} {path}?{query} {headers:?}: {op:?}");
        }
        rows.len()
    }

    use Dialect::{Cos, Obs, Oss, S3};
    const NO: &[(&str, &str)] = &[];

    const OSS_ROWS: &[Row] = &[
        (Oss, "GET", "/", "", NO, "ListBuckets"),
        (Oss, "GET", "/", "prefix=a&max-keys=10", NO, "ListBuckets"),
        (Oss, "PUT", "/b", "", &[("x-oss-acl", "private")], "PutBucket"),
        (Oss, "PUT", "/b", "prefix=x", NO, "PutBucket"),
        (Oss, "DELETE", "/b", "", NO, "DeleteBucket"),
        (Oss, "HEAD", "/b", "", NO, "HeadBucket"),
        (Oss, "GET", "/b", "bucketInfo", NO, "GetBucketInfo"),
        (Oss, "GET", "/b", "location", NO, "GetBucketLocation"),
        (Oss, "GET", "/b", "acl", NO, "GetBucketAcl"),
        (Oss, "PUT", "/b", "acl", &[("x-oss-acl", "public-read")], "PutBucketAcl"),
        (Oss, "GET", "/b", "", NO, "ListObjects"),
        (Oss, "GET", "/b", "prefix=a/&delimiter=/&marker=a/b", NO, "ListObjects"),
        (Oss, "GET", "/b", "list-type=2&continuation-token=x", NO, "ListObjectsV2"),
        (Oss, "GET", "/b", "list-type=3", NO, "ListObjects"),
        (Oss, "GET", "/b", "uploads", NO, "ListMultipartUploads"),
        (Oss, "GET", "/b", "versions", NO, "ListObjectVersions"),
        (Oss, "POST", "/b", "delete", &[("content-md5", "x")], "DeleteMultipleObjects"),
        (Oss, "POST", "/b", "", &[("content-type", "multipart/form-data; boundary=x")], "PostObject"),
        (Oss, "PUT", "/b", "cors", NO, "PutBucketCors"),
        (Oss, "GET", "/b", "cors", NO, "GetBucketCors"),
        (Oss, "DELETE", "/b", "cors", NO, "DeleteBucketCors"),
        (Oss, "PUT", "/b", "lifecycle", NO, "PutBucketLifecycle"),
        (Oss, "GET", "/b", "lifecycle", NO, "GetBucketLifecycle"),
        (Oss, "DELETE", "/b", "lifecycle", NO, "DeleteBucketLifecycle"),
        (Oss, "PUT", "/b", "website", NO, "PutBucketWebsite"),
        (Oss, "GET", "/b", "website", NO, "GetBucketWebsite"),
        (Oss, "DELETE", "/b", "website", NO, "DeleteBucketWebsite"),
        (Oss, "PUT", "/b", "logging", NO, "PutBucketLogging"),
        (Oss, "GET", "/b", "logging", NO, "GetBucketLogging"),
        (Oss, "DELETE", "/b", "logging", NO, "DeleteBucketLogging"),
        (Oss, "POST", "/b", "worm", NO, "InitiateBucketWorm"),
        (Oss, "DELETE", "/b", "worm", NO, "AbortBucketWorm"),
        (Oss, "POST", "/b", "wormId=1", NO, "CompleteBucketWorm"),
        (Oss, "POST", "/b", "wormExtend&wormId=1", NO, "ExtendBucketWorm"),
        (Oss, "GET", "/b", "worm", NO, "GetBucketWorm"),
        (Oss, "PUT", "/b", "referer", NO, "PutBucketReferer"),
        (Oss, "GET", "/b", "referer", NO, "GetBucketReferer"),
        (Oss, "GET", "/b", "policy", NO, "GetBucketPolicy"),
        (Oss, "GET", "/b", "inventory", NO, "ListBucketInventory"),
        (Oss, "GET", "/b", "inventory&inventoryId=i", NO, "GetBucketInventory"),
        (Oss, "PUT", "/b", "tagging", NO, "PutBucketTags"),
        (Oss, "POST", "/b", "replication&comp=delete", NO, "DeleteBucketReplication"),
        (Oss, "GET", "/b", "stat", NO, "GetBucketStat"),
        (Oss, "POST", "/b", "metaQuery&comp=query", NO, "DoMetaQuery"),
        (Oss, "GET", "/b", "live", NO, "ListLiveChannel"),
        (Oss, "PUT", "/b/channel", "live", NO, "PutLiveChannel"),
        (Oss, "GET", "/b/channel", "live&comp=stat", NO, "GetLiveChannelStat"),
        (Oss, "GET", "/b/channel", "live&comp=history", NO, "GetLiveChannelHistory"),
        (Oss, "GET", "/b/channel", "live", NO, "GetLiveChannelInfo"),
        (Oss, "PUT", "/b/channel", "live&status=disabled", NO, "PutLiveChannelStatus"),
        (Oss, "DELETE", "/b/channel", "live", NO, "DeleteLiveChannel"),
        (Oss, "POST", "/b/channel/vod.m3u8", "vod&startTime=1&endTime=2", NO, "PostVodPlaylist"),
        (Oss, "GET", "/b/channel", "vod&startTime=1&endTime=2", NO, "GetVodPlaylist"),
        (Oss, "GET", "/b", "qos", NO, "qos"),
        (Oss, "PUT", "/b", "versioning", NO, "PutBucketVersioning"),
        (Oss, "GET", "/b", "versioning", NO, "GetBucketVersioning"),
        (Oss, "PUT", "/b/k", "", NO, "PutObject"),
        (Oss, "PUT", "/b/k", "", &[("x-oss-object-acl", "private"), ("content-type", "text/plain")], "PutObject"),
        (Oss, "PUT", "/b/k", "", &[("x-oss-copy-source", "/b/src")], "CopyObject"),
        (Oss, "PUT", "/b/k", "", &[("x-amz-copy-source", "/b/src")], "PutObject"),
        (Oss, "GET", "/b/k", "", NO, "GetObject"),
        (Oss, "GET", "/b/k", "x-oss-process=image/resize,w_10", NO, "GetObject"),
        (Oss, "GET", "/b/k", "response-content-type=text/plain", NO, "GetObject"),
        (Oss, "HEAD", "/b/k", "", NO, "HeadObject"),
        (Oss, "HEAD", "/b/k", "objectMeta", NO, "GetObjectMeta"),
        (Oss, "DELETE", "/b/k", "", NO, "DeleteObject"),
        (Oss, "POST", "/b/k", "append&position=0", NO, "AppendObject"),
        (Oss, "PUT", "/b/k", "acl", &[("x-oss-object-acl", "private")], "PutObjectACL"),
        (Oss, "GET", "/b/k", "acl", NO, "GetObjectACL"),
        (Oss, "PUT", "/b/k", "tagging", NO, "PutObjectTagging"),
        (Oss, "GET", "/b/k", "tagging", NO, "GetObjectTagging"),
        (Oss, "DELETE", "/b/k", "tagging", NO, "DeleteObjectTagging"),
        (Oss, "PUT", "/b/k", "symlink", &[("x-oss-symlink-target", "t")], "PutSymlink"),
        (Oss, "GET", "/b/k", "symlink", NO, "GetSymlink"),
        (Oss, "POST", "/b/k", "restore", NO, "RestoreObject"),
        (Oss, "POST", "/b/k", "uploads", NO, "InitiateMultipartUpload"),
        (Oss, "PUT", "/b/k", "partNumber=1&uploadId=u", NO, "UploadPart"),
        (Oss, "PUT", "/b/k", "partNumber=1&uploadId=u", &[("x-oss-copy-source", "/b/src")], "UploadPartCopy"),
        (Oss, "POST", "/b/k", "uploadId=u", NO, "CompleteMultipartUpload"),
        (Oss, "DELETE", "/b/k", "uploadId=u", NO, "AbortMultipartUpload"),
        (Oss, "GET", "/b/k", "uploadId=u", NO, "ListParts"),
        (Oss, "OPTIONS", "/b/k", "", &[("origin", "https://a"), ("access-control-request-method", "PUT")], "Options"),
        (Oss, "OPTIONS", "/b", "acl", NO, "Options"),
        (Oss, "GET", "/b/k", "policy", NO, "GetBucketPolicy"),
        (Oss, "PATCH", "/b/k", "", NO, "Unknown"),
        (Oss, "PATCH", "/b", "", NO, "Unknown"),
        (Oss, "PUT", "/", "", NO, "Unknown"),
        (Oss, "POST", "/b/k", "", NO, "Unknown"),
    ];

    const S3_ROWS: &[Row] = &[
        (S3, "GET", "/", "", NO, "ListBuckets"),
        (S3, "PUT", "/b", "", &[("x-amz-acl", "private")], "PutBucket"),
        (S3, "HEAD", "/b", "", NO, "HeadBucket"),
        (S3, "GET", "/b", "location", NO, "GetBucketLocation"),
        (S3, "GET", "/b", "list-type=2&prefix=a&fetch-owner=true", NO, "ListObjectsV2"),
        (S3, "GET", "/b", "versioning", NO, "GetBucketVersioning"),
        (S3, "PUT", "/b", "versioning", NO, "PutBucketVersioning"),
        (S3, "GET", "/b", "versions", NO, "ListObjectVersions"),
        (S3, "GET", "/b", "policy", NO, "GetBucketPolicy"),
        (S3, "PUT", "/b", "tagging", NO, "PutBucketTags"),
        (S3, "DELETE", "/b", "replication", NO, "DeleteBucketReplication"),
        (S3, "GET", "/b", "encryption", NO, "GetBucketEncryption"),
        (S3, "PUT", "/b", "cors", NO, "PutBucketCors"),
        (S3, "POST", "/b", "delete", NO, "DeleteMultipleObjects"),
        (S3, "PUT", "/b/k", "", &[("x-amz-copy-source", "/b/src")], "CopyObject"),
        (
            S3,
            "PUT",
            "/b/k",
            "",
            &[("x-amz-copy-source", "/b/src"), ("x-amz-metadata-directive", "REPLACE")],
            "CopyObject",
        ),
        (S3, "PUT", "/b/k", "", &[("x-amz-content-sha256", "UNSIGNED-PAYLOAD")], "PutObject"),
        (S3, "PUT", "/b/k", "partNumber=2&uploadId=u", &[("x-amz-copy-source", "/b/src")], "UploadPartCopy"),
        (S3, "PUT", "/b/k", "partNumber=2&uploadId=u", NO, "UploadPart"),
        (S3, "PUT", "/b/k", "acl", &[("x-amz-acl", "public-read")], "PutObjectACL"),
        (S3, "PUT", "/b/k", "tagging", NO, "PutObjectTagging"),
        (S3, "GET", "/b/k", "tagging", NO, "GetObjectTagging"),
        (S3, "GET", "/b/k", "attributes", NO, "GetObject"),
        (S3, "POST", "/b/k", "restore", NO, "RestoreObject"),
        (S3, "POST", "/b/k", "uploads", NO, "InitiateMultipartUpload"),
        (S3, "POST", "/b/k", "uploadId=u", NO, "CompleteMultipartUpload"),
        (S3, "HEAD", "/b/k", "", NO, "HeadObject"),
        (S3, "DELETE", "/b/k", "", NO, "DeleteObject"),
        (S3, "OPTIONS", "/b/k", "", NO, "Options"),
    ];

    const COS_ROWS: &[Row] = &[
        (Cos, "GET", "/", "", NO, "ListBuckets"),
        (Cos, "PUT", "/b", "", &[("x-cos-acl", "private")], "PutBucket"),
        (Cos, "GET", "/b", "", NO, "ListObjects"),
        (Cos, "GET", "/b", "acl", NO, "GetBucketAcl"),
        (Cos, "PUT", "/b", "lifecycle", NO, "PutBucketLifecycle"),
        (Cos, "GET", "/b", "referer", NO, "GetBucketReferer"),
        (Cos, "GET", "/b", "uploads", NO, "ListMultipartUploads"),
        (Cos, "POST", "/b", "delete", NO, "DeleteMultipleObjects"),
        (Cos, "PUT", "/b/k", "", &[("x-cos-copy-source", "b.cos.ap-guangzhou.myqcloud.com/src")], "CopyObject"),
        (Cos, "PUT", "/b/k", "partNumber=1&uploadId=u", &[("x-cos-copy-source", "b/src")], "UploadPartCopy"),
        (Cos, "PUT", "/b/k", "", &[("x-cos-storage-class", "ARCHIVE")], "PutObject"),
        (Cos, "POST", "/b/k", "append&position=0", NO, "AppendObject"),
        (Cos, "PUT", "/b/k", "tagging", NO, "PutObjectTagging"),
        (Cos, "DELETE", "/b/k", "tagging", NO, "DeleteObjectTagging"),
        (Cos, "GET", "/b/k", "acl", NO, "GetObjectACL"),
        (Cos, "POST", "/b/k", "restore", NO, "RestoreObject"),
        (Cos, "DELETE", "/b/k", "uploadId=u", NO, "AbortMultipartUpload"),
        (Cos, "GET", "/b/k", "uploadId=u", NO, "ListParts"),
        (Cos, "HEAD", "/b/k", "", NO, "HeadObject"),
    ];

    const OBS_ROWS: &[Row] = &[
        (Obs, "GET", "/", "", NO, "ListBuckets"),
        (Obs, "HEAD", "/", "apiversion", NO, "GetApiVersion"),
        (Obs, "HEAD", "/b", "apiversion", NO, "GetApiVersion"),
        (Obs, "PUT", "/b", "", &[("x-obs-acl", "private")], "PutBucket"),
        (Obs, "PUT", "/b", "quota", NO, "SetBucketQuota"),
        (Obs, "GET", "/b", "quota", NO, "GetBucketQuota"),
        (Obs, "GET", "/b", "storageinfo", NO, "ListObjects"),
        (Obs, "GET", "/b", "location", NO, "GetBucketLocation"),
        (Obs, "PUT", "/b", "website", NO, "PutBucketWebsite"),
        (Obs, "GET", "/b", "logging", NO, "GetBucketLogging"),
        (Obs, "GET", "/b", "policy", NO, "GetBucketPolicy"),
        (Obs, "POST", "/b", "delete", NO, "DeleteMultipleObjects"),
        (Obs, "PUT", "/b/k", "", &[("x-obs-copy-source", "/b/src")], "CopyObject"),
        (Obs, "PUT", "/b/k", "partNumber=1&uploadId=u", &[("x-obs-copy-source", "/b/src")], "UploadPartCopy"),
        (Obs, "PUT", "/b/k", "", &[("x-obs-storage-class", "COLD")], "PutObject"),
        (Obs, "POST", "/b/k", "append&position=0", NO, "AppendObject"),
        (Obs, "PUT", "/b/k", "acl", NO, "PutObjectACL"),
        (Obs, "POST", "/b/k", "restore", NO, "RestoreObject"),
        (Obs, "GET", "/b/k", "", NO, "GetObject"),
        (Obs, "DELETE", "/b/k", "", NO, "DeleteObject"),
    ];

    #[test]
    fn oss_requests() {
        assert!(check(OSS_ROWS) >= 60);
    }

    #[test]
    fn s3_requests() {
        assert!(check(S3_ROWS) >= 20);
    }

    #[test]
    fn cos_requests() {
        assert!(check(COS_ROWS) >= 15);
    }

    #[test]
    fn obs_requests() {
        assert!(check(OBS_ROWS) >= 15);
    }

    #[test]
    fn the_first_route_wins() {
        // A configuration sub-resource is routed before an unimplemented one, worm before quota, and OPTIONS
        // before anything.
        assert_eq!(op_of(Oss, "GET", "/b", "cors&policy", NO), Op::GetBucketCors);
        assert_eq!(op_of(Oss, "GET", "/b", "worm&quota", NO), Op::GetBucketWorm);
        assert_eq!(op_of(Oss, "OPTIONS", "/b", "apiversion", NO), Op::Options(Level::Bucket));
        // Unimplemented sub-resources win over implemented ones, in the list's order.
        assert_eq!(
            op_of(Oss, "GET", "/b", "acl&policy&referer", NO),
            Op::NotImplemented { name: "GetBucketReferer", what: "referer", level: Level::Bucket }
        );
        // On an object, tagging is implemented, but the other sub-resources still are not.
        assert_eq!(op_of(Oss, "PUT", "/b/k", "tagging&acl", NO), Op::PutObjectAcl);
        assert_eq!(
            op_of(S3, "PUT", "/b/k", "policy&acl", NO),
            Op::NotImplemented { name: "PutBucketPolicy", what: "policy", level: Level::Object }
        );
        // An object's acl sub-resource is not routed by the copy-source header, nor is a symlink.
        assert_eq!(op_of(S3, "PUT", "/b/k", "acl", &[("x-amz-copy-source", "/b/s")]), Op::PutObjectAcl);
        assert_eq!(op_of(Oss, "PUT", "/b/k", "symlink", &[("x-oss-copy-source", "/b/s")]), Op::PutSymlink);
        // Sub-resources that mean nothing on a bucket PUT (anything signed) make it PutBucketAcl, as before.
        assert_eq!(op_of(Oss, "PUT", "/b", "uploads", NO), Op::PutBucketAcl);
        assert_eq!(op_of(Oss, "PUT", "/b", "versioning&acl", NO).name(), "PutBucketVersioning");
    }

    #[test]
    fn methods_not_allowed_name_their_resource() {
        let cases = [
            ("PUT", "/", "", Resource::Service),
            ("PATCH", "/b", "", Resource::Bucket),
            ("PATCH", "/b/k", "", Resource::Object),
            ("POST", "/b/k", "", Resource::Object),
            ("PUT", "/b", "worm", Resource::Worm),
            ("GET", "/b", "wormId=1", Resource::Worm),
            ("DELETE", "/b", "quota", Resource::Quota),
            ("POST", "/b", "cors", Resource::Cors),
            ("HEAD", "/b", "lifecycle", Resource::Lifecycle),
            ("POST", "/b", "website", Resource::Website),
            ("POST", "/b", "logging", Resource::Logging),
        ];
        for (m, path, q, res) in cases {
            let op = op_of(Oss, m, path, q, NO);
            assert_eq!(op, Op::MethodNotAllowed(res), "{m} {path}?{q}");
            assert_eq!(op.name(), "Unknown");
        }
        assert_eq!(Resource::Cors.resource_type(), "cors");
        assert!(Resource::Worm.owner_only() && !Resource::Object.owner_only());
    }

    #[test]
    fn levels_follow_the_addressing() {
        // The meta-QPS limit counts exactly the requests without a key.
        for rows in [OSS_ROWS, S3_ROWS, COS_ROWS, OBS_ROWS] {
            for (d, method, path, query, headers, _) in rows {
                let op = op_of(*d, method, path, query, headers);
                let keyed = path.trim_start_matches('/').contains('/');
                assert_eq!(op.is_meta(), !keyed, "{method} {path}?{query}: {op:?}");
            }
        }
        assert_eq!(Op::ListBuckets.level(), Level::Service);
        assert_eq!(op_of(Obs, "HEAD", "/b/k", "apiversion", NO).level(), Level::Object);
    }

    #[test]
    fn config_kinds() {
        assert_eq!(Op::GetBucketLogging.config_kind(), Some("logging"));
        assert_eq!(Op::DeleteBucketCors.config_kind(), Some("cors"));
        assert_eq!(Op::PutObject.config_kind(), None);
    }
}

//! Decoding error responses from all four vendors: OSS, S3, COS and OBS, and from anything else in between.

use crate::error::{CodeSource, ErrorCode, ServerError, Vendor};
use base64::Engine as _;
use http::HeaderMap;
use std::collections::BTreeMap;

/// Bodies kept with an error are capped at this size.
pub const BODY_CAP: usize = 4096;

/// Headers never kept with an error.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "cookie",
    "set-cookie",
    "x-oss-security-token",
    "x-amz-security-token",
    "x-cos-security-token",
    "x-obs-security-token",
    "proxy-authorization",
];

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn vendor_of(h: &HeaderMap) -> (Vendor, Option<String>) {
    for (name, v) in [
        ("x-oss-request-id", Vendor::Oss),
        ("x-cos-request-id", Vendor::Cos),
        ("x-obs-request-id", Vendor::Obs),
        ("x-amz-request-id", Vendor::S3),
    ] {
        if let Some(id) = header(h, name) {
            return (v, Some(id.to_string()));
        }
    }
    (Vendor::Unknown, None)
}

/// The elements of an `<Error>` document, if `body` is one.
fn error_fields(body: &[u8]) -> Option<BTreeMap<String, String>> {
    let doc = ossd_errors::xml::parse(body, "Error").ok()?;
    Some(doc.children.iter().map(|c| (c.name.clone(), c.text.trim().to_string())).collect())
}

/// The code a status stands for when the wire carries none. A HEAD 404 is NotFound, never NoSuchKey.
fn synthesized(status: u16) -> String {
    match status {
        304 => "NotModified".into(),
        400 => "BadRequest".into(),
        403 => "Forbidden".into(),
        404 => "NotFound".into(),
        405 => "MethodNotAllowed".into(),
        408 => "RequestTimeout".into(),
        409 => "Conflict".into(),
        411 => "LengthRequired".into(),
        412 => "PreconditionFailed".into(),
        416 => "InvalidRange".into(),
        429 => "TooManyRequests".into(),
        500 => "InternalServerError".into(),
        502 => "BadGateway".into(),
        503 => "ServiceUnavailable".into(),
        504 => "GatewayTimeout".into(),
        s => format!("HttpStatus{s}"),
    }
}

/// Everything needed to describe a failed operation.
pub struct Failed<'a> {
    pub operation: &'a str,
    pub bucket: Option<&'a str>,
    pub key: Option<&'a str>,
    pub status: u16,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

pub fn decode(f: Failed<'_>) -> ServerError {
    let (vendor, header_id) = vendor_of(f.headers);
    let mut source = CodeSource::Body;
    let mut fields = error_fields(f.body);
    if fields.is_none() && f.body.iter().all(|b| b.is_ascii_whitespace()) {
        if let Some(packed) = header(f.headers, "x-oss-err") {
            fields =
                base64::engine::general_purpose::STANDARD.decode(packed.trim()).ok().and_then(|x| error_fields(&x));
            source = CodeSource::Header;
        } else if let Some(code) = header(f.headers, "x-obs-error-code") {
            let mut m = BTreeMap::new();
            m.insert("Code".to_string(), code.to_string());
            if let Some(msg) = header(f.headers, "x-obs-error-message") {
                m.insert("Message".to_string(), msg.to_string());
            }
            fields = Some(m);
            source = CodeSource::Header;
        }
    }
    let mut fields = fields.unwrap_or_default();
    let code = match fields.remove("Code").filter(|c| !c.is_empty()) {
        Some(c) => c,
        None => {
            source = CodeSource::Synthesized;
            synthesized(f.status)
        }
    };
    let message = fields.remove("Message").unwrap_or_else(|| {
        http::StatusCode::from_u16(f.status).ok().and_then(|s| s.canonical_reason()).unwrap_or("").to_string()
    });
    let body_id = fields.remove("RequestId");
    let host_id = fields
        .remove("HostId")
        .or_else(|| header(f.headers, "x-obs-id-2").or(header(f.headers, "x-amz-id-2")).map(str::to_string));
    let ec = fields.remove("EC").or_else(|| header(f.headers, "x-oss-ec").map(str::to_string));
    let trace_id = fields.remove("TraceId").or_else(|| header(f.headers, "x-cos-trace-id").map(str::to_string));
    let server_time = header(f.headers, "date").and_then(|d| httpdate::parse_http_date(d).ok());
    ServerError {
        vendor,
        operation: f.operation.to_string(),
        bucket: f.bucket.map(str::to_string),
        key: f.key.map(str::to_string),
        status: f.status,
        code: ErrorCode::from_wire(&code, ec.as_deref()),
        code_source: source,
        message,
        request_id: header_id.or(body_id),
        host_id,
        ec,
        recommend_doc: fields.remove("RecommendDoc"),
        trace_id,
        resource: fields.remove("Resource"),
        extra: fields,
        server_time,
        headers: f
            .headers
            .iter()
            .filter(|(k, _)| !SECRET_HEADERS.contains(&k.as_str()))
            .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body: f.body[..f.body.len().min(BODY_CAP)].to_vec(),
    }
}

/// A 2xx body that is really an error (an InternalError inside a 200 on Copy or CompleteMultipartUpload).
pub fn error_in_success(body: &[u8]) -> bool {
    let head = &body[..body.len().min(256)];
    String::from_utf8_lossy(head).contains("<Error>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::StatusClass;
    use ossd_errors::{Code, Retry};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        h
    }

    fn run(status: u16, h: &[(&str, &str)], body: &str) -> ServerError {
        let h = headers(h);
        decode(Failed {
            operation: "GetObject",
            bucket: Some("b"),
            key: Some("k"),
            status,
            headers: &h,
            body: body.as_bytes(),
        })
    }

    #[test]
    fn rows_that_share_a_code_are_told_apart_by_ec_and_dialect_spellings_are_known() {
        let oss = |ec: &str| {
            format!(
                "<Error><Code>InvalidDigest</Code><Message>m</Message><RequestId>r</RequestId><EC>{ec}</EC></Error>"
            )
        };
        assert_eq!(run(400, &[], &oss("0017-00000503")).code, ErrorCode::Known(Code::InvalidDigestMismatch));
        assert_eq!(run(400, &[], &oss("0017-00000502")).code, ErrorCode::Known(Code::InvalidDigest));
        // An EC of another code's row does not win over the code.
        assert_eq!(run(400, &[], &oss("0026-00000017")).code, ErrorCode::Known(Code::InvalidDigest));
        let s3 = "<Error><Code>BadDigest</Code><Message>m</Message><RequestId>r</RequestId></Error>";
        assert_eq!(run(400, &[], s3).code, ErrorCode::Known(Code::InvalidDigestMismatch));
        let unknown = "<Error><Code>Whatever</Code><Message>m</Message><RequestId>r</RequestId></Error>";
        assert_eq!(run(400, &[], unknown).code, ErrorCode::Unknown("Whatever".into()));
    }

    // Shapes follow each vendor's documentation of its error response.
    #[test]
    fn oss_body_and_headers() {
        let e = run(
            404,
            &[("x-oss-request-id", "5C3D9175B6FC201293AD****"), ("x-oss-ec", "0026-00000001"), ("date", "Tue, 15 Jan 2019 08:19:01 GMT")],
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>\
             <RequestId>5C3D9175B6FC201293AD****</RequestId><HostId>b.oss-cn-hangzhou.aliyuncs.com</HostId><Key>k</Key>\
             <EC>0026-00000001</EC><RecommendDoc>https://api.aliyun.com/troubleshoot?q=0026-00000001</RecommendDoc></Error>",
        );
        assert_eq!(e.vendor, Vendor::Oss);
        assert_eq!(e.code, ErrorCode::Known(Code::NoSuchKey));
        assert_eq!(e.code_source, CodeSource::Body);
        assert_eq!(e.request_id(), Some("5C3D9175B6FC201293AD****"));
        assert_eq!(e.ec.as_deref(), Some("0026-00000001"));
        assert_eq!(e.extra.get("Key").map(String::as_str), Some("k"));
        assert!(e.is_no_such_key() && e.is_not_found());
        assert_eq!(e.status_class(), StatusClass::NotFound);
        assert_eq!(e.retry_class(), Retry::Never);
        assert!(e.server_time.is_some());
        let shown = crate::Error::Server(Box::new(e)).to_string();
        for part in
            ["OSS", "GetObject", "404", "NoSuchKey", "The specified key", "5C3D9175B6FC201293AD****", "0026-00000001"]
        {
            assert!(shown.contains(part), "{shown}");
        }
        assert!(!shown.contains('\n'));
    }

    #[test]
    fn oss_head_error_in_x_oss_err() {
        let xml = "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><RequestId>AB</RequestId><EC>0026-00000001</EC></Error>";
        let packed = base64::engine::general_purpose::STANDARD.encode(xml);
        let e = run(404, &[("x-oss-request-id", "AB"), ("x-oss-err", &packed)], "");
        assert_eq!((e.code.as_str(), e.code_source), ("NoSuchKey", CodeSource::Header));
        assert_eq!(e.ec.as_deref(), Some("0026-00000001"));
    }

    #[test]
    fn cos_format() {
        let e = run(
            404,
            &[("x-cos-request-id", "NjQ2MjY0ZjRfOWJiMjQyMDlfMTVkNl8xMjM0****"), ("x-cos-trace-id", "OGVmYzZiMmQzYjA2OWNhODk0NTRkMTBiOWVmMDAxODc0OWRkZjk0ZDM1NmI1M2E2MTRlY2MzZDhmNmI5MWI1OWQ4****")],
            "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist.</Message>\
             <Resource>examplebucket-1250000000.cos.ap-beijing.myqcloud.com</Resource>\
             <RequestId>NjQ2MjY0ZjRfOWJiMjQyMDlfMTVkNl8xMjM0****</RequestId>\
             <TraceId>OGVmYzZiMmQzYjA2OWNhODk0NTRkMTBiOWVmMDAxODc0OWRkZjk0ZDM1NmI1M2E2MTRlY2MzZDhmNmI5MWI1OWQ4****</TraceId></Error>",
        );
        assert_eq!(e.vendor, Vendor::Cos);
        assert!(e.is_no_such_bucket());
        assert_eq!(e.resource.as_deref(), Some("examplebucket-1250000000.cos.ap-beijing.myqcloud.com"));
        assert!(e.trace_id.as_deref().is_some_and(|t| t.starts_with("OGVm")));
        assert!(e.origin_msg().contains("<TraceId>"));
        assert_eq!(e.digest().get("Resource").map(String::as_str), e.resource.as_deref());
    }

    #[test]
    fn obs_format_and_head_headers() {
        let e = run(
            403,
            &[("x-obs-request-id", "0000016C8F9D6D9C9016A1F5B6A1****"), ("x-obs-id-2", "32AAAQAAEAABSAAgAAEAABAAAQAAEAABCS****")],
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SignatureDoesNotMatch</Code>\
             <Message>The request signature we calculated does not match the signature you provided.</Message>\
             <RequestId>0000016C8F9D6D9C9016A1F5B6A1****</RequestId><HostId>32AAAQAAEAABSAAgAAEAABAAAQAAEAABCS****</HostId></Error>",
        );
        assert_eq!(e.vendor, Vendor::Obs);
        assert_eq!(e.code, ErrorCode::Known(Code::SignatureDoesNotMatch));
        assert_eq!(e.status_class(), StatusClass::Forbidden);
        let h = run(
            404,
            &[
                ("x-obs-request-id", "R1"),
                ("x-obs-error-code", "NoSuchKey"),
                ("x-obs-error-message", "The specified key does not exist."),
            ],
            "",
        );
        assert_eq!((h.code.as_str(), h.code_source), ("NoSuchKey", CodeSource::Header));
        assert_eq!(h.message, "The specified key does not exist.");
    }

    #[test]
    fn s3_format() {
        let e = run(
            503,
            &[("x-amz-request-id", "4442587FB7D0A2F9"), ("x-amz-id-2", "vlR7PnpV2Ce81puvAJ1e4a7qSLv6tR6tLm4Fq1nFkChcmNYlN4=")],
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><Resource>/b/k</Resource>\
             <RequestId>4442587FB7D0A2F9</RequestId><HostId>vlR7PnpV2Ce81puvAJ1e4a7qSLv6tR6tLm4Fq1nFkChcmNYlN4=</HostId></Error>",
        );
        assert_eq!(e.vendor, Vendor::S3);
        assert_eq!(e.code, ErrorCode::Unknown("SlowDown".into()));
        assert_eq!(e.retry_class(), Retry::Throttle);
        assert_eq!(e.resource.as_deref(), Some("/b/k"));
        assert_eq!(e.status_class(), StatusClass::ServiceUnavailable);
    }

    #[test]
    fn anything_else_is_synthesized() {
        let e = run(404, &[], "");
        assert_eq!((e.code.as_str(), e.code_source), ("NotFound", CodeSource::Synthesized));
        assert!(!e.is_no_such_key(), "a HEAD 404 is never NoSuchKey");
        assert!(e.likely_from_proxy());
        let e = run(502, &[("server", "nginx")], "<html><body>Bad Gateway</body></html>");
        assert_eq!(e.code.as_str(), "BadGateway");
        assert_eq!(e.retry_class(), Retry::Transient);
        assert!(e.likely_from_proxy());
        let e = run(429, &[("x-oss-request-id", "X")], "");
        assert_eq!(e.retry_class(), Retry::Throttle);
    }

    #[test]
    fn secrets_and_size_are_bounded() {
        let big = "x".repeat(10_000);
        let e = run(500, &[("set-cookie", "s=1"), ("x-oss-request-id", "R")], &big);
        assert!(e.headers.iter().all(|(k, _)| k != "set-cookie"));
        assert_eq!(e.body.len(), BODY_CAP);
    }

    #[test]
    fn error_inside_a_200() {
        assert!(error_in_success(b"<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code></Error>"));
        assert!(!error_in_success(b"<CopyObjectResult><ETag>x</ETag></CopyObjectResult>"));
    }
}

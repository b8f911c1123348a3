//! Writes an error in OSS's XML envelope.

use crate::Error;

/// Escapes text for an XML element or attribute.
pub fn xml_escape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.bytes().any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'')) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The OSS error body: Code, Message, RequestId, HostId, the context elements, EC and RecommendDoc.
/// Context named `Detail` is for the server's log only and is not rendered.
pub fn oss_error_xml(err: &Error, request_id: &str, host_id: &str) -> String {
    let def = err.def();
    let mut s = String::with_capacity(512);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n");
    push(&mut s, "Code", def.code);
    push(&mut s, "Message", err.message());
    push(&mut s, "RequestId", request_id);
    push(&mut s, "HostId", host_id);
    for (name, value) in &err.context {
        if *name != "Detail" {
            push(&mut s, name, value);
        }
    }
    push(&mut s, "EC", def.ec);
    push(&mut s, "RecommendDoc", &def.recommend_doc());
    s.push_str("</Error>\n");
    s
}

/// The S3-shaped error body (S3, and with `TraceId` for COS): Code, Message, Resource, RequestId, then
/// `extra` (HostId or TraceId) and the context elements. `code` is the dialect's own code.
pub fn s3_error_xml(err: &Error, code: &str, resource: &str, request_id: &str, extra: &[(&str, &str)]) -> String {
    let mut s = String::with_capacity(512);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n");
    push(&mut s, "Code", code);
    push(&mut s, "Message", err.message());
    push(&mut s, "Resource", resource);
    push(&mut s, "RequestId", request_id);
    for (k, v) in extra {
        push(&mut s, k, v);
    }
    for (name, value) in &err.context {
        if *name != "Detail" {
            push(&mut s, name, value);
        }
    }
    s.push_str("</Error>\n");
    s
}

fn push(s: &mut String, name: &str, value: &str) {
    s.push_str("  <");
    s.push_str(name);
    s.push('>');
    s.push_str(&xml_escape(value));
    s.push_str("</");
    s.push_str(name);
    s.push_str(">\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;

    #[test]
    fn body_has_every_element_in_order() {
        let e = Error::new(Code::NoSuchKey).ctx("Key", "a<b");
        let x = oss_error_xml(&e, "0123456789ABCDEF01234567", "b.localhost");
        let order = [
            "<Code>NoSuchKey",
            "<Message>The specified key",
            "<RequestId>0123",
            "<HostId>b.local",
            "<Key>a&lt;b",
            "<EC>0026-00000001",
            "<RecommendDoc>https://api.aliyun.com/troubleshoot?q=0026-00000001",
        ];
        let mut at = 0;
        for o in order {
            let p = x[at..].find(o).unwrap_or_else(|| panic!("{o} missing or out of order in {x}"));
            at += p;
        }
    }

    #[test]
    fn detail_is_not_rendered() {
        let e = Error::internal("disk full at /secret/path");
        let x = oss_error_xml(&e, "r", "h");
        assert!(!x.contains("secret"));
        assert!(x.contains("<Code>InternalError</Code>"));
    }
}

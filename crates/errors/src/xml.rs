//! A small XML tree reader with explicit limits (request documents, and vendors' error bodies in the client).
//! The tree is built without recursion and is never deeper than [`MAX_DEPTH`], so neither parsing nor dropping it
//! can exhaust a stack; a document past any limit is `MalformedXML`, as OSS answers a document it will not read.

use crate::{Code, Error, Result};
use quick_xml::events::Event;
use quick_xml::Reader;

/// The deepest nesting any request document needs is 5 (lifecycle rules); anything past this is refused.
pub const MAX_DEPTH: usize = 32;

/// Elements in one document by default. The largest documented body, CompleteMultipartUpload with 10,000 parts of
/// 3 elements each, fits.
pub const MAX_ELEMENTS: usize = 40_000;

/// Limits for one parse.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: usize,
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: MAX_DEPTH, max_elements: MAX_ELEMENTS }
    }
}

/// A parsed element: its name, its text, and its children.
#[derive(Debug, Default)]
pub struct Node {
    pub name: String,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

fn malformed(detail: impl std::fmt::Display) -> Error {
    Error::new(Code::MalformedXML).ctx("Detail", detail.to_string())
}

/// Parses a document with the default [`Limits`] and checks that its root is `root`.
pub fn parse(body: &[u8], root: &str) -> Result<Node> {
    parse_with(body, root, Limits::default())
}

/// Parses a document within `limits` and checks that its root is `root`. DTDs are refused (no entity is ever
/// defined, so none can expand), as are processing instructions other than the XML declaration.
pub fn parse_with(body: &[u8], root: &str, limits: Limits) -> Result<Node> {
    let mut reader = Reader::from_reader(body);
    let mut stack: Vec<Node> = Vec::new();
    let mut top: Option<Node> = None;
    let mut elements = 0usize;
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(malformed)?;
        match event {
            Event::Start(_) | Event::Empty(_) => {
                elements += 1;
                if elements > limits.max_elements {
                    return Err(malformed(format!("more than {} elements", limits.max_elements)));
                }
                if stack.len() >= limits.max_depth {
                    return Err(malformed(format!("elements nested deeper than {}", limits.max_depth)));
                }
            }
            _ => {}
        }
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.push(Node { name, ..Default::default() });
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let n = Node { name, ..Default::default() };
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None if top.is_none() => top = Some(n),
                    None => return Err(malformed("two root elements")),
                }
            }
            Event::End(_) => {
                let n = stack.pop().ok_or_else(|| malformed("unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None if top.is_none() => top = Some(n),
                    None => return Err(malformed("two root elements")),
                }
            }
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    let s = t.unescape().map_err(malformed)?;
                    n.text.push_str(&s);
                } else if !t.iter().all(|b| b.is_ascii_whitespace()) {
                    return Err(malformed("text outside the root element"));
                }
            }
            Event::CData(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::DocType(_) => return Err(malformed("a DOCTYPE is not accepted")),
            Event::PI(_) => return Err(malformed("processing instructions are not accepted")),
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err(malformed("unclosed element"));
    }
    let top = top.ok_or_else(|| malformed("empty document"))?;
    if top.name != root {
        return Err(malformed(format!("root element is {}, not {root}", top.name)));
    }
    Ok(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_documents() {
        let n = parse(
            b"<?xml version=\"1.0\"?><Delete><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object><Object><Key>c</Key></Object></Delete>",
            "Delete",
        )
        .unwrap();
        assert_eq!(n.text_of("Quiet"), Some("true"));
        let keys: Vec<_> = n.all("Object").filter_map(|o| o.text_of("Key")).collect();
        assert_eq!(keys, vec!["a&b", "c"]);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [&b""[..], b"<Delete>", b"<Delete></Other>", b"<A/><B/>", b"not xml", b"<Other/>"] {
            let e = parse(bad, "Delete").unwrap_err();
            assert_eq!(e.code, Code::MalformedXML, "{:?}", String::from_utf8_lossy(bad));
        }
    }
    #[test]
    fn deep_nesting_is_refused_without_overflowing() {
        // 100,000 levels: the document that used to overflow the stack (building, then dropping, the tree).
        let depth = 100_000;
        let mut doc = Vec::with_capacity(depth * 8);
        for _ in 0..depth {
            doc.extend_from_slice(b"<a>");
        }
        for _ in 0..depth {
            doc.extend_from_slice(b"</a>");
        }
        let e = parse(&doc, "Delete").unwrap_err();
        assert_eq!(e.code, Code::MalformedXML);
        // Also under the right root name.
        let mut doc = b"<Delete>".to_vec();
        for _ in 0..depth {
            doc.extend_from_slice(b"<Object>");
        }
        assert_eq!(parse(&doc, "Delete").unwrap_err().code, Code::MalformedXML);
        // Exactly at the limit is fine.
        let mut ok = String::new();
        for _ in 0..MAX_DEPTH {
            ok.push_str("<a>");
        }
        for _ in 0..MAX_DEPTH {
            ok.push_str("</a>");
        }
        assert!(parse(ok.as_bytes(), "a").is_ok());
    }

    #[test]
    fn element_count_is_bounded() {
        let mut doc = String::from("<Delete>");
        for _ in 0..10 {
            doc.push_str("<Object/>");
        }
        doc.push_str("</Delete>");
        let small = Limits { max_elements: 10, ..Limits::default() };
        assert_eq!(parse_with(doc.as_bytes(), "Delete", small).unwrap_err().code, Code::MalformedXML);
        assert_eq!(
            parse_with(doc.as_bytes(), "Delete", Limits { max_elements: 11, ..small }).unwrap().children.len(),
            10
        );
    }

    #[test]
    fn entities_and_dtds_are_refused() {
        let laughs = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><Delete><Key>&lol2;</Key></Delete>"#;
        assert_eq!(parse(laughs, "Delete").unwrap_err().code, Code::MalformedXML);
        let xxe = br#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Delete><Key>&x;</Key></Delete>"#;
        assert_eq!(parse(xxe, "Delete").unwrap_err().code, Code::MalformedXML);
        // An undefined entity without a DTD is not well-formed either.
        assert_eq!(parse(b"<Delete><Key>&x;</Key></Delete>", "Delete").unwrap_err().code, Code::MalformedXML);
        assert_eq!(parse(b"<?php x?><Delete/>", "Delete").unwrap_err().code, Code::MalformedXML);
    }
}

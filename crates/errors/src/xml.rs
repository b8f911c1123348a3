//! A small XML tree reader (request documents, and vendors' error bodies in the client).

use crate::{Code, Error, Result};
use quick_xml::events::Event;
use quick_xml::Reader;

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

/// Parses a document and checks that its root is `root`.
pub fn parse(body: &[u8], root: &str) -> Result<Node> {
    let mut reader = Reader::from_reader(body);
    let mut stack: Vec<Node> = Vec::new();
    let mut top: Option<Node> = None;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.push(Node { name, ..Default::default() });
            }
            Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let n = Node { name, ..Default::default() };
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None if top.is_none() => top = Some(n),
                    None => return Err(malformed("two root elements")),
                }
            }
            Ok(Event::End(_)) => {
                let n = stack.pop().ok_or_else(|| malformed("unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None if top.is_none() => top = Some(n),
                    None => return Err(malformed("two root elements")),
                }
            }
            Ok(Event::Text(t)) => {
                if let Some(n) = stack.last_mut() {
                    let s = t.unescape().map_err(malformed)?;
                    n.text.push_str(&s);
                } else if !t.iter().all(|b| b.is_ascii_whitespace()) {
                    return Err(malformed("text outside the root element"));
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(malformed(e)),
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
}

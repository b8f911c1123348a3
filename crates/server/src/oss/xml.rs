//! XML for the OSS dialect: a small writer for responses and a small tree reader for request bodies.

pub use ossd_errors::xml::{parse, Node};
use ossd_errors::xml_escape;

/// Builds an XML document.
pub struct XmlOut(String);

impl XmlOut {
    pub fn new(root: &str) -> XmlOut {
        let mut s = String::with_capacity(1024);
        s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
        s.push_str(root);
        s.push('>');
        XmlOut(s)
    }

    pub fn open(&mut self, tag: &str) -> &mut Self {
        self.0.push('<');
        self.0.push_str(tag);
        self.0.push('>');
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Self {
        self.0.push_str("</");
        self.0.push_str(tag);
        self.0.push('>');
        self
    }

    /// Appends markup as it is (for elements with attributes).
    pub fn raw(&mut self, markup: &str) -> &mut Self {
        self.0.push_str(markup);
        self
    }

    pub fn el(&mut self, tag: &str, text: &str) -> &mut Self {
        self.open(tag);
        self.0.push_str(&xml_escape(text));
        self.close(tag)
    }

    pub fn finish(mut self, root: &str) -> String {
        self.close(root);
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_escapes() {
        let mut x = XmlOut::new("R");
        x.el("K", "a<b&c");
        assert_eq!(x.finish("R"), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<R><K>a&lt;b&amp;c</K></R>");
    }
}

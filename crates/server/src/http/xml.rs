//! XML for every dialect: a small writer for responses and a small tree reader for request bodies.

pub use ossd_errors::xml::{parse, Node};
use ossd_errors::xml_escape;

/// Builds an XML document.
pub struct XmlOut(String);

impl XmlOut {
    pub fn new(root: &str) -> XmlOut {
        XmlOut::with_capacity(root, 1024)
    }

    /// A writer whose buffer starts at `capacity` bytes (a listing page knows roughly how large it will be).
    pub fn with_capacity(root: &str, capacity: usize) -> XmlOut {
        let mut s = String::with_capacity(capacity);
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

    /// An element whose text is markup already: numbers, dates, ETags written with `&quot;`. Nothing is escaped.
    pub fn el_markup(&mut self, tag: &str, markup: impl std::fmt::Display) -> &mut Self {
        use std::fmt::Write;
        self.open(tag);
        // Writing into a String cannot fail.
        let _ = write!(self.0, "{markup}");
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
        x.el_markup("N", 42).el_markup("E", format_args!("&quot;{}&quot;", "AB"));
        assert_eq!(
            x.finish("R"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<R><K>a&lt;b&amp;c</K><N>42</N><E>&quot;AB&quot;</E></R>"
        );
    }
}

//! AMF0, the encoding of RTMP's commands and metadata: a decoder with a fixed nesting limit (a client cannot
//! make it recurse deeper) and an encoder for the few values the server sends.

/// Nested objects and arrays deeper than this are refused.
pub const MAX_DEPTH: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub enum Amf {
    Number(f64),
    Bool(bool),
    Str(String),
    /// An object or an ECMA array: its properties in order.
    Object(Vec<(String, Amf)>),
    Array(Vec<Amf>),
    Null,
    Undefined,
}

impl Amf {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Amf::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Amf::Number(n) => Some(*n),
            Amf::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }

    /// A property of an object.
    pub fn get(&self, name: &str) -> Option<&Amf> {
        match self {
            Amf::Object(props) => props.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmfError(pub &'static str);

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], AmfError> {
        if self.buf.len() < n {
            return Err(AmfError("truncated AMF0 value"));
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, AmfError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<usize, AmfError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]) as usize)
    }

    fn u32(&mut self) -> Result<usize, AmfError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn string(&mut self, len: usize) -> Result<String, AmfError> {
        Ok(String::from_utf8_lossy(self.take(len)?).into_owned())
    }

    fn value(&mut self, depth: usize) -> Result<Amf, AmfError> {
        if depth > MAX_DEPTH {
            return Err(AmfError("AMF0 values nested too deeply"));
        }
        Ok(match self.u8()? {
            0 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Amf::Number(f64::from_be_bytes(a))
            }
            1 => Amf::Bool(self.u8()? != 0),
            2 => {
                let n = self.u16()?;
                Amf::Str(self.string(n)?)
            }
            3 => Amf::Object(self.properties(depth)?),
            5 => Amf::Null,
            6 => Amf::Undefined,
            8 => {
                // The count is a hint only: the properties end with the object-end marker.
                self.u32()?;
                Amf::Object(self.properties(depth)?)
            }
            10 => {
                let n = self.u32()?;
                let mut items = Vec::new();
                for _ in 0..n {
                    // Each item takes at least a byte, so a false count fails on the buffer's end.
                    items.push(self.value(depth + 1)?);
                }
                Amf::Array(items)
            }
            11 => {
                let b = self.take(10)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(&b[..8]);
                Amf::Number(f64::from_be_bytes(a))
            }
            12 => {
                let n = self.u32()?;
                Amf::Str(self.string(n)?)
            }
            _ => return Err(AmfError("unsupported AMF0 marker")),
        })
    }

    fn properties(&mut self, depth: usize) -> Result<Vec<(String, Amf)>, AmfError> {
        let mut props = Vec::new();
        loop {
            let n = self.u16()?;
            if n == 0 && self.buf.first() == Some(&9) {
                self.take(1)?;
                return Ok(props);
            }
            let key = self.string(n)?;
            props.push((key, self.value(depth + 1)?));
        }
    }
}

/// Decodes a whole message body: a sequence of values.
pub fn decode_all(buf: &[u8]) -> Result<Vec<Amf>, AmfError> {
    let mut r = Reader { buf };
    let mut out = Vec::new();
    while !r.buf.is_empty() {
        out.push(r.value(0)?);
    }
    Ok(out)
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    let n = b.len().min(u16::MAX as usize);
    out.extend_from_slice(&(n as u16).to_be_bytes());
    out.extend_from_slice(&b[..n]);
}

/// Appends one value (the server's values are shallow; nesting is the caller's, bounded by its code).
pub fn encode(v: &Amf, out: &mut Vec<u8>) {
    match v {
        Amf::Number(n) => {
            out.push(0);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Amf::Bool(b) => out.extend_from_slice(&[1, *b as u8]),
        Amf::Str(s) => {
            out.push(2);
            put_str(out, s);
        }
        Amf::Object(props) => {
            out.push(3);
            for (k, v) in props {
                put_str(out, k);
                encode(v, out);
            }
            out.extend_from_slice(&[0, 0, 9]);
        }
        Amf::Array(items) => {
            out.push(10);
            out.extend_from_slice(&(items.len() as u32).to_be_bytes());
            for i in items {
                encode(i, out);
            }
        }
        Amf::Null => out.push(5),
        Amf::Undefined => out.push(6),
    }
}

/// Encodes a sequence of values (a command message's body).
pub fn encode_all(values: &[Amf]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        encode(v, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let v = vec![
            Amf::Str("connect".into()),
            Amf::Number(1.0),
            Amf::Object(vec![
                ("app".into(), Amf::Str("live".into())),
                ("tcUrl".into(), Amf::Str("rtmp://b.h/live".into())),
                ("fpad".into(), Amf::Bool(false)),
            ]),
            Amf::Null,
            Amf::Array(vec![Amf::Number(2.0), Amf::Undefined]),
        ];
        let bytes = encode_all(&v);
        let back = decode_all(&bytes).unwrap();
        assert_eq!(back, v);
        assert_eq!(back[2].get("app").and_then(Amf::as_str), Some("live"));
    }

    #[test]
    fn ecma_array_and_long_string() {
        let mut b = vec![8, 0, 0, 0, 1, 0, 5];
        b.extend_from_slice(b"width");
        b.push(0);
        b.extend_from_slice(&320f64.to_be_bytes());
        b.extend_from_slice(&[0, 0, 9, 12, 0, 0, 0, 2, b'h', b'i']);
        let v = decode_all(&b).unwrap();
        assert_eq!(v[0].get("width").and_then(Amf::as_f64), Some(320.0));
        assert_eq!(v[1], Amf::Str("hi".into()));
    }

    #[test]
    fn hostile_input_fails_cleanly() {
        // Deep nesting: refused at the limit, not followed.
        let deep: Vec<u8> = std::iter::repeat_n([3u8, 0, 1, b'a'], 10_000).flatten().collect();
        assert!(decode_all(&deep).is_err());
        // A strict array claiming four billion items in a few bytes.
        assert!(decode_all(&[10, 0xff, 0xff, 0xff, 0xff, 5]).is_err());
        // Truncated values and unknown markers.
        for b in [&[0u8, 1, 2][..], &[2, 0, 9, b'a'], &[12, 0xff, 0xff, 0xff, 0xff], &[3, 0, 1], &[0x42]] {
            assert!(decode_all(b).is_err(), "{b:?}");
        }
    }
}

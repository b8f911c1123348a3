//! RTMP's handshake and chunk stream: messages reassembled from chunks with every size bounded (chunk
//! streams per connection, message length, bytes held across unfinished messages), and messages written as
//! chunks.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Chunk streams one connection may use.
pub const MAX_CHUNK_STREAMS: usize = 16;
/// The longest message accepted (a video frame, in practice).
pub const MAX_MESSAGE: usize = 8 << 20;
/// Bytes held across all unfinished messages of a connection.
pub const MAX_BUFFERED: usize = 16 << 20;
/// The chunk size the server writes with.
pub const OUT_CHUNK_SIZE: usize = 4096;

const HANDSHAKE: usize = 1536;

#[derive(Debug)]
pub enum ChunkError {
    Io(std::io::Error),
    Protocol(&'static str),
}

impl From<std::io::Error> for ChunkError {
    fn from(e: std::io::Error) -> Self {
        ChunkError::Io(e)
    }
}

impl std::fmt::Display for ChunkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChunkError::Io(e) => write!(f, "{e}"),
            ChunkError::Protocol(m) => f.write_str(m),
        }
    }
}

/// The server's side of the simple handshake: C0 C1 in, S0 S1 S2 out, C2 in.
pub async fn handshake<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(r: &mut R, w: &mut W) -> Result<(), ChunkError> {
    let mut c0c1 = vec![0u8; 1 + HANDSHAKE];
    r.read_exact(&mut c0c1).await?;
    if c0c1[0] != 3 {
        return Err(ChunkError::Protocol("unsupported RTMP version"));
    }
    let mut out = Vec::with_capacity(1 + 2 * HANDSHAKE);
    out.push(3);
    out.extend_from_slice(&[0u8; 8]);
    let mut random = vec![0u8; HANDSHAKE - 8];
    getrandom::getrandom(&mut random).map_err(|_| ChunkError::Protocol("no randomness"))?;
    out.extend_from_slice(&random);
    out.extend_from_slice(&c0c1[1..]);
    w.write_all(&out).await?;
    w.flush().await?;
    let mut c2 = vec![0u8; HANDSHAKE];
    r.read_exact(&mut c2).await?;
    Ok(())
}

/// One reassembled message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub type_id: u8,
    pub stream_id: u32,
    pub timestamp: u32,
    pub payload: Vec<u8>,
}

#[derive(Default)]
struct ChunkStream {
    timestamp: u32,
    delta: u32,
    length: usize,
    type_id: u8,
    stream_id: u32,
    extended: bool,
    started: bool,
    buf: Vec<u8>,
}

/// Reads messages from chunks.
pub struct ChunkReader {
    chunk_size: usize,
    streams: Vec<(u32, ChunkStream)>,
}

impl Default for ChunkReader {
    fn default() -> Self {
        ChunkReader { chunk_size: 128, streams: Vec::new() }
    }
}

fn be(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |a, x| (a << 8) | *x as u32)
}

impl ChunkReader {
    /// Set Chunk Size from the peer (1 to 2^31 - 1). The size bounds no buffer: a chunk's bytes go into its
    /// message, whose length is bounded.
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), ChunkError> {
        let size = size & 0x7fff_ffff;
        if size == 0 {
            return Err(ChunkError::Protocol("chunk size 0"));
        }
        self.chunk_size = size as usize;
        Ok(())
    }

    /// Abort Message: drops the unfinished message of a chunk stream.
    pub fn abort(&mut self, csid: u32) {
        if let Some((_, s)) = self.streams.iter_mut().find(|(id, _)| *id == csid) {
            s.buf = Vec::new();
        }
    }

    fn buffered(&self) -> usize {
        self.streams.iter().map(|(_, s)| s.buf.len()).sum()
    }

    /// Reads chunks until a message is complete.
    pub async fn read<R: AsyncRead + Unpin>(&mut self, r: &mut R) -> Result<Message, ChunkError> {
        loop {
            if let Some(m) = self.read_chunk(r).await? {
                return Ok(m);
            }
        }
    }

    async fn read_chunk<R: AsyncRead + Unpin>(&mut self, r: &mut R) -> Result<Option<Message>, ChunkError> {
        let b0 = r.read_u8().await?;
        let fmt = b0 >> 6;
        let csid = match b0 & 0x3f {
            0 => 64 + r.read_u8().await? as u32,
            1 => {
                let mut b = [0u8; 2];
                r.read_exact(&mut b).await?;
                64 + b[0] as u32 + ((b[1] as u32) << 8)
            }
            n => n as u32,
        };
        let idx = match self.streams.iter().position(|(id, _)| *id == csid) {
            Some(i) => i,
            None if self.streams.len() >= MAX_CHUNK_STREAMS => {
                return Err(ChunkError::Protocol("too many chunk streams"))
            }
            None if fmt != 0 => return Err(ChunkError::Protocol("a chunk stream must start with a type 0 chunk")),
            None => {
                self.streams.push((csid, ChunkStream::default()));
                self.streams.len() - 1
            }
        };
        let mut h = [0u8; 11];
        let hlen = [11, 7, 3, 0][fmt as usize];
        r.read_exact(&mut h[..hlen]).await?;
        let s = &mut self.streams[idx].1;
        let new_message = s.buf.is_empty() && !s.started;
        if fmt <= 2 {
            let t = be(&h[..3]);
            s.extended = t == 0xff_ffff;
            if fmt <= 1 {
                s.length = be(&h[3..6]) as usize;
                s.type_id = h[6];
            }
            if fmt == 0 {
                s.stream_id = u32::from_le_bytes([h[7], h[8], h[9], h[10]]);
            }
            let t = if s.extended { r.read_u32().await? } else { t };
            if fmt == 0 {
                s.timestamp = t;
                s.delta = 0;
            } else {
                s.delta = t;
                s.timestamp = s.timestamp.wrapping_add(t);
            }
        } else {
            if s.extended {
                r.read_u32().await?;
            }
            if new_message {
                s.timestamp = s.timestamp.wrapping_add(s.delta);
            }
        }
        if s.length > MAX_MESSAGE {
            return Err(ChunkError::Protocol("message too long"));
        }
        s.started = true;
        let want = (s.length - s.buf.len()).min(self.chunk_size);
        let held = self.buffered();
        if held + want > MAX_BUFFERED {
            return Err(ChunkError::Protocol("too many bytes in unfinished messages"));
        }
        let s = &mut self.streams[idx].1;
        let at = s.buf.len();
        s.buf.resize(at + want, 0);
        r.read_exact(&mut s.buf[at..]).await?;
        if s.buf.len() < s.length {
            return Ok(None);
        }
        s.started = false;
        let payload = std::mem::take(&mut s.buf);
        Ok(Some(Message { type_id: s.type_id, stream_id: s.stream_id, timestamp: s.timestamp, payload }))
    }
}

/// Writes a message as chunks of `OUT_CHUNK_SIZE` on chunk stream `csid` (2 to 63).
pub async fn write_message<W: AsyncWrite + Unpin>(w: &mut W, csid: u8, m: &Message) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(m.payload.len() + 16);
    let ts = m.timestamp.min(0xff_fffe);
    out.push(csid & 0x3f);
    out.extend_from_slice(&ts.to_be_bytes()[1..]);
    out.extend_from_slice(&(m.payload.len() as u32).to_be_bytes()[1..]);
    out.push(m.type_id);
    out.extend_from_slice(&m.stream_id.to_le_bytes());
    for (i, part) in m.payload.chunks(OUT_CHUNK_SIZE).enumerate() {
        if i > 0 {
            out.push(0xc0 | (csid & 0x3f));
        }
        out.extend_from_slice(part);
    }
    w.write_all(&out).await?;
    w.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(bytes: &[u8], chunk_size: u32) -> Result<Vec<Message>, ChunkError> {
        let mut r = ChunkReader::default();
        r.set_chunk_size(chunk_size)?;
        let mut src = bytes;
        let mut out = Vec::new();
        while !src.is_empty() {
            out.push(r.read(&mut src).await?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn messages_round_trip_through_chunks() {
        let m1 =
            Message { type_id: 9, stream_id: 1, timestamp: 40, payload: (0..10_000u32).map(|i| i as u8).collect() };
        let m2 = Message { type_id: 20, stream_id: 0, timestamp: 0, payload: vec![2, 0, 1, b'x'] };
        let mut bytes = Vec::new();
        write_message(&mut bytes, 6, &m1).await.unwrap();
        write_message(&mut bytes, 3, &m2).await.unwrap();
        assert_eq!(read_all(&bytes, OUT_CHUNK_SIZE as u32).await.unwrap(), vec![m1, m2]);
    }

    #[tokio::test]
    async fn type_3_chunks_repeat_the_delta() {
        // A type 0 chunk, then a type 2 chunk (delta 40), then a type 3 chunk: a third message at 80.
        let mut b = vec![0x04, 0, 0, 10, 0, 0, 1, 8, 1, 0, 0, 0, 0xaa];
        b.extend_from_slice(&[0x84, 0, 0, 40, 0xbb]);
        b.extend_from_slice(&[0xc4, 0xcc]);
        let ms = read_all(&b, 128).await.unwrap();
        assert_eq!(ms.iter().map(|m| m.timestamp).collect::<Vec<_>>(), vec![10, 50, 90]);
        assert_eq!(ms[2].payload, vec![0xcc]);
    }

    #[tokio::test]
    async fn hostile_chunks_are_refused() {
        // A message longer than the limit.
        let b = [0x04, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0];
        assert!(matches!(read_all(&b, 128).await, Err(ChunkError::Protocol(_))));
        // A new chunk stream that does not start with a full header.
        assert!(matches!(read_all(&[0x45, 0, 0, 0], 128).await, Err(ChunkError::Protocol(_))));
        // Too many chunk streams, each holding an unfinished message.
        let mut b = Vec::new();
        for csid in 2..40u8 {
            b.extend_from_slice(&[csid, 0, 0, 0, 0, 1, 0, 9, 1, 0, 0, 0, 1]);
        }
        assert!(matches!(read_all(&b, 1).await, Err(ChunkError::Protocol("too many chunk streams"))));
        // A huge chunk size bounds nothing: a cut-off chunk is an I/O error, not an allocation.
        let b = [0x04, 0, 0, 0, 0x10, 0, 0, 9, 1, 0, 0, 0, 1, 2, 3];
        assert!(matches!(read_all(&b, 0x7fff_ffff).await, Err(ChunkError::Io(_))));
        let mut r = ChunkReader::default();
        assert!(r.set_chunk_size(0x8000_0000).is_err());
    }
}

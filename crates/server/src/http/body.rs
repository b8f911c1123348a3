//! Bodies: the response body (nothing, one buffer, or a stream of chunks fed from a blocking reader), and
//! collecting a small request body (an XML document) within a size limit.

use crate::State;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use ossd_errors::{Code, Error};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

pub enum Body {
    Empty,
    Full(Option<Bytes>),
    Stream(mpsc::Receiver<io::Result<Bytes>>),
}

impl Body {
    pub fn full(b: impl Into<Bytes>) -> Body {
        Body::Full(Some(b.into()))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            Body::Empty => Poll::Ready(None),
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream(rx) => match rx.poll_recv(cx) {
                Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(Frame::data(b)))),
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Empty => true,
            Body::Full(b) => b.is_none(),
            Body::Stream(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Empty => SizeHint::with_exact(0),
            Body::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Body::Full(None) => SizeHint::with_exact(0),
            Body::Stream(_) => SizeHint::default(),
        }
    }
}

/// Collects a small request body (XML documents), bounded by `limit` bytes.
pub async fn read_small_body(state: &State, body: Incoming, limit: usize) -> ossd_errors::Result<Bytes> {
    let mut body = body;
    // A declared Content-Length past the cap is refused before a byte of the body is read.
    let declared = http_body::Body::size_hint(&body).lower();
    if declared > limit as u64 {
        return Err(Error::new(Code::EntityTooLarge).ctx("MaxSizeAllowed", limit.to_string()));
    }
    let mut buf = bytes::BytesMut::new();
    loop {
        let frame = match tokio::time::timeout(state.idle_timeout, body.frame()).await {
            Err(_) => return Err(Error::new(Code::RequestTimeout)),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(Error::new(Code::RequestTimeout).ctx("Detail", e.to_string())),
            Ok(Some(Ok(f))) => f,
        };
        if let Ok(d) = frame.into_data() {
            if buf.len() + d.len() > limit {
                return Err(Error::new(Code::EntityTooLarge).ctx("MaxSizeAllowed", limit.to_string()));
            }
            buf.extend_from_slice(&d);
        }
    }
    Ok(buf.freeze())
}

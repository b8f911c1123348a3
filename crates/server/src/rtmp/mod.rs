//! RTMP ingest for LiveChannels (`ossd serve --rtmp-listen`): a publisher connects to `rtmp://<bucket>.<host>/live`
//! (or `rtmp://<host>/<bucket>/live`, as SDKs write it for an IP endpoint) and publishes `<channel>?<params>`;
//! a bucket that is not public-read-write needs the params to be signed as OSS signs RTMP URLs. The stream is
//! written into the bucket as HLS (`hls`, `ts`). Every size and wait is bounded: connections, handshake and
//! idle time, chunk streams and message lengths (`chunk`), AMF nesting (`amf`), bytes per segment.

pub mod amf;
pub mod chunk;
pub mod hls;
pub mod ts;

use crate::http::util;
use crate::State;
use amf::Amf;
use chunk::{ChunkError, ChunkReader, Message};
use ossd_engine::live::{LiveSegment, Push, StreamStat};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// RTMP connections served at once; more are closed at accept.
pub const MAX_CONNECTIONS: usize = 64;
/// The handshake and the commands up to a publish must be done within this.
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(15);
/// A connection that sends nothing for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Commands a connection may send before it publishes.
const MAX_SETUP_MESSAGES: usize = 64;
/// How often a push checks the channel's status and updates its statistics.
const STAT_EVERY: Duration = Duration::from_secs(1);

/// Accepts RTMP connections until `stop` changes.
pub async fn serve(state: Arc<State>, listener: TcpListener, mut stop: tokio::sync::watch::Receiver<bool>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    tracing::warn!(%peer, "RTMP connection refused: {MAX_CONNECTIONS} connections already");
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                let mut conn_stop = stop.clone();
                tasks.spawn(async move {
                    let _slot = slot;
                    tokio::select! {
                        res = connection(state, stream, peer) => {
                            if let Err(e) = res {
                                tracing::info!(%peer, error = %e, "RTMP connection ended");
                            }
                        }
                        _ = conn_stop.changed() => {}
                    }
                });
                while tasks.try_join_next().is_some() {}
            }
        }
    }
    tasks.shutdown().await;
}

fn command(name: &str, txn: f64, args: Vec<Amf>) -> Message {
    let mut v = vec![Amf::Str(name.into()), Amf::Number(txn)];
    v.extend(args);
    Message { type_id: 20, stream_id: 0, timestamp: 0, payload: amf::encode_all(&v) }
}

fn status(code: &str, level: &str, description: &str) -> Vec<Amf> {
    vec![
        Amf::Null,
        Amf::Object(vec![
            ("level".into(), Amf::Str(level.into())),
            ("code".into(), Amf::Str(code.into())),
            ("description".into(), Amf::Str(description.into())),
        ]),
    ]
}

fn control(type_id: u8, value: u32) -> Message {
    let mut payload = value.to_be_bytes().to_vec();
    if type_id == 6 {
        payload.push(2);
    }
    Message { type_id, stream_id: 0, timestamp: 0, payload }
}

/// Where a publish goes, from the connect command's tcUrl and app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub bucket: String,
}

/// The bucket a connect names: `<bucket>.<public host>` with app `live`, or app `<bucket>/live`.
pub fn target(public_host: &str, tc_url: &str, app: &str) -> Option<Target> {
    let app = app.trim_matches('/');
    if let Some(bucket) = app.strip_suffix("/live") {
        return (!bucket.is_empty() && !bucket.contains('/')).then(|| Target { bucket: bucket.to_string() });
    }
    if app != "live" {
        return None;
    }
    let rest = tc_url.split_once("://").map(|(_, r)| r).unwrap_or(tc_url);
    let authority = rest.split('/').next().unwrap_or("");
    let host = authority.rsplit_once(':').map(|(h, _)| h).unwrap_or(authority).to_ascii_lowercase();
    let bucket = host.strip_suffix(public_host)?.strip_suffix('.')?;
    (!bucket.is_empty()).then(|| Target { bucket: bucket.to_string() })
}

/// The string an RTMP publish URL's Signature signs: Expires, the other parameters sorted as `key:value`
/// lines, and `/<bucket>/<channel>`.
pub fn string_to_sign(expires: &str, params: &[(String, String)], bucket: &str, channel: &str) -> String {
    let mut p: Vec<&(String, String)> = params
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "OSSAccessKeyId" | "Signature" | "Expires" | "SecurityToken"))
        .collect();
    p.sort();
    let mut s = format!("{expires}\n");
    for (k, v) in p {
        s.push_str(&format!("{k}:{v}\n"));
    }
    s.push_str(&format!("/{bucket}/{channel}"));
    s
}

/// Whether a publish may write to the bucket: a public-read-write bucket takes anyone; otherwise the URL must
/// be signed, unexpired, by the bucket owner's enabled key.
async fn authorize(
    state: &Arc<State>,
    bucket: &ossd_engine::model::BucketRecord,
    channel: &str,
    params: &[(String, String)],
) -> Result<(), String> {
    let q = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let (Some(ak), Some(expires), Some(sig)) = (q("OSSAccessKeyId"), q("Expires"), q("Signature")) else {
        if bucket.acl == "public-read-write" {
            return Ok(());
        }
        return Err("the publish URL is not signed".into());
    };
    let exp: i64 = expires.parse().map_err(|_| "Expires is not a number".to_string())?;
    if exp < util::now_secs() {
        return Err("the publish URL has expired".into());
    }
    let user = state.user(ak).await.map_err(|e| e.to_string())?;
    let Some(user) = user.filter(|u| u.enabled && u.key_enabled) else {
        return Err("unknown or disabled access key".into());
    };
    let want = ossd_sign::v1_sign(&user.secret, &string_to_sign(expires, params, &bucket.name, channel));
    if !ossd_sign::constant_time_eq(want.as_bytes(), sig.as_bytes()) {
        return Err("the signature does not match".into());
    }
    if user.access_key_id != bucket.owner && bucket.acl != "public-read-write" {
        return Err("the signer may not write to the bucket".into());
    }
    Ok(())
}

async fn send<W: AsyncWrite + Unpin>(w: &mut W, csid: u8, m: &Message) -> Result<(), String> {
    chunk::write_message(w, csid, m).await.map_err(|e| e.to_string())
}

async fn next<R: AsyncRead + Unpin>(r: &mut R, chunks: &mut ChunkReader) -> Result<Message, String> {
    loop {
        let m = match tokio::time::timeout(IDLE_TIMEOUT, chunks.read(r)).await {
            Err(_) => return Err("idle timeout".into()),
            Ok(Err(ChunkError::Io(e))) => return Err(format!("read: {e}")),
            Ok(Err(e)) => return Err(e.to_string()),
            Ok(Ok(m)) => m,
        };
        match m.type_id {
            1 if m.payload.len() >= 4 => {
                let size = u32::from_be_bytes([m.payload[0], m.payload[1], m.payload[2], m.payload[3]]);
                chunks.set_chunk_size(size).map_err(|e| e.to_string())?;
            }
            2 if m.payload.len() >= 4 => {
                chunks.abort(u32::from_be_bytes([m.payload[0], m.payload[1], m.payload[2], m.payload[3]]));
            }
            // Acknowledgements, user control, window and bandwidth settings: nothing to do.
            1..=6 => {}
            _ => return Ok(m),
        }
    }
}

/// The values of a command message (AMF3 commands carry AMF0 after a zero byte).
fn values(m: &Message) -> Vec<Amf> {
    let body = if m.type_id == 17 || m.type_id == 15 { m.payload.get(1..).unwrap_or(&[]) } else { &m.payload[..] };
    amf::decode_all(body).unwrap_or_default()
}

async fn connection(state: Arc<State>, stream: TcpStream, peer: SocketAddr) -> Result<(), String> {
    let (rd, mut w) = stream.into_split();
    let mut r = BufReader::new(rd);
    let mut chunks = ChunkReader::default();
    let setup = async {
        chunk::handshake(&mut r, &mut w).await.map_err(|e| format!("handshake: {e}"))?;
        let mut target = None;
        for _ in 0..MAX_SETUP_MESSAGES {
            let m = next(&mut r, &mut chunks).await?;
            if !matches!(m.type_id, 20 | 17) {
                continue;
            }
            let v = values(&m);
            let name = v.first().and_then(Amf::as_str).unwrap_or("");
            let txn = v.get(1).and_then(Amf::as_f64).unwrap_or(0.0);
            match name {
                "connect" => {
                    let obj = v.get(2).cloned().unwrap_or(Amf::Null);
                    let app = obj.get("app").and_then(Amf::as_str).unwrap_or("");
                    let tc_url = obj.get("tcUrl").and_then(Amf::as_str).unwrap_or("");
                    target = self::target(&state.public_host, tc_url, app);
                    send(&mut w, 2, &control(5, 2_500_000)).await?;
                    send(&mut w, 2, &control(6, 2_500_000)).await?;
                    send(&mut w, 2, &control(1, chunk::OUT_CHUNK_SIZE as u32)).await?;
                    if target.is_none() {
                        let err = status(
                            "NetConnection.Connect.Rejected",
                            "error",
                            "The app must be live, on <bucket>.<host> or as <bucket>/live.",
                        );
                        send(&mut w, 3, &command("_error", txn, err)).await?;
                        return Err(format!("connect rejected: app {app:?}, tcUrl {tc_url:?}"));
                    }
                    let props = Amf::Object(vec![
                        ("fmsVer".into(), Amf::Str("FMS/3,0,1,123".into())),
                        ("capabilities".into(), Amf::Number(31.0)),
                    ]);
                    let mut info = status("NetConnection.Connect.Success", "status", "Connection succeeded.");
                    info[0] = props;
                    send(&mut w, 3, &command("_result", txn, info)).await?;
                }
                "createStream" => send(&mut w, 3, &command("_result", txn, vec![Amf::Null, Amf::Number(1.0)])).await?,
                "publish" => {
                    let Some(t) = target.clone() else { return Err("publish before connect".into()) };
                    let raw = v.get(3).and_then(Amf::as_str).unwrap_or("").to_string();
                    return Ok((t, raw, m.stream_id));
                }
                _ => {}
            }
        }
        Err("too many commands before publish".to_string())
    };
    let (target, raw, stream_id) = match tokio::time::timeout(SETUP_TIMEOUT, setup).await {
        Err(_) => return Err("setup timed out".into()),
        Ok(res) => res?,
    };
    let (channel, query) = raw.split_once('?').unwrap_or((raw.as_str(), ""));
    let params = util::parse_query(query);
    let started = start(&state, &target.bucket, channel, &params, &peer).await;
    let push = match started {
        Ok(p) => p,
        Err((code, why)) => {
            let mut m = command("onStatus", 0.0, status(code, "error", &why));
            m.stream_id = stream_id;
            send(&mut w, 3, &m).await?;
            return Err(format!("publish to {}/{channel} refused: {why}", target.bucket));
        }
    };
    let mut ok = command("onStatus", 0.0, status("NetStream.Publish.Start", "status", "Start publishing."));
    ok.stream_id = stream_id;
    send(&mut w, 3, &ok).await?;
    tracing::info!(%peer, bucket = %target.bucket, channel, "RTMP publish started");
    let res = ingest(&mut r, &mut chunks, push).await;
    tracing::info!(%peer, bucket = %target.bucket, channel, "RTMP publish ended");
    res
}

async fn start(
    state: &Arc<State>,
    bucket: &str,
    channel: &str,
    params: &[(String, String)],
    peer: &SocketAddr,
) -> Result<Push, (&'static str, String)> {
    let b = state.bucket(bucket).await.map_err(|e| ("NetStream.Publish.BadName", described(&e)))?;
    authorize(state, &b, channel, params).await.map_err(|e| ("NetStream.Publish.Rejected", e))?;
    let playlist = params.iter().find(|(k, _)| k == "playlistName").map(|(_, v)| v.clone());
    if let Some(p) = &playlist {
        if p.contains('/') || !p.ends_with(".m3u8") || !(6..=128).contains(&p.len()) {
            return Err(("NetStream.Publish.BadName", "playlistName must end with .m3u8".into()));
        }
    }
    let engine = state.engine.clone();
    let (b, c, addr) = (bucket.to_string(), channel.to_string(), peer.to_string());
    let mut push = tokio::task::spawn_blocking(move || engine.start_push(&b, &c, &addr))
        .await
        .map_err(|e| ("NetStream.Publish.Rejected", e.to_string()))?
        .map_err(|e| ("NetStream.Publish.Rejected", described(&e)))?;
    if let Some(p) = playlist {
        push.channel.playlist_name = p;
    }
    Ok(push)
}

/// An engine error as a refused publish describes it: code, EC and message (ffmpeg prints the description).
fn described(e: &ossd_errors::Error) -> String {
    format!("{} (EC {}): {}", e.def().code, e.def().ec, e.message())
}

/// Stores one finished segment, off the async workers. On failure the push ends there.
async fn store(push: Push, seg: hls::Segment) -> Result<Push, String> {
    let start_ms = push.start_ms + seg.offset_ms as i64;
    let s = LiveSegment { start_ms, duration_ms: seg.duration_ms as i64 };
    tokio::task::spawn_blocking(move || {
        let mut push = push;
        push.add_segment(s, &seg.data).map(|_| push).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Writes the stream into the bucket until it ends, then ends the push (which turns the channel Idle and
/// records the push's end in the history).
async fn ingest<R: AsyncRead + Unpin>(r: &mut R, chunks: &mut ChunkReader, mut push: Push) -> Result<(), String> {
    let mut seg = hls::Segmenter::new(push.channel.frag_duration);
    let mut stat = StreamStat::default();
    let (mut video_bytes, mut audio_bytes, mut frames) = (0u64, 0u64, 0u64);
    let began = Instant::now();
    let mut last_stat = Instant::now();
    let result = loop {
        if push.stopped() {
            break Err("the channel was disabled or deleted".to_string());
        }
        let m = match next(r, chunks).await {
            Ok(m) => m,
            Err(e) => break Err(e),
        };
        let ts = m.timestamp as u64;
        let done = match m.type_id {
            9 => {
                let (tag, done) = seg.video(ts, &m.payload);
                if tag == hls::Tag::Video {
                    video_bytes += m.payload.len() as u64;
                    frames += 1;
                }
                done
            }
            8 => {
                let (tag, done) = seg.audio(ts, &m.payload);
                if tag == hls::Tag::Audio {
                    audio_bytes += m.payload.len() as u64;
                }
                done
            }
            18 | 15 => {
                metadata(&values(&m), &mut stat);
                None
            }
            20 | 17 => {
                let v = values(&m);
                match v.first().and_then(Amf::as_str) {
                    Some("deleteStream" | "FCUnpublish" | "closeStream") => break Ok(()),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(s) = done {
            match store(push, s).await {
                Ok(p) => push = p,
                Err(e) => return Err(e),
            }
        }
        if last_stat.elapsed() >= STAT_EVERY {
            last_stat = Instant::now();
            let secs = began.elapsed().as_secs_f64().max(0.001);
            stat.video_codec = seg.video_codec.map(str::to_string);
            stat.audio_codec = seg.audio_codec.map(str::to_string);
            stat.video_bandwidth = (video_bytes as f64 / secs) as u64;
            stat.audio_bandwidth = (audio_bytes as f64 / secs) as u64;
            if seg.sample_rate > 0 {
                stat.sample_rate = seg.sample_rate;
            }
            if stat.frame_rate == 0 && frames > 0 {
                stat.frame_rate = (frames as f64 / secs).round() as u32;
            }
            push.set_stat(stat.clone());
        }
    };
    if let Some(s) = seg.finish() {
        push = store(push, s).await?;
    }
    // Dropping the push writes the history record: off the async workers.
    let _ = tokio::task::spawn_blocking(move || drop(push)).await;
    result
}

/// What onMetaData says of the stream.
fn metadata(v: &[Amf], stat: &mut StreamStat) {
    let Some(meta) = v.iter().find(|a| matches!(a, Amf::Object(_))) else { return };
    let num = |k: &str| meta.get(k).and_then(Amf::as_f64).filter(|n| n.is_finite() && *n >= 0.0 && *n < 1e9);
    if let Some(w) = num("width") {
        stat.width = w as u32;
    }
    if let Some(h) = num("height") {
        stat.height = h as u32;
    }
    if let Some(f) = num("framerate") {
        stat.frame_rate = f.round() as u32;
    }
    if let Some(s) = num("audiosamplerate") {
        stat.sample_rate = s as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = |tc: &str, app: &str| target("example.com", tc, app).map(|t| t.bucket);
        assert_eq!(t("rtmp://b1.example.com/live", "live").as_deref(), Some("b1"));
        assert_eq!(t("rtmp://B1.example.com:1935/live", "live").as_deref(), Some("b1"));
        assert_eq!(t("rtmp://127.0.0.1:1935/b2/live", "b2/live").as_deref(), Some("b2"));
        assert_eq!(t("rtmp://example.com/live", "live"), None);
        assert_eq!(t("rtmp://b1.example.com/app", "app"), None);
        assert_eq!(t("rtmp://h/a/b/live", "a/b/live"), None);
    }

    #[test]
    fn signs_as_oss2_does() {
        // sign_rtmp_url's string: Expires, sorted params without the signature's own, /bucket/channel.
        let params = vec![
            ("playlistName".to_string(), "test.m3u8".to_string()),
            ("OSSAccessKeyId".to_string(), "ak".to_string()),
            ("Expires".to_string(), "1700000000".to_string()),
            ("Signature".to_string(), "x".to_string()),
            ("a".to_string(), "1".to_string()),
        ];
        assert_eq!(string_to_sign("1700000000", &params, "b", "ch"), "1700000000\na:1\nplaylistName:test.m3u8\n/b/ch");
    }
}

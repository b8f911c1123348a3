//! LiveChannel operations (OSS): PutLiveChannel, ListLiveChannel, DeleteLiveChannel, PutLiveChannelStatus,
//! GetLiveChannelInfo, GetLiveChannelStat, GetLiveChannelHistory, PostVodPlaylist, GetVodPlaylist. The engine
//! keeps the channels and decides their rules; this file reads the requests and writes OSS's XML. Every one of
//! them is the bucket owner's.

use super::list::limit_param;
use super::op::Op;
use super::{blocking, empty, ok_xml, require_owner};
use crate::http::body::{read_small_body, Body};
use crate::http::req::Req;
use crate::http::util::{iso8601, Iso8601};
use crate::http::xml::{parse, XmlOut};
use crate::State;
use http::{Response, StatusCode};
use hyper::body::Incoming;
use ossd_engine::live::{ChannelStat, LiveChannel, LiveChannelInput};
use ossd_engine::model::{now_ms, BucketRecord};
use ossd_errors::{Code, Error, Result};
use std::sync::Arc;

/// The host a channel's URLs name: the request's host, without the bucket when it was addressed by host name.
fn endpoint(r: &Req, bucket: &str) -> String {
    let prefix = format!("{bucket}.");
    match r.host.strip_prefix(&prefix) {
        Some(rest) if r.virtual_hosted => rest.to_string(),
        _ => r.host.clone(),
    }
}

/// The channel's PublishUrls and PlayUrls.
fn urls(x: &mut XmlOut, host: &str, c: &LiveChannel) {
    x.open("PublishUrls").el("Url", &format!("rtmp://{}.{host}/live/{}", c.bucket, c.name)).close("PublishUrls");
    x.open("PlayUrls").el("Url", &format!("http://{}.{host}/{}", c.bucket, c.playlist_key())).close("PlayUrls");
}

/// The channel a request names: the object key, which must not contain a slash.
fn channel_name(r: &Req) -> Result<String> {
    let key = r.key()?;
    if key.contains('/') {
        return Err(Error::new(Code::LiveChannelInvalidName).ctx("ChannelName", key));
    }
    Ok(key.to_string())
}

/// Answers a LiveChannel operation.
pub async fn handle(state: &Arc<State>, r: &Req, b: &BucketRecord, op: Op, body: Incoming) -> Result<Response<Body>> {
    require_owner(r, b)?;
    let engine = state.engine.clone();
    let bucket = b.name.clone();
    match op {
        Op::ListLiveChannel => list(state, r, b).await,
        Op::PutLiveChannel => {
            let name = r.key()?.to_string();
            let raw = read_small_body(state, body, 64 * 1024).await?;
            let doc = parse(&raw, "LiveChannelConfiguration")?;
            let target = doc.child("Target");
            let t = |n: &str| target.and_then(|t| t.text_of(n)).map(|s| s.trim().to_string());
            let input = LiveChannelInput {
                description: doc.text_of("Description").map(str::to_string),
                status: doc.text_of("Status").map(|s| s.trim().to_string()),
                kind: t("Type"),
                frag_duration: t("FragDuration"),
                frag_count: t("FragCount"),
                playlist_name: t("PlaylistName").or_else(|| t("PlayListName")),
            };
            let channel = input.validate(&bucket, &name)?;
            let c = channel.clone();
            blocking(move || engine.put_live_channel(&c)).await?;
            let mut x = XmlOut::new("CreateLiveChannelResult");
            urls(&mut x, &endpoint(r, &bucket), &channel);
            ok_xml(x.finish("CreateLiveChannelResult"))
        }
        Op::PutLiveChannelStatus => {
            let name = channel_name(r)?;
            let status = r.q("status").unwrap_or("").to_string();
            blocking(move || engine.set_live_channel_status(&bucket, &name, &status)).await?;
            empty(StatusCode::OK)
        }
        Op::DeleteLiveChannel => {
            let name = channel_name(r)?;
            blocking(move || engine.delete_live_channel(&bucket, &name)).await?;
            empty(StatusCode::NO_CONTENT)
        }
        Op::GetLiveChannelInfo => {
            let name = channel_name(r)?;
            let c = blocking(move || engine.live_channel(&bucket, &name)).await?;
            let mut x = XmlOut::new("LiveChannelConfiguration");
            x.el("Description", &c.description).el("Status", &c.status);
            x.open("Target")
                .el("Type", "HLS")
                .el_markup("FragDuration", c.frag_duration)
                .el_markup("FragCount", c.frag_count)
                .el("PlaylistName", &c.playlist_name)
                .close("Target");
            ok_xml(x.finish("LiveChannelConfiguration"))
        }
        Op::GetLiveChannelStat => {
            let name = channel_name(r)?;
            let stat = blocking(move || engine.live_channel_stat(&bucket, &name)).await?;
            let mut x = XmlOut::new("LiveChannelStat");
            match stat {
                ChannelStat::Disabled => {
                    x.el("Status", "Disabled");
                }
                ChannelStat::Idle => {
                    x.el("Status", "Idle");
                }
                ChannelStat::Live(s) => {
                    x.el("Status", "Live")
                        .el_markup("ConnectedTime", Iso8601(s.connected_ms))
                        .el("RemoteAddr", &s.remote_addr);
                    let v = &s.stat;
                    if let Some(codec) = &v.video_codec {
                        x.open("Video")
                            .el_markup("Width", v.width)
                            .el_markup("Height", v.height)
                            .el_markup("FrameRate", v.frame_rate)
                            .el_markup("Bandwidth", v.video_bandwidth)
                            .el("Codec", codec)
                            .close("Video");
                    }
                    if let Some(codec) = &v.audio_codec {
                        x.open("Audio")
                            .el_markup("Bandwidth", v.audio_bandwidth)
                            .el_markup("SampleRate", v.sample_rate)
                            .el("Codec", codec)
                            .close("Audio");
                    }
                }
            }
            ok_xml(x.finish("LiveChannelStat"))
        }
        Op::GetLiveChannelHistory => {
            let name = channel_name(r)?;
            let records = blocking(move || engine.live_channel_history(&bucket, &name)).await?;
            let mut x = XmlOut::new("LiveChannelHistory");
            for rec in records {
                // A push that goes on has no end yet: it is given as now.
                let end = if rec.end_ms == 0 { now_ms() } else { rec.end_ms };
                x.open("LiveRecord")
                    .el_markup("StartTime", Iso8601(rec.start_ms))
                    .el_markup("EndTime", Iso8601(end))
                    .el("RemoteAddr", &rec.remote_addr)
                    .close("LiveRecord");
            }
            ok_xml(x.finish("LiveChannelHistory"))
        }
        Op::PostVodPlaylist => {
            let key = r.key()?;
            let Some((name, playlist)) = key.split_once('/') else {
                return Err(Error::new(Code::LiveChannelPlaylistNameSuffix).ctx("PlaylistName", ""));
            };
            let (name, playlist) = (name.to_string(), playlist.to_string());
            let (start, end) = time_range(r)?;
            let rec = blocking(move || engine.post_vod_playlist(&bucket, &name, &playlist, start, end)).await?;
            Response::builder()
                .header(http::header::ETAG, format!("\"{}\"", rec.etag))
                .body(Body::Empty)
                .map_err(Error::internal)
        }
        Op::GetVodPlaylist => {
            let name = channel_name(r)?;
            let (start, end) = time_range(r)?;
            let playlist = blocking(move || engine.vod_playlist(&bucket, &name, start, end)).await?;
            Response::builder()
                .header(http::header::CONTENT_TYPE, "application/x-mpegURL")
                .body(Body::full(playlist))
                .map_err(Error::internal)
        }
        _ => Err(Error::internal(format!("{} reached the LiveChannel handler", op.name()))),
    }
}

/// startTime and endTime (Unix seconds).
fn time_range(r: &Req) -> Result<(i64, i64)> {
    let get = |k: &str| r.q(k).and_then(|v| v.trim().parse::<i64>().ok());
    match (get("startTime"), get("endTime")) {
        (Some(s), Some(e)) => Ok((s, e)),
        _ => Err(Error::new(Code::LiveChannelInvalidTimeRange)
            .ctx("StartTime", r.q("startTime").unwrap_or(""))
            .ctx("EndTime", r.q("endTime").unwrap_or(""))),
    }
}

async fn list(state: &Arc<State>, r: &Req, b: &BucketRecord) -> Result<Response<Body>> {
    let prefix = r.q("prefix").unwrap_or("").to_string();
    let marker = r.q("marker").unwrap_or("").to_string();
    let max = limit_param(r, "max-keys", 100, 1000)?.max(1);
    let engine = state.engine.clone();
    let (bucket, p, m) = (b.name.clone(), prefix.clone(), marker.clone());
    let mut channels = blocking(move || engine.list_live_channels(&bucket, &p, &m, max + 1)).await?;
    let truncated = channels.len() > max;
    channels.truncate(max);
    let host = endpoint(r, &b.name);
    let mut x = XmlOut::new("ListLiveChannelResult");
    x.el("Prefix", &prefix).el("Marker", &marker).el_markup("MaxKeys", max).el_markup("IsTruncated", truncated);
    let next = if truncated { channels.last().map(|c| c.name.clone()).unwrap_or_default() } else { String::new() };
    x.el("NextMarker", &next);
    for c in &channels {
        x.open("LiveChannel")
            .el("Name", &c.name)
            .el("Description", &c.description)
            .el("Status", &c.status)
            .el("LastModified", &iso8601(c.mtime_ms));
        urls(&mut x, &host, c);
        x.close("LiveChannel");
    }
    ok_xml(x.finish("ListLiveChannelResult"))
}

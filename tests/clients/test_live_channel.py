"""LiveChannels with oss2 and a real RTMP push: ffmpeg publishes test video to the signed RTMP URL that oss2's
sign_rtmp_url makes; the playlist and segments are read back with oss2 and checked with ffprobe."""
import json
import re
import shutil
import subprocess
import time

import oss2
import pytest

from conftest import AK, SK, REGION, Server, check_error, new_name, raises

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")

FRAG_DURATION = 2
FRAG_COUNT = 2
PUSH_SECONDS = 6


@pytest.fixture(scope="module")
def live_server():
    s = Server(extra_args=("--rtmp-listen", "127.0.0.1:0"))
    deadline = time.time() + 10
    s.rtmp_port = None
    while s.rtmp_port is None and time.time() < deadline:
        m = re.search(r"RTMP ingest listening on 127\.0\.0\.1:(\d+)", s.log_text())
        s.rtmp_port = m and int(m.group(1))
        time.sleep(0.05)
    assert s.rtmp_port, s.log_text()
    yield s
    s.cleanup()


def live_bucket(server, acl=oss2.BUCKET_ACL_PRIVATE):
    b = oss2.Bucket(oss2.Auth(AK, SK), server.endpoint, new_name("live"), region=REGION)
    b.create_bucket(acl)
    return b


def create(b, name, **target):
    t = oss2.models.LiveChannelInfoTarget(**target)
    return b.create_live_channel(name, oss2.models.LiveChannelInfo(target=t))


def to_rtmp_port(url, port):
    """oss2 writes the RTMP URL on the HTTP endpoint's host and port; the ingest listens on its own port."""
    return re.sub(r"^rtmp://[^/]+", "rtmp://127.0.0.1:%d" % port, url)


def push(url, seconds=PUSH_SECONDS):
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine",
         "-t", str(seconds), "-c:v", "libx264", "-g", "25", "-c:a", "aac", "-f", "flv", url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def ffprobe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", path],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def playlist_entries(text):
    return [(float(d), name) for d, name in re.findall(r"#EXTINF:([0-9.]+),\n(\S+)", text)]


def test_push_writes_hls_and_the_channel_reports_it(live_server, tmp_path):
    b = live_bucket(live_server)
    ch = new_name("ch")
    made = create(b, ch, frag_duration=FRAG_DURATION, frag_count=FRAG_COUNT, playlist_name="live.m3u8")
    host = live_server.endpoint.replace("http://", "")
    assert made.publish_url == "rtmp://%s.%s/live/%s" % (b.bucket_name, host, ch)
    assert made.play_url == "http://%s.%s/%s/live.m3u8" % (b.bucket_name, host, ch)
    assert b.get_live_channel_stat(ch).status == "Idle"
    assert b.get_live_channel_history(ch).records == []

    started = int(time.time())
    url = to_rtmp_port(b.sign_rtmp_url(ch, "live.m3u8", 300), live_server.rtmp_port)
    p = push(url)
    # While pushing: Live, with the stream's parameters.
    stat = None
    deadline = time.time() + PUSH_SECONDS
    while time.time() < deadline:
        stat = b.get_live_channel_stat(ch)
        if stat.status == "Live" and stat.video is not None and stat.video.width:
            break
        time.sleep(0.3)
    assert stat.status == "Live", vars(stat)
    assert (stat.video.width, stat.video.height, stat.video.codec) == (320, 240, "H264")
    assert stat.video.frame_rate == 25
    assert stat.video.bandwidth > 0
    assert (stat.audio.codec, stat.audio.sample_rate) == ("AAC", 44100)
    assert stat.remote_addr.startswith("127.0.0.1:")
    assert abs(stat.connected_time - started) <= 5
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    ended = int(time.time())

    # After it: Idle, and the push is in the history.
    deadline = time.time() + 10
    while b.get_live_channel_stat(ch).status != "Idle" and time.time() < deadline:
        time.sleep(0.2)
    assert b.get_live_channel_stat(ch).status == "Idle"
    records = b.get_live_channel_history(ch).records
    assert len(records) == 1
    assert started - 2 <= records[0].start_time <= records[0].end_time <= ended + 2
    assert records[0].remote_addr.startswith("127.0.0.1:")

    # The playlist: the latest FragCount segments, FragDuration each (cut at keyframes, one a second).
    text = b.get_object("%s/live.m3u8" % ch).read().decode()
    entries = playlist_entries(text)
    assert len(entries) == FRAG_COUNT, text
    assert text.startswith("#EXTM3U\n") and "#EXT-X-TARGETDURATION:" in text
    for d, _ in entries:
        assert FRAG_DURATION - 0.2 <= d <= FRAG_DURATION + 0.5, text
    # Every segment of the push is stored; the playlist names the last ones.
    keys = sorted(o.key for o in oss2.ObjectIterator(b, prefix=ch + "/") if o.key.endswith(".ts"))
    assert len(keys) == PUSH_SECONDS // FRAG_DURATION, keys
    assert [ch + "/" + name for _, name in entries] == keys[-FRAG_COUNT:]

    # A segment is real MPEG-TS: H.264 320x240 and AAC.
    seg = tmp_path / "seg.ts"
    b.get_object_to_file(keys[-2], str(seg))
    info = ffprobe(str(seg))
    video = [s for s in info["streams"] if s["codec_type"] == "video"]
    audio = [s for s in info["streams"] if s["codec_type"] == "audio"]
    assert [(s["codec_name"], s["width"], s["height"]) for s in video] == [("h264", 320, 240)]
    assert [s["codec_name"] for s in audio] == ["aac"]
    assert abs(float(info["format"]["duration"]) - FRAG_DURATION) < 0.5
    decode = subprocess.run(["ffmpeg", "-v", "error", "-i", str(seg), "-f", "null", "-"], capture_output=True, text=True)
    assert decode.returncode == 0 and decode.stderr == "", decode.stderr

    # VOD: a playlist over the push's time range covers every segment; PostVodPlaylist stores it.
    vod = b.get_vod_playlist(ch, started - 1, ended + 1).playlist
    vod_entries = playlist_entries(vod)
    assert [ch + "/" + name for _, name in vod_entries] == keys
    assert vod.rstrip().endswith("#EXT-X-ENDLIST")
    assert abs(sum(d for d, _ in vod_entries) - PUSH_SECONDS) < 0.6
    b.post_vod_playlist(ch, "vod.m3u8", start_time=started - 1, end_time=ended + 1)
    assert b.get_object("%s/vod.m3u8" % ch).read().decode() == vod
    # Outside the push there is nothing.
    e = raises(b.get_vod_playlist, ch, started - 7200, started - 3600)
    check_error(live_server, e, oss2.exceptions.InvalidArgument, 400, "InvalidArgument", "LiveChannelNoSegments")

    # The bucket is not empty while it has the channel (even with its objects gone).
    for k in keys + ["%s/live.m3u8" % ch, "%s/vod.m3u8" % ch]:
        b.delete_object(k)
    e = raises(b.delete_bucket)
    check_error(live_server, e, oss2.exceptions.BucketNotEmpty, 409, "BucketNotEmpty")
    b.delete_live_channel(ch)
    b.delete_bucket()


def test_a_disabled_channel_and_bad_signatures_refuse_the_push(live_server):
    b = live_bucket(live_server)
    ch = new_name("ch")
    create(b, ch, frag_duration=1, frag_count=3)
    b.put_live_channel_status(ch, "disabled")
    assert b.get_live_channel(ch).status == "disabled"
    assert b.get_live_channel_stat(ch).status == "Disabled"
    url = to_rtmp_port(b.sign_rtmp_url(ch, "playlist.m3u8", 300), live_server.rtmp_port)
    p = push(url, seconds=2)
    _, err = p.communicate(timeout=60)
    assert p.returncode != 0
    assert "LiveChannelDisabled" in err.decode(), err
    assert b.get_live_channel_history(ch).records == []

    b.put_live_channel_status(ch, "enabled")
    bad = [
        # Another key's signature.
        to_rtmp_port(oss2.Bucket(oss2.Auth(AK, "wrong-secret"), live_server.endpoint, b.bucket_name)
                     .sign_rtmp_url(ch, "playlist.m3u8", 300), live_server.rtmp_port),
        # Expired.
        to_rtmp_port(b.sign_rtmp_url(ch, "playlist.m3u8", -10), live_server.rtmp_port),
        # Not signed, on a private bucket.
        to_rtmp_port(oss2.Bucket(oss2.AnonymousAuth(), live_server.endpoint, b.bucket_name)
                     .sign_rtmp_url(ch, "playlist.m3u8", 0), live_server.rtmp_port),
        # A parameter changed after signing.
        to_rtmp_port(b.sign_rtmp_url(ch, "playlist.m3u8", 300), live_server.rtmp_port)
        .replace("playlistName=playlist.m3u8", "playlistName=other.m3u8"),
    ]
    for url in bad:
        p = push(url, seconds=2)
        p.communicate(timeout=60)
        assert p.returncode != 0, url
    assert b.get_live_channel_history(ch).records == []
    assert not [o.key for o in oss2.ObjectIterator(b)]
    # The server still serves, and a good push goes through.
    p = push(to_rtmp_port(b.sign_rtmp_url(ch, "playlist.m3u8", 300), live_server.rtmp_port), seconds=2)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert len(b.get_live_channel_history(ch).records) == 1
    b.delete_live_channel(ch)


def test_a_public_read_write_bucket_takes_an_unsigned_push(live_server):
    b = live_bucket(live_server, oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    ch = new_name("ch")
    create(b, ch, frag_duration=1, frag_count=5)
    anon = oss2.Bucket(oss2.AnonymousAuth(), live_server.endpoint, b.bucket_name)
    p = push(to_rtmp_port(anon.sign_rtmp_url(ch, "", 0), live_server.rtmp_port), seconds=2)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    text = b.get_object("%s/playlist.m3u8" % ch).read().decode()
    assert 1 <= len(playlist_entries(text)) <= 5, text


def test_channel_api_rules(live_server):
    b = live_bucket(live_server)
    ch = new_name("ch")
    e = raises(b.get_live_channel, ch)
    check_error(live_server, e, oss2.exceptions.NoSuchLiveChannel, 404, "NoSuchLiveChannel")
    cases = [
        (dict(frag_duration=0), "LiveChannelInvalidFragDuration"),
        (dict(frag_duration=101), "LiveChannelInvalidFragDuration"),
        (dict(frag_count=0), "LiveChannelInvalidFragCount"),
        (dict(playlist_name="a/b.m3u8"), "LiveChannelPlaylistNameSlash"),
        (dict(playlist_name="abc.text"), "LiveChannelPlaylistNameSuffix"),
        (dict(playlist_name="x" * 130 + ".m3u8"), "LiveChannelPlaylistNameLength"),
        (dict(type="DASH"), "LiveChannelInvalidType"),
    ]
    for target, row in cases:
        e = raises(create, b, ch, **target)
        check_error(live_server, e, oss2.exceptions.InvalidArgument, 400, "InvalidArgument", row)
    e = raises(b.put_live_channel_status, ch, "enabled")
    check_error(live_server, e, oss2.exceptions.NoSuchLiveChannel, 404, "NoSuchLiveChannel")
    create(b, ch)
    info = b.get_live_channel(ch)
    assert (info.status, info.target.type, info.target.frag_duration, info.target.frag_count,
            info.target.playlist_name) == ("enabled", "HLS", "5", "3", "playlist.m3u8")
    e = raises(b.put_live_channel_status, ch, "paused")
    check_error(live_server, e, oss2.exceptions.InvalidArgument, 400, "InvalidArgument", "LiveChannelInvalidStatus")
    e = raises(b.get_vod_playlist, ch, 100, 100 + 2 * 86400)
    check_error(live_server, e, oss2.exceptions.InvalidArgument, 400, "InvalidArgument", "LiveChannelInvalidTimeRange")
    # Listing pages by marker.
    for i in range(3):
        create(b, "%s-%d" % (ch, i))
    page = b.list_live_channel(prefix=ch + "-", max_keys=2)
    assert [c.name for c in page.channels] == [ch + "-0", ch + "-1"]
    assert page.is_truncated and page.next_marker == ch + "-1"
    page = b.list_live_channel(prefix=ch + "-", marker=page.next_marker, max_keys=2)
    assert [c.name for c in page.channels] == [ch + "-2"] and not page.is_truncated
    # Only the owner manages channels.
    anon = oss2.Bucket(oss2.AnonymousAuth(), live_server.endpoint, b.bucket_name)
    e = raises(anon.get_live_channel, ch)
    check_error(live_server, e, oss2.exceptions.AccessDenied, 403, "AccessDenied")
    for c in list(oss2.LiveChannelIterator(b)):
        b.delete_live_channel(c.name)
    e = raises(b.delete_live_channel, ch)
    check_error(live_server, e, oss2.exceptions.NoSuchLiveChannel, 404, "NoSuchLiveChannel")
    b.delete_bucket()

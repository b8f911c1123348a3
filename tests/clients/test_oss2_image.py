"""Image processing through oss2 (x-oss-process): info, resize, format, and ImageDamage."""
import json
import struct
import zlib

import oss2

from conftest import check_error, raises


def png(w, h):
    rows = b"".join(b"\x00" + b"".join(bytes([x % 256, y % 256, 128]) for x in range(w)) for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def info(bucket, key):
    return json.loads(bucket.get_object(key, process="image/info").read())


def test_info_resize_format(server, bucket):
    data = png(64, 32)
    bucket.put_object("pic.png", data)
    i = info(bucket, "pic.png")
    assert i["ImageWidth"]["value"] == "64" and i["ImageHeight"]["value"] == "32"
    assert i["Format"]["value"] == "png" and i["FileSize"]["value"] == str(len(data))
    small = bucket.get_object("pic.png", process="image/resize,w_16").read()
    bucket.put_object("small.png", small)
    assert (info(bucket, "small.png")["ImageWidth"]["value"], info(bucket, "small.png")["ImageHeight"]["value"]) == ("16", "8")
    fixed = bucket.get_object("pic.png", process="image/resize,w_10,h_10,m_fixed/format,jpg")
    body = fixed.read()
    assert fixed.headers["Content-Type"] == "image/jpeg" and body[:3] == b"\xff\xd8\xff"
    bucket.put_object("conv.jpg", body)
    i = info(bucket, "conv.jpg")
    assert i["Format"]["value"] == "jpg" and i["ImageWidth"]["value"] == "10"
    back = bucket.get_object("conv.jpg", process="image/format,png").read()
    assert back[:8] == b"\x89PNG\r\n\x1a\n"


def test_damaged_and_bad_specs(server, bucket):
    bucket.put_object("broken.png", png(20, 20)[:60])
    e = raises(bucket.get_object, "broken.png", process="image/info")
    check_error(server, e, oss2.exceptions.ServerError, 403, "ImageDamage")
    bucket.put_object("text.png", b"this is not an image")
    e = raises(bucket.get_object, "text.png", process="image/resize,w_10")
    check_error(server, e, oss2.exceptions.ServerError, 403, "ImageDamage")
    bucket.put_object("ok.png", png(4, 4))
    for spec in ("image/rotate,90", "image/resize,w_0", "image/format,gif", "video/snapshot"):
        e = raises(bucket.get_object, "ok.png", process=spec)
        check_error(server, e, oss2.exceptions.InvalidArgument, 400, "InvalidArgument")

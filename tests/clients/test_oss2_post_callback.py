"""PostObject (browser form uploads) and upload callbacks, with a callback server of the test's own."""
import base64
import datetime
import hashlib
import hmac
import http.server
import json
import threading

import oss2
import pytest
import requests

from conftest import AK, REGION, SK, as_oss2_error, check_error


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def policy(conditions, minutes=10):
    exp = (datetime.datetime.utcnow() + datetime.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return b64(json.dumps({"expiration": exp, "conditions": conditions}))


def v1_fields(pol):
    sig = b64(hmac.new(SK.encode(), pol.encode(), hashlib.sha1).digest())
    return {"OSSAccessKeyId": AK, "policy": pol, "Signature": sig}


def v4_fields(pol):
    now = datetime.datetime.utcnow()
    date, stamp = now.strftime("%Y%m%d"), now.strftime("%Y%m%dT%H%M%SZ")
    key = ("aliyun_v4" + SK).encode()
    for part in (date, REGION, "oss", "aliyun_v4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return {"x-oss-signature-version": "OSS4-HMAC-SHA256", "x-oss-credential": "%s/%s/%s/oss/aliyun_v4_request" % (AK, date, REGION),
            "x-oss-date": stamp, "policy": pol, "x-oss-signature": hmac.new(key, pol.encode(), hashlib.sha256).hexdigest()}


def post(server, bucket, fields, data=b"file body", files=None):
    url = "%s/%s" % (server.endpoint, bucket.bucket_name)
    return requests.post(url, data=fields, files=files if files is not None else {"file": ("f.txt", data, "text/plain")})


@pytest.mark.parametrize("sign", [v1_fields, v4_fields])
def test_signed_post_object(server, bucket, sign):
    pol = policy([{"bucket": bucket.bucket_name}, ["starts-with", "$key", "up/"], ["content-length-range", 1, 1000]])
    f = dict(sign(pol), key="up/${filename}", success_action_status="201", **{"x-oss-meta-who": "form"})
    r = post(server, bucket, f)
    assert r.status_code == 201, r.text
    assert "<Key>up/f.txt</Key>" in r.text and r.headers["ETag"]
    g = bucket.get_object("up/f.txt")
    assert g.read() == b"file body" and g.headers["x-oss-meta-who"] == "form" and g.headers["Content-Type"] == "text/plain"
    r = post(server, bucket, dict(sign(pol), key="up/second"))
    assert r.status_code == 204


def test_anonymous_post_needs_a_writable_bucket(server, bucket):
    r = post(server, bucket, {"key": "anon"})
    e = as_oss2_error(r)
    check_error(server, e, oss2.exceptions.AccessDenied, 403, "AccessDenied")
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    assert post(server, bucket, {"key": "anon"}).status_code == 204
    assert bucket.get_object("anon").read() == b"file body"


def test_post_errors(server, bucket):
    pol = policy([["content-length-range", 10, 20], ["starts-with", "$key", "ok/"]])
    base = dict(v1_fields(pol), key="ok/x")
    url = "%s/%s" % (server.endpoint, bucket.bucket_name)
    cases = [
        (requests.post(url, data="key=x", headers={"Content-Type": "application/x-www-form-urlencoded"}),
         oss2.exceptions.ServerError, 400, "RequestIsNotMultiPartContent"),
        (requests.post(url, data=b"garbage without any boundary", headers={"Content-Type": "multipart/form-data; boundary=XyZ"}),
         oss2.exceptions.ServerError, 400, "MalformedPOSTRequest"),
        (post(server, bucket, dict(base, big="v" * 5000)), oss2.exceptions.ServerError, 400, "FieldItemTooLong"),
        (post(server, bucket, dict(base, **{"f%d" % i: "v" * 4000 for i in range(20)})), oss2.exceptions.ServerError, 400,
         "MaxPOSTPreDataLengthExceededError"),
        (post(server, bucket, base, files={"note": (None, "a field, not a file")}), oss2.exceptions.ServerError, 400,
         "IncorrectNumberOfFilesInPOSTRequest"),
        (requests.post(url, data=base, files=[("file", ("a", b"0123456789ab")), ("file", ("b", b"0123456789ab"))]),
         oss2.exceptions.ServerError, 400, "IncorrectNumberOfFilesInPOSTRequest"),
        (post(server, bucket, dict(v1_fields("not-a-policy!"), key="ok/x")), oss2.exceptions.ServerError, 400,
         "InvalidPolicyDocument"),
        (post(server, bucket, base, data=b"tiny"), oss2.exceptions.ServerError, 400, "EntityTooSmall"),
        (post(server, bucket, base, data=b"x" * 50), oss2.exceptions.ServerError, 400, "EntityTooLarge"),
        (post(server, bucket, dict(base, key="elsewhere/x"), data=b"x" * 15), oss2.exceptions.AccessDenied, 403, "AccessDenied"),
        (post(server, bucket, dict(v1_fields(policy([], minutes=-5)), key="ok/x")), oss2.exceptions.AccessDenied, 403,
         "AccessDenied"),
        (post(server, bucket, dict(base, Signature=b64(b"0" * 20))), oss2.exceptions.SignatureDoesNotMatch, 403,
         "SignatureDoesNotMatch"),
    ]
    # The policy's content-length-range has an EC of its own (OSS 0006-00000004), apart from the codes' other causes.
    rows = {"EntityTooSmall": "EntityTooSmallPostPolicy", "EntityTooLarge": "EntityTooLargePostPolicy"}
    for resp, cls, status, code in cases:
        e = as_oss2_error(resp)
        check_error(server, e, cls, status, code, row=rows.get(code))
    messages = {as_oss2_error(c[0]).code: as_oss2_error(c[0]).message for c in cases[:5]}
    assert messages["RequestIsNotMultiPartContent"] == "Bucket POST must be of the enclosure-type multipart/form-data."
    assert messages["FieldItemTooLong"] == "Your name of form field is too long."
    assert not bucket.object_exists("ok/x"), "no failed form may leave an object"
    assert post(server, bucket, base, data=b"x" * 15).status_code == 204


class Hook(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append((self.path, self.headers.get("Content-Type"), body.decode()))
        if self.path == "/ok":
            answer = json.dumps({"Status": "OK", "seen": body.decode()}).encode()
            self.send_response(200)
        else:
            answer = b"broken"
            self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def hook():
    srv = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()


def cb_headers(url, body="bucket=${bucket}&object=${object}&size=${size}&who=${x:who}"):
    return {"x-oss-callback": b64(json.dumps({"callbackUrl": url, "callbackBody": body})),
            "x-oss-callback-var": b64(json.dumps({"x:who": "tester"}))}


def test_put_callback_success_and_failure(server, bucket, hook):
    r = bucket.put_object("cb/ok", b"12345", headers=cb_headers(hook + "/ok"))
    assert r.status == 200
    answer = json.loads(r.resp.read())
    assert answer["seen"] == "bucket=%s&object=cb%%2Fok&size=5&who=tester" % bucket.bucket_name
    r = bucket.put_object("cb/fail", b"x", headers=cb_headers(hook + "/fail"))
    assert r.status == 203  # oss2 counts 203 as success; decode the body as oss2 decodes errors
    e = oss2.exceptions.make_exception(r.resp)
    check_error(server, e, oss2.exceptions.ServerError, 203, "CallbackFailed")
    assert e.message == "Callback to application server failed, please check your callbackUrl."
    assert bucket.get_object("cb/fail").read() == b"x", "the object stays stored when the callback fails"
    r = bucket.put_object("cb/down", b"x", headers=cb_headers("http://127.0.0.1:9/unreachable"))
    assert r.status == 203 and bucket.object_exists("cb/down")


def test_callback_on_complete_and_post(server, bucket, hook):
    up = bucket.init_multipart_upload("cb/mp")
    p = bucket.upload_part("cb/mp", up.upload_id, 1, b"part")
    r = bucket.complete_multipart_upload("cb/mp", up.upload_id, [oss2.models.PartInfo(1, p.etag)],
                                         headers=cb_headers(hook + "/ok", "k=${object}"))
    assert r.status == 200 and json.loads(r.resp.read())["seen"] == "k=cb%2Fmp"
    pol = policy([])
    cb = b64(json.dumps({"callbackUrl": hook + "/ok", "callbackBody": "k=${object}&v=${x:v}"}))
    resp = post(server, bucket, dict(v1_fields(pol), key="cb/form", callback=cb, **{"x:v": "1"}))
    assert resp.status_code == 200 and resp.json()["seen"] == "k=cb%2Fform&v=1"


def test_invalid_callback_stores_nothing(server, bucket):
    e = None
    try:
        bucket.put_object("cb/bad", b"x", headers={"x-oss-callback": b64("{not json")})
    except oss2.exceptions.ServerError as err:
        e = err
    check_error(server, e, oss2.exceptions.InvalidArgument, 400, "InvalidArgument")
    assert not bucket.object_exists("cb/bad")

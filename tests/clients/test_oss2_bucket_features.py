"""Bucket features through oss2: CORS, lifecycle (with its worker), static website, access logging."""
import time

import oss2
import pytest
import requests
from oss2.models import (AbortMultipartUpload, BucketCors, BucketLifecycle, BucketLogging, BucketWebsite, CorsRule,
                         LifecycleExpiration, LifecycleRule, Tagging, TaggingRule)

from conftest import Server, check_error, new_name, raises, root_bucket, signed


@pytest.fixture(scope="module")
def fast():
    s = Server(extra_args=["--lifecycle-day-seconds", "2", "--log-flush-seconds", "1"])
    yield s
    s.cleanup()


@pytest.fixture
def fb(fast):
    return root_bucket(fast, "f")


def test_cors_configuration_and_preflight(fast, fb):
    check_error(fast, raises(fb.get_bucket_cors), oss2.exceptions.NoSuchCors, 404, "NoSuchCORSConfiguration")
    url = "%s/%s/obj" % (fast.endpoint, fb.bucket_name)
    pre = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"}
    r = requests.options(url, headers=pre)
    assert r.status_code == 403 and "<Code>AccessForbidden</Code>" in r.text
    assert "This CORS request is not allowed" in r.text and r.headers["x-oss-request-id"]
    rule = CorsRule(allowed_origins=["https://*.example.com"], allowed_methods=["GET", "PUT"],
                    allowed_headers=["x-oss-*", "content-type"], expose_headers=["ETag"], max_age_seconds=100)
    fb.put_bucket_cors(BucketCors([rule]))
    got = fb.get_bucket_cors().rules[0]
    assert got.allowed_origins == ["https://*.example.com"] and got.max_age_seconds == 100
    r = requests.options(url, headers=dict(pre, **{"Access-Control-Request-Headers": "X-Oss-Meta-A, Content-Type"}))
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "PUT" in r.headers["Access-Control-Allow-Methods"] and r.headers["Access-Control-Max-Age"] == "100"
    for bad in ({"Origin": "https://evil.com", "Access-Control-Request-Method": "PUT"},
                {"Origin": "https://app.example.com", "Access-Control-Request-Method": "DELETE"},
                dict(pre, **{"Access-Control-Request-Headers": "authorization"}),
                {"Access-Control-Request-Method": "GET"}):
        r = requests.options(url, headers=bad)
        assert r.status_code == 403 and "<Code>AccessForbidden</Code>" in r.text, bad
    fb.put_object("obj", b"x")
    g = fb.get_object("obj", headers={"Origin": "https://app.example.com"})
    assert g.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert g.headers["Access-Control-Expose-Headers"] == "ETag"
    assert "Access-Control-Allow-Origin" not in fb.get_object("obj", headers={"Origin": "https://evil.com"}).headers
    fb.delete_bucket_cors()
    check_error(fast, raises(fb.get_bucket_cors), oss2.exceptions.NoSuchCors, 404, "NoSuchCORSConfiguration")
    r = signed(fast, "PUT", fb.bucket_name, None, params={"cors": ""}, data=b"<CORSConfiguration><CORSRule>")
    assert r.status_code == 400 and "<Code>MalformedXML</Code>" in r.text


def test_lifecycle_configuration_errors(fast, fb):
    check_error(fast, raises(fb.get_bucket_lifecycle), oss2.exceptions.NoSuchLifecycle, 404, "NoSuchLifecycle")
    r = signed(fast, "PUT", fb.bucket_name, None, params={"lifecycle": ""},
               data=b"<LifecycleConfiguration><Rule><Status>Enabled</Status></Rule></LifecycleConfiguration>")
    assert r.status_code == 400 and "<Code>MalformedXML</Code>" in r.text and "<EC>0031-00000001</EC>" in r.text
    r = signed(fast, "PUT", fb.bucket_name, None, params={"lifecycle": ""}, data=b"not xml at all")
    assert r.status_code == 400 and "<Code>MalformedXML</Code>" in r.text


def test_lifecycle_worker_expires_by_days_prefix_and_tag(fast, fb):
    fb.put_object("logs/old", b"1")
    fb.put_object("logs/tagged", b"2", headers={"x-oss-tagging": "tmp=yes"})
    fb.put_object("keep/other", b"3")
    up = fb.init_multipart_upload("logs/upload")
    tagging = Tagging(TaggingRule())
    tagging.tag_set.add("tmp", "yes")
    rules = [LifecycleRule("by-days", "logs/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=1),
                           abort_multipart_upload=AbortMultipartUpload(days=1)),
             LifecycleRule("by-tag", "keep/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=1),
                           tagging=tagging)]
    fb.put_bucket_lifecycle(BucketLifecycle(rules))
    got = fb.get_bucket_lifecycle().rules
    assert [r.id for r in got] == ["by-days", "by-tag"] and got[0].expiration.days == 1
    deadline = time.time() + 15
    while time.time() < deadline and fb.object_exists("logs/old"):
        time.sleep(0.3)
    assert not fb.object_exists("logs/old") and not fb.object_exists("logs/tagged")
    assert fb.object_exists("keep/other"), "the tag filter must keep untagged objects"
    assert up.upload_id not in [u.upload_id for u in oss2.MultipartUploadIterator(fb)]
    fb.delete_bucket_lifecycle()
    check_error(fast, raises(fb.get_bucket_lifecycle), oss2.exceptions.NoSuchLifecycle, 404, "NoSuchLifecycle")


def test_website(fast, fb):
    check_error(fast, raises(fb.get_bucket_website), oss2.exceptions.NoSuchWebsite, 404, "NoSuchWebsiteConfiguration")
    fb.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    fb.put_object("index.html", b"<h1>home</h1>", headers={"Content-Type": "text/html"})
    fb.put_object("docs/index.html", b"<h1>docs</h1>")
    fb.put_object("error.html", b"<h1>missing</h1>")
    fb.put_bucket_website(BucketWebsite("index.html", "error.html"))
    w = fb.get_bucket_website()
    assert w.index_file == "index.html" and w.error_file == "error.html"
    base = "%s/%s/" % (fast.endpoint, fb.bucket_name)
    r = requests.get(base)
    assert r.status_code == 200 and r.content == b"<h1>home</h1>" and r.headers["Content-Type"] == "text/html"
    assert requests.get(base + "docs/").content == b"<h1>docs</h1>"
    r = requests.get(base + "nothing-here")
    assert r.status_code == 404 and r.content == b"<h1>missing</h1>"
    # Signed requests still get the API, not the website.
    assert [o.key for o in fb.list_objects().object_list] == ["docs/index.html", "error.html", "index.html"]
    fb.delete_bucket_website()
    check_error(fast, raises(fb.get_bucket_website), oss2.exceptions.NoSuchWebsite, 404, "NoSuchWebsiteConfiguration")


def test_logging(fast, fb):
    assert fb.get_bucket_logging().target_bucket == ""
    e = raises(fb.put_bucket_logging, BucketLogging(new_name("absent"), "log/"))
    check_error(fast, e, oss2.exceptions.ServerError, 400, "InvalidTargetBucketForLogging")
    target = root_bucket(fast, "logs")
    fb.put_bucket_logging(BucketLogging(target.bucket_name, "access/"))
    assert fb.get_bucket_logging().target_bucket == target.bucket_name
    fb.put_object("logged", b"x")
    fb.get_object("logged").read()
    raises(fb.get_object, "absent-key")
    deadline = time.time() + 10
    logs = []
    while time.time() < deadline and not logs:
        time.sleep(0.3)
        logs = [o.key for o in oss2.ObjectIterator(target, prefix="access/")]
    assert logs and logs[0].startswith("access/" + fb.bucket_name)
    text = b"".join(target.get_object(k).read() for k in logs).decode()
    assert '"PUT /%s/logged HTTP/1.1" 200' % fb.bucket_name in text
    assert '"GetObject"' in text and '"NoSuchKey"' in text
    fb.delete_bucket_logging()
    assert fb.get_bucket_logging().target_bucket == ""

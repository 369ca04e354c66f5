"""Raw requests against the endpoint (authentication, headers, response
signature) and concurrent clients (conditions and increments are atomic)."""
import base64
import datetime
import hashlib
import hmac
import threading
import urllib.error
import urllib.request

from conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, INSTANCE
from tablestore import Condition, OTSServiceError, Row, RowExistenceExpectation
import tablestore.protobuf.table_store_pb2 as pb


def sign(secret, path, headers):
    canon = "\n".join(sorted("%s:%s" % (k, v.strip()) for k, v in headers.items() if k.startswith("x-ots-")))
    string = "%s\nPOST\n\n%s\n" % (path, canon)
    return base64.b64encode(hmac.new(secret.encode(), string.encode(), hashlib.sha1).digest()).decode()


def raw(endpoint, api, body=b"", key_id=ACCESS_KEY_ID, secret=ACCESS_KEY_SECRET, instance=INSTANCE,
        date=None, md5=None, drop=None, method="POST"):
    now = date or datetime.datetime.now(datetime.timezone.utc)
    headers = {
        "x-ots-date": now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "x-ots-apiversion": "2015-12-31",
        "x-ots-accesskeyid": key_id,
        "x-ots-instancename": instance,
        "x-ots-contentmd5": md5 or base64.b64encode(hashlib.md5(body).digest()).decode(),
    }
    if drop:
        del headers[drop]
    headers["x-ots-signature"] = sign(secret, "/" + api, headers)
    req = urllib.request.Request(endpoint.url + "/" + api, data=body if method == "POST" else None,
                                 headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict((k.lower(), v) for k, v in r.headers.items()), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict((k.lower(), v) for k, v in e.headers.items()), e.read()


def error_of(body):
    e = pb.Error()
    e.ParseFromString(body)
    return e.code, e.message


def test_a_signed_request_gets_a_signed_response(endpoint):
    status, headers, body = raw(endpoint, "ListTable", pb.ListTableRequest().SerializeToString())
    assert status == 200
    assert headers["x-ots-contentmd5"] == base64.b64encode(hashlib.md5(body).digest()).decode()
    for h in ("x-ots-requestid", "x-ots-date", "x-ots-contenttype"):
        assert h in headers
    canon = "\n".join(sorted("%s:%s" % (k, v.strip()) for k, v in headers.items() if k.startswith("x-ots-")))
    want = base64.b64encode(hmac.new(ACCESS_KEY_SECRET.encode(), (canon + "\n/ListTable").encode(),
                                     hashlib.sha1).digest()).decode()
    assert headers["authorization"] == "OTS %s:%s" % (ACCESS_KEY_ID, want)


def test_authentication_failures(endpoint):
    body = pb.ListTableRequest().SerializeToString()
    cases = [
        (dict(secret="wrong"), 403, "OTSAuthFailed", "Signature mismatch."),
        (dict(key_id="nobody"), 403, "OTSAuthFailed", "The AccessKeyID does not exist."),
        (dict(instance="other"), 403, "OTSAuthFailed", "The instance is not found."),
        (dict(md5="AAAAAAAAAAAAAAAAAAAAAA=="), 403, "OTSAuthFailed",
         "Mismatch between MD5 value of request body and x-ots-contentmd5 in header."),
        (dict(drop="x-ots-date"), 400, "OTSParameterInvalid", "Missing header: 'x-ots-date'."),
        (dict(drop="x-ots-instancename"), 400, "OTSParameterInvalid", "Missing header: 'x-ots-instancename'."),
    ]
    for kwargs, status, code, message in cases:
        got_status, headers, got_body = raw(endpoint, "ListTable", body, **kwargs)
        assert (got_status, error_of(got_body)) == (status, (code, message)), kwargs
        assert "authorization" not in headers
    skewed = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=16)
    status, _, b = raw(endpoint, "ListTable", body, date=skewed)
    assert status == 403 and error_of(b)[0] == "OTSAuthFailed"
    assert error_of(b)[1].startswith("Mismatch between system time and x-ots-date: ")
    # The second key of the file works too.
    assert raw(endpoint, "ListTable", body, key_id="other-id", secret="other-secret")[0] == 200


def test_http_level_errors(endpoint):
    status, _, b = raw(endpoint, "ListTable", method="GET")
    assert (status, error_of(b)) == (405, ("OTSMethodNotAllowed", "Only POST method for requests is supported."))
    status, _, b = raw(endpoint, "PutRow", b"\xff\xff\xff")
    assert status == 400 and error_of(b)[0] == "OTSParameterInvalid"
    status, _, b = raw(endpoint, "NoSuchApi", b"")
    assert status == 400 and error_of(b)[0] == "OTSUnsupportOperation"
    # A damaged PlainBuffer row is refused with a clear message.
    req = pb.GetRowRequest(table_name="x", primary_key=b"\x75\x00\x00\x00\x01\x03", max_versions=1)
    status, _, b = raw(endpoint, "GetRow", req.SerializeToString())
    assert status in (400, 404)
    big = b"\x00" * (17 * 1024 * 1024)
    status, _, b = raw(endpoint, "PutRow", big)
    assert (status, error_of(b)) == (413, ("OTSRequestBodyTooLarge", "The size of POST data is too large."))


def test_concurrent_expect_not_exist_has_exactly_one_winner(endpoint, table):
    threads, wins, losses, other = 16, [], [], []
    barrier = threading.Barrier(threads)

    def worker(i):
        c = endpoint.client()
        barrier.wait()
        try:
            c.put_row(table, Row([("uid", 1), ("name", "race")], [("winner", i)]),
                      Condition(RowExistenceExpectation.EXPECT_NOT_EXIST))
            wins.append(i)
        except OTSServiceError as e:
            (losses if e.get_error_code() == "OTSConditionCheckFail" else other).append(e)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert other == [] and len(wins) == 1 and len(losses) == threads - 1
    c = endpoint.client()
    row = c.get_row(table, [("uid", 1), ("name", "race")])[1]
    assert row.attribute_columns[0][1] == wins[0]


def test_concurrent_increments_add_up(endpoint, table):
    threads, each = 8, 25

    def worker():
        c = endpoint.client()
        for _ in range(each):
            c.update_row(table, Row([("uid", 2), ("name", "inc")], {"increment": [("n", 1)]}), Condition("IGNORE"))

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    row = endpoint.client().get_row(table, [("uid", 2), ("name", "inc")])[1]
    assert row.attribute_columns[0][1] == threads * each

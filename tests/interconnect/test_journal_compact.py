"""The compact journal form of bulk answers: what it keeps, and that its figures are the payload's own."""

import hashlib
import json

from apps.interconnect.journal import compact


def _canonical(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def test_compact_keeps_scalars_and_digests_lists_with_the_whole_payloads_size():
    payload = {"PageNo": 2, "PageCount": 9, "ItemSize": 812, "StationInfos": [{"StationID": "S1", "名称": "朝阳"}] * 3,
               "Extra": {"b": 1, "a": "\u00e9"}}  # fmt: skip
    kept = compact(payload)
    assert kept["_compact"] is True and kept["_bytes"] == len(_canonical(payload))
    assert (kept["PageNo"], kept["PageCount"], kept["ItemSize"]) == (2, 9, 812)
    assert kept["StationInfos"] == {
        "_items": 3,
        "_sha256": hashlib.sha256(_canonical(payload["StationInfos"])).hexdigest(),
    }
    assert kept["Extra"]["_sha256"] == hashlib.sha256(_canonical({"a": "\u00e9", "b": 1})).hexdigest()
    assert compact({})["_bytes"] == 2 and compact([1, 2]) == [1, 2]

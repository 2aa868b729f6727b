"""Unit tests: the fast paths agree with core.pii exactly; the encrypted file store round-trips,
seeks, and detects tampering; prefix ranges; header mapping."""

from __future__ import annotations

import datetime as dt
import io
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.members import filestore, personal, roster
from core.pii import DecryptError, IdNumberError, PhoneError, normalize_id_number, normalize_phone
from core.pii.idcard import check_char
from tests.members.members_helpers import make_id

TODAY = dt.date(2026, 6, 1)


def _outcome(fn, value):
    try:
        return ("ok", fn(value))
    except (IdNumberError, PhoneError) as exc:
        return ("error", exc.code, exc.message_zh)


id_like = st.one_of(
    st.text(alphabet="0123456789Xx", min_size=15, max_size=19),
    st.builds(lambda area, y, m, d, s: (lambda b: b + check_char(b))(f"{area}{y:04d}{m:02d}{d:02d}{s:03d}"),
              st.sampled_from(["110105", "310101", "710000", "810000", "990000", "440524"]),
              st.integers(1890, 2030), st.integers(0, 13), st.integers(0, 32), st.integers(0, 999)),
    st.text(max_size=20),
)


@settings(max_examples=600, deadline=None)
@given(id_like)
def test_fast_id_path_agrees_with_core(value):
    assert _outcome(lambda v: personal.canonical_id_number(v, today=TODAY), value) == \
        _outcome(lambda v: normalize_id_number(v, today=TODAY), value)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(alphabet="0123456789+- ()", max_size=16), st.from_regex(r"1[0-9]{10}", fullmatch=True),
                 st.text(max_size=12)))
def test_fast_phone_path_agrees_with_core(value):
    assert _outcome(personal.canonical_phone, value) == _outcome(normalize_phone, value)


def test_id_facts_and_blind_index():
    idn = make_id(birth="19900228", male=False, seq=0)
    assert personal.id_facts(idn) == ("F", dt.date(1990, 2, 28))
    assert personal.id_bidx(idn, 1) == personal.id_bidx(idn, 1) != personal.id_bidx(idn, 2)
    assert len(personal.id_bidx(idn, 1)) == 32 and personal.id_bidx(idn, 1) != personal.phone_bidx(idn, 1)


def test_prefix_upper_bound():
    assert personal.prefix_upper_bound("王") == "玌"
    assert personal.prefix_upper_bound("ab") == "ac"
    for word in ("王伟", "王二", "王\U0010ffff"):
        assert "王" <= word < personal.prefix_upper_bound("王")


def test_masks_never_decrypt_to_more(monkeypatch):
    token = personal.encrypt("11010519491231002X", "member", "id_number", 7)
    assert personal.masked_id(token, "member", 7) == "110105********002X"
    assert personal.masked_id(token, "member", 8) == "******************"  # wrong tenant: nothing shown
    assert personal.masked_id(None, "member", 7) is None


@pytest.fixture
def store(tmp_path, members_file_root):
    members_file_root(tmp_path)
    return tmp_path


@pytest.mark.parametrize("size", [0, 1, filestore.CHUNK - 1, filestore.CHUNK, filestore.CHUNK + 1, 3 * filestore.CHUNK + 17])
def test_filestore_round_trip_and_seek(store, size):
    data = os.urandom(size)
    assert filestore.store_stream(iter([data[:10], data[10:]]), "imports", 3, 9) == size
    raw = filestore.path_for("imports", 3, 9).read_bytes()
    assert data[:64] not in raw or size < 64
    with filestore.open_stored("imports", 3, 9) as f:
        assert f.read() == data
        if size > 100:
            f.seek(size - 50)
            assert f.read() == data[-50:]
            f.seek(7)
            assert f.read(20) == data[7:27]


def test_filestore_detects_tampering_and_misplacement(store):
    data = os.urandom(2 * filestore.CHUNK + 5)
    filestore.store_stream(iter([data]), "imports", 3, 9)
    path = filestore.path_for("imports", 3, 9)
    lines = path.read_bytes().splitlines(keepends=True)
    # Swapped chunks, a dropped last chunk, or another object's file: all refused.
    for bad in (lines[1] + lines[0] + lines[2], lines[0] + lines[1]):
        path.write_bytes(bad)
        with pytest.raises((DecryptError, ValueError)):
            filestore.open_stored("imports", 3, 9).read()
    path.write_bytes(b"".join(lines))
    target = filestore.path_for("imports", 3, 10)
    target.write_bytes(path.read_bytes())
    with pytest.raises((DecryptError, ValueError)):
        filestore.open_stored("imports", 3, 10).read()


def test_header_mapping_variants():
    mapping, unknown = roster.map_header(["序号", " 姓名 * ", "公民身份号码（必填）", "所属基层工会", "联系电话", "备注"])
    assert mapping == {"name": 1, "id_number": 2, "org_unit": 3, "phone": 4} and unknown == ["序号", "备注"]
    rows = iter([(1, ["某工会会员名册"]), (2, []), (3, ["姓名", "身份证号", "工会代码"]), (4, ["a", "b", "c"])])
    header = roster.find_header(rows)
    assert header.row == 3 and header.columns == {"name": 0, "id_number": 1, "org_unit": 2}


def test_sniff_encodings():
    text = "姓名,身份证号码,所属工会\n张三,1,2\n"
    assert roster.sniff(io.BytesIO(text.encode("gbk"))).encoding == "gb18030"
    assert roster.sniff(io.BytesIO(text.encode("utf-8"))).encoding == "utf-8-sig"
    assert roster.sniff(io.BytesIO("\ufeff".encode() + text.encode())).encoding == "utf-8-sig"
    utf16 = roster.sniff(io.BytesIO(text.replace(",", "\t").encode("utf-16")))
    assert (utf16.encoding, utf16.delimiter) == ("utf-16", "\t")
    rows = list(roster.csv_rows(io.BytesIO(text.replace(",", "\t").encode("utf-16")), utf16))
    assert rows[1] == (2, ["张三", "1", "2"])


@settings(max_examples=600, deadline=None)
@given(id_like)
def test_core_fast_path_agrees_with_the_full_normalisation(value):
    # A leading full-width space is removed by the normalisation but keeps the input off the fast
    # path (which takes only 18 ASCII characters): both routes must give the same value or error.
    assert _outcome(lambda v: normalize_id_number(v, today=TODAY), value) == \
        _outcome(lambda v: normalize_id_number("\u3000" + v, today=TODAY), value)

"""Property: every DynamoDB type survives export + restore exactly (moto server over HTTP)."""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runbook_lib.steps import export, tablerestore
from tests.conftest import make_table

# Numbers as DynamoDB holds them: up to 38 significant digits, well inside its exponent range.
digits38 = st.integers(min_value=-(10**38 - 1), max_value=10**38 - 1)
numbers = st.one_of(
    digits38.map(str),
    st.tuples(digits38, st.integers(-40, 40)).map(lambda t: str(Decimal(t[0]).scaleb(t[1]))),
)
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8)
scalars = st.one_of(
    text.map(lambda s: {"S": s}),
    numbers.map(lambda n: {"N": n}),
    st.binary(max_size=16).map(lambda b: {"B": b}),
    st.lists(text.filter(bool), min_size=1, max_size=4, unique=True).map(lambda v: {"SS": v}),
    st.lists(numbers, min_size=1, max_size=4, unique_by=Decimal).map(lambda v: {"NS": v}),
    st.lists(st.binary(min_size=1, max_size=8), min_size=1, max_size=4, unique=True).map(
        lambda v: {"BS": v}
    ),
    st.just({"NULL": True}),
    st.booleans().map(lambda b: {"BOOL": b}),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(names, inner, max_size=3).map(lambda v: {"M": v}),
    ),
    max_leaves=8,
)
attributes = st.dictionaries(names.filter(lambda n: n != "stat"), values, max_size=5)
tables = st.lists(
    st.tuples(text.filter(bool), attributes), min_size=1, max_size=6, unique_by=lambda t: t[0]
).map(lambda rows: [{"stat": {"S": key}, **attrs} for key, attrs in rows])


def canonical(item: dict) -> str:
    """Exact comparison except set order, which DynamoDB does not keep."""

    def norm(v):
        ((code, inner),) = v.items()
        if code in ("SS", "NS", "BS"):
            return {code: sorted(inner)}
        if code == "L":
            return {"L": [norm(x) for x in inner]}
        if code == "M":
            return {"M": {k: norm(x) for k, x in inner.items()}}
        return v

    return json.dumps({k: norm(v) for k, v in item.items()}, sort_keys=True, default=repr)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(items=tables)
def test_every_type_round_trips_through_export_and_restore(ddb, items):
    source, dest = make_table(ddb), make_table(ddb)
    for item in items:
        ddb.put_item(TableName=source, Item=item)
    with tempfile.TemporaryDirectory() as folder:
        res = export.export_table(source, folder, ddb=ddb, page_size=2, segments=2)
        restored = tablerestore.restore_table(
            res.path, dest, dry_run=False, confirm=dest, allow_other_table=True, ddb=ddb
        )
    assert restored.verified and restored.items_written == len(items)
    got = ddb.scan(TableName=dest, ConsistentRead=True)["Items"]
    assert sorted(map(canonical, got)) == sorted(map(canonical, items))


@settings(max_examples=200, deadline=None)
@given(items=tables)
def test_line_codec_is_lossless(items):
    for item in items:
        line, digest = export.encode_line(item)
        back = export.item_from_json(json.loads(line))
        assert back == item, "no float, no lost bytes, no reordered lists"
        assert export.item_digest(json.loads(line)) == digest

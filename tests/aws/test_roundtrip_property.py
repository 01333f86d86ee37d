"""Property: every DynamoDB type survives export + restore exactly (moto server over HTTP)."""

from __future__ import annotations

import json
import tempfile

from hypothesis import HealthCheck, given, settings

from runbook_lib.steps.backup import export, tablerestore
from tests.conftest import make_table
from tests.itemstrategies import tables


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

"""The issue's string count through `runbook run 03_set_count` (issue 16, item 7): a confirmed
number over `{"count": {"S": "57"}}` exits 3 with nothing written, and the command it prints
(`-p count_type S`) runs as is and writes "60" as a string, no second attribute beside it."""

from __future__ import annotations

import shlex
import uuid

import pytest

from runbook_lib.aws import counter
from runbook_lib.model import Target
from runbook_lib.notebook import runner
from runbook_lib.sandbox import server as sandbox
from tests.conftest import files_under, make_table

pytestmark = pytest.mark.notebook
SITE_ITEM = {"id": {"S": "Counter"}, "count": {"S": "57"}}


def test_a_number_over_a_string_count_exits_3_and_its_command_writes_a_string(
    ddb, moto_url, backups, tmp_path
):
    table = make_table(ddb, f"visitors-{uuid.uuid4().hex[:10]}", key="id")
    ddb.put_item(TableName=table, Item=SITE_ITEM)
    site = Target(table=table, key_name="id", key_value="Counter", count_attribute="count",
                  region=sandbox.REGION, endpoint=moto_url)  # fmt: skip
    params = {"table_name": table, "key_value": "Counter", "count_attribute": "count"}
    params |= {"new_value": "60", "dry_run": "False", "confirm": table}

    out = runner.run_notebook("03_set_count", params, tmp_path / "reports", html=False)

    assert (out.exit_code, out.error, out.failed_cell) == (3, None, None), out.summary()
    assert 'holds count as a string (S "57")' in out.result["refused"]
    assert counter.get_item(site, ddb=ddb) == SITE_ITEM and files_under(backups) == []
    argv = shlex.split(out.result["command"])
    assert argv[:3] == ["runbook", "run", "03_set_count"] and "count_type" in argv
    again = {argv[i + 1]: argv[i + 2] for i in range(3, len(argv), 3) if argv[i] == "-p"}

    done = runner.run_notebook(argv[2], again, tmp_path / "reports", html=False)

    assert done.exit_code == 0, done.summary()
    live = counter.get_item(site, ddb=ddb)
    assert live["count"] == {"S": "60"} and "viewCount" not in live

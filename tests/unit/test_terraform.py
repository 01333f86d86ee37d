"""runbook_lib.terraform without the terraform binary: text builders, HCL reading, state
shaping, the deterministic Lambda zip, mirror discovery and the subprocess wrapper."""

from __future__ import annotations

import json
import os
import shutil
import stat
import zipfile
from pathlib import Path

import hcl2
import pytest

from runbook_lib.errors import TerraformError
from runbook_lib.tf import (
    binary,
    environment,
    hclconfig,
    lambdazip,
    override,
    process,
    sandboxstack,
    state,
    tabledef,
)
from runbook_lib.tf import mirror as tfmirror

ROOT = Path(__file__).resolve().parents[2]
TF_DIR = ROOT / "terraform"
ENDPOINT = "http://127.0.0.1:5055"


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Own state dir and HOME, no user Terraform config: discovery starts from nothing."""
    monkeypatch.setenv("RUNBOOK_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tmp_path / "missing.rc"))
    for key in ("RUNBOOK_TF_MIRROR", "RUNBOOK_TERRAFORM", "XDG_DATA_HOME", "XDG_DATA_DIRS"):
        monkeypatch.delenv(key, raising=False)
    (tmp_path / "home").mkdir()
    return tmp_path


def fake_mirror(root: Path, version: str = "5.100.0", packed: bool = False) -> Path:
    base = root / "registry.terraform.io" / "hashicorp" / "aws"
    if packed:
        base.mkdir(parents=True)
        (base / f"terraform-provider-aws_{version}_{binary.os_arch()}.zip").write_bytes(b"")
    else:
        folder = base / version / binary.os_arch()
        folder.mkdir(parents=True)
        (folder / f"terraform-provider-aws_v{version}_x5").write_bytes(b"")
    return root


# ------------------------------------------------------------------ sandbox override


def test_override_points_every_service_at_the_endpoint_and_holds_no_keys():
    text = override.sandbox_override_text(ENDPOINT, "eu-west-1")
    doc = hcl2.loads(text)
    provider = doc["provider"][0]["aws"]
    endpoints = provider["endpoints"][0]
    assert set(endpoints) == set(override.SANDBOX_SERVICES)
    assert set(endpoints.values()) == {ENDPOINT}
    for service in ("dynamodb", "cloudwatch", "sts", "iam", "lambda", "apigatewayv2", "logs"):
        assert service in endpoints
    assert provider["region"] == "eu-west-1"
    for flag in (
        "skip_credentials_validation",
        "skip_metadata_api_check",
        "skip_requesting_account_id",
        "s3_use_path_style",
    ):
        assert provider[flag] is True
    assert "access_key" not in text and "secret_key" not in text and "testing" not in text
    # state stays local in the workdir even if the stack grows a remote backend
    assert doc["terraform"][0]["backend"][0]["local"]["path"] == "terraform.tfstate"


# ------------------------------------------------------------------ CLI config


def test_cli_config_installs_mirrored_providers_offline_and_others_from_registry():
    text = environment.cli_config_text(Path("/m/p"), ["registry.terraform.io/hashicorp/aws"])
    install = hcl2.loads(text)["provider_installation"][0]
    mirror = install["filesystem_mirror"][0]
    assert mirror["path"] == "/m/p"
    assert mirror["include"] == ["registry.terraform.io/hashicorp/aws"]
    assert install["direct"][0]["exclude"] == ["registry.terraform.io/hashicorp/aws"]


def test_cli_config_defaults_to_all_hashicorp_providers():
    install = hcl2.loads(environment.cli_config_text(Path("/m")))["provider_installation"][0]
    assert install["filesystem_mirror"][0]["include"] == ["registry.terraform.io/hashicorp/*"]


def test_terraform_env_writes_a_config_for_a_found_mirror(isolated, monkeypatch):
    mirror = fake_mirror(isolated / "mirror")
    monkeypatch.setenv("RUNBOOK_TF_MIRROR", str(mirror))
    env = environment.terraform_env(
        {"PATH": "/bin", "TF_CLI_CONFIG_FILE": str(isolated / "missing.rc")}
    )
    rc = Path(env["TF_CLI_CONFIG_FILE"])
    assert rc == isolated / "state" / "terraform.rc"
    assert str(mirror) in rc.read_text()
    assert env["TF_IN_AUTOMATION"] == "1" and env["TF_INPUT"] == "0"


def test_terraform_env_paces_the_providers_garbage_collector_unless_the_user_did(isolated):
    assert environment.terraform_env({"PATH": "/bin"})["GOGC"] == "400"
    assert environment.terraform_env({"PATH": "/bin", "GOGC": "100"})["GOGC"] == "100"


def test_terraform_env_respects_an_existing_user_config(isolated, monkeypatch):
    user_rc = isolated / "user.rc"
    user_rc.write_text("# mine\n")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(user_rc))
    monkeypatch.setenv("RUNBOOK_TF_MIRROR", str(fake_mirror(isolated / "mirror")))
    env = environment.terraform_env()
    assert env["TF_CLI_CONFIG_FILE"] == str(user_rc)
    assert not (isolated / "state" / "terraform.rc").exists()


def test_sandbox_env_has_dummy_credentials_and_drops_real_profiles(isolated):
    env = environment.sandbox_env(
        ENDPOINT, "us-east-1", {"AWS_PROFILE": "prod", "AWS_SESSION_TOKEN": "tok", "PATH": "/b"}
    )
    assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert env["AWS_ENDPOINT_URL"] == ENDPOINT
    # credentials are never written to the generated files
    for path in (isolated / "state").glob("*"):
        assert "testing" not in path.read_text()


# ------------------------------------------------------------------ mirror discovery


def test_mirror_from_env_accepts_the_root_or_the_registry_folder(isolated, monkeypatch):
    mirror = fake_mirror(isolated / "m")
    monkeypatch.setenv("RUNBOOK_TF_MIRROR", str(mirror / "registry.terraform.io"))
    assert tfmirror.find_provider_mirror() == mirror


def test_mirror_from_env_without_provider_is_an_error(isolated, monkeypatch):
    monkeypatch.setenv("RUNBOOK_TF_MIRROR", str(isolated))
    with pytest.raises(TerraformError, match=r"holds no registry\.terraform\.io/hashicorp/aws"):
        tfmirror.find_provider_mirror()


def test_mirror_providers_reads_packed_and_unpacked_layouts(tmp_path):
    assert tfmirror.mirror_providers(fake_mirror(tmp_path / "a")) == [
        "registry.terraform.io/hashicorp/aws"
    ]
    assert tfmirror.is_aws_mirror(fake_mirror(tmp_path / "b", packed=True))
    assert not tfmirror.is_aws_mirror(tmp_path / "nothing")
    assert tfmirror.mirror_providers(fake_mirror(tmp_path / "c"), "plan9_mips") == []


def test_search_finds_a_mirror_within_depth_and_skips_bulky_folders(tmp_path):
    fake_mirror(tmp_path / "opt" / "tools" / "tf-plugins")
    assert tfmirror.search_mirror([tmp_path / "opt"]) == tmp_path / "opt" / "tools" / "tf-plugins"
    assert tfmirror.search_mirror([tmp_path / "opt"], max_depth=1) is None
    fake_mirror(tmp_path / "hidden" / "node_modules" / "m")
    assert tfmirror.search_mirror([tmp_path / "hidden"]) is None


def test_mirror_is_found_in_implied_dir_and_cached(isolated):
    mirror = fake_mirror(isolated / "home" / ".terraform.d" / "plugins")
    assert tfmirror.find_provider_mirror() == mirror
    cache = json.loads((isolated / "state" / tfmirror.MIRROR_CACHE_NAME).read_text())
    assert cache["path"] == str(mirror)

    def no_search():
        raise AssertionError("the cached answer should have been used")

    assert tfmirror.find_provider_mirror(discover=no_search) == mirror


def test_a_miss_is_cached_for_a_while(isolated):
    calls = []

    def nothing_found():
        calls.append(1)

    assert tfmirror.find_provider_mirror(discover=nothing_found) is None
    assert tfmirror.find_provider_mirror(discover=nothing_found) is None
    assert calls == [1]


def test_real_mirror_is_discovered_on_this_machine(isolated):
    """The machine has a mirror somewhere (not hard-coded); discovery must find it."""
    found = tfmirror.find_provider_mirror()
    if found is None:
        pytest.skip("no hashicorp/aws provider mirror on this machine")
    assert (found / "registry.terraform.io" / "hashicorp" / "aws").is_dir()


# ------------------------------------------------------------------ table definition


def test_table_definition_matches_the_stack():
    d = tabledef.table_definition(TF_DIR)
    create = d["create_table"]
    assert create["TableName"] == "resume.example.com-VisitorCount"
    assert create["BillingMode"] == "PAY_PER_REQUEST"
    assert create["KeySchema"] == [{"AttributeName": "stat", "KeyType": "HASH"}]
    assert create["AttributeDefinitions"] == [{"AttributeName": "stat", "AttributeType": "S"}]
    assert create["SSESpecification"] == {"Enabled": True}
    assert create["DeletionProtectionEnabled"] is True
    assert "ProvisionedThroughput" not in create
    assert d["pitr"] is True
    assert d["function_name"] == "resume-example-com-visitor-counter"
    assert (d["key_name"], d["key_value"], d["count_attribute"]) == (
        "stat",
        "Quantity",
        "viewCount",
    )
    assert (d["metric_namespace"], d["metric_name"]) == ("VisitorCounter", "ViewCount")


def test_table_definition_resolves_bucket_name_from_variables_env_and_tfvars(tmp_path, monkeypatch):
    d = tabledef.table_definition(
        TF_DIR, {"bucket_name": "cv.example.org", "deletion_protection": False}
    )
    assert d["create_table"]["TableName"] == "cv.example.org-VisitorCount"
    assert d["create_table"]["DeletionProtectionEnabled"] is False
    assert d["function_name"] == "cv-example-org-visitor-counter"

    monkeypatch.setenv("TF_VAR_bucket_name", "env.example.net")
    monkeypatch.setenv("TF_VAR_deletion_protection", "false")
    d = tabledef.table_definition(TF_DIR)
    assert d["create_table"]["TableName"] == "env.example.net-VisitorCount"
    assert d["create_table"]["DeletionProtectionEnabled"] is False

    copy = tmp_path / "tf"
    shutil.copytree(TF_DIR, copy, ignore=shutil.ignore_patterns(".terraform", "build"))
    (copy / "terraform.tfvars").write_text('bucket_name = "file.example.com"\n')
    assert (
        tabledef.table_definition(copy)["create_table"]["TableName"]
        == "file.example.com-VisitorCount"
    )


def test_the_stack_never_manages_the_counter_item():
    """aws_dynamodb_table_item resets the count on every apply: it must never come back."""
    config = hclconfig.load_config(TF_DIR)
    types = {rtype for block in config.get("resource", []) for rtype in block}
    assert "aws_dynamodb_table_item" not in types
    assert "aws_dynamodb_table" in types


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("${var.b}-VisitorCount", "a.b-VisitorCount"),
        ('${replace(var.b, ".", "-")}-x', "a-b-x"),
        ("${local.n}", "a-b-x"),
        ('${lower("ABC")}', "abc"),
        ("${coalesce(var.none, var.b)}", "a.b"),
        ("${true}", True),
        ("plain", "plain"),
        (7, 7),
    ],
)
def test_resolve_supported_expressions(expr, expected):
    assert hclconfig.resolve(
        expr, {"b": "a.b", "none": None}, {"n": '${replace(var.b, ".", "-")}-x'}
    ) == (expected)


def test_resolve_refuses_what_it_cannot_evaluate():
    with pytest.raises(TerraformError, match="Cannot evaluate"):
        hclconfig.resolve("${data.aws_caller_identity.me.account_id}", {}, {})
    with pytest.raises(TerraformError, match="not declared"):
        hclconfig.resolve("${var.nope}", {}, {})


# ------------------------------------------------------------------ state shaping

SHOW_JSON = {
    "format_version": "1.0",
    "values": {
        "outputs": {},
        "root_module": {
            "resources": [
                {
                    "address": "aws_dynamodb_table.counter",
                    "mode": "managed",
                    "type": "aws_dynamodb_table",
                    "name": "counter",
                    "values": {"name": "resume.example.com-VisitorCount", "hash_key": "stat"},
                },
                {
                    "address": "aws_dynamodb_table_item.visitor_count",
                    "mode": "managed",
                    "type": "aws_dynamodb_table_item",
                    "name": "visitor_count",
                    "values": {
                        "table_name": "resume.example.com-VisitorCount",
                        "hash_key": "stat",
                        "range_key": None,
                        "item": '{"stat":{"S":"Quantity"},"viewCount":{"N":"0"}}',
                    },
                },
            ],
            "child_modules": [
                {
                    "address": "module.legacy",
                    "resources": [
                        {
                            "address": "module.legacy.aws_dynamodb_table_item.seed",
                            "mode": "managed",
                            "type": "aws_dynamodb_table_item",
                            "name": "seed",
                            "values": {
                                "table_name": "old-VisitorCount",
                                "hash_key": "stat",
                                "item": '{"stat":{"S":"Quantity"},"viewCount":{"N":"5"}}',
                            },
                        }
                    ],
                }
            ],
        },
    },
}


def test_state_resources_walks_child_modules():
    addresses = [r["address"] for r in state.state_resources(SHOW_JSON)]
    assert addresses == [
        "aws_dynamodb_table.counter",
        "aws_dynamodb_table_item.visitor_count",
        "module.legacy.aws_dynamodb_table_item.seed",
    ]
    assert state.state_resources({}) == []
    assert state.state_resources({"format_version": "1.0"}) == []


def test_unwrap_outputs():
    raw = {"table_name": {"value": "t", "type": "string", "sensitive": False}}
    assert state.unwrap_outputs(raw) == {"table_name": "t"}


# ------------------------------------------------------------------ Lambda zip


def test_lambda_zip_is_deterministic(tmp_path):
    src = tmp_path / "visitor_counter.py"
    src.write_text("def handler(e, c):\n    return 1\n")
    first = lambdazip.build_lambda_zip(src, tmp_path / "a" / "f.zip").read_bytes()
    os.utime(src, (1_000_000_000, 1_000_000_000))
    src.chmod(0o755)
    second = lambdazip.build_lambda_zip(src, tmp_path / "b" / "f.zip").read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "a" / "f.zip") as zf:
        (info,) = zf.infolist()
        assert info.filename == "visitor_counter.py"
        assert info.date_time == lambdazip.ZIP_EPOCH
        assert stat.S_IMODE(info.external_attr >> 16) == 0o644
        assert zf.read(info) == src.read_bytes()


def test_lambda_zip_is_not_rewritten_when_unchanged(tmp_path):
    src = tmp_path / "visitor_counter.py"
    src.write_text("x = 1\n")
    dest = lambdazip.build_lambda_zip(src, tmp_path / "f.zip")
    os.utime(dest, (1, 1))
    lambdazip.build_lambda_zip(src, dest)
    assert dest.stat().st_mtime == 1


def test_zip_bytes_sorts_entries():
    data = lambdazip.zip_bytes({"b.py": b"b", "a.py": b"a"})
    import io

    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == ["a.py", "b.py"]


# ------------------------------------------------------------------ workdir


def test_sandbox_workspace_copies_config_and_never_touches_the_source(tmp_path):
    src = tmp_path / "tf"
    shutil.copytree(TF_DIR, src, ignore=shutil.ignore_patterns(".terraform", "build"))
    (src / "backend_override.tf").write_text("# the user's own override\n")
    before = sorted(p.relative_to(src) for p in src.rglob("*"))
    work = tmp_path / "work"
    (work / ".terraform").mkdir(parents=True)
    (work / "stale.tf").write_text("# removed from the source since\n")

    sandboxstack.sandbox_workspace(ENDPOINT, "us-east-1", src, work).sync()

    assert sorted(p.relative_to(src) for p in src.rglob("*")) == before
    assert (work / override.OVERRIDE_NAME).read_text() == override.sandbox_override_text(
        ENDPOINT, "us-east-1"
    )
    assert not (work / "stale.tf").exists()
    assert not (work / "backend_override.tf").exists()
    assert (work / ".terraform").is_dir()  # kept so init stays fast
    assert {p.name for p in src.glob("*.tf")} - {"backend_override.tf"} <= {
        p.name for p in work.glob("*.tf")
    }
    assert zipfile.ZipFile(work / lambdazip.LAMBDA_ZIP).namelist() == ["visitor_counter.py"]


def test_sandbox_workspace_refuses_the_source_folder(tmp_path):
    (tmp_path / "main.tf").write_text("")
    with pytest.raises(TerraformError, match="must not be the source"):
        sandboxstack.sandbox_workspace(ENDPOINT, "us-east-1", tmp_path, tmp_path).sync()


def test_apply_to_sandbox_refuses_a_non_loopback_endpoint(tmp_path):
    with pytest.raises(TerraformError, match="not a loopback address"):
        sandboxstack.apply_to_sandbox("https://dynamodb.us-east-1.amazonaws.com", workdir=tmp_path)


# ------------------------------------------------------------------ run()


@pytest.fixture
def fake_terraform(tmp_path, monkeypatch) -> Path:
    script = tmp_path / "terraform"
    script.write_text(
        "#!/bin/sh\n"
        'echo "out: $*"\n'
        'if [ "$1" = fail ]; then echo "Error: something broke" >&2; exit 1; fi\n'
        'if [ "$1" = changes ]; then exit 2; fi\n'
    )
    script.chmod(0o755)
    monkeypatch.setenv("RUNBOOK_TERRAFORM", str(script))
    return script


def test_find_terraform_honours_the_override(fake_terraform):
    assert binary.find_terraform() == str(fake_terraform)


def test_run_raises_with_the_command_and_stderr_tail(fake_terraform, tmp_path):
    with pytest.raises(TerraformError, match=r"`terraform fail now` failed with exit code 1") as e:
        process.run(["fail", "now"], tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert "Error: something broke" in str(e.value)


def test_run_accepts_listed_exit_codes_and_streams(fake_terraform, tmp_path):
    lines: list[str] = []
    proc = process.run(
        ["changes"], tmp_path, env={"PATH": "/usr/bin:/bin"}, ok_codes=(0, 2), stream=lines.append
    )
    assert proc.returncode == 2
    assert lines == ["out: changes"]


def test_run_without_a_binary_says_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNBOOK_TERRAFORM", str(tmp_path / "nope"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TerraformError, match="No terraform binary found"):
        process.run(["version"], tmp_path)

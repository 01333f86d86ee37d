"""The shadow workspace, round 2 (issue 16), without Terraform: the copy of a stack whose
modules live outside its folder, the user's AWS credential settings taken out of the copy
against the sandbox (and only there), where the state is for each kind of backend, and the
`-var-file`s every command that reads variables gets."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest

from runbook_lib.errors import TerraformError
from runbook_lib.tf import backends, commands, override, planrules, providerclean, shadowcopy
from runbook_lib.tf import workspace as tfworkspace
from tests.conftest import tree_hash, write_file

SANDBOX = "http://127.0.0.1:5055"
PROVIDER = """\
provider "aws" {
  region              = var.aws_region
  profile             = "crc" # the author's own
  shared_config_files = ["c:\\\\Users\\\\me\\\\.aws\\\\config"]
  shared_credentials_files = [
    "c:\\\\Users\\\\me\\\\.aws\\\\credentials",
  ]
  access_key = var.access_key
  secret_key = var.secret_key

  assume_role {
    role_arn = "arn:aws:iam::111122223333:role/deploy"
  }

  default_tags {
    tags = { profile = "kept: a tag, not a setting" }
  }
}

provider "aws" {
  alias   = "west"
  region  = "us-west-2"
  profile = "crc"
  dynamic "assume_role_with_web_identity" {
    for_each = []
    content {
      role_arn = "x"
    }
  }
}
"""
S3_BACKEND = """\
terraform {
  backend "s3" {
    bucket         = "state-bucket"
    key            = "counter/terraform.tfstate"
    region         = "eu-central-1"
    dynamodb_table = "state-lock"
    profile        = "crc"
    endpoints = {
      s3       = "%s"
      dynamodb = "%s"
    }
  }
}
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Own state dir; a (blank) user CLI config, so no provider mirror is looked for."""
    monkeypatch.setenv("RUNBOOK_STATE_DIR", str(tmp_path / "state"))
    (tmp_path / "state").mkdir()
    rc = write_file(tmp_path / "user.tfrc", "")
    return {"PATH": "/usr/bin", "TF_CLI_CONFIG_FILE": str(rc), "AWS_REGION": "us-east-1"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """environments/dev calls ../../modules/dynamodb, which calls ../common and ./seed;
    common calls back into dynamodb (a cycle); docs/ is unrelated."""
    base = tmp_path / "repo"
    write_file(base / "environments/dev/main.tf", PROVIDER + _module("../../modules/dynamodb"))
    write_file(base / "environments/dev/dev.tfvars", 'aws_region = "us-east-2"\n')
    write_file(base / "environments/dev/terraform.tfstate", "{}")
    write_file(base / "environments/prod/main.tf", _module("../../modules/dynamodb"))
    write_file(
        base / "modules/dynamodb/main.tf",
        _module("../common", "common") + _module("./seed", "seed") + PROVIDER,
    )
    write_file(base / "modules/dynamodb/seed/main.tf", "# seed\n")
    write_file(base / "modules/common/main.tf", _module("../dynamodb", "back"))
    write_file(base / "docs/big/notes.txt", "unrelated\n")
    return base


def _module(source: str, name: str = "table") -> str:
    return f'\nmodule "{name}" {{\n  source = "{source}"\n}}\n'


# ---- layout ---------------------------------------------------------------------------------


def test_layout_reaches_every_local_module_once_and_anchors_at_their_common_ancestor(repo):
    layout = shadowcopy.plan_layout(repo / "environments/dev")
    modules = repo / "modules"
    assert layout.modules == tuple(
        sorted([modules / "common", modules / "dynamodb", modules / "dynamodb/seed"])
    )
    assert layout.base == repo.resolve()
    assert layout.root_rel == Path("environments/dev")
    # seed is inside dynamodb: copied with it; prod and docs are never copied
    assert layout.trees == [repo / "environments/dev", modules / "common", modules / "dynamodb"]
    top = Path("/shadow")
    assert layout.shadow_path(top, modules / "dynamodb/main.tf") == top / "modules/dynamodb/main.tf"
    with pytest.raises(TerraformError, match="neither"):
        layout.shadow_path(top, repo / "docs/big/notes.txt")


def test_layout_of_a_self_contained_stack_is_the_folder_itself(tmp_path):
    root = write_file(tmp_path / "stack/main.tf", _module("./modules/x")).parent
    write_file(root / "modules/x/main.tf", "")
    layout = shadowcopy.plan_layout(root)
    assert (layout.base, layout.root_rel, layout.trees) == (root, Path("."), [root])


def test_sync_mirrors_root_and_modules_at_their_places_and_never_writes_the_users_files(repo, env):
    before = tree_hash(repo)
    ws = tfworkspace.workspace(repo / "environments/dev", env=env)
    top = tfworkspace.shadow_dir(ws.source)
    assert ws.workdir == top / "environments/dev"
    (ws.workdir / ".terraform").mkdir(parents=True)
    write_file(top / "stale/old.tf", "# gone from the source since\n")
    edited = repo / "modules/dynamodb/main.tf"
    ws.sync({str(edited): "# the proposed edit\n"})

    assert tree_hash(repo) == before
    assert (top / "modules/dynamodb/main.tf").read_text() == "# the proposed edit\n"
    assert (top / "modules/dynamodb/seed/main.tf").is_file()
    assert (top / "modules/common/main.tf").is_file()
    assert (ws.workdir / "dev.tfvars").is_file()
    assert not (ws.workdir / "terraform.tfstate").exists()  # the user's state stays theirs
    assert not (top / "environments/prod").exists() and not (top / "docs").exists()
    assert not (top / "stale").exists()
    assert (ws.workdir / ".terraform").is_dir()  # kept: init stays fast
    ws.sync()
    assert (top / "modules/dynamodb/main.tf").read_text() == edited.read_text()
    with pytest.raises(TerraformError, match="neither"):
        ws.sync({str(repo / "environments/prod/main.tf"): ""})
    ws.discard()
    assert not top.exists() and tree_hash(repo) == before


# ---- credentials and region against the sandbox --------------------------------------------


def test_provider_blocks_lose_every_credential_setting_and_nothing_else():
    text = providerclean.neutralise_providers(PROVIDER, "main.tf")
    default, west = [p["aws"] for p in hcl2.loads(text)["provider"]]
    assert set(default) == {"region", "default_tags"}
    assert default["region"] == "${var.aws_region}"
    assert default["default_tags"][0]["tags"] == {"profile": "kept: a tag, not a setting"}
    assert set(west) == {"alias", "region"}
    assert "# the author's own" not in text  # the comment went with its line
    assert text.count("\n") < PROVIDER.count("\n")
    one_line = 'provider "aws" { profile = "crc" }\n'
    assert hcl2.loads(providerclean.neutralise_providers(one_line))["provider"] == [{"aws": {}}]
    untouched = 'provider "aws" {\n  region = "eu-west-1" # profile = "x"\n}\n'
    assert providerclean.neutralise_providers(untouched) == untouched


def test_an_s3_backend_loses_its_credential_settings_only():
    text = providerclean.neutralise_backend(S3_BACKEND % (SANDBOX, SANDBOX))
    s3 = hcl2.loads(text)["terraform"][0]["backend"][0]["s3"]
    assert "profile" not in s3
    assert s3["bucket"] == "state-bucket" and s3["endpoints"]["s3"] == SANDBOX
    assert s3["use_path_style"] is True  # moto on 127.0.0.1 serves buckets by path only
    own = 'terraform {\n  backend "s3" {\n    force_path_style = true\n  }\n}\n'
    assert providerclean.neutralise_backend(own) == own


def test_sandbox_copy_points_every_provider_at_the_sandbox_without_forcing_a_region(repo, env):
    user_file = (repo / "environments/dev/main.tf").read_text()
    ws = tfworkspace.workspace(repo / "environments/dev", env={**env, "AWS_ENDPOINT_URL": SANDBOX})
    ws.sync()
    top = ws.shadow_top
    for folder in (ws.workdir, top / "modules/dynamodb"):
        copy = hcl2.loads((folder / "main.tf").read_text())
        assert [set(p["aws"]) for p in copy["provider"]] == [
            {"region", "default_tags"},
            {"alias", "region"},
        ]
        overrides = hcl2.loads((folder / override.OVERRIDE_NAME).read_text())["provider"]
        assert [p["aws"].get("alias") for p in overrides] == [None, "west"]
        for block in overrides:
            assert "region" not in block["aws"]  # the stack's own region stands
            assert block["aws"]["endpoints"][0]["dynamodb"] == SANDBOX
    assert not (top / "modules/common" / override.OVERRIDE_NAME).exists()  # no provider there
    assert (repo / "environments/dev/main.tf").read_text() == user_file
    backend = hcl2.loads((ws.workdir / override.OVERRIDE_NAME).read_text())["terraform"]
    # no backend: the local state stays the user's folder's
    assert backend[0]["backend"][0]["local"]["path"] == str(
        repo.resolve() / "environments/dev/terraform.tfstate"
    )
    assert (ws.backend_kind, ws.state_is_stacks_own) == ("local", True)


def test_against_real_aws_nothing_of_the_users_provider_changes(repo, env):
    ws = tfworkspace.workspace(repo / "environments/dev", env=env)
    ws.sync()
    assert (ws.workdir / "main.tf").read_text() == (repo / "environments/dev/main.tf").read_text()
    assert not (ws.workdir / override.OVERRIDE_NAME).exists()
    assert (ws.workdir / override.BACKEND_OVERRIDE_NAME).is_file()


# ---- backends -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "sandbox", "kind"),
    [
        ({"endpoints": {"s3": SANDBOX, "dynamodb": SANDBOX}}, True, "sandbox-remote"),
        ({"endpoint": SANDBOX, "dynamodb_endpoint": SANDBOX}, True, "sandbox-remote"),
        ({"endpoints": [{"s3": "http://localhost:4566"}]}, True, "sandbox-remote"),
        ({"endpoints": {"s3": SANDBOX, "dynamodb": "https://dynamodb.aws"}}, True, "replaced"),
        ({"bucket": "real"}, True, "replaced"),
        ({"endpoints": {"s3": SANDBOX}}, False, "remote"),
    ],
)
def test_backend_kind_of_an_s3_backend(settings, sandbox, kind):
    assert backends.backend_kind(backends.Backend("s3", settings), sandbox) == kind


def test_backend_kind_without_or_with_another_backend():
    assert backends.backend_kind(backends.Backend(None), True) == "local"
    assert backends.backend_kind(backends.Backend("local", {"path": "x"}), False) == "local"
    assert backends.backend_kind(backends.Backend("cloud"), True) == "replaced"
    assert backends.backend_kind(backends.Backend("gcs"), False) == "remote"


def test_a_real_aws_backend_is_replaced_in_the_sandbox_by_a_state_inside_the_copy(tmp_path, env):
    stack = write_file(tmp_path / "stack/main.tf", S3_BACKEND % ("https://s3.aws", "https://d.aws"))
    ws = tfworkspace.workspace(stack.parent, env={**env, "AWS_ENDPOINT_URL": SANDBOX})
    ws.sync()
    assert (ws.backend_kind, ws.state_is_stacks_own) == ("replaced", False)
    assert ws.state_file == ws.workdir / "terraform.tfstate"
    doc = hcl2.loads((ws.workdir / override.OVERRIDE_NAME).read_text())
    assert doc["terraform"][0]["backend"][0]["local"]["path"] == "terraform.tfstate"
    why = backends.why_not_real(ws.backend_kind, ws.backend, ws.state_file)
    assert 'backend "s3" (bucket "state-bucket"' in why and "outside the sandbox" in why
    (ws.workdir / "terraform.tfstate").write_text("{}")
    ws.sync()  # a state in the shadow is kept across syncs
    assert (ws.workdir / "terraform.tfstate").is_file()
    assert sorted(p.name for p in stack.parent.iterdir()) == ["main.tf"]


def test_a_sandbox_backend_is_used_as_it_is_without_its_profile(tmp_path, env):
    stack = write_file(tmp_path / "stack/main.tf", S3_BACKEND % (SANDBOX, SANDBOX) + PROVIDER)
    ws = tfworkspace.workspace(stack.parent, env={**env, "AWS_ENDPOINT_URL": SANDBOX})
    ws.sync()
    assert (ws.backend_kind, ws.state_is_stacks_own, ws.state_file) == (
        "sandbox-remote",
        True,
        None,
    )
    copy = hcl2.loads((ws.workdir / "main.tf").read_text())
    s3 = copy["terraform"][0]["backend"][0]["s3"]
    assert "profile" not in s3 and s3["bucket"] == "state-bucket"
    assert "terraform" not in hcl2.loads((ws.workdir / override.OVERRIDE_NAME).read_text())


# ---- var files and the proof's own rule -----------------------------------------------------


def test_var_files_go_to_every_command_that_reads_variables(tmp_path, env, repo):
    files = (tmp_path / "a.tfvars", tmp_path / "b.tfvars")
    flags = [f"-var-file={files[0]}", f"-var-file={files[1]}"]
    for cmd in ("plan", "apply", "import", "refresh", "console", "destroy"):
        assert commands.with_var_files([cmd, "-input=false"], files) == [
            cmd,
            *flags,
            "-input=false",
        ]
    for cmd in ("init", "show", "state", "output"):
        assert commands.with_var_files([cmd, "-x"], files) == [cmd, "-x"]
    # a saved plan carries its variables: Terraform refuses -var-file beside it
    assert commands.with_var_files(["apply", "-no-color", "p.tfplan"], files) == [
        "apply",
        "-no-color",
        "p.tfplan",
    ]
    ws = tfworkspace.workspace(repo / "environments/dev", env=env, var_files=[str(files[0])])
    assert ws.var_files == (files[0],)


def test_a_new_table_is_the_proofs_concern_only_not_the_ci_guards():
    changes = [
        {"address": "aws_dynamodb_table.t", "type": "aws_dynamodb_table", "action": "create"},
        {"address": "aws_dynamodb_table.u", "type": "aws_dynamodb_table", "action": "update"},
        {"address": "aws_dynamodb_table.v", "type": "aws_dynamodb_table", "action": "replace"},
    ]
    assert [c["address"] for c in planrules.new_tables(changes)] == [
        "aws_dynamodb_table.t",
        "aws_dynamodb_table.v",
    ]
    # guard-plan's rule is unchanged: creating a table does not touch an item
    assert [c["address"] for c in planrules.unsafe_changes(changes)] == ["aws_dynamodb_table.v"]

"""`runbook`: a thin command line over the package. Every subcommand calls one function."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from runbook_lib.errors import InvalidInputError, NotebookNotFoundError, RunbookError


def _params(pairs: list[list[str]] | None) -> dict[str, str]:
    return {k: v for k, v in (pairs or [])}


def cmd_run(args: argparse.Namespace) -> int:
    from runbook_lib.notebook.runner import run_notebook

    # the sandbox's dummy keys off loopback are refused there: exit 2 before anything runs
    outcome = run_notebook(
        args.name,
        _params(args.param),
        args.out,
        hide_code=args.no_code,
        html=not args.no_html,
        log=None if args.quiet else print,
    )
    if args.quiet and outcome.exit_code != 0:  # cron mails output: only on a problem
        print(outcome.summary())
    return outcome.exit_code


def cmd_fleet(args: argparse.Namespace) -> int:
    from runbook_lib.fleet.command import run_command

    return run_command(
        args.name,
        args.fleet_file,
        _params(args.param),
        args.out,
        quiet=args.quiet,
        jobs=args.jobs,
        hide_code=args.no_code,
    )


def cmd_list(args: argparse.Namespace) -> int:
    from runbook_lib.notebook import runner

    names = runner.available_notebooks()
    width = max(map(len, names), default=0)
    for name in names:  # one line each: the name, then what it does (its title)
        print(f"{name:<{width}}  {runner.notebook_title(name)}".rstrip())
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    from runbook_lib.notebook import runner, templates

    path = runner.notebook_path(args.name)
    templates.refuse_unsafe(path)  # saved edits are no notebook's defaults: say so, exit 2
    for name, spec in runner.declared_parameters(path).items():
        kind = spec.get("inferred_type_name") or "?"
        print(f"{name}: {kind} = {spec.get('default')}  # {spec.get('help') or ''}")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from runbook_lib.sandbox import provision
    from runbook_lib.sandbox import server as sandbox

    if args.unset:
        if args.action != "env":
            _err("runbook: --unset goes with `runbook sandbox env` only.")
            return 2
        print(sandbox.unset_text(), end="")  # no sandbox needed: the shell still has them
        return 0
    if args.action == "up":
        use_tf = False if args.no_terraform else None
        started = provision.up(days=args.days, use_terraform=use_tf, log=_err)
        print(sandbox.env_text(started), end="")
        return 0
    if args.action == "down":
        sandbox.down(log=_err)
        return 0
    info = sandbox.read_info()
    if info is None:
        _err("No sandbox is running. Start one with: runbook sandbox up")
        return 2 if args.action == "drill" else 1
    if args.action == "drill":  # a reset planted on the sandbox's counter, and the steps
        from runbook_lib.sandbox import drill

        return drill.run_command(info)
    if args.action == "env":
        print(sandbox.env_text(info), end="")
    else:
        mode = "terraform/ applied" if info.terraform else "table from terraform/*.tf definition"
        print(f"Sandbox at {info.url} (pid {info.pid}), {mode}.")
        for key, value in sorted(info.outputs.items()):
            print(f"  {key} = {value}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from runbook_lib.sandbox.demo import run_demo

    return run_demo(out=args.out, days=args.days, log=print)


def cmd_lab(args: argparse.Namespace) -> int:
    from runbook_lib.sandbox import lab

    return lab.main()


def cmd_lambda_zip(args: argparse.Namespace) -> int:
    from runbook_lib.tf import lambdazip

    print(lambdazip.build_lambda_zip())
    return 0


def cmd_guard_plan(args: argparse.Namespace) -> int:
    import json

    from runbook_lib.steps import guard

    result = guard.run(args.plan, chdir=args.chdir, live=not args.no_live, var_files=args.var_file)
    print(json.dumps(dict(result.fields), indent=2) if args.json else result.message)
    return result.exit_code


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _add_guard_plan(sub: argparse._SubParsersAction) -> None:
    """`runbook guard-plan PLAN [--chdir DIR] [--json] [--no-live] [--var-file F ...]`."""
    guard = sub.add_parser(
        "guard-plan",
        help="CI: exit 3 if a saved Terraform plan would write or delete the counter item",
    )
    guard.add_argument("plan", help="`terraform plan -out` file, or `terraform show -json` of it")
    guard.add_argument("--chdir", default=None, help="the plan's initialised working directory")
    guard.add_argument("--json", action="store_true", help="print the verdict as JSON")
    guard.add_argument("--no-live", action="store_true", help="do not read the live item")
    guard.add_argument(
        "--var-file",
        action="append",
        default=[],
        help="a .tfvars file the plan was made with (repeatable): read for the stack's region",
    )
    guard.set_defaults(func=cmd_guard_plan)


def _add_fleet(sub: argparse._SubParsersAction) -> None:
    """`runbook fleet run NOTEBOOK FLEET_FILE [-p K V ...] [--out] [--quiet] [--jobs N]`."""
    fleet = sub.add_parser("fleet", help="one notebook over every counter of a fleet file")
    fleet_run = fleet.add_subparsers(dest="fleet_action", required=True).add_parser(
        "run", help="run NOTEBOOK once per counter of FLEET_FILE; one index over the reports"
    )
    fleet_run.add_argument("name", help="notebook name, e.g. 02_status")
    fleet_run.add_argument("fleet_file", help="the fleet file (TOML: [[counter]] entries)")
    fleet_run.add_argument(
        "-p", "--param", nargs=2, action="append", metavar=("KEY", "VALUE"), help="parameter"
    )
    fleet_run.add_argument("--out", default=None, help="report folder or s3://bucket/prefix")
    fleet_run.add_argument("--no-code", action="store_true", help="hide code cells in the HTML")
    fleet_run.add_argument("--quiet", action="store_true", help="print only when it exits non-zero")
    fleet_run.add_argument("--jobs", type=int, default=None, help="runs at once (default: CPUs)")
    fleet_run.set_defaults(func=cmd_fleet)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runbook",
        description="Operations runbook for the serverless visitor counter.",
        epilog="Exit codes: 0 all well, 3 a problem was found, 1 execution failed, 2 usage.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute a notebook headless and write its report")
    run.add_argument("name", help="notebook name, e.g. 02_status (see `runbook list`)")
    run.add_argument(
        "-p", "--param", nargs=2, action="append", metavar=("KEY", "VALUE"), help="parameter"
    )
    run.add_argument("--out", default=None, help="report folder or s3://bucket/prefix")
    run.add_argument("--no-code", action="store_true", help="hide code cells in the HTML")
    run.add_argument("--no-html", action="store_true", help="skip the HTML report")
    run.add_argument("--quiet", action="store_true", help="print only when it exits non-zero")
    run.set_defaults(func=cmd_run)

    _add_fleet(sub)
    sub.add_parser("list", help="list the notebooks").set_defaults(func=cmd_list)
    params = sub.add_parser("params", help="show a notebook's parameters")
    params.add_argument("name")
    params.set_defaults(func=cmd_params)

    box = sub.add_parser("sandbox", help="the local AWS sandbox (moto server)")
    box.add_argument("action", choices=["up", "down", "env", "status", "drill"])
    box.add_argument("--days", type=int, default=14, help="days of metric history to seed")
    box.add_argument(
        "--unset", action="store_true", help="env: print `unset ...` of what env exports"
    )
    box.add_argument(
        "--no-terraform", action="store_true", help="create the table without terraform"
    )
    box.set_defaults(func=cmd_sandbox)

    demo = sub.add_parser("demo", help="sandbox up, every notebook headless, sandbox down")
    demo.add_argument("--out", default=None, help="report folder (default reports/)")
    demo.add_argument("--days", type=int, default=14)
    demo.set_defaults(func=cmd_demo)

    _add_guard_plan(sub)

    sub.add_parser(
        "lab", help="sandbox + JupyterLab on working copies of the notebooks (make lab)"
    ).set_defaults(func=cmd_lab)
    sub.add_parser("lambda-zip", help="build the Lambda zip terraform/ deploys").set_defaults(
        func=cmd_lambda_zip
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except RunbookError as exc:
        _err(f"runbook: {exc}")
        return 2 if isinstance(exc, (InvalidInputError, NotebookNotFoundError)) else 1
    except KeyboardInterrupt:
        _err("runbook: interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())

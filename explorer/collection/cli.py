"""`run`, `import` and `export`: the collection commands of `python -m explorer` (no Gradio).

    python -m explorer run PATH [--env NAME] [--var K=V]… [--env-file FILE] [auth options]
                               [--folder F] [--bail] [--junit FILE] [--json] [--report FILE.md]
    python -m explorer import openapi|postman|curl|har SOURCE --to DIR [--name N] [--force]
    python -m explorer export postman DIR --to FILE

`explorer.cli` registers them (`add_commands`); auth options, connecting and output are the
ones of the other commands (`explorer.cli`). Exit status of `run`: 0 when every assertion held,
1 when one failed or a request got no response, 2 for usage errors and broken files.
"""

from __future__ import annotations

import argparse
import copy
import getpass
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from explorer import cli as base_cli
from explorer.auth import METHODS
from explorer.collection import report as reports
from explorer.collection.files import CollectionError, load_collection, save_collection
from explorer.collection.identities import Identities, connect_ref
from explorer.collection.importers import ImportError_, ImportResult
from explorer.collection.model import AuthRef
from explorer.collection.runner import RunPlan, preflight, run
from explorer.collection.secret_guard import SecretRefused, check_text
from explorer.collection.storage import FolderStorage, Storage, StorageError
from explorer.collection.variables import Scope, parse_assignment, parse_dotenv
from explorer.session import Connection, ExplorerSession

Handler = Callable[[argparse.Namespace, ExplorerSession, "base_cli.Output"], int]
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
IMPORT_KINDS = ("openapi", "postman", "curl", "har")


def add_commands(commands: argparse._SubParsersAction) -> dict[str, Handler]:  # type: ignore[type-arg]
    """Add `run`, `import` and `export` to the CLI's sub-parsers; returns their handlers."""
    run_parser = commands.add_parser("run", help="run a collection (assertions, chaining, reports)")
    run_parser.add_argument("path", metavar="PATH", help="the collection folder (or workspace:/path)")
    run_parser.add_argument("--env", metavar="NAME", help="environment (environments/NAME.yaml)")
    run_parser.add_argument("--var", action="append", default=[], metavar="K=V", help="variable (repeat)")
    run_parser.add_argument("--env-file", metavar="FILE", help="a .env file (default: the collection's .env)")
    run_parser.add_argument("--folder", metavar="F", help="run one folder only")
    run_parser.add_argument("--bail", action="store_true", help="stop at the first failing request")
    run_parser.add_argument("--junit", metavar="FILE", help="write JUnit XML")
    run_parser.add_argument("--report", metavar="FILE.md", help="write a Markdown summary")
    run_parser.add_argument("--json", action="store_true", help="print the full report as JSON on stdout")
    run_parser.add_argument("--no-prompt", action="store_true", help="never prompt for a missing secret")

    import_parser = commands.add_parser("import", help="import OpenAPI, Postman, curl or HAR as a collection")
    import_parser.add_argument("kind", choices=IMPORT_KINDS)
    import_parser.add_argument("source", metavar="SOURCE", help="file, URL, curl command, or - for stdin")
    import_parser.add_argument("--to", required=True, metavar="DIR", help="the collection folder to write")
    import_parser.add_argument("--name", help="the collection's (or request's) name")
    import_parser.add_argument(
        "--postman-env", action="append", default=[], metavar="FILE", help="a Postman environment"
    )
    import_parser.add_argument("--force", action="store_true", help="write into an existing collection")

    export_parser = commands.add_parser("export", help="export a collection as Postman v2.1")
    export_parser.add_argument("kind", choices=("postman",))
    export_parser.add_argument("path", metavar="DIR")
    export_parser.add_argument("--to", required=True, metavar="FILE")

    for sub in (run_parser, import_parser, export_parser):
        base_cli._add_auth_options(sub)
    return {"run": cmd_run, "import": cmd_import, "export": cmd_export}


def open_storage(path: str, session: ExplorerSession | None = None) -> Storage:
    """A folder, or `workspace:/Workspace/…` (workspace files, with the session's credentials)."""
    if path.startswith("workspace:"):
        from explorer.collection.workspace_storage import WorkspaceStorage

        return WorkspaceStorage.from_session(session, path[len("workspace:") :])
    return FolderStorage(path)


# --- run ----------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace, session: ExplorerSession, output: base_cli.Output) -> int:
    show = output.note if args.json else output.result
    try:
        cli_vars = dict(parse_assignment(v) for v in args.var)
    except ValueError as error:
        output.note(f"error: {error}")
        return EXIT_USAGE
    from explorer.redact import is_secret_field

    for name in [n for n in cli_vars if is_secret_field(n) and cli_vars[n]]:
        output.note(
            f"warning: --var {name}=… is visible in shell history and `ps`; prefer .env or --env-file"
        )
    extra_env: dict[str, str] = {}
    if args.env_file:
        try:
            extra_env = parse_dotenv(Path(args.env_file).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            output.note(f"error: --env-file {args.env_file}: {getattr(error, 'strerror', None) or error}")
            return EXIT_USAGE
    identities: Identities | None = None
    connection: Connection | None = None
    in_workspace = args.path.startswith("workspace:")
    try:
        if in_workspace:  # the files are read with the command line's identity, which then runs them
            connection = base_cli.connect(session, args, output, default="none")
            if connection is not None and not connection.ok:
                base_cli._print_findings(connection.findings, output, session)
                return EXIT_USAGE
        storage = open_storage(args.path, session)
        plan = RunPlan.load(storage, env=args.env, cli_vars=cli_vars, dotenv=extra_env, folder=args.folder)
        _learn_secrets(session, plan)
        for error in plan.collection.errors:
            output.note(f"error: {error}")
        prompt = None if args.no_prompt or not sys.stdin.isatty() else _prompt
        identities = Identities(
            session,
            cli_connector(args, output, plan.dotenv, prompt),
            on_new_session=lambda s: (base_cli._remember_env_secrets(s, args), _learn_secrets(s, plan)),
        )
        plan.auth_from_command_line = bool(args.auth)
        problems = preflight(plan, plan.requests())
        if problems:  # nothing is sent when a variable is undefined
            for problem in problems:
                output.note(f"error: {session.redactor.scrub(problem)}")
            return EXIT_USAGE
        if in_workspace:
            identities.preset_default(connection)
        header = f"{plan.collection.name}" + (
            f" · environment {plan.environment.name}" if plan.environment else ""
        )
        show(header)

        def on_result(result: reports.RequestResult) -> None:
            show(reports.result_line(result))
            for line in reports.result_details(result):
                show(session.redactor.scrub(line))

        result = run(plan, identities, bail=args.bail, on_result=on_result)
    except (CollectionError, StorageError) as error:
        output.note(f"error: {session.redactor.scrub(str(error))}")
        return EXIT_USAGE
    finally:
        if identities is not None:
            identities.close()
    for skipped in [r for r in result.results if r.skipped]:
        show(reports.result_line(skipped))
    show(reports.summary_line(result))
    try:
        if args.junit:
            _write(args.junit, reports.to_junit(result, session.redactor))
        if args.report:
            _write(args.report, reports.to_markdown(result, session.redactor))
    except StorageError as error:
        output.note(f"error: {error}")
        return EXIT_USAGE
    if args.json:
        output.result(reports.to_json(result, session.redactor))
    if result.load_errors:
        return EXIT_USAGE
    return EXIT_OK if result.passed else EXIT_FAILED


def _learn_secrets(session: ExplorerSession, plan: RunPlan) -> None:
    """Values the run knows are secret (.env, --var with secret names) are scrubbed from output."""
    from explorer.auth import secret_env_vars
    from explorer.redact import is_secret_field

    secret_vars = set(secret_env_vars())
    for name, value in plan.dotenv.items():
        if name in secret_vars or is_secret_field(name):
            session.redactor.add(value)
    for layer in plan.scope.layers[-1:]:
        for name, value in layer.items():
            if is_secret_field(name):
                session.redactor.add(value)


def _prompt(label: str) -> str | None:
    try:
        return getpass.getpass(label) or None
    except (EOFError, KeyboardInterrupt):
        return None


def _write(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        raise StorageError(f"{path}: cannot write it: {error.strerror or error}") from None


def cli_connector(
    args: argparse.Namespace,
    output: base_cli.Output,
    dotenv: dict[str, str],
    prompt: Callable[[str], str | None] | None,
) -> Callable[[ExplorerSession, AuthRef | None, Scope, bool], Connection | None]:
    """How a run connects: the command line's auth options win for the default identity."""

    def connector(
        session: ExplorerSession, ref: AuthRef | None, scope: Scope, explicit: bool
    ) -> Connection | None:
        if not explicit and (args.auth or ref is None or ref.method == "inherit"):
            return base_cli.connect(session, args, output, default="none")
        assert ref is not None
        if ref.method in METHODS and METHODS[ref.method].interactive:  # the browser sign-in
            namespace = copy.copy(args)
            namespace.auth = ref.method
            for field, value in ref.fields.items():
                dest = base_cli._dest(field)
                if hasattr(namespace, dest) and getattr(namespace, dest) is None:
                    setattr(namespace, dest, scope.resolve(value, f"auth field {field}"))
            return base_cli.connect(session, namespace, output, default="none")
        overrides = {} if explicit else base_cli.auth_fields(args, ref.method)
        return connect_ref(session, ref, scope, dotenv, overrides, prompt)

    return connector


# --- import / export ----------------------------------------------------------------------------


def _read_source(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ImportError_(f"{source}: cannot read it: {getattr(error, 'strerror', None) or error}") from None


def import_source(
    kind: str,
    source: str,
    session: ExplorerSession,
    name: str | None = None,
    postman_envs: Sequence[str] = (),
) -> ImportResult:
    """The ImportResult for one source (no files written)."""
    if kind == "openapi":
        from explorer.collection.importers.openapi import from_openapi, load_document

        try:
            doc, where = load_document(source, session)
        except CollectionError as error:
            raise ImportError_(str(error)) from None
        result = from_openapi(doc, where)
    elif kind == "postman":
        from explorer.collection.importers.postman import from_postman

        result = from_postman(_read_source(source), [_read_source(p) for p in postman_envs])
    elif kind == "curl":
        from explorer.collection.importers.curl import basic_header_secret, parse_curl
        from explorer.collection.model import Collection

        text = (
            _read_source(source[1:])
            if source.startswith("@")
            else sys.stdin.read()
            if source == "-"
            else source
        )
        request, notices = parse_curl(text, name)
        collection = Collection(name=name or "curl import")
        collection.root.items.append(request)
        result = ImportResult(collection, [], notices, basic_header_secret(request))
    else:
        from explorer.collection.importers.har import from_har

        result = from_har(_read_source(source), name or "HAR import")
    if name and kind != "curl":
        result.collection.name = name
    return result


def cmd_import(args: argparse.Namespace, session: ExplorerSession, output: base_cli.Output) -> int:
    from_app = args.kind == "openapi" and args.source.lower().startswith(("http://", "https://"))
    try:
        if from_app or args.to.startswith("workspace:"):  # the app's document, or workspace files
            connection = base_cli.connect(session, args, output, default="none")
            if connection is not None and not connection.ok:
                base_cli._print_findings(connection.findings, output, session)
                return EXIT_USAGE
        storage = open_storage(args.to, session)
        if storage.exists("collection.yaml") and not args.force:
            output.note(
                f"error: {storage.describe()} already holds a collection: use --force to write into it"
            )
            return EXIT_USAGE
        result = import_source(args.kind, args.source, session, args.name, args.postman_env)
        for secret in result.secrets:
            session.redactor.add(secret)
        saved = save_collection(storage, result.collection, session.redactor, result.environments)
        for path, text in result.files.items():
            check_text(text, session.redactor, storage.describe(path))
            storage.write_text(path, text)
            saved.written.append(path)
    except (ImportError_, CollectionError, StorageError, SecretRefused) as error:
        output.note(f"error: {session.redactor.scrub(str(error))}")
        return EXIT_USAGE
    count = len(result.collection.requests())
    output.result(f"imported {count} request(s) into {storage.describe()} ({len(saved.written)} files)")
    for notice in [*result.notices, *saved.notices]:
        output.note(session.redactor.scrub(f"note: {notice}"))
    return EXIT_OK


def cmd_export(args: argparse.Namespace, session: ExplorerSession, output: base_cli.Output) -> int:
    from explorer.collection.export_postman import to_postman

    try:
        if args.path.startswith("workspace:"):
            connection = base_cli.connect(session, args, output, default="none")
            if connection is not None and not connection.ok:
                base_cli._print_findings(connection.findings, output, session)
                return EXIT_USAGE
        collection = load_collection(open_storage(args.path, session))
        for error in collection.errors:
            output.note(f"error: {error}")
        text, notices = to_postman(collection, session.redactor)
        _write(args.to, text)
    except (CollectionError, StorageError, SecretRefused) as error:
        output.note(f"error: {session.redactor.scrub(str(error))}")
        return EXIT_USAGE
    output.result(f"exported {len(collection.requests())} request(s) to {args.to}")
    for notice in notices:
        output.note(f"note: {notice}")
    return EXIT_USAGE if collection.errors else EXIT_OK

"""``kiosk-agent directory``: list, show, edit, erase, import and sync employees.

Edits go to the customer's file (``[directory] path``), rewritten atomically in its
own format; the running daemon picks them up within ``[directory] poll_s``. With an
admin API (``[directory] url``) the API owns the directory: edits are refused, ``sync``
fetches it now, and ``remove`` still erases an entry from the local cache at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk_agent.config import Config, load_config, read_secret
from kiosk_agent.directory import (
    ApiSource,
    Directory,
    DirectoryLoad,
    RowProblem,
    cache_path,
    check_region,
    employee_from_values,
    employee_values,
    erase_from_cache,
    parse_directory,
    read_cache,
    validate_records,
)
from kiosk_agent.directory.file import (
    DirectoryDocument,
    Record,
    empty_document,
    read_document,
    write_document,
)
from kiosk_agent.errors import ConfigError, DirectoryError
from kiosk_agent.messages import Employee

HELP = "list, show, add, edit, remove, import or sync employees of the directory"

FIELD_OPTIONS = (
    ("first_name", "--first-name"),
    ("last_name", "--last-name"),
    ("full_name", "--full-name"),
    ("phone", "--phone"),
    ("email", "--email"),
    ("department", "--department"),
    ("role", "--role"),
    ("gender", "--gender"),
    ("aliases", "--aliases"),
)


@dataclass(frozen=True, slots=True)
class Target:
    """Where this kiosk's directory lives: the customer's file or the admin API."""

    config: Config
    file: Path | None
    url: str
    cache: Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``directory``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", parents=[common], help="ids, names and departments")
    show = actions.add_parser("show", parents=[common], help="one employee in full")
    show.add_argument("id")
    add = actions.add_parser(
        "add", parents=[common], help="add an employee to the file"
    )
    add.add_argument("--id", required=True)
    _field_options(add, required=("last_name", "phone"))
    edit = actions.add_parser(
        "edit", parents=[common], help="change fields of one employee"
    )
    edit.add_argument("id")
    _field_options(edit, required=())
    remove = actions.add_parser(
        "remove", parents=[common], help="erase an employee from the file and the cache"
    )
    remove.add_argument("id")
    imp = actions.add_parser(
        "import",
        parents=[common],
        help="merge a JSON or CSV file into the directory file",
    )
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--replace", action="store_true", help="drop employees the imported file lacks"
    )
    actions.add_parser("sync", parents=[common], help="fetch from the admin API now")


def _field_options(parser: argparse.ArgumentParser, required: tuple[str, ...]) -> None:
    for name, flag in FIELD_OPTIONS:
        extra = " (several separated by |)" if name == "aliases" else ""
        parser.add_argument(
            flag, dest=name, required=name in required, help=f"{name}{extra}"
        )


def run(args: argparse.Namespace) -> int:
    """Run one directory action."""
    config = load_config(args.config)
    check_region(config.directory.default_region)
    target = _target(config)
    handler = {
        "list": _list,
        "show": _show,
        "add": _add,
        "edit": _edit,
        "remove": _remove,
        "import": _import,
        "sync": _sync,
    }[args.action]
    return handler(target, args)


def _target(config: Config) -> Target:
    settings = config.directory
    if not settings.url and not settings.path:
        raise ConfigError(
            "config-missing-key",
            f"{config.source}: set [directory] path or [directory] url",
        )
    file = (
        config.resolve_path(settings.path)
        if settings.path and not settings.url
        else None
    )
    return Target(config=config, file=file, url=settings.url, cache=cache_path(config))


def _region(target: Target) -> str:
    return target.config.directory.default_region


def _current(target: Target) -> DirectoryLoad:
    if target.file is not None:
        return parse_directory(target.file, region=_region(target))
    cache = read_cache(target.cache, region=_region(target))
    if cache is None:
        raise DirectoryError(
            "directory-no-copy",
            "no local copy of the admin API's directory yet; "
            "run `kiosk-agent directory sync`",
        )
    return DirectoryLoad(cache[0])


def _list(target: Target, args: argparse.Namespace) -> int:
    loaded = _current(target)
    rows = [
        {"id": e.id, "name": e.full_name, "department": e.department}
        for e in loaded.employees
    ]
    if args.json:
        problems = [str(p) for p in loaded.problems]
        print(json.dumps({"employees": rows, "skipped": problems}, ensure_ascii=False))
        return 0
    width = max([len(r["id"]) for r in rows] + [2])
    name_width = max([len(r["name"]) for r in rows] + [4])
    print(f"{'ID':<{width}}  {'NAME':<{name_width}}  DEPARTMENT")
    for row in rows:
        print(f"{row['id']:<{width}}  {row['name']:<{name_width}}  {row['department']}")
    _print_problems(loaded.problems)
    return 0


def _show(target: Target, args: argparse.Namespace) -> int:
    employee = next((e for e in _current(target).employees if e.id == args.id), None)
    if employee is None:
        raise _no_such(args.id)
    values = employee_values(employee)
    if args.json:
        print(json.dumps(values, ensure_ascii=False))
    else:
        for key, value in values.items():
            shown = "|".join(value) if isinstance(value, list) else value
            print(f"{key:<11} {shown}")
    return 0


def _add(target: Target, args: argparse.Namespace) -> int:
    document = _editable(target)
    if _find(document, args.id):
        raise DirectoryError(
            "directory-duplicate-id", f"id {args.id!r} is already taken"
        )
    values = {"id": args.id, **_given_fields(args)}
    employee = _validated(values, target)
    _check_columns(document, values)
    document.records.append(Record(line=0, values=_stored(values, employee)))
    write_document(document)
    return _done(args, "added", employee.id)


def _edit(target: Target, args: argparse.Namespace) -> int:
    document = _editable(target)
    records = _find(document, args.id)
    if not records:
        raise _no_such(args.id)
    given = _given_fields(args)
    if not given:
        raise DirectoryError(
            "directory-nothing-to-do", "give at least one field to change"
        )
    _check_columns(document, given)
    record = records[0]
    values = {**record.values, **given}
    employee = _validated(values, target)
    record.values = _stored(values, employee)
    record.missing_cells = 0
    write_document(document)
    return _done(args, "changed", employee.id)


def _remove(target: Target, args: argparse.Namespace) -> int:
    erased_file = False
    if target.file is not None:
        document = read_document(target.file)
        before = len(document.records)
        document.records = [r for r in document.records if _id_of(r) != args.id]
        erased_file = len(document.records) < before
        if erased_file:
            write_document(document)
    erased_cache = target.cache.exists() and erase_from_cache(target.cache, args.id)
    if not (erased_file or erased_cache):
        raise _no_such(args.id)
    if target.url and not args.json:
        print(
            "erased from the local copy; delete it in the admin API too, or it comes "
            "back when the API's directory next changes",
            file=sys.stderr,
        )
    return _done(args, "removed", args.id)


def _import(target: Target, args: argparse.Namespace) -> int:
    document = _editable(target, missing_ok=True)
    source = read_document(args.file)
    loaded = validate_records(
        source.records, region=_region(target), source=str(args.file)
    )
    by_id = {e.id: e for e in loaded.employees}
    if args.replace:
        document.records = [r for r in document.records if _id_of(r) in by_id]
    added = updated = 0
    for employee in loaded.employees:
        existing = _find(document, employee.id)
        if existing:
            existing[0].values = {**existing[0].values, **employee_values(employee)}
            existing[0].missing_cells = 0
            updated += 1
        else:
            document.records.append(Record(line=0, values=employee_values(employee)))
            added += 1
    write_document(document)
    if args.json:
        report = {
            "added": added,
            "updated": updated,
            "skipped": [str(p) for p in loaded.problems],
        }
        print(json.dumps(report))
    else:
        print(
            f"imported {added + updated} ({added} added, {updated} updated) "
            f"into {target.file}"
        )
        _print_problems(loaded.problems)
    return 0


def _sync(target: Target, args: argparse.Namespace) -> int:
    if target.file is not None:
        loaded = parse_directory(target.file, region=_region(target))
        report: dict[str, Any] = {"source": "file", "employees": len(loaded.employees)}
        problems = loaded.problems
        text = (
            f"file source, nothing to fetch: {len(loaded.employees)} employees read "
            f"from {target.file}"
        )
    else:
        from kiosk_agent.providers.directory_api import HttpDirectoryApi

        settings = target.config.directory
        token = read_secret("directory-token", "KIOSK_DIRECTORY_TOKEN")
        fetcher = HttpDirectoryApi(
            settings.url, token=token, timeout_s=settings.timeout_s
        )
        source = ApiSource(
            Directory(),
            fetcher,
            target.cache,
            region=settings.default_region,
            sync_interval_s=settings.sync_interval_s,
        )
        source.load_cache()
        sync = source.sync()
        changes, problems = sync.changes, sync.problems
        report = {
            "source": "api",
            "modified": sync.is_modified,
            "added": changes.added,
            "changed": changes.changed,
            "removed": changes.removed,
            "employees": len(source.directory),
        }
        text = (
            "not modified since the last sync"
            if not sync.is_modified
            else f"synced: {changes.added} added, {changes.changed} changed, "
            f"{changes.removed} removed, {len(source.directory)} employees"
        )
    if args.json:
        print(json.dumps({**report, "skipped": [str(p) for p in problems]}))
    else:
        print(text)
        _print_problems(problems)
    return 0


def _editable(target: Target, *, missing_ok: bool = False) -> DirectoryDocument:
    if target.file is None:
        raise DirectoryError(
            "directory-api-owned",
            f"the admin API ({target.url}) owns this directory: "
            "edit it there, then run `kiosk-agent directory sync`",
        )
    if missing_ok and not target.file.exists():
        return empty_document(target.file)
    return read_document(target.file)


def _given_fields(args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, _ in FIELD_OPTIONS:
        value = getattr(args, name)
        if value is not None:
            values[name] = (
                [a.strip() for a in value.split("|") if a.strip()]
                if name == "aliases"
                else value
            )
    return values


def _validated(values: dict[str, Any], target: Target) -> Employee:
    try:
        return employee_from_values(values, region=_region(target))
    except ValueError as err:
        raise DirectoryError("directory-invalid-row", str(err)) from None


def _stored(values: dict[str, Any], employee: Employee) -> dict[str, Any]:
    """The values to write: as given, with the phone normalized to E.164."""
    return {**values, "phone": employee.phone}


def _check_columns(document: DirectoryDocument, values: dict[str, Any]) -> None:
    if document.kind != "csv":
        return
    missing = [name for name in values if name not in document.header]
    if missing:
        raise DirectoryError(
            "directory-columns",
            f"{document.path}: the file has no column {', '.join(missing)}",
        )


def _find(document: DirectoryDocument, employee_id: str) -> list[Record]:
    return [r for r in document.records if _id_of(r) == employee_id]


def _id_of(record: Record) -> str:
    return str(record.values.get("id") or "").strip()


def _no_such(employee_id: str) -> DirectoryError:
    return DirectoryError(
        "directory-no-such-id", f"no employee with id {employee_id!r}"
    )


def _done(args: argparse.Namespace, what: str, employee_id: str) -> int:
    if args.json:
        print(json.dumps({what: employee_id}))
    else:
        print(f"{what} {employee_id}")
    return 0


def _print_problems(problems: tuple[RowProblem, ...]) -> None:
    if problems:
        print(f"{len(problems)} row(s) skipped:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)

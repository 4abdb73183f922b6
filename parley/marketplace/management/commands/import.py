"""`parley import FILE`: upsert marketplace data from a JSON document, JSON Lines or CSV; `-` reads stdin."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from parley.marketplace import feeds
from parley.marketplace.importer import BATCH, ImportDataError, ImportReport, import_data, import_records


class Command(BaseCommand):
    help = (
        "Create or update marketplaces, categories, sellers, buyers and orders. A JSON document (.json) "
        "is validated whole first: if any record is invalid nothing is written. JSON Lines (.jsonl, "
        "one record a line with its type) and CSV (.csv, orders one row per item, or items alone) are "
        "read record by record in bounded memory: valid records are written, invalid ones are listed "
        "by line. The exit code is 1 when any record was not imported. Importing again changes nothing."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="Path to the feed, or - to read standard input.")
        parser.add_argument(
            "--format", choices=feeds.FORMATS, help="json, jsonl or csv (default: from the file name; json)."
        )
        parser.add_argument(
            "--type",
            dest="section",
            choices=sorted(feeds.TYPES),
            help="JSON Lines: the type of lines that do not give one (e.g. order).",
        )
        parser.add_argument("--batch", type=int, default=BATCH, help=f"Records per transaction ({BATCH}).")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        fmt = feeds.format_of(path, options["format"])
        if fmt == "json":
            self._document(path)
            return
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        section = feeds.TYPES[options["section"]] if options["section"] else None
        try:
            f: BinaryIO = sys.stdin.buffer if path == "-" else open(path, "rb")
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        with f:
            src = feeds.Counted(f)
            records = feeds.read_csv(src) if fmt == "csv" else feeds.read_jsonl(src, section=section)
            report = self._stream(records, src, f, batch=options["batch"])
        self._print(report)
        for problem in report.problems:
            self.stderr.write(str(problem))
        if report.rejected:
            more = report.rejected - len(report.problems)
            raise CommandError(
                f"{report.rejected} record(s) of {path} not imported"
                + (f" ({more} more not listed)" if more > 0 else "")
                + "; the other records were. Fix those lines and import the file again."
            )

    def _stream(self, records: Any, src: feeds.Counted, f: BinaryIO, *, batch: int) -> ImportReport:
        try:
            size = os.fstat(f.fileno()).st_size or None
        except (OSError, ValueError):
            size = None
        out = getattr(self.stderr, "_out", sys.stderr)
        size_ = shutil.get_terminal_size()
        # On a terminal: bytes read against the file's size (so an ETA), records and records/s.
        bar = tqdm(
            total=size,
            unit="B",
            unit_scale=True,
            file=out,
            disable=not (hasattr(out, "isatty") and out.isatty()),
            mininterval=0.5,
            # A terminal that reports no size (some ptys) would get an empty line.
            ncols=max(60, size_.columns),
            nrows=max(5, size_.lines),
            leave=True,
        )
        done = 0
        started = time.monotonic()

        def on_batch(n: int) -> None:
            nonlocal done
            done += n
            rate = done / max(time.monotonic() - started, 1e-6)
            bar.set_postfix_str(f"{done:,} records, {rate:,.0f} records/s", refresh=False)
            bar.update(src.bytes - bar.n)

        try:
            return import_records(records, batch=batch, on_batch=on_batch)
        finally:
            bar.close()

    def _document(self, path: str) -> None:
        try:
            if path == "-":
                data = json.load(sys.stdin)
            else:
                with open(path, encoding="utf-8") as f:
                    data = json.load(f)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path} is not valid JSON: {exc}") from None
        try:
            report = import_data(data)
        except ImportDataError as exc:
            for issue in exc.issues:
                self.stderr.write(str(issue))
            raise CommandError(
                f"{len(exc.issues)} problem{'' if len(exc.issues) == 1 else 's'} found in {path}; nothing was imported."
            ) from None
        self._print(report)

    def _print(self, report: ImportReport) -> None:
        for line in report.lines():
            self.stdout.write(line)
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")

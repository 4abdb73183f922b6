"""ORM reads on a hot path, compiled to SQL once per process and database and then only executed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

from parley.core import driver

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Compiled:
    compiler: Any
    sql: str
    template: list[Any]
    slots: list[tuple[int, int]]
    converters: dict[int, Any]
    model: type[Model] | None  # None: a values_list() queryset, whose rows are the result
    fields: tuple[int, int]
    init_list: list[str]
    populators: list[Any]


class Prepared(Generic[M]):
    """A queryset shape whose values change from call to call.

    Building and compiling a queryset costs far more than SQLite takes to run a small indexed query
    (docs/performance.md has the figures for the mail gateway's order look-up). Here the queryset is built once with placeholder values, compiled once, and each call runs the SQL
    with its own values and builds the objects exactly as Django's ModelIterable does
    (select_related included); a values_list() queryset's rows come from rows(). Values go to the
    database as they are: pass strings and numbers, not dates or model instances (a datetime as
    `connection.ops.adapt_datetimefield_value` gives it). The queryset must be plain: no annotations,
    no prefetch_related.
    """

    def __init__(self, build: Callable[..., QuerySet[M]], arity: int) -> None:
        self.build = build
        self.arity = arity
        # Per thread, like Django's connections: a compiler holds its thread's connection, and goes
        # away with the thread.
        self._local = threading.local()

    def _compiled(self, alias: str) -> _Compiled:
        mine: dict[str, _Compiled] = self._local.__dict__
        found = mine.get(alias)
        if found is not None and found.compiler.connection is connections[alias]:
            return found
        marks = [f"\x00prepared-{i}\x00" for i in range(self.arity)]
        queryset = self.build(*marks).using(alias)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()  # also fills compiler.select and klass_info
        slots = [(at, marks.index(p)) for at, p in enumerate(params) if p in marks]
        if sorted(i for _, i in slots) != list(range(self.arity)):
            raise ValueError("each value of a prepared query must appear exactly once in its SQL")
        select, klass_info = compiler.select, compiler.klass_info
        fields = [s[0] for s in select[0 : compiler.col_count]]
        if compiler.has_composite_fields(fields):
            raise ValueError("a prepared query cannot select composite fields")
        if queryset.query.values_select:  # values_list(): its rows are the result, no objects
            klass_info = {"model": None, "select_fields": [0, compiler.col_count - 1]}
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        mine[alias] = _Compiled(
            compiler=compiler,
            sql=sql,
            template=list(params),
            slots=slots,
            # What ModelIterable works out for every execution, worked out once: the converters of
            # each column, and the populators that build the select_related objects.
            converters=compiler.get_converters(fields),
            model=klass_info["model"],
            fields=(start, end),
            init_list=[f[0].target.attname for f in select[start:end]],
            # Django 5.2's signature; the installed stubs describe 6.x, which adds fetch_mode.
            populators=(
                get_related_populators(klass_info, select, alias)  # type: ignore[call-arg]
                if klass_info["model"] is not None
                else []
            ),
        )
        return mine[alias]

    def _rows(self, values: tuple[Any, ...], using: str) -> tuple[_Compiled, Iterable[Any]]:
        c = self._compiled(using)
        params = list(c.template)
        for at, i in c.slots:
            params[at] = values[i]
        rows: Iterable[Any] = driver.fetch(connections[using], c.sql, params)
        if c.converters:
            rows = c.compiler.apply_converters(rows, c.converters)
        return c, rows

    def rows(self, *values: Any, using: str = "default") -> list[tuple[Any, ...]]:
        """For a values_list() queryset: its rows, as tuples, converted as the ORM converts them."""
        c, rows = self._rows(values, using)
        if c.model is not None:
            raise TypeError("rows() is for values_list() querysets; call the query for objects")
        return [tuple(row) for row in rows]

    def __call__(self, *values: Any, using: str = "default") -> list[M]:
        c, rows = self._rows(values, using)
        if c.model is None:
            raise TypeError("a values_list() queryset gives rows: call rows()")
        start, end = c.fields
        found: list[M] = []
        for row in rows:
            obj = cast(M, c.model.from_db(using, c.init_list, row[start:end]))
            for populator in c.populators:
                populator.populate(row, obj)
            found.append(obj)
        return found

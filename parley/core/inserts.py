"""Single-row inserts on a hot path: the INSERT is built once per model and database, then executed."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from django.db import IntegrityError, connections, transaction
from django.db.models import NOT_PROVIDED, Field, Model

M = TypeVar("M", bound=Model)

# (model, alias, unique field or "") -> (SQL, fields written, returning fields), or None: the ORM does it.
_Plan = tuple[str, list["Field[Any, Any]"], list["Field[Any, Any]"]]
_plans: dict[tuple[type[Model], str, str], _Plan | None] = {}


def _plan(model: type[Model], alias: str, unique: str = "") -> _Plan | None:
    key = (model, alias, unique)
    if key in _plans:
        return _plans[key]
    meta = model._meta
    connection = connections[alias]
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    returning = list(meta.db_returning_fields)
    plain = (
        not meta.parents  # multi-table inheritance writes several tables
        and meta.auto_field is not None
        and returning == [meta.auto_field]
        and all(f.db_default is NOT_PROVIDED for f in fields)
        and connection.features.can_return_columns_from_insert
    )
    plan: _Plan | None = None
    if plain:
        qn = connection.ops.quote_name
        # Names come from the model, quoted; every value is a parameter.
        columns = ", ".join(qn(str(f.column)) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        pk = qn(str(returning[0].column))
        # With a unique field named, a row that already has its value is left as it is, and no row
        # comes back (both SQLite and PostgreSQL know ON CONFLICT).
        keep = ""
        if unique:
            key_column = cast("Field[Any, Any]", meta.get_field(unique)).column
            keep = f"ON CONFLICT ({qn(str(key_column))}) DO NOTHING "
        sql = f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES ({marks}) {keep}RETURNING {pk}"  # noqa: S608
        plan = (sql, fields, returning)
    _plans[key] = plan
    return plan


def create(model: type[M], /, *, using: str = "default", **values: Any) -> M:
    """`model.objects.create(**values)` without building and compiling a query on every call.

    Model.save() builds an InsertQuery and compiles it for each row: for the mail gateway's rows that
    cost about four times the INSERT itself. The row is the same: field defaults and pre_save (auto_now)
    apply and values are prepared by each field as the ORM does; no signals are sent (Parley uses
    none for its models). Models that are not a single table with an auto id, and values that are
    expressions, go through the ORM.
    """
    obj = model(**values)
    if not _insert(obj, values, using=using, unique=""):
        raise AssertionError("an insert without ON CONFLICT gave back no row")
    return obj


def create_unless_exists(
    model: type[M], /, *, unique: str, using: str = "default", **values: Any
) -> M | None:
    """As create(), unless a row with the same value of the unique field `unique` exists (then None).

    Where a concurrent transaction holds such a row uncommitted, the insert waits for it (PostgreSQL);
    no savepoint is needed, unlike catching the IntegrityError of create().
    """
    obj = model(**values)
    return obj if _insert(obj, values, using=using, unique=unique) else None


def _insert(obj: Model, values: dict[str, Any], *, using: str, unique: str) -> bool:
    model = type(obj)
    plan = _plan(model, using, unique)
    if plan is None or any(hasattr(v, "resolve_expression") for v in values.values()):
        if not unique:
            obj.save(force_insert=True, using=using)
            return True
        try:
            with transaction.atomic(using=using):
                obj.save(force_insert=True, using=using)
        except IntegrityError:
            if model._base_manager.using(using).filter(**{unique: getattr(obj, unique)}).exists():
                return False
            raise
        return True
    sql, fields, returning = plan
    connection = connections[using]
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    for field, value in zip(returning, row, strict=True):
        setattr(obj, field.attname, value)
    obj._state.adding = False
    obj._state.db = using
    return True

"""Single-row inserts on a hot path: the INSERT is built once per model and database, then executed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import NOT_PROVIDED, Field, Model, signals
from django.db.models.base import ModelState

from parley.core import driver

M = TypeVar("M", bound=Model)

# Field types whose database value is the Python value itself, when it has the type named here:
# Django's preparation of such a value only checks and converts it to what it already is.
_AS_IS: dict[str, tuple[type, ...]] = {
    "CharField": (str,),
    "TextField": (str,),
    "EmailField": (str,),
    "SlugField": (str,),
    "BooleanField": (bool,),
    "IntegerField": (int,),
    "BigIntegerField": (int,),
    "PositiveIntegerField": (int,),
    "PositiveBigIntegerField": (int,),
    "PositiveSmallIntegerField": (int,),
    "SmallIntegerField": (int,),
    "AutoField": (int,),
    "BigAutoField": (int,),
}

# How a datetime in UTC (what parley.core.time.now() gives) is written, where the database's time zone
# is UTC: as SQLite's text (Django's adapt_datetimefield_value makes it naive, then str()) or as the
# object itself (PostgreSQL's driver takes it). Other datetimes are prepared by Django.
_UTC_TEXT = "text"
_UTC_OBJECT = "object"


@dataclass(frozen=True)
class _Column:
    field: Field[Any, Any]
    name: str
    attname: str
    related: bool  # a foreign key: given as an instance (cached on the new object) or as an id
    default: Callable[[], Any]  # the value of a field not named, as Model(**values) gives it
    as_is: tuple[type, ...]  # value types written without Django's preparation
    text: bool  # a text field: any str (a TextChoices member too) is written as it is, as Django does
    pre_save: bool  # auto_now / auto_now_add: the field sets its own value
    utc: str  # a DateTimeField: how a datetime in UTC is written (_UTC_TEXT, _UTC_OBJECT), else ""


@dataclass(frozen=True)
class _Plan:
    sql: str
    columns: list[_Column]
    names: frozenset[str]  # what a call may name: field names and attnames
    returning: list[Field[Any, Any]]


_plans: dict[tuple[type[Model], str, str], _Plan | None] = {}


def _utc(field: Field[Any, Any], connection: BaseDatabaseWrapper) -> str:
    if field.get_internal_type() != "DateTimeField" or not settings.USE_TZ:
        return ""
    if connection.vendor == "sqlite" and connection.timezone is dt.UTC:
        return _UTC_TEXT
    if connection.vendor == "postgresql":
        return _UTC_OBJECT
    return ""


def _column(field: Field[Any, Any], connection: BaseDatabaseWrapper) -> _Column:
    # A foreign key's value is its target's: a str primary key, or an int one.
    target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
    return _Column(
        field=field,
        name=field.name,
        attname=field.attname,
        related=field.is_relation,
        # Field.get_default only calls the callable it keeps (a field that says otherwise is asked).
        default=(
            field._get_default  # type: ignore[attr-defined]
            if type(field).get_default is Field.get_default
            else field.get_default
        ),
        as_is=_AS_IS.get(target.get_internal_type(), ()),
        text=_AS_IS.get(target.get_internal_type()) == (str,),
        pre_save=bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)),
        utc=_utc(field, connection),
    )


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
        plan = _Plan(
            sql=sql,
            columns=[_column(f, connection) for f in fields],
            names=frozenset(n for f in fields for n in (f.name, f.attname)),
            returning=returning,
        )
    _plans[key] = plan
    return plan


def create(model: type[M], /, *, using: str = "default", **values: Any) -> M:
    """`model.objects.create(**values)` without building and compiling a query on every call.

    Model.save() builds an InsertQuery and compiles it for each row, which for the mail gateway's rows
    costs more than the INSERT itself (docs/performance.md). The row and the object are the same: field defaults and
    pre_save (auto_now) apply, values are prepared by each field as the ORM does (plain str, int and
    bool values, and datetimes in UTC, need none), and related objects given are cached on the new
    one. Neither save() nor any signal runs, so a model with a save() override or pre_save/post_save
    receivers is refused (ValueError). Models that are not a single table with an auto id, and
    values the ORM must look at (expressions, unknown names, related objects of another model or
    unsaved) go through the ORM.
    """
    obj = _insert(model, values, using=using, unique="")
    if obj is None:
        raise AssertionError("an insert without ON CONFLICT gave back no row")
    return obj


def create_unless_exists(
    model: type[M], /, *, unique: str, using: str = "default", **values: Any
) -> M | None:
    """As create(), unless a row with the same value of the unique field `unique` exists (then None).

    Where a concurrent transaction holds such a row uncommitted, the insert waits for it (PostgreSQL);
    no savepoint is needed, unlike catching the IntegrityError of create().
    """
    return _insert(model, values, using=using, unique=unique)


def _build(
    model: type[M], plan: _Plan, values: dict[str, Any], connection: BaseDatabaseWrapper
) -> tuple[M, list[Any]] | None:
    """The new object and its row's values, as Model(**values) and the fields' preparation would
    give them; None where a value needs the ORM's own handling."""
    obj = model.__new__(model)
    state = obj._state = ModelState()
    attrs = obj.__dict__
    params: list[Any] = []
    for col in plan.columns:
        if col.name in values:
            value = values[col.name]
            if col.related:
                if isinstance(value, Model):
                    if not isinstance(value, col.field.related_model) or value.pk is None:  # type: ignore[arg-type]
                        return None  # the ORM says what is wrong with it
                    state.fields_cache[col.name] = value
                    if col.field.one_to_one:  # as the descriptor does: the reverse side is known too
                        col.field.remote_field.set_cached_value(value, obj)  # type: ignore[union-attr]
                    value = getattr(value, col.field.target_field.attname)  # type: ignore[attr-defined]
                elif value is not None:
                    return None
        elif col.attname in values:
            value = values[col.attname]
        else:
            value = col.default()
        if col.pre_save:
            attrs[col.attname] = value
            value = col.field.pre_save(obj, True)
        elif value is None or type(value) in col.as_is or (col.text and isinstance(value, str)):
            attrs[col.attname] = value  # neither an expression nor in need of preparation
            params.append(value)
            continue
        elif hasattr(value, "resolve_expression"):
            return None
        attrs[col.attname] = value
        if value is None or (col.as_is and type(value) in col.as_is):
            params.append(value)
        elif col.utc and type(value) is dt.datetime and value.tzinfo is dt.UTC:
            params.append(str(value.replace(tzinfo=None)) if col.utc == _UTC_TEXT else value)
        else:
            params.append(col.field.get_db_prep_save(value, connection))
    return obj, params


def _refuse_hooks(model: type[Model]) -> None:
    # An INSERT written out here runs neither save() nor the model signals: a model that relies on
    # either would lose what they do without a word.
    if model.save is not Model.save:
        raise ValueError(f"{model.__name__} overrides save(): parley.core.inserts cannot write it")
    for name, signal in (("pre_save", signals.pre_save), ("post_save", signals.post_save)):
        if signal.has_listeners(model):
            raise ValueError(f"{model.__name__} has {name} receivers: parley.core.inserts cannot write it")


def _insert(model: type[M], values: dict[str, Any], *, using: str, unique: str) -> M | None:
    _refuse_hooks(model)
    plan = _plan(model, using, unique)
    connection = connections[using]
    built = None
    if plan is not None and plan.names.issuperset(values):
        built = _build(model, plan, values, connection)
    if plan is None or built is None:
        return _insert_with_orm(model(**values), using=using, unique=unique)
    obj, params = built
    with transaction.mark_for_rollback_on_error(using):
        rows = driver.fetch(connection, plan.sql, params)
    if not rows:
        return None
    for field, value in zip(plan.returning, rows[0], strict=True):
        setattr(obj, field.attname, value)
    obj._state.adding = False
    obj._state.db = using
    return obj


def _insert_with_orm(obj: M, *, using: str, unique: str) -> M | None:
    if not unique:
        obj.save(force_insert=True, using=using)
        return obj
    try:
        with transaction.atomic(using=using):
            obj.save(force_insert=True, using=using)
    except IntegrityError:
        if type(obj)._base_manager.using(using).filter(**{unique: getattr(obj, unique)}).exists():
            return None
        raise
    return obj

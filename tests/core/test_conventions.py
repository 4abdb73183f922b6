"""The conventions hold everywhere: ORM writes only in actions/store modules, a selectors.py in every app."""

from __future__ import annotations

import ast
from pathlib import Path

PARLEY = Path(__file__).resolve().parent.parent.parent / "parley"

# Methods that write rows whatever they are called on (no other library in parley/ names these).
ALWAYS_WRITES = {"create", "get_or_create", "update_or_create", "bulk_create", "bulk_update"}
# Model.save()/delete(), QuerySet.delete(), ModelForm.save() take no positional argument; the
# storage API (save(name, content), delete(name)) and Pillow's Image.save(fp) always take one.
WRITES_WITHOUT_POSITIONALS = {"save", "delete"}

# module (relative to parley/) -> why it may write outside actions.py/store.py for now.
ALLOWLIST: dict[str, str] = {}

# app -> why it has no selectors.py yet. policy's selectors.py reads the catalog through models.py
# only, so the purity contract (no Django but models/apps/migrations) still holds for it.
SELECTORS_PENDING: dict[str, str] = {}


def _exempt(rel: str) -> bool:
    """Modules where writes belong: actions and store modules, migrations, test factories."""
    parts = rel.split("/")
    return (
        parts[-1] in {"actions.py", "store.py"}
        or "migrations" in parts
        or rel == "testing.py"  # the factories of the test suite (tests write through them)
        # the hand-written SQL mechanism the store modules call (its ORM fallback is the reference)
        or rel in {"core/driver.py", "core/inserts.py", "core/prepared.py"}
    )


def _dict_names(tree: ast.AST) -> set[str]:
    """Names that are plainly dicts or sets in the module: `**kw` parameters and names bound to a
    dict/set display, comprehension or `dict(...)`/`set(...)` call (their `.update(k=v)` is no write)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) and node.args.kwarg:
            names.add(node.args.kwarg.arg)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            value = node.value
            plain = isinstance(value, ast.Dict | ast.DictComp | ast.Set | ast.SetComp) or (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Name)
                and value.func.id in {"dict", "set"}
            )
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if plain:
                names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def writes_in(source: str) -> list[int]:
    """Line numbers of the ORM write calls in one module's source."""
    tree = ast.parse(source)
    dicts = _dict_names(tree)
    lines = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name, receiver = node.func.attr, node.func.value
        positional = bool(node.args)
        if name in ALWAYS_WRITES:
            lines.append(node.lineno)
        elif name in WRITES_WITHOUT_POSITIONALS and not positional:
            lines.append(node.lineno)
        elif name == "update" and not positional and node.keywords:
            # QuerySet.update(**fields) takes keywords only; a dict's update(k=v) is told by its name.
            if not (isinstance(receiver, ast.Name) and receiver.id in dicts):
                lines.append(node.lineno)
    return sorted(lines)


def scan(root: Path) -> list[str]:
    """`module:line` of every ORM write under `root` outside the modules where writes belong."""
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if _exempt(rel):
            continue
        found += [f"{rel}:{line}" for line in writes_in(path.read_text())]
    return found


def test_orm_writes_only_in_actions_and_store_modules() -> None:
    found = [hit for hit in scan(PARLEY) if hit.split(":")[0] not in ALLOWLIST]
    assert found == []


def test_the_allowlist_lists_only_modules_that_still_write() -> None:
    writing = {hit.split(":")[0] for hit in scan(PARLEY)}
    assert sorted(set(ALLOWLIST) - writing) == []


def test_a_planted_write_is_caught(tmp_path: Path) -> None:
    """The scan is not vacuous: each kind of write, planted in a new module, is listed by its line."""
    app = tmp_path / "shop"
    app.mkdir()
    (app / "helpers.py").write_text(
        "from shop.models import Order\n"
        "\n"
        "def close(order, ids):\n"
        "    Order.objects.filter(pk__in=ids).update(state='closed')\n"
        "    order.save(update_fields=['state'])\n"
        "    order.delete()\n"
        "    Order.objects.create(pk=1)\n"
        "    Order.objects.get_or_create(pk=2)\n"
        "    Order.objects.update_or_create(pk=3, defaults={})\n"
        "    Order.objects.bulk_create([])\n"
        "    Order.objects.bulk_update([], ['state'])\n"
        "    qs = Order.objects.all()\n"
        "    qs.update(state='open')\n"
    )
    (app / "actions.py").write_text("def do_close(order):\n    order.save()\n")
    (app / "migrations").mkdir()
    (app / "migrations" / "0002_data.py").write_text("def forwards(o):\n    o.save()\n")
    assert scan(tmp_path) == [f"shop/helpers.py:{n}" for n in (4, 5, 6, 7, 8, 9, 10, 11, 13)]


def test_what_is_no_write_is_not_listed() -> None:
    source = (
        "def f(storage, image, out, seen, **kw):\n"
        "    env = {}\n"
        "    env.update(A='1')\n"
        "    kw.update(seller=1)\n"
        "    seen.update({1, 2})\n"
        "    storage.save('name', b'')\n"
        "    storage.delete('name')\n"
        "    image.save(out, format='PNG')\n"
    )
    assert writes_in(source) == []


def test_every_app_with_models_has_selectors() -> None:
    apps = sorted(p.parent.name for p in PARLEY.glob("*/models.py"))
    assert "marketplace" in apps
    missing = [a for a in apps if not (PARLEY / a / "selectors.py").exists() and a not in SELECTORS_PENDING]
    assert missing == []


# The channels read through selectors (access_* for one object by an id from the request): no
# `<Model>.objects` (nor get_object_or_404) in their views, handlers and helpers.
CHANNELS = ("sellercentral", "buyers", "operators", "api", "mailgate", "monitoring")
MANAGERS = {"objects", "_default_manager", "_base_manager"}
SHORTCUTS = {"get_object_or_404", "get_list_or_404"}
# module (relative to parley/) -> why it may read models directly.
READ_MODULES: dict[str, str] = {
    "sellercentral/queries.py": "the order search: Seller Central's reads of its own orders (as a selectors.py)",
}


def _channel_module_exempt(rel: str) -> bool:
    """Where a channel may read and write models: its selectors, actions and store modules,
    migrations and management commands (entry points)."""
    parts = rel.split("/")
    return parts[-1] in {"selectors.py", "actions.py", "store.py"} or bool(
        {"migrations", "management"} & set(parts)
    )


def direct_reads_in(source: str) -> list[int]:
    """Line numbers of model manager accesses and get_object_or_404-style shortcuts in one module."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in MANAGERS | SHORTCUTS:
            lines.append(node.lineno)
        elif isinstance(node, ast.Name) and node.id in SHORTCUTS:
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom):
            lines += [node.lineno for a in node.names if a.name in SHORTCUTS]
    return sorted(lines)


def scan_channels(root: Path, channels: tuple[str, ...] = CHANNELS) -> list[str]:
    """`module:line` of every direct model read in the channel packages under `root`."""
    found = []
    for channel in channels:
        for path in sorted((root / channel).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if not _channel_module_exempt(rel):
                found += [f"{rel}:{line}" for line in direct_reads_in(path.read_text())]
    return found


def test_channels_read_models_only_through_selectors() -> None:
    found = [hit for hit in scan_channels(PARLEY) if hit.split(":")[0] not in READ_MODULES]
    assert found == []


def test_the_read_modules_listed_still_read() -> None:
    reading = {hit.split(":")[0] for hit in scan_channels(PARLEY)}
    assert sorted(set(READ_MODULES) - reading) == []


def test_a_planted_channel_read_is_caught(tmp_path: Path) -> None:
    """The scan is not vacuous: each kind of direct read, planted in a channel's view, is listed."""
    shop = tmp_path / "shop"
    (shop / "migrations").mkdir(parents=True)
    (shop / "management" / "commands").mkdir(parents=True)
    (shop / "views.py").write_text(
        "from django.shortcuts import get_object_or_404\n"
        "from django import shortcuts\n"
        "\n"
        "def order(request, order_id, message):\n"
        "    a = get_object_or_404(Order, pk=order_id)\n"
        "    b = Order.objects.filter(pk=order_id, seller=request.user.seller).first()\n"
        "    c = shortcuts.get_list_or_404(Order)\n"
        "    d = Order._default_manager.get(pk=order_id)\n"
        "    e = message.attachments.all()\n"
        "    return selectors.access_order(request.user, order_id)\n"
    )
    for name in (
        "selectors.py",
        "actions.py",
        "store.py",
        "migrations/0002_data.py",
        "management/commands/x.py",
    ):
        (shop / name).write_text("def f(pk):\n    return Order.objects.get(pk=pk)\n")
    assert scan_channels(tmp_path, ("shop",)) == [f"shop/views.py:{n}" for n in (1, 5, 6, 7, 8)]

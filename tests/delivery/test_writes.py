"""Delivery writes through its actions: no other delivery module saves, creates, updates or deletes rows."""

from __future__ import annotations

import ast
from pathlib import Path

import parley.delivery

WRITES = {
    "save",
    "create",
    "update",
    "delete",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
}
ALLOWED = {"actions.py", "store.py"}  # the writes, and the store operations they call
FILES = {"attachments().save"}  # the attachments storage writes a file (delivery.blobs), not a row


def _orm_writes(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in WRITES or ast.unparse(node.func) in FILES:
            continue
        chain = ast.unparse(node.func.value)
        # A queryset (Model.objects...) or a model instance's save()/delete(); a set's update() is not one.
        if ".objects" in chain or node.func.attr in ("save", "delete"):
            found.append(f"{path.name}:{node.lineno} {ast.unparse(node.func)}")
    return found


def test_only_actions_and_store_write() -> None:
    root = Path(parley.delivery.__file__).parent
    modules = [p for p in sorted(root.rglob("*.py")) if p.name not in ALLOWED and "migrations" not in p.parts]
    assert [w for p in modules for w in _orm_writes(p)] == []


def test_the_check_sees_a_write(tmp_path: Path) -> None:
    sample = tmp_path / "_write_sample.py"
    sample.write_text(
        "def f(m):\n    M.objects.filter(pk=1).update(x=1)\n    m.save()\n    s = set()\n    s.update([1])\n"
    )
    assert _orm_writes(sample) == [
        "_write_sample.py:2 M.objects.filter(pk=1).update",
        "_write_sample.py:3 m.save",
    ]

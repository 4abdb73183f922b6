"""Which category group each node of a marketplace's category tree counts as (pure: no database)."""

from __future__ import annotations

from collections.abc import Mapping


def effective_groups(
    nodes: Mapping[str, tuple[str, str | None]], default: str
) -> tuple[dict[str, str], set[str]]:
    """Map every node to its group: its own mapping, else the nearest mapped ancestor's, else `default`.

    `nodes` is code -> (parent code or "", mapped group or None). A parent that is not in the tree ends
    the walk (the node counts as `default` unless it or a nearer ancestor is mapped). Returns the
    groups and the codes that sit on a cycle of parents (those count as `default` unless mapped).
    """
    out: dict[str, str] = {}
    cyclic: set[str] = set()
    for start in nodes:
        if start in out:
            continue
        path: list[str] = []
        seen: set[str] = set()
        code = start
        group: str | None = None
        while True:
            if code in out:
                group = out[code]
                break
            node = nodes.get(code)
            if node is None:
                break
            if code in seen:
                # A cycle: every node on it from `code` on gets only its own mapping or the default.
                loop = path[path.index(code) :]
                cyclic.update(loop)
                for c in loop:
                    out[c] = nodes[c][1] or default
                path = path[: path.index(code)]
                group = out[code]
                break
            seen.add(code)
            path.append(code)
            parent, mapped = node
            if mapped:
                group = mapped
                out[code] = mapped
                path.pop()
                break
            if not parent:
                break
            code = parent
        for c in reversed(path):
            mapped = nodes[c][1]
            group = mapped or group or default
            out[c] = group
    return out, cyclic

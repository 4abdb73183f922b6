"""The interpreter: chain tables, every hit gathered, the action, failures held."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import parley.policy as policy
from parley.policy import decide
from parley.policy.chains import CHAINS
from parley.policy.codes import HIT_CODES
from parley.policy.engine import action_for
from parley.policy.rules import RULES
from parley.policy.types import BuyerFacts, Decision, Hit, SellerFacts

from .helpers import codes, make_sub, run

POLICY = Path(policy.__file__).parent


def test_chains_are_tables_of_known_rules() -> None:
    assert set(CHAINS) == {"seller_to_buyer", "buyer_to_seller"}
    for names in CHAINS.values():
        assert isinstance(names, tuple)
        assert set(names) <= set(RULES)
    assert CHAINS["seller_to_buyer"] == (
        "standing",
        "ownership",
        "reason",
        "cap",
        "reply",
        "optout",
        "tag",
        "content",
        "watch",
        "attachments",
        "length",
    )
    assert CHAINS["buyer_to_seller"] == ("ownership", "attachments", "length")


def test_one_module_per_rule() -> None:
    modules = {p.stem for p in (POLICY / "rules").glob("*.py") if not p.stem.startswith("_")}
    assert modules == set(RULES)


def test_every_hit_is_gathered_in_chain_order() -> None:
    decision = run(
        reason="generalQuestion",
        opted_out=True,
        seller=SellerFacts("S1", status="warned", sent_today=600),
        buyer=BuyerFacts("B2", opted_out=True),
        body="Check our new arrivals, coupon inside! " + "x" * 2000,
    )
    assert codes(decision) == [
        "standing.warned",
        "ownership.buyer_mismatch",
        "cap.daily",
        "optout.not_critical",
        "content.marketing",
        "watch.soft_marketing",
        "length.too_long",
    ]
    assert decision.action == "block"
    assert [h.rule for h in decision.hits] == [
        "standing",
        "ownership",
        "cap",
        "optout",
        "content",
        "watch",
        "length",
    ]


@pytest.mark.parametrize(
    ("channel", "effects", "action"),
    [
        ("web", [], "deliver"),
        ("web", ["note", "violation", "accept"], "deliver"),
        ("web", ["hold"], "hold"),
        ("web", ["hold", "reject"], "block"),
        ("api", ["reject"], "block"),
        ("email", ["reject"], "bounce"),
        ("email", ["hold", "violation"], "hold"),
        ("email", ["accept", "reject"], "bounce"),
    ],
)
def test_action_mapping(channel: str, effects: list[str], action: str) -> None:
    hits = [Hit("r", f"r.{e}", e, "", "") for e in effects]  # type: ignore[arg-type]
    assert action_for(channel, hits) == action  # type: ignore[arg-type]


def test_a_failing_rule_holds_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(sub, ctx):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")

    from parley.policy import engine

    chain = engine.resolve(["standing", "length"])
    monkeypatch.setitem(engine._DEFAULT, "seller_to_buyer", ((chain[0][0], broken), chain[1]))
    decision = decide(make_sub(body=""))
    assert codes(decision) == ["engine.rule_error", "length.empty"]
    assert decision.hits[0].rule == "standing"
    assert decision.action == "block"
    decision = decide(make_sub())
    assert (decision.action, codes(decision)) == ("hold", ["engine.rule_error"])


def test_custom_chains() -> None:
    sub = make_sub(reason="generalQuestion", opted_out=True, body="")
    assert codes(decide(sub)) == ["optout.not_critical", "length.empty"]
    assert codes(decide(sub, chains={"seller_to_buyer": ("length",)})) == ["length.empty"]
    with pytest.raises(KeyError):
        decide(sub, chains={"seller_to_buyer": ("no_such_rule",)})


@pytest.mark.parametrize(
    ("channel", "reason", "subject", "critical", "tagged"),
    [
        ("web", "generalQuestion", "", False, False),
        ("web", "confirmOrderDetails", "", True, False),
        ("email", None, "[Important] Your order", True, True),
    ],
)
def test_a_decision_without_hits_is_the_one_it_would_have_made(
    channel: str, reason: str | None, subject: str, critical: bool, tagged: bool
) -> None:
    # Decisions without hits are shared (engine._WITHOUT_HITS): each must be what would be made.
    sub = make_sub(channel=channel, reason=reason, subject=subject)
    decision = decide(sub, chains={"seller_to_buyer": ("content", "length")})
    assert decision == Decision("deliver", critical, tagged, ())
    assert (decision.critical, decision.tagged, decision.hits) == (critical, tagged, ())
    assert decide(sub, chains={"seller_to_buyer": ("content", "length")}) is decision


def test_rules_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        RULES["x"] = RULES["length"]  # type: ignore[index]


def test_decision_to_json() -> None:
    decision = run(body="coupon", opted_out=True, reason="generalQuestion")
    data = json.loads(json.dumps(decision.to_json(), ensure_ascii=False))
    assert data["action"] == "block"
    assert [h["code"] for h in data["hits"]] == ["optout.not_critical", "content.marketing"]
    assert data["hits"][1]["span"] == [0, 6]


def test_every_hit_explains_itself_in_both_languages() -> None:
    decision = run(
        reason="generalQuestion",
        opted_out=True,
        seller=SellerFacts("S1", status="warned", sent_today=600),
        body="Check our new arrivals, coupon, www.x.com, a@b.com, 13800138000, WeChat, <b> " + "x" * 2000,
        attachments=(),
    )
    for hit in decision.hits:
        assert hit.en[0].isupper() and hit.en.endswith(".")
        assert hit.zh and any("\u4e00" <= c <= "\u9fff" for c in hit.zh)


FORBIDDEN_IMPORTS = {
    "django",
    "os",
    "io",
    "socket",
    "subprocess",
    "pathlib",
    "urllib",
    "http",
    "requests",
    "time",
    "logging",
    "sqlite3",
    "smtplib",
    "asyncio",
    "threading",
    "random",
    "tempfile",
    "shutil",
    "sys",
}


def _engine_files() -> list[Path]:
    """The files `import parley.policy` loads: the engine, not the Django app beside it (models, apps)."""
    seen: set[Path] = set()
    todo = [POLICY / "__init__.py"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        package = path.parent
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package
                for _ in range(node.level - 1):
                    base = base.parent
                parts = (node.module or "").split(".") if node.module else []
                target = base.joinpath(*parts) if parts else base
                names = [a.name for a in node.names]
                for candidate in [target.with_suffix(".py"), target / "__init__.py"] + [
                    target / f"{n}.py" for n in names
                ]:
                    if candidate.is_file():
                        todo.append(candidate)
    return sorted(seen)


ENGINE_FILES = _engine_files()


def test_engine_files_are_found() -> None:
    names = {str(p.relative_to(POLICY)) for p in ENGINE_FILES}
    assert {"engine.py", "context.py", "content.py", "subject.py", "rules/tag.py", "types.py"} <= names
    assert "models.py" not in names


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: str(p.relative_to(POLICY)))
def test_pure_no_io_no_django(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("open", "print", "input"):
            raise AssertionError(f"{path.name} calls {node.func.id}")  # type: ignore[attr-defined]
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN_IMPORTS, f"{path.name} imports {name}"


TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=300) | st.sampled_from(
    ["", "[Important] x", "=?gb2312?b?W9bY0qpd?=", "coupon www.x.com 13800138000", "好评返现 加微信"]
)


@settings(max_examples=150, deadline=None)
@given(
    channel=st.sampled_from(["web", "api", "email"]),
    direction=st.sampled_from(["seller_to_buyer", "buyer_to_seller"]),
    subject=TEXT,
    body=TEXT,
    opted_out=st.booleans(),
    status=st.sampled_from(["active", "warned", "restricted", "blocked", "suspended"]),
)
def test_decide_never_fails(
    channel: str, direction: str, subject: str, body: str, opted_out: bool, status: str
) -> None:
    decision = decide(
        make_sub(
            channel=channel,
            direction=direction,
            subject=subject,
            body=body,
            opted_out=opted_out,
            seller=SellerFacts("S1", status=status),  # type: ignore[arg-type]
        )
    )
    assert "engine.rule_error" not in codes(decision)
    assert decision.action in ("deliver", "block", "bounce", "hold")
    for hit in decision.hits:
        if hit.span and hit.field in ("body", "subject"):
            start, end = hit.span
            assert 0 <= start < end


def _code_literals() -> set[str]:
    found: set[str] = set()
    prefixes = {name.split(".")[0] for name in HIT_CODES}
    for path in ENGINE_FILES:
        if path.name == "codes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                head, _, tail = node.value.partition(".")
                if head in prefixes and tail and tail.replace("_", "").isalpha():
                    found.add(node.value)
    return found


def test_hit_codes_table_is_complete() -> None:
    assert _code_literals() == set(HIT_CODES)


def test_hits_have_the_effect_of_their_code() -> None:
    decision = run(
        reason="generalQuestion",
        opted_out=True,
        seller=SellerFacts("S1", status="warned", sent_today=600),
        body="Check our new arrivals, coupon, www.x.com, a@b.com, 13800138000, WeChat, <b> " + "x" * 2000,
    )
    assert decision.hits
    for hit in decision.hits:
        assert HIT_CODES[hit.code] == hit.effect

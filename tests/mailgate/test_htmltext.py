"""An HTML part as a reader sees it, and the same HTML without what it would fetch or run."""

from __future__ import annotations

from parley.mailgate.htmltext import read, without_tracking


def test_visible_text_with_every_link_target_and_image_source() -> None:
    markup = (
        "<html><head><title>t</title><style>p{}</style><script>track()</script></head><body>"
        '<p>Hello &amp; thanks</p><p><a href="https://deals.example/x">our shop</a> '
        '<a href="mailto:li%40buyer.example">write</a> <a href="https://same.example">https://same.example</a></p>'
        '<img src="https://t.example/p.gif" alt=""><img src="cid:logo" alt="logo">'
        '<form action="https://collect.example/f"></form><p>再见</p></body></html>'
    )
    reading = read(markup)
    assert reading.text == (
        "Hello & thanks\n\nour shop <https://deals.example/x> write <mailto:li@buyer.example> "
        "https://same.example\n<https://t.example/p.gif> logo <https://collect.example/f>\n再见"
    )
    assert reading.targets == [
        "https://deals.example/x",
        "mailto:li@buyer.example",
        "https://same.example",
        "https://t.example/p.gif",
        "https://collect.example/f",
    ]
    assert reading.tracking is True
    assert read("<p>Which colour?</p>").text == "Which colour?" and not read("<p>x</p>").tracking


def test_without_tracking_removes_what_is_fetched_or_run_and_keeps_the_rest() -> None:
    markup = (
        "<head><style>@import url(https://x.example/a.css); p{color:red;background:url(https://t.example/b)}"
        "</style><script>fetch('/t')</script></head>"
        '<body onload="go()"><p style="background:url(https://t.example/c)" class="a">Hi</p>'
        '<img src="https://t.example/p.gif"><img src="cid:logo" alt="logo"/>'
        '<iframe src="https://x.example/f">fallback</iframe><p>Bye</p></body>'
    )
    assert without_tracking(markup) == (
        "<head><style> p{color:red;background:none}</style></head>"
        '<body><p class="a">Hi</p><img src="cid:logo" alt="logo"/><p>Bye</p></body>'
    )
    plain = '<p class="x">Nothing to fetch <img src="cid:a"></p>'
    assert without_tracking(plain) is plain


def test_an_unclosed_script_takes_the_rest_with_it() -> None:
    assert without_tracking("<p>Hi</p><script>steal(") == "<p>Hi</p>"

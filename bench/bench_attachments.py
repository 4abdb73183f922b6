"""Peak memory for one 10 MB attachment: sent, downloaded by its seller, delivered by a worker (to a Maildir,
then again to a pipelining smarthost); A/B with BENCH_BASE."""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import PipeliningSink

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
PHASES = ("send", "download", "deliver", "smtp")
FILE_BYTES = 10 * 1024 * 1024 - 64 * 1024  # just under the 10 MB limit, with room for the PDF itself


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child(phase: str, data_dir: str) -> None:
    """One phase in a fresh process: its set-up first, then the peak it adds."""
    os.environ["PARLEY_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")
    import asyncio

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from parley import testing

    out: dict[str, object] = {"code": str(Path(testing.__file__).parents[1])}
    if phase == "send":
        call_command("migrate", verbosity=0)
        from django.core.files.uploadedfile import SimpleUploadedFile

        from parley.marketplace.models import Order

        seller = testing.seller(display_name="Bench Tools")
        order = testing.order(seller=seller, status=Order.Status.UNSHIPPED)
        data = testing.pdf_bytes(pad=FILE_BYTES)
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(seller.user)  # type: ignore[arg-type]
        client.get("/healthz")
        before = _peak_kib()
        upload = SimpleUploadedFile("big.pdf", data, content_type="application/pdf")
        resp = client.post(
            f"/sellercentral/orders/{order.id}/contact/",
            {"reason": "additionalInformation", "body": "The file", "attachments": [upload]},
        )
        assert resp.status_code == 302, resp.status_code
        out.update(before=before, peak=_peak_kib(), bytes=len(data))
    elif phase == "download":
        from parley.conversations.models import Attachment
        from parley.marketplace.models import Seller

        seller = Seller.objects.get(display_name="Bench Tools")
        att = Attachment.objects.only("public_id").get()
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(seller.user)  # type: ignore[arg-type]
        client.get("/healthz")
        before = _peak_kib()
        resp = client.get(f"/sellercentral/attachments/{att.public_id}/")
        size = sum(len(chunk) for chunk in resp)
        out.update(before=before, peak=_peak_kib(), bytes=size)
    elif phase == "deliver":
        from parley.delivery.transports import MaildirTransport
        from parley.delivery.worker import Worker

        maildir = Path(data_dir) / "bench-maildir"
        worker = Worker(transport=MaildirTransport(maildir))  # type: ignore[arg-type]
        before = _peak_kib()

        async def go() -> int:
            total = 0
            while n := await worker.run_once():
                total += n
            await worker.aclose()
            return total

        sent = asyncio.run(go())
        assert sent == 1, sent
        out.update(
            before=before, peak=_peak_kib(), bytes=sum(p.stat().st_size for p in (maildir / "new").iterdir())
        )
    else:
        from parley.delivery import conf
        from parley.delivery.models import OutboundMail
        from parley.delivery.transports import SmtpTransport
        from parley.delivery.worker import Worker

        # The same mail once more, now to a smarthost in a process of its own that discards it.
        OutboundMail.objects.update(state="queued", locked_until=None, locked_by="", sent_at=None)
        sink = PipeliningSink(once=True)
        host = conf.smarthost(f"smtp://127.0.0.1:{sink.port}")
        assert host is not None
        worker = Worker(transport=SmtpTransport(host, 60))  # type: ignore[arg-type]
        before = _peak_kib()

        async def go_smtp() -> int:
            total = 0
            while n := await worker.run_once():
                total += n
            await worker.aclose()
            return total

        sent = asyncio.run(go_smtp())
        mails, data = sink.stop()
        assert sent == mails == 1 and OutboundMail.objects.filter(state="sent").count() == 1, sent
        out.update(before=before, peak=_peak_kib(), bytes=data)
    print(json.dumps(out))


def _run(tree: Path, phase: str, data_dir: str) -> dict[str, int]:
    env = {**os.environ, "PYTHONPATH": str(tree), "PARLEY_DATA_DIR": data_dir}
    env.pop("PARLEY_DATABASE_URL", None)  # SQLite in the temporary data dir
    done = subprocess.run(
        [PYTHON, str(Path(__file__).resolve()), "--child", phase, data_dir],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(str(result["code"])).resolve() != tree.resolve():
        raise SystemExit(f"ran the code in {result['code']}, not {tree}")
    return result


def main() -> None:
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    trees = [("this", ROOT)]
    if os.environ.get("BENCH_BASE"):  # a directory with another version of the code (e.g. `git archive`)
        trees.append(("base", Path(os.environ["BENCH_BASE"])))
    added: dict[tuple[str, str], list[float]] = {}
    peaks: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for label, tree in trees:
            data_dir = tempfile.mkdtemp(prefix="parley-bench-att-")
            try:
                for phase in PHASES:
                    r = _run(tree, phase, data_dir)
                    added.setdefault((label, phase), []).append((r["peak"] - r["before"]) / 1024)
                    peaks.setdefault((label, phase), []).append(r["peak"] / 1024)
            finally:
                shutil.rmtree(data_dir, ignore_errors=True)
    print(f"one {FILE_BYTES / 2**20:.2f} MiB PDF, {rounds} round(s), each phase in a fresh process (SQLite)")
    print(f"{'code':6} {'phase':9} {'peak RSS MiB':>13} {'added MiB':>10}   (medians)")
    for label, _ in trees:
        for phase in PHASES:
            print(
                f"{label:6} {phase:9} {statistics.median(peaks[label, phase]):13.1f} "
                f"{statistics.median(added[label, phase]):10.1f}"
            )
    if len(trees) == 2:
        for phase in PHASES:
            ratio = statistics.median(peaks["this", phase]) / statistics.median(peaks["base", phase])
            print(f"peak RSS this/base, {phase}: {ratio:.2f}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        main()

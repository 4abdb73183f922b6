"""Sender authentication for PARLEY_VERIFY_SENDER=dmarc: DKIM, SPF and DMARC alignment.

All DNS goes through `lookup` (replace it in tests: `auth.lookup = fake`), so the checks run offline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import dkim
import dns.exception
import dns.resolver
import spf
from authheaders.dmarc_lookup import get_org_domain

log = logging.getLogger(__name__)

# (name, qtype) -> answers: TXT as text, A/AAAA as addresses, MX as "preference exchange".
Lookup = Callable[[str, str], list[str]]


def dns_lookup(name: str, qtype: str) -> list[str]:
    try:
        answers = dns.resolver.resolve(name, qtype, lifetime=10)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    out = []
    for r in answers:
        if qtype == "TXT":
            out.append(b"".join(r.strings).decode("utf-8", "replace"))
        elif qtype == "MX":
            out.append(f"{r.preference} {r.exchange.to_text(omit_final_dot=True)}")
        else:
            out.append(r.to_text())
    return out


lookup: Lookup = dns_lookup


def _pyspf_dns(name: str, qtype: str, *_args: object, **_kw: object) -> list[tuple[tuple[str, str], object]]:
    try:
        answers = lookup(name, qtype)
    except dns.exception.DNSException as e:
        raise spf.TempError(f"DNS {e}") from e
    out: list[tuple[tuple[str, str], object]] = []
    for a in answers:
        if qtype in ("TXT", "SPF"):
            out.append(((name, qtype), [a.encode()]))
        elif qtype == "MX":
            pref, _, host = a.partition(" ")
            out.append(((name, qtype), (int(pref), host)))
        else:
            out.append(((name, qtype), a))
    return out


spf.DNSLookup = _pyspf_dns  # pyspf's documented hook for its resolver


def _dkim_dns(name: bytes, timeout: int = 5) -> bytes:
    answers = lookup(name.decode().rstrip("."), "TXT")
    return answers[0].encode() if answers else b""


@dataclass(frozen=True)
class Verdict:
    ok: bool
    dkim: str  # pass / fail / none
    spf: str  # pass / fail / softfail / neutral / none / temperror / permerror
    dmarc: str  # pass / fail
    detail: str


def org_domain(domain: str) -> str:
    """The organizational domain (public suffix + one label); unknown suffixes count as one label."""
    try:
        org = str(get_org_domain(domain))
    except Exception:
        org = ""
    if "." not in org:  # the list does not know this suffix (e.g. .example): it is not one to share
        org = ".".join(domain.split(".")[-2:])
    return org


def _aligned(domain: str, from_domain: str) -> bool:
    domain, from_domain = domain.lower().rstrip("."), from_domain.lower().rstrip(".")
    if not domain:
        return False
    if domain == from_domain:
        return True
    return org_domain(domain) == org_domain(from_domain)


def verify(*, raw: bytes, mail_from: str, from_addr: str, ip: str, helo: str) -> Verdict:
    """DKIM signatures, SPF for the envelope sender, and relaxed DMARC alignment with the From domain.

    Stricter than plain DMARC on purpose: an aligned pass is required even when the From domain
    publishes no DMARC record, since Parley is deciding whether this really is the seller writing.
    """
    from_domain = from_addr.rpartition("@")[2]
    dkim_domains: list[str] = []
    signatures = raw.count(b"\nDKIM-Signature:") + raw.lower().startswith(b"dkim-signature:")
    for i in range(min(signatures, 5)):
        try:
            d = dkim.DKIM(raw)
            if d.verify(idx=i, dnsfunc=_dkim_dns):
                dkim_domains.append(d.domain.decode() if isinstance(d.domain, bytes) else str(d.domain))
        except Exception as e:  # a broken signature is a failed one
            log.debug("DKIM signature %s did not verify: %s", i, e)
    dkim_result = "pass" if dkim_domains else ("fail" if signatures else "none")
    try:
        spf_result, _ = spf.check2(i=ip, s=mail_from, h=helo or from_domain)
    except Exception as e:
        spf_result = "temperror"
        log.debug("SPF check failed: %s", e)
    aligned = any(_aligned(d, from_domain) for d in dkim_domains) or (
        spf_result == "pass" and _aligned(mail_from.rpartition("@")[2], from_domain)
    )
    detail = f"dkim={dkim_result} ({', '.join(dkim_domains) or '-'}) spf={spf_result} from={from_domain}"
    return Verdict(aligned, dkim_result, spf_result, "pass" if aligned else "fail", detail)

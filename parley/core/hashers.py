"""Password hashing: Argon2id with OWASP's recommended cost (19 MiB, two passes, one lane)."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2id(Argon2PasswordHasher):
    """Django's Argon2 hasher with the cost OWASP recommends for a login a person waits for.

    Django's default (100 MiB, eight lanes) costs as much time as PBKDF2 on a two-core server; the
    figures are in docs/operations.md. Hashes made with other costs are re-made at the next sign-in.
    """

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1

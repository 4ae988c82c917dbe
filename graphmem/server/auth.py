"""API keys and what each may touch. Every REST route and MCP tool asks a Principal before it
reads or writes, so no key ever reaches another key's users."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from graphmem.errors import GraphmemError, InputError
from graphmem.server.settings import ServerSettings


class AuthError(GraphmemError):
    """No API key, or one the server does not know (HTTP 401)."""


class ForbiddenError(AuthError):
    """The key is valid but may not touch this user (HTTP 403)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: every user (admin) or a fixed set of user ids."""

    label: str
    users: frozenset[str] = frozenset()
    admin: bool = False

    def user(self, user_id: object) -> str | None:
        """The user a call acts for: the one given, checked; or, when none is given, the
        key's only user (so an agent bound to one user never has to name it)."""
        if user_id is None:
            if self.admin:
                return None
            if len(self.users) == 1:
                return next(iter(self.users))
            raise InputError(f"user_id is required: this key may touch {sorted(self.users)}")
        if not isinstance(user_id, str):
            raise InputError(f"user_id must be a string, got {type(user_id).__name__}")
        self.check(user_id)
        return user_id

    def check(self, user_id: str | None) -> None:
        """ForbiddenError unless this principal may touch `user_id` (None: data without a
        user, agent- or run-only memories, which only an admin may reach)."""
        if self.admin:
            return
        if user_id is None or user_id.strip() not in self.users:
            # Same message whether or not the user exists: a refusal leaks nothing.
            raise ForbiddenError(f"{self.label} may not access user {user_id!r}")


OPEN = Principal(label="open server (no API keys)", admin=True)


class KeyRing:
    """Resolves the Authorization header (or X-API-Key) to a Principal."""

    def __init__(self, settings: ServerSettings) -> None:
        self._keys = [
            (k.key.encode(), Principal(label=k.label, users=frozenset(k.users), admin=k.admin))
            for k in settings.api_keys
        ]

    @property
    def open(self) -> bool:
        return not self._keys

    def resolve(self, headers: Mapping[str, str] | None) -> Principal:
        if self.open:
            return OPEN
        secret = _secret(headers or {})
        if not secret:
            raise AuthError("missing API key: send 'Authorization: Bearer <key>'")
        given = secret.encode()
        found = None
        for key, principal in self._keys:  # compare with every key: timing leaks nothing
            if hmac.compare_digest(key, given):
                found = principal
        if found is None:
            raise AuthError("unknown API key")
        return found


def _secret(headers: Mapping[str, str]) -> str:
    lower = {k.lower(): v for k, v in headers.items()}
    auth = lower.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return lower.get("x-api-key", "").strip()

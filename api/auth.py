"""Who is calling: signed bearer tokens (JWT, HS256) for clients and analysts, API keys for
partners. `Principal` is what resolvers authorise against; see docs/API.md for the matrix."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

import jwt

from api.errors import Forbidden, Unauthenticated

ISSUER = "recsys31-api"
VERIFIED_CACHE = 10_000  # verified tokens remembered (least recently added dropped first)
ALGORITHM = "HS256"
PRINCIPAL = "recsys.principal"  # the ASGI scope key of the request's Principal (set by api.app.Guard)


class Role(Enum):
    CLIENT = "client"
    ANALYST = "analyst"
    PARTNER = "partner"


@dataclass(frozen=True)
class Principal:
    role: Role | None  # None: anonymous
    client_id: int | None = None
    key: str = "anonymous"  # rate-limit bucket

    @property
    def anonymous(self) -> bool:
        return self.role is None

    def require(self, *roles: Role) -> None:
        """UNAUTHENTICATED for anonymous callers, FORBIDDEN for other roles."""
        if self.role is None:
            raise Unauthenticated()
        if self.role not in roles:
            raise Forbidden(f"needs role {' or '.join(r.name for r in roles)}")

    def require_client(self, client_id: int) -> None:
        """Own data for clients, any client for analysts; partners never see personal data."""
        if self.role is None:
            raise Unauthenticated()
        if self.role is Role.ANALYST:
            return
        if self.role is Role.CLIENT and self.client_id == client_id:
            return
        raise Forbidden("this client's data is not yours to see")


ANONYMOUS = Principal(None)


class Auth:
    def __init__(self, secret: str, ttl_minutes: int, partner_keys: list[str]) -> None:
        self._secret = secret
        self.ttl = timedelta(minutes=ttl_minutes)
        self._partners = {hashlib.sha256(k.encode()).hexdigest(): k for k in partner_keys}
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    def issue(
        self, role: Role, client_id: int | None = None, now: datetime | None = None
    ) -> tuple[str, datetime]:
        now = now or datetime.now(UTC)
        expires = now + self.ttl
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": str(client_id) if role is Role.CLIENT else role.value,
            "role": role.value,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), expires.replace(microsecond=0)

    def from_token(self, token: str) -> Principal:
        """Verify a token (signature, issuer, expiry); verified tokens are remembered until they
        expire, so a caller's next requests skip the HMAC and JSON work."""
        hit = self._verified.get(token)
        if hit is not None:
            principal, expires = hit
            if time.time() < expires:
                return principal
            del self._verified[token]
            raise Unauthenticated("token expired: log in again")
        principal, expires = self._verify(token)
        self._verified[token] = (principal, expires)
        if len(self._verified) > VERIFIED_CACHE:
            self._verified.popitem(last=False)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "role"]},
            )  # fmt: skip
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token expired: log in again") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("invalid token") from exc
        try:
            role = Role(claims["role"])
        except ValueError as exc:
            raise Unauthenticated("invalid token") from exc
        if role is Role.PARTNER:
            raise Unauthenticated("invalid token")  # partners authenticate with X-API-Key
        client_id = None
        if role is Role.CLIENT:
            try:
                client_id = int(claims["sub"])
            except ValueError as exc:
                raise Unauthenticated("invalid token") from exc
        bucket = hashlib.sha256(token.encode()).hexdigest()[:24]
        return Principal(role, client_id, key=f"token:{bucket}"), float(claims["exp"])

    def from_api_key(self, key: str) -> Principal:
        digest = hashlib.sha256(key.encode()).hexdigest()
        for known in self._partners:
            if hmac.compare_digest(known, digest):
                return Principal(Role.PARTNER, key=f"partner:{digest[:16]}")
        raise Unauthenticated("unknown API key")

    def from_headers(self, headers: Any, peer: str) -> Principal:
        """Principal of an HTTP request or a websocket connection_init payload."""
        authorization = headers.get("authorization") or headers.get("Authorization")
        api_key = headers.get("x-api-key") or headers.get("X-API-Key")
        if authorization:
            scheme, _, token = str(authorization).partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("Authorization must be 'Bearer <token>'")
            return self.from_token(token.strip())
        if api_key:
            return self.from_api_key(str(api_key))
        return Principal(None, key=f"ip:{peer}")


def forbid_partner(principal: Principal) -> None:
    if principal.role is Role.PARTNER:
        raise Forbidden("partners get catalog and aggregated analytics only")

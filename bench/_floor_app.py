"""The API app as bench_api.py serves it: the real app plus one bare route, `POST /floor`.

The floor is what serving a stored recommendation costs without GraphQL: the same process,
asyncpg pool, token check (Auth.from_headers, Principal.require_client) and SQL as the
`recommendations` query, the row written back as JSON by Starlette. Comparing the two in the
same run says what the GraphQL layer costs next to the work itself. It lives here, in the
bench, so the public API never has an unschematised door.

    uvicorn --factory _floor_app:create_app      # with bench/ on PYTHONPATH
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FLOOR_PATH = "/floor"


def create_app() -> Starlette:
    from api.app import create_app as api_app
    from api.context import parse_id
    from api.db import jsonb
    from api.errors import ApiError, error_body
    from api.lookups import LATEST_RECOMMENDATION_SQL

    app = api_app()
    state = app.state.recsys
    status = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "BAD_USER_INPUT": 400}

    async def floor(request: Request) -> Response:
        try:
            principal = state.auth.from_headers(request.headers, "bench")
            body: dict[str, Any] = await request.json()
            client_id = parse_id(body.get("clientId"), "clientId")
            principal.require_client(client_id)
        except ApiError as exc:
            return JSONResponse(error_body(exc.code, str(exc)), status_code=status.get(exc.code, 400))
        row = await state.db.fetchrow(LATEST_RECOMMENDATION_SQL, client_id)
        if row is None:
            return JSONResponse(error_body("NOT_FOUND", "no stored recommendation"), status_code=404)
        return JSONResponse(
            {
                "id": str(row["id"]),
                "clientId": str(row["client_id"]),
                "strategy": row["strategy"],
                "modelVersion": row["model_version"],
                "createdAt": row["created_at"].isoformat(),
                "offers": jsonb(row["items"]) or [],
            }
        )

    app.router.routes.insert(0, Route(FLOOR_PATH, floor, methods=["POST"]))
    return app

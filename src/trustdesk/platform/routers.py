"""The platform domain's routers, mounted by the app factory (`web/app.py`): `API_ROUTERS`
under /api/v1, `PAGE_ROUTERS` at the root, each in this order."""

from fastapi import APIRouter

# The Matrix connector's router (/connector/matrix) is safety's (safety/connector.py): its
# work is the screen, the banks and review.
API_ROUTERS: list[APIRouter] = []
PAGE_ROUTERS: list[APIRouter] = []

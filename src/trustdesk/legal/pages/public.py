"""The public page of the legal domain (/lawful-requests): how an authority reaches the
provider, the same document as `/.well-known/lawful-requests.json` for people to read."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from trustdesk.http.deps import ContainerDep
from trustdesk.http.rendering import render
from trustdesk.legal import discovery
from trustdesk.legal.signing import provider_key

router = APIRouter(include_in_schema=False)


@router.get("/lawful-requests", response_class=HTMLResponse)
def discovery_page(request: Request, container: ContainerDep) -> HTMLResponse:
    document = discovery.document(container.settings, provider_key(container.settings.data_dir), request)
    return render(request, "portal/discovery.html", doc=document, officer=None)

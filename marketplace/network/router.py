"""GET /api/network: the collaboration network as nodes and edges (public)."""

from __future__ import annotations

from fastapi import APIRouter

from marketplace.core.api_errors import errors
from marketplace.core.deps import SessionDep
from marketplace.network import service as network_service
from marketplace.network.schemas import NetworkPublic

router = APIRouter(prefix="/api/network", tags=["network"])


@router.get("", response_model=NetworkPublic, responses=errors(503))
def network(session: SessionDep) -> NetworkPublic:
    """Who co-created with whom: creators, callers and organisations as nodes; co-created works, awarded calls and
    memberships as edges (weighted); `hubs`: the most connected nodes. Deleted accounts are left out."""
    return network_service.build_network(session).public()

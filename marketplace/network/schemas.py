"""The shape of GET /api/network."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

NodeKind = Literal["creator", "caller", "organisation"]
EdgeKind = Literal["co_created", "awarded_call", "member_of"]


class NetworkNode(BaseModel):
    id: str = Field(description="`a<account id>` for a person, `o<organisation id>` for an organisation")
    kind: NodeKind = Field(description="creator; caller (an account that posted an awarded call, not a creator); "
                                       "organisation")
    label: str
    discipline: str | None = Field(description="a creator's most frequent discipline among their published works "
                                               "(an organisation's: its members' most frequent one)")
    organisation_kind: str | None = Field(default=None, description="studio, hub, school, cluster, company or "
                                                                    "association (organisations only)")
    href: str | None = Field(default=None, description="the node's page")
    degree: int = Field(description="the weights of its edges, summed")


class NetworkEdge(BaseModel):
    source: str
    target: str
    kind: EdgeKind
    weight: int = Field(description="co_created: the works they made together; awarded_call: the awarded calls; "
                                    "member_of: 1")


class NetworkPublic(BaseModel):
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]
    hubs: list[str] = Field(description="the ids of the most connected nodes (by degree), most connected first")

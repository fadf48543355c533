"""A team of three creators and a draft of the uploader's, for the co-creation tests (API, payments, pages)."""

from __future__ import annotations

from tests.conftest import Api, png_bytes


class Team:
    """An uploader and two partners, all creators, and a draft of the uploader's."""

    def __init__(self, api: Api, **work_fields) -> None:
        self.api = api
        self.uploader = api.register(role="creator", name="Anna Schmit")
        self.composer = api.register(role="creator", name="Luc Weber")
        self.modeller = api.register(role="creator", name="Sofia Reis")
        r = api.upload(self.uploader, content=png_bytes((64, 64), (3, 4, 5)),
                       **{"title": "Schueberfouer", **work_fields})
        assert r.status_code == 201, r.text
        self.work = r.json()

    def put(self, entries: list[dict], user: dict | None = None, work_id: int | None = None):
        return self.api.client.put(f"/api/works/{work_id or self.work['id']}/collaborators",
                                   json={"collaborators": entries}, headers=(user or self.uploader)["headers"])

    def answer(self, user: dict, action: str, work_id: int | None = None):
        return self.api.client.post(f"/api/works/{work_id or self.work['id']}/collaborators/{action}",
                                    headers=user["headers"])

    def list_50_30_20(self) -> list[dict]:
        return [{"user_id": self.uploader["id"], "share_bps": 5000, "role": "photographer"},
                {"user_id": self.composer["id"], "share_bps": 3000, "role": "composer"},
                {"user_id": self.modeller["id"], "share_bps": 2000, "role": "3D artist"}]

    def get(self, user: dict | None = None) -> dict:
        r = self.api.client.get(f"/api/works/{self.work['id']}", headers=(user or self.uploader)["headers"])
        assert r.status_code == 200, r.text
        return r.json()

    def accepted(self, entries: list[dict] | None = None) -> None:
        """The list set (50/30/20 by default) and accepted by everyone."""
        entries = entries or self.list_50_30_20()
        assert self.put(entries).status_code == 200
        for user in (self.composer, self.modeller):
            if any(e["user_id"] == user["id"] for e in entries):
                assert self.answer(user, "accept").status_code == 200

    def mint(self) -> dict:
        r = self.api.client.post(f"/api/works/{self.work['id']}/mint", headers=self.uploader["headers"])
        assert r.status_code == 202, r.text
        return self.api.wait_for_status(self.work["id"], "minted")

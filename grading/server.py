"""A small staff client for the quiz server: grading talks to the server over HTTP only."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from typing import Any

import requests

from netralitas.errors import NetralitasError


class ServerError(NetralitasError):
    code = "server_error"


class StaffClient:
    def __init__(self, server: str, token: str, timeout: float = 60) -> None:
        if not token:
            raise ServerError("Token staf belum diisi: setel NETRALITAS_TOKEN atau --token.", code="no_token")
        self.server = server.rstrip("/")
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout

    def _check(self, resp: requests.Response) -> requests.Response:
        if resp.status_code >= 400:
            try:
                err = resp.json()["error"]
                raise ServerError(err["message"], code=err["code"])
            except (ValueError, KeyError, TypeError):
                raise ServerError(f"Server menjawab HTTP {resp.status_code}.", code="http_error") from None
        return resp

    def get_json(self, path: str, **params: Any) -> Any:
        return self._check(self.http.get(self.server + path, params=params, timeout=self.timeout)).json()

    def get_bytes(self, path: str) -> bytes:
        return self._check(self.http.get(self.server + path, timeout=self.timeout)).content

    def post_json(self, path: str, body: Any, key: str | None = None) -> Any:
        headers = {"Idempotency-Key": key or uuid.uuid4().hex}
        return self._check(self.http.post(self.server + path, json=body, headers=headers, timeout=self.timeout)).json()

    def csv_rows(self, path: str) -> Iterator[dict[str, str]]:
        with self._check(self.http.get(self.server + path, stream=True, timeout=self.timeout)) as resp:
            resp.encoding = "utf-8"
            yield from csv.DictReader(resp.iter_lines(decode_unicode=True))

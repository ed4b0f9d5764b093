"""A crafted-request client for the real server: what an attacker's script would send.

It keeps cookies like a browser (so the server-issued signed session applies), reads the
callback map from ``/_dash-dependencies`` and posts any values to ``/_dash-update-component``.
"""

from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.request
from typing import Any


class DashClient:
    """One browser session against a running app."""

    def __init__(self, base: str, page: str = "/analytics") -> None:
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.get(page)
        self.deps = json.loads(self.get("/_dash-dependencies")[1])

    def get(self, path: str, timeout: float = 60) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def callback(self, output: str, trigger: str | None = None) -> dict:
        """The dependency entry whose output string contains ``output`` (and has input ``trigger``)."""
        for dep in self.deps:
            if dep.get("clientside_function") or output not in dep["output"]:
                continue
            inputs = {f"{i['id']}.{i['property']}" for i in dep["inputs"]}
            if trigger is None or trigger in inputs:
                return dep
        raise LookupError(f"no callback with output {output!r} and input {trigger!r}")

    def post(
        self, output: str, values: dict[str, Any], trigger: str | None = None, timeout: float = 60
    ) -> tuple[int, Any]:
        """Fire the callback with ``values`` (``"id.prop" -> value``; others None) as ``trigger`` changed."""
        dep = self.callback(output, trigger)

        def items(specs: list[dict]) -> list[dict]:
            return [
                {"id": s["id"], "property": s["property"], "value": values.get(f"{s['id']}.{s['property']}")}
                for s in specs
            ]

        outputs = [
            {"id": part.split(".")[0], "property": part.split(".")[1].split("@")[0]}
            for part in dep["output"].strip(".").split("...")
        ]
        body = {
            "output": dep["output"],
            "outputs": outputs if dep["output"].startswith("..") else outputs[0],
            "inputs": items(dep["inputs"]),
            "state": items(dep["state"]),
            "changedPropIds": [trigger or f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"],
        }
        return self.raw_post(json.dumps(body).encode(), timeout)

    def raw_post(self, data: bytes, timeout: float = 60) -> tuple[int, Any]:
        return self.raw_post_to("/_dash-update-component", data, timeout)

    def raw_post_to(self, path: str, data: bytes | dict, timeout: float = 60) -> tuple[int, Any]:
        """POST ``data`` (bytes, or a dict sent as JSON) to ``path``; (status, parsed JSON or text)."""
        if isinstance(data, dict):
            data = json.dumps(data).encode()
        request = urllib.request.Request(
            self.base + path, data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with self.opener.open(request, timeout=timeout) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")


def text_of(reply: Any) -> str:
    """Everything a reply would show, flattened to one string (for asserting messages)."""
    return json.dumps(reply, ensure_ascii=False)

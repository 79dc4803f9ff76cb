"""Publishing content to a remote that keeps it online: a kubo node or an IPFS pinning service.

Configure one target (read by ``target_from_env()``):

| variables | target |
| --- | --- |
| ``QFZZ_IPFS_PUBLISH_API=URL`` | a kubo node's RPC API: the DAG is sent to it as a CAR (``dag/import``, roots pinned), so the node need not reach this machine |
| ``QFZZ_IPFS_PIN_SERVICE=URL`` + ``QFZZ_IPFS_PIN_TOKEN=TOKEN`` | any IPFS Pinning Service API endpoint (``POST {URL}/pins`` with a bearer token); the service fetches the DAG from ``QFZZ_IPFS_PIN_ORIGINS`` (gateway URLs or ``/ip4/…/tcp/…/http`` multiaddrs, e.g. this machine's ``qfzz ipfs serve``) |

``publish(store, cid)`` never raises for a remote that is down, refuses or times out: it
returns a ``PublishResult`` whose ``published`` is False and whose ``detail`` says why in one
line, so a caller (``qfzz track register``) can carry on and report it. Only a malformed
setting is an exception (``PublishError``). Plain ``http.client``: no HTTP stack is imported.
"""

from __future__ import annotations

import http.client
import json
import os
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any, Sequence

from qfzz_chain.ipfs.errors import IpfsError, PublishError

PUBLISH_API_ENV = "QFZZ_IPFS_PUBLISH_API"
PIN_SERVICE_ENV = "QFZZ_IPFS_PIN_SERVICE"
PIN_TOKEN_ENV = "QFZZ_IPFS_PIN_TOKEN"
PIN_ORIGINS_ENV = "QFZZ_IPFS_PIN_ORIGINS"


@dataclass(frozen=True)
class PublishTarget:
    """Where to publish: ``kind`` is ``kubo`` or ``pinning-service``."""

    kind: str
    url: str
    token: str = ""
    origins: tuple[str, ...] = ()


@dataclass(frozen=True)
class PublishResult:
    """The outcome: ``published`` only when the remote reports the DAG pinned.

    ``status`` is the remote's word (``pinned``, ``queued``, ``pinning``, ``failed``, or
    ``unreachable`` / ``refused`` / ``not configured``); ``detail`` one line for people.
    """

    cid: str
    published: bool
    target: str
    status: str
    detail: str = ""
    requestid: str = ""

    def line(self) -> str:
        """One line for a CLI: what was published where, or why not."""
        if self.published:
            return f"published {self.cid} to {self.target} ({self.status})"
        return f"not published: {self.cid} to {self.target or 'no remote'}: {self.detail or self.status}"


def target_from_env(environ: dict[str, str] | None = None) -> PublishTarget | None:
    """The target the environment configures, or None; ``PublishError`` for a bad setting."""
    env = os.environ if environ is None else environ
    api = env.get(PUBLISH_API_ENV, "").strip()
    service = env.get(PIN_SERVICE_ENV, "").strip()
    if api and service:
        raise PublishError(f"set either {PUBLISH_API_ENV} or {PIN_SERVICE_ENV}, not both")
    if api:
        from qfzz_chain.ipfs.store import to_url

        return PublishTarget("kubo", _check_url(to_url(api), PUBLISH_API_ENV))
    if service:
        token = env.get(PIN_TOKEN_ENV, "").strip()
        if not token:
            raise PublishError(f"{PIN_SERVICE_ENV} is set but {PIN_TOKEN_ENV} (the service's access token) is not")
        origins = tuple(o for o in env.get(PIN_ORIGINS_ENV, "").replace(",", " ").split() if o)
        return PublishTarget("pinning-service", _check_url(service, PIN_SERVICE_ENV), token, origins)
    return None


def _check_url(url: str, name: str) -> str:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise PublishError(f"{name}={url!r} is not an http(s) URL")
    return url.rstrip("/")


def publish(
    store: Any,
    cid: str,
    *,
    target: PublishTarget | None = None,
    name: str = "",
    origins: Sequence[str] | None = None,
    wait: float = 60.0,
    timeout: float = 60.0,
) -> PublishResult:
    """Publish the DAG under ``cid`` (already in ``store``) to ``target`` (default: from the env).

    For a pinning service, waits up to ``wait`` seconds for the pin to reach ``pinned`` (0:
    do not wait; the result then says ``queued``). Returns a ``PublishResult`` in every case.
    """
    target = target if target is not None else target_from_env()
    if target is None:
        return PublishResult(cid, False, "", "not configured",
                             f"no remote configured: set {PUBLISH_API_ENV}, or {PIN_SERVICE_ENV} and {PIN_TOKEN_ENV}")  # fmt: skip
    try:
        if target.kind == "kubo":
            return _publish_kubo(store, cid, target, timeout)
        return _publish_psa(cid, target, name, tuple(origins) if origins is not None else target.origins, wait, timeout)
    except (OSError, http.client.HTTPException) as exc:
        return PublishResult(cid, False, target.url, "unreachable", f"cannot reach {target.url}: {exc}")
    except IpfsError as exc:
        return PublishResult(cid, False, target.url, "refused", str(exc))


def _connection(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    parsed = urllib.parse.urlsplit(url)
    kind = http.client.HTTPSConnection if parsed.scheme == "https" else http.client.HTTPConnection
    return kind(parsed.hostname, parsed.port, timeout=timeout), parsed.path.rstrip("/")


def _publish_kubo(store: Any, cid: str, target: PublishTarget, timeout: float) -> PublishResult:
    """Send the DAG as a CAR to kubo's ``dag/import`` (pin-roots) and check kubo pinned it."""
    boundary = uuid.uuid4().hex
    with tempfile.TemporaryFile() as spool:
        store.export_car(cid, spool)  # verified block by block on the way out
        car_size = spool.tell()
        spool.seek(0)
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"dag.car\"\r\n"
                "Content-Type: application/vnd.ipld.car\r\n\r\n").encode()  # fmt: skip
        tail = f"\r\n--{boundary}--\r\n".encode()
        connection, prefix = _connection(target.url, timeout)
        try:
            connection.putrequest("POST", f"{prefix}/api/v0/dag/import?pin-roots=true&stats=true")
            connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
            connection.putheader("Content-Length", str(len(head) + car_size + len(tail)))
            connection.endheaders()
            connection.send(head)
            while piece := spool.read(256 * 1024):
                connection.send(piece)
            connection.send(tail)
            response = connection.getresponse()
            body = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
    if response.status != 200:
        return PublishResult(cid, False, target.url, "refused", f"kubo answered HTTP {response.status}: {_message(body)}")
    for line in body.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        root = item.get("Root") or {}
        if root:
            error = root.get("PinErrorMsg", "")
            if error:
                return PublishResult(cid, False, target.url, "failed", f"kubo could not pin it: {error}")
            return PublishResult(cid, True, target.url, "pinned", f"sent {car_size} bytes as a CAR")
    return PublishResult(cid, False, target.url, "failed", "kubo's dag/import reported no pinned root")


def _message(body: str) -> str:
    try:
        return str(json.loads(body).get("Message", body.strip()))
    except (ValueError, AttributeError):
        return " ".join(body.split())[:200]


def _psa_request(target: PublishTarget, method: str, path: str, body: Any, timeout: float) -> tuple[int, Any]:
    connection, prefix = _connection(target.url, timeout)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {target.token}", "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        connection.request(method, prefix + path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    try:
        return response.status, json.loads(raw) if raw else {}
    except ValueError:
        return response.status, {"error": {"reason": "BAD_RESPONSE", "details": raw[:200].decode("utf-8", "replace")}}


def _psa_error(answer: Any) -> str:
    error = answer.get("error", {}) if isinstance(answer, dict) else {}
    return f"{error.get('reason', 'ERROR')}: {error.get('details', '')}".strip(": ")


def _publish_psa(cid: str, target: PublishTarget, name: str, origins: tuple[str, ...], wait: float,
                 timeout: float) -> PublishResult:  # fmt: skip
    """``POST /pins``, then poll ``GET /pins/{requestid}`` until pinned, failed or ``wait`` ends."""
    request: dict[str, Any] = {"cid": cid, "origins": list(origins)}
    if name:
        request["name"] = name
    status, answer = _psa_request(target, "POST", "/pins", request, timeout)
    if status not in (200, 202):
        return PublishResult(cid, False, target.url, "refused", f"HTTP {status} {_psa_error(answer)}")
    requestid = str(answer.get("requestid", ""))
    state = str(answer.get("status", "queued"))
    deadline = time.monotonic() + wait
    delay = 0.05
    while state in ("queued", "pinning") and time.monotonic() < deadline:
        time.sleep(min(delay, max(deadline - time.monotonic(), 0)))
        delay = min(delay * 2, 1.0)
        status, answer = _psa_request(target, "GET", f"/pins/{requestid}", None, timeout)
        if status != 200:
            return PublishResult(cid, False, target.url, "refused", f"HTTP {status} {_psa_error(answer)}", requestid)
        state = str(answer.get("status", state))
    if state == "pinned":
        return PublishResult(cid, True, target.url, "pinned", "", requestid)
    details = (answer.get("info") or {}).get("status_details", "") if isinstance(answer, dict) else ""
    if state == "failed":
        return PublishResult(cid, False, target.url, "failed", details or "the pinning service could not fetch it", requestid)
    return PublishResult(cid, False, target.url, state,
                         f"still {state} after {wait:g} s (the service goes on trying; request {requestid})", requestid)  # fmt: skip

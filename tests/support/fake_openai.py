"""A fake OpenAI API: a real HTTP server that the real `openai` client talks to.

    fake = FakeOpenAI()
    client = openai.OpenAI(api_key="test", base_url=fake.url, max_retries=0, timeout=2)
    fake.reply("Three ideas ...", prompt_tokens=120, completion_tokens=40)

Answers POST /v1/chat/completions (also /chat/completions, for a base URL without /v1) in OpenAI's
response shape, from a queue of scripted replies (a default reply when the queue is empty). Faults:
`fail_next(status=500)`, `delay(seconds)` to make the client time out. Every request is recorded in
`requests`, so tests can check what left the building (e.g. that names and emails were redacted).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

DEFAULT_REPLY = "Fake completion."
_ERROR_TYPES = {
    400: ("invalid_request_error", "The request is invalid."),
    401: ("invalid_request_error", "Incorrect API key provided."),
    429: ("rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", "The server had an error while processing your request."),
    503: ("server_error", "The engine is currently overloaded, please try again later."),
}


@dataclass(frozen=True)
class ChatRequest:
    """One request the fake received."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int
    at: float

    @property
    def model(self) -> str | None:
        model = self.body.get("model")
        return model if isinstance(model, str) else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = self.body.get("messages")
        return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []

    @property
    def text(self) -> str:
        """Everything the prompt said (all message contents), for asserting what was sent."""
        parts: list[str] = []
        for message in self.messages:
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
        return "\n".join(parts)


@dataclass
class _Scripted:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    finish_reason: str
    model: str | None


@dataclass
class _Failure:
    status: int
    message: str
    remaining: int


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeOpenAI) -> None:
        self.fake = fake
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # the client gave up (timeout) before the answer was written
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 60

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        return


class FakeOpenAI:
    """A fake OpenAI API on 127.0.0.1; `url` (ends with /v1) is the client's base_url. A context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._replies: deque[_Scripted] = deque()
        self._failures: deque[_Failure] = deque()
        self._requests: list[ChatRequest] = []
        self._delay = 0.0
        self._serial = 0
        self.default_reply = DEFAULT_REPLY
        self._server = _Server((host, port), self)
        # A short poll interval: stop() (shutdown) waits for the loop to notice, once per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True
        )
        self._thread.start()
        self._stopped = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- script --------------------------------------------------------------------------------------------

    def reply(
        self,
        text: str,
        *,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        finish_reason: str = "stop",
        model: str | None = None,
    ) -> None:
        """Queue the next completion's content (token counts default to a word count)."""
        with self._lock:
            self._replies.append(_Scripted(text, prompt_tokens, completion_tokens, finish_reason, model))

    def fail_next(self, status: int = 500, *, times: int = 1, message: str | None = None) -> None:
        """Answer the next `times` requests with an OpenAI-style error of HTTP `status`."""
        default = _ERROR_TYPES.get(status, ("server_error", "Error."))[1]
        with self._lock:
            self._failures.append(_Failure(status, message or default, times))

    def delay(self, seconds: float) -> None:
        """Hold every following answer for `seconds` (0 to stop), e.g. beyond the client's timeout."""
        with self._lock:
            self._delay = max(0.0, seconds)

    def reset(self) -> None:
        with self._lock:
            self._replies.clear()
            self._failures.clear()
            self._requests.clear()
            self._delay = 0.0

    @property
    def requests(self) -> list[ChatRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def pending_replies(self) -> int:
        with self._lock:
            return len(self._replies)

    # ---- HTTP ----------------------------------------------------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        path = urlsplit(handler.path).path.rstrip("/")
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        if handler.command == "GET" and path in ("/v1/models", "/models"):
            answer = _Answer(200, {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]})
        elif handler.command == "POST" and path in ("/v1/chat/completions", "/chat/completions"):
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = None
            with self._lock:
                answer = self._complete(body)
                record = body if isinstance(body, dict) else {}
                self._requests.append(ChatRequest(path, record, headers, answer.status, time.monotonic()))
                pause = self._delay
            if pause:
                time.sleep(pause)
        else:
            answer = self._error(404, f"Unknown request URL: {handler.command} {path}.", code="unknown_url")
        payload = json.dumps(answer.body).encode()
        handler.send_response(answer.status)
        handler.send_header("Content-Type", "application/json")
        for name, value in answer.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    @staticmethod
    def _error(status: int, message: str, *, code: str | None = None) -> _Answer:
        kind = _ERROR_TYPES.get(status, ("server_error", ""))[0]
        headers = {"Retry-After": "1"} if status == 429 else {}
        return _Answer(
            status, {"error": {"message": message, "type": kind, "param": None, "code": code}}, headers
        )

    def _complete(self, body: Any) -> _Answer:
        if self._failures:
            failure = self._failures[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.popleft()
            return self._error(failure.status, failure.message)
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body.get("model"):
            return self._error(400, "'model' and 'messages' are required properties.")
        if body.get("stream"):
            return self._error(400, "This fake does not stream; call without stream=True.")
        scripted = (
            self._replies.popleft()
            if self._replies
            else _Scripted(self.default_reply, None, None, "stop", None)
        )
        prompt = " ".join(str(m.get("content", "")) for m in body["messages"] if isinstance(m, dict))
        prompt_tokens = scripted.prompt_tokens if scripted.prompt_tokens is not None else len(prompt.split())
        completion_tokens = (
            scripted.completion_tokens
            if scripted.completion_tokens is not None
            else len(scripted.text.split())
        )
        self._serial += 1
        return _Answer(
            200,
            {
                "id": f"chatcmpl-fake{self._serial:06d}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": scripted.model or str(body["model"]),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": scripted.text, "refusal": None},
                        "logprobs": None,
                        "finish_reason": scripted.finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
                "system_fingerprint": "fp_fake",
            },
        )

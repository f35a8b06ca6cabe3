"""A fake Telegram Bot API server on loopback, strict where Telegram is strict.

python-telegram-bot reaches it with `base_url=fake.base_url`. It answers getMe,
sendMessage, editMessageText, answerCallbackQuery, setMyCommands, getMyCommands,
getUpdates and deleteWebhook, with Telegram's status codes and error texts:

- HTML parse mode checked the way Telegram's parser (TDLib) checks it: supported tags
  only, proper nesting, the entities &lt; &gt; &amp; &quot; and numeric ones (any other
  '&' is a literal), `<a href>` links kept for http/https/tg/ton and silently dropped
  otherwise, as Telegram does;
- the 4096 limit counted on the visible text in UTF-16 units;
- message ids counted per chat; "message is not modified" on a same-content edit;
- inline keyboards checked (one action per button, callback_data 1-64 bytes, http(s)/tg URLs);
- the edit budget: more than `edit_limit` edits a minute in one chat answer 429;
- answerCallbackQuery once per query, with at most 200 characters of text;
- 429 with `parameters.retry_after`, other failures and kicked chats on demand.

Tests inject user input with `push_text` (messages, commands) and `push_callback`
(a press on a button under a message the bot sent); the bot reads them with getUpdates.

Every accepted message is recorded for assertions, as is every request.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

TEXT_LIMIT = 4096
JSON_FIELDS = {"reply_markup", "link_preview_options", "entities", "commands", "scope", "reply_parameters",
               "allowed_updates"}
TAG_ENTITY = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "span": "spoiler",
    "tg-spoiler": "spoiler", "code": "code", "pre": "pre", "blockquote": "blockquote", "a": "text_link",
    "tg-emoji": "custom_emoji",
}
LINK_SCHEMES = ("http", "https", "tg", "ton")
BUTTON_ACTIONS = ("url", "callback_data", "switch_inline_query", "switch_inline_query_current_chat",
                  "switch_inline_query_chosen_chat", "login_url", "web_app", "callback_game", "pay", "copy_text")
CALLBACK_TEXT_LIMIT = 200
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message")


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


class EntityError(Exception):
    """An HTML parse failure; the message is Telegram's text after "can't parse entities: "."""


@dataclass
class SentMessage:
    """A message as the fake holds it; `text` and `entities` are what Telegram would store."""

    chat: str  # the chat_id as sent ("@channel" or a number as text)
    message_id: int
    text: str
    entities: list[dict]
    raw: str  # the text parameter as received
    parse_mode: str | None
    reply_markup: Any = None
    link_preview_options: Any = None
    date: int = 0
    edit_date: int | None = None
    history: list[str] = field(default_factory=list)  # earlier raw texts, oldest first
    received: float = field(default_factory=time.time)  # when the fake accepted it (benchmarks time posts)
    edited: list[float] = field(default_factory=list)  # when each edit was accepted, parallel to `history`


@dataclass
class _Failure:
    method: str
    status: int
    description: str
    parameters: dict | None
    remaining: int


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def decode_entity(text: str, pos: int) -> tuple[str | None, int]:
    """Telegram's entity decoding at text[pos] == '&': (character, next position) or (None, pos)."""
    end = pos + 1
    if text[end:end + 1] == "#":
        end += 1
        hexa = text[end:end + 1] in ("x", "X")
        end += hexa
        digits = "0123456789abcdefABCDEF" if hexa else "0123456789"
        start = end
        while end < len(text) and text[end] in digits:
            end += 1
        if end == start:
            return None, pos
        code = int(text[start:end], 16 if hexa else 10)
        if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None, pos
        char = chr(code)
    else:
        start = end
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
        char = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(text[start:end])
        if char is None:
            return None, pos
    if text[end:end + 1] == ";":
        end += 1
    return char, end


def _link(url: str) -> str | None:
    """Telegram keeps a link only for these schemes; a bare host (or host:port) gets http://."""
    url = url.strip()
    if not url:
        return None
    scheme = urlsplit(url).scheme.lower()
    if not scheme or "." in scheme:
        url, scheme = "http://" + url, "http"
    if scheme not in LINK_SCHEMES:
        return None
    if scheme in ("http", "https") and not urlsplit(url).hostname:
        return None
    return url


def parse_html(source: str) -> tuple[str, list[dict]]:
    """Parse Telegram HTML into (text, entities) or raise EntityError with Telegram's wording."""
    out: list[str] = []
    pos = 0  # UTF-16 offset in the output
    stack: list[tuple[str, dict, int]] = []
    entities: list[dict] = []
    n, i = len(source), 0

    def at(index: int) -> int:
        return len(source[:index].encode("utf-8"))

    while i < n:
        char = source[i]
        if char == "&":
            decoded, after = decode_entity(source, i)
            if decoded is not None:
                out.append(decoded)
                pos += utf16_len(decoded)
                i = after
                continue
        if char != "<":
            out.append(char)
            pos += utf16_len(char)
            i += 1
            continue
        begin = i
        i += 1
        if source[i:i + 1] == "/":
            i += 1
            start = i
            while i < n and not source[i].isspace() and source[i] != ">":
                i += 1
            end_name = source[start:i].lower()
            while i < n and source[i].isspace():
                i += 1
            if i >= n or source[i] != ">":
                raise EntityError(f"Unclosed end tag at byte offset {at(begin)}")
            i += 1
            if not stack:
                raise EntityError(f"Unexpected end tag at byte offset {at(begin)}")
            name, attrs, start_pos = stack.pop()
            if end_name and end_name != name:
                raise EntityError(f'Unmatched end tag at byte offset {at(begin)}, expected "</{name}>", '
                                  f'found "</{end_name}>"')
            if pos > start_pos:
                entity = _entity(name, attrs, start_pos, pos - start_pos, "".join(out))
                last = entities[-1] if entities else None
                if (entity and name == "pre" and last and last["type"] == "code"
                        and (last["offset"], last["length"]) == (entity["offset"], entity["length"])):
                    entities[-1] = {**last, "type": "pre"}  # <pre><code class="language-x"> is one pre entity
                elif entity is not None:
                    entities.append(entity)
            continue
        start = i
        while i < n and not source[i].isspace() and source[i] != ">":
            i += 1
        if i >= n:
            raise EntityError(f"Unclosed start tag at byte offset {at(begin)}")
        name = source[start:i].lower()
        if name not in TAG_ENTITY:
            raise EntityError(f'Unsupported start tag "{name}" at byte offset {at(begin)}')
        attrs: dict[str, str] = {}
        while True:
            while i < n and source[i].isspace():
                i += 1
            if i >= n:
                raise EntityError(f'Unclosed start tag "{name}" at byte offset {at(begin)}')
            if source[i] == ">":
                i += 1
                break
            start = i
            while i < n and not source[i].isspace() and source[i] not in "=>/\"'":
                i += 1
            attr = source[start:i].lower()
            if not attr:
                raise EntityError(f'Empty attribute name in the tag "{name}" at byte offset {at(begin)}')
            while i < n and source[i].isspace():
                i += 1
            if source[i:i + 1] != "=":
                attrs[attr] = ""
                continue
            i += 1
            while i < n and source[i].isspace():
                i += 1
            if i >= n:
                raise EntityError(f'Unclosed start tag "{name}" at byte offset {at(begin)}')
            if source[i] in "\"'":
                quote, value = source[i], []
                i += 1
                while i < n and source[i] != quote:
                    if source[i] == "&":
                        decoded, after = decode_entity(source, i)
                        if decoded is not None:
                            value.append(decoded)
                            i = after
                            continue
                    value.append(source[i])
                    i += 1
                if i >= n:
                    raise EntityError(f'Unclosed start tag "{name}" at byte offset {at(begin)}')
                i += 1
                attrs[attr] = "".join(value)
            else:
                start = i
                while i < n and source[i].isascii() and (source[i].isalnum() or source[i] in ".-"):
                    i += 1
                if i < n and not source[i].isspace() and source[i] != ">":
                    raise EntityError(f"Unexpected end of name token at byte offset {at(i)}")
                attrs[attr] = source[start:i].lower()
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityError(f'Tag "span" must have class "tg-spoiler" at byte offset {at(begin)}')
        stack.append((name, attrs, pos))
    if stack:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return _strip("".join(out), entities)


def _entity(name: str, attrs: dict, offset: int, length: int, text: str) -> dict | None:
    kind = TAG_ENTITY[name]
    entity: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
    if name == "a":
        url = _link(attrs.get("href") or _utf16_slice(text, offset, length))
        if url is None:
            return None
        entity["url"] = url
    elif name == "tg-emoji":
        if not attrs.get("emoji-id", "").isdigit():
            raise EntityError("Invalid custom emoji identifier specified")
        entity["custom_emoji_id"] = attrs["emoji-id"]
    elif name == "code" and attrs.get("class", "").startswith("language-"):
        entity["language"] = attrs["class"].removeprefix("language-")
    elif name == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    return entity


def _utf16_slice(text: str, offset: int, length: int) -> str:
    data = text.encode("utf-16-le")
    return data[offset * 2:(offset + length) * 2].decode("utf-16-le", "replace")


def _strip(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Telegram trims outer whitespace; entities shift and shrink with it."""
    lead = utf16_len(text) - utf16_len(text.lstrip())
    stripped = text.strip()
    size = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    kept.sort(key=lambda e: (e["offset"], -e["length"]))
    return stripped, kept


class FakeTelegramServer:
    """Start with `async with FakeTelegramServer() as fake:`; point PTB at `fake.base_url`."""

    BOT_ID = 7000001

    def __init__(self, token: str = "7000001:AAFakeTokenForTestsOnly_abcdefghijkl", host: str = "127.0.0.1",
                 edit_limit: int = 20):
        self.token = token
        self.host = host
        self.edit_limit = edit_limit  # edits per minute per chat before 429
        self._edits: dict[str, deque[float]] = {}
        self.port = 0
        self.messages: list[SentMessage] = []
        self.requests: list[tuple[str, dict]] = []
        self.callback_answers: list[dict] = []
        self.commands: dict[str, list[dict]] = {}
        self.kicked: set[str] = set()
        self._failures: list[_Failure] = []
        self._next_ids: dict[str, int] = {}
        self._updates: list[dict] = []
        self._next_update = 1
        self._new_update: asyncio.Condition | None = None
        self._callback_ids: set[str] = set()
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    async def start(self) -> FakeTelegramServer:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._new_update = asyncio.Condition()
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramServer:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # --- controls for tests -------------------------------------------------------------

    def kick(self, chat: str | int) -> None:
        """The bot was removed from this chat: every call for it answers 403."""
        self.kicked.add(str(chat))

    def fail(self, method: str, status: int, description: str, parameters: dict | None = None,
             times: int = 1) -> None:
        """The next `times` calls of `method` answer this error."""
        self._failures.append(_Failure(method.lower(), status, description, parameters, times))

    def rate_limit(self, retry_after: int, method: str = "sendMessage", times: int = 1) -> None:
        self.fail(method, 429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}, times)

    def push_update(self, update: dict) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        update_id = self._next_update
        self._next_update += 1
        self._updates.append({"update_id": update_id, **update})
        callback = update.get("callback_query")
        if callback:
            self._callback_ids.add(str(callback["id"]))
        if self._new_update is not None:
            try:
                asyncio.get_running_loop().create_task(self._notify())
            except RuntimeError:  # pushed from outside the loop: the next poll sees it anyway
                pass
        return update_id

    def push_text(self, text: str, chat_id: int = 42, user_id: int = 42) -> int:
        """A private message (or /command) from a user."""
        user = {"id": user_id, "is_bot": False, "first_name": "Tester"}
        message = {"message_id": self._take_id(str(chat_id)), "date": int(time.time()), "from": user,
                   "chat": {"id": chat_id, "type": "private", "first_name": "Tester"}, "text": text}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self.push_update({"message": message})

    def push_callback(self, data: str, message: SentMessage, user_id: int = 42) -> str:
        """A press on an inline button with `data` under `message`; returns the callback query id."""
        query_id = f"cbq{self._next_update}"
        user = {"id": user_id, "is_bot": False, "first_name": "Tester"}
        chat = self._chat(message.chat)
        self.push_update({"callback_query": {"id": query_id, "from": user, "chat_instance": f"ci{chat['id']}",
                                             "data": data, "message": self._message_json(message, chat)}})
        return query_id

    def messages_in(self, chat: str | int) -> list[SentMessage]:
        return [m for m in self.messages if m.chat == str(chat)]

    def calls(self, method: str) -> list[dict]:
        return [params for name, params in self.requests if name == method.lower()]

    # --- HTTP ----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        params = await _params(request)
        self.requests.append((method, params))
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            handler = getattr(self, f"_api_{method.lower()}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            self._injected(method)
            result = await handler(params)
        except ApiError as exc:
            body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
            return web.json_response(body, status=exc.code)
        return web.json_response({"ok": True, "result": result})

    def _injected(self, method: str) -> None:
        for failure in self._failures:
            if failure.method == method and failure.remaining > 0:
                failure.remaining -= 1
                raise ApiError(failure.status, failure.description, failure.parameters)

    # --- methods -------------------------------------------------------------------------

    async def _api_getme(self, params: dict) -> dict:
        return {"id": self.BOT_ID, "is_bot": True, "first_name": "Fake Bot", "username": "fake_distill_bot",
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _api_deletewebhook(self, params: dict) -> bool:
        return True

    async def _api_sendmessage(self, params: dict) -> dict:
        chat = self._chat(params.get("chat_id"))
        text, entities = self._formatted(params)
        _check_markup(params.get("reply_markup"))
        key = str(params["chat_id"])
        message = SentMessage(
            chat=key, message_id=self._take_id(key), text=text, entities=entities, raw=str(params.get("text")),
            parse_mode=params.get("parse_mode"), reply_markup=params.get("reply_markup"),
            link_preview_options=params.get("link_preview_options"), date=int(time.time()),
        )
        self.messages.append(message)
        return self._message_json(message, chat)

    async def _api_editmessagetext(self, params: dict) -> dict:
        chat = self._chat(params.get("chat_id"))
        key = str(params["chat_id"])
        try:
            message_id = int(params.get("message_id"))
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: message identifier is not specified") from None
        found = [m for m in self.messages if m.chat == key and m.message_id == message_id]
        if not found:
            raise ApiError(400, "Bad Request: message to edit not found")
        message = found[0]
        text, entities = self._formatted(params)
        markup = params.get("reply_markup")
        _check_markup(markup)
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        self._spend_edit(key)
        message.history.append(message.raw)
        message.edited.append(time.time())
        message.link_preview_options = params.get("link_preview_options")
        message.text, message.entities, message.raw = text, entities, str(params.get("text"))
        message.parse_mode, message.reply_markup = params.get("parse_mode"), markup
        message.edit_date = int(time.time())
        return self._message_json(message, chat)

    async def _api_answercallbackquery(self, params: dict) -> bool:
        if str(params.get("callback_query_id")) not in self._callback_ids:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if utf16_len(str(params.get("text") or "")) > CALLBACK_TEXT_LIMIT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._callback_ids.discard(str(params.get("callback_query_id")))  # a query is answered once
        self.callback_answers.append(params)
        return True

    async def _api_setmycommands(self, params: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name = str(command.get("command", ""))
            if not (1 <= len(name) <= 32 and all(c.islower() or c.isdigit() or c == "_" for c in name)):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)] = commands
        return True

    async def _api_getmycommands(self, params: dict) -> list:
        return self.commands.get(json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True), [])

    async def _api_getupdates(self, params: dict) -> list:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout > 0 and self._new_update is not None:
            async with self._new_update:
                try:
                    await asyncio.wait_for(self._new_update.wait(), timeout)
                except TimeoutError:
                    pass
        return self._updates[:limit]

    # --- helpers -------------------------------------------------------------------------

    async def _notify(self) -> None:
        assert self._new_update is not None
        async with self._new_update:
            self._new_update.notify_all()

    def _chat(self, chat_id: Any) -> dict:
        key = str(chat_id if chat_id is not None else "").strip()
        if not key:
            raise ApiError(400, "Bad Request: chat_id is empty")
        if key.startswith("@"):
            chat = {"id": -1000000000000 - (sum(map(ord, key)) % 10**9), "type": "channel", "title": key[1:],
                    "username": key[1:]}
        else:
            try:
                number = int(key)
            except ValueError:
                raise ApiError(400, "Bad Request: chat not found") from None
            if number > 0:
                chat = {"id": number, "type": "private", "first_name": "Tester"}
            else:
                chat = {"id": number, "type": "channel" if key.startswith("-100") else "group", "title": "Chat"}
        if key in self.kicked:
            raise ApiError(403, {
                "channel": "Forbidden: bot was kicked from the channel chat",
                "group": "Forbidden: bot was kicked from the group chat",
                "private": "Forbidden: bot was blocked by the user",
            }[chat["type"]])
        return chat

    def _formatted(self, params: dict) -> tuple[str, list[dict]]:
        raw = params.get("text")
        if raw is None or not str(raw).strip():
            raise ApiError(400, "Bad Request: message text is empty")
        mode = str(params.get("parse_mode") or "").lower()
        if mode == "html":
            try:
                text, entities = parse_html(str(raw))
            except EntityError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        elif mode:
            raise ApiError(400, "Bad Request: unsupported parse_mode")  # Markdown is not faked
        else:
            text, entities = str(raw).strip(), list(params.get("entities") or [])
        if not text:
            raise ApiError(400, "Bad Request: text must be non-empty")
        if utf16_len(text) > TEXT_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        return text, entities

    def _spend_edit(self, chat: str) -> None:
        """Telegram's edit budget: at most `edit_limit` edits a minute in one chat, then 429."""
        now = time.monotonic()
        edits = self._edits.setdefault(chat, deque())
        while edits and edits[0] <= now - 60:
            edits.popleft()
        if len(edits) >= self.edit_limit:
            wait = max(1, math.ceil(edits[0] + 60 - now))
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        edits.append(now)

    def _take_id(self, key: str) -> int:
        self._next_ids[key] = self._next_ids.get(key, 0) + 1
        return self._next_ids[key]

    def _message_json(self, message: SentMessage, chat: dict) -> dict:
        body: dict[str, Any] = {"message_id": message.message_id, "date": message.date, "chat": chat,
                                "text": message.text}
        if chat["type"] == "channel":
            body["sender_chat"] = chat
        else:
            body["from"] = {"id": self.BOT_ID, "is_bot": True, "first_name": "Fake Bot"}
        if message.entities:
            body["entities"] = message.entities
        if message.edit_date:
            body["edit_date"] = message.edit_date
        if message.reply_markup:
            body["reply_markup"] = message.reply_markup
        return body


def _check_markup(markup: Any) -> None:
    """Inline keyboards as Telegram checks them; other reply markups pass."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError(400, "Bad Request: can't parse inline keyboard markup JSON object")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text must be non-empty")
            actions = [name for name in BUTTON_ACTIONS if name in button]
            if len(actions) != 1:
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed "
                                    "in the inline keyboard")
            if "callback_data" in button and not 1 <= len(str(button["callback_data"]).encode("utf-8")) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if "url" in button:
                url = str(button["url"])
                parts = urlsplit(url)
                if parts.scheme not in ("http", "https", "tg") or (parts.scheme != "tg" and not parts.hostname):
                    raise ApiError(400, f"Bad Request: inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


async def _params(request: web.Request) -> dict:
    """Query, form (urlencoded or multipart) or JSON parameters; JSON-valued fields decoded."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json() if request.can_read_body else {}
        params.update(body if isinstance(body, dict) else {})
        return params
    if request.can_read_body:
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    for name in JSON_FIELDS & params.keys():
        if isinstance(params[name], str):
            try:
                params[name] = json.loads(params[name])
            except ValueError:
                pass
    return params

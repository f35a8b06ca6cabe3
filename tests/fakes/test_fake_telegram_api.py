"""The fake Bot API must be as strict as Telegram, or tests against it prove nothing."""

import asyncio

import aiohttp
import pytest
from telegram import Bot, BotCommand, LinkPreviewOptions
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter

from tests.fakes.telegram_api import NOT_MODIFIED, EntityError, FakeTelegramServer, parse_html


def with_fake(scenario):
    async def main():
        async with FakeTelegramServer() as fake:
            return await scenario(fake)

    return asyncio.run(main())


async def post(fake: FakeTelegramServer, method: str, as_json: bool = True, **params) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        url = f"{fake.base_url}{fake.token}/{method}"
        kwargs = {"json": params} if as_json else {"data": {k: str(v) for k, v in params.items()}}
        async with session.post(url, **kwargs) as response:
            return response.status, await response.json()


@pytest.mark.parametrize(
    "markup, text, entities",
    [
        ("<b>bold</b> <i>it</i>", "bold it", [("bold", 0, 4), ("italic", 5, 2)]),
        ("<b>a<i>b</i></b>", "ab", [("bold", 0, 2), ("italic", 1, 1)]),
        ("&lt;&gt;&amp;&quot;&#65;&#x42;", '<>&"AB', []),
        ("&copy; &unknown; & &lt", "&copy; &unknown; & <", []),
        ("🚀<b>x</b>", "🚀x", [("bold", 2, 1)]),
        ("  <b>trim</b>  ", "trim", [("bold", 0, 4)]),
        ("<pre><code class=\"language-python\">x=1</code></pre>", "x=1", [("pre", 0, 3)]),
        ("<blockquote expandable>q</blockquote>", "q", [("expandable_blockquote", 0, 1)]),
        ("<span class=\"tg-spoiler\">s</span>", "s", [("spoiler", 0, 1)]),
    ],
)
def test_html_parsing_matches_telegram(markup, text, entities):
    parsed_text, parsed = parse_html(markup)
    assert parsed_text == text
    assert [(e["type"], e["offset"], e["length"]) for e in parsed] == entities


@pytest.mark.parametrize(
    "href, url",
    [
        ("https://example.org/a?b=1&amp;c=2", "https://example.org/a?b=1&c=2"),
        ("http://example.org", "http://example.org"),
        ("tg://resolve?domain=x", "tg://resolve?domain=x"),
        ("example.org/page", "http://example.org/page"),
        ("javascript:alert(1)", None),
        ("data:text/html,x", None),
    ],
)
def test_links_are_kept_only_for_telegram_schemes(href, url):
    _, entities = parse_html(f'<a href="{href}">x</a>')
    assert [e.get("url") for e in entities] == ([url] if url else [])


@pytest.mark.parametrize(
    "markup, error",
    [
        ("<script>x</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("é<br/>", 'Unsupported start tag "br/" at byte offset 2'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<a href="x>y', 'Unclosed start tag "a" at byte offset 0'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_broken_html_is_refused_with_telegrams_words(markup, error):
    with pytest.raises(EntityError) as caught:
        parse_html(markup)
    assert str(caught.value) == error


def test_send_through_python_telegram_bot_with_per_chat_ids():
    async def scenario(fake):
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            me = await bot.get_me()
            a1 = await bot.send_message("@a", "<b>hi</b> &amp; <a href=\"https://x.example\">x</a>", parse_mode="HTML",
                                        link_preview_options=LinkPreviewOptions(is_disabled=True))
            a2 = await bot.send_message("@a", "plain")
            b1 = await bot.send_message(-1001234, "other chat")
        return fake, me, a1, a2, b1

    fake, me, a1, a2, b1 = with_fake(scenario)
    assert me.username == "fake_distill_bot"
    assert (a1.message_id, a2.message_id, b1.message_id) == (1, 2, 1)
    assert a1.text == "hi & x" and a1.chat.type == "channel"
    assert [(e.type, e.offset, e.length, e.url) for e in a1.entities] == [("bold", 0, 2, None),
                                                                            ("text_link", 5, 1, "https://x.example")]
    assert [m.text for m in fake.messages_in("@a")] == ["hi & x", "plain"]
    assert fake.messages[0].link_preview_options == {"is_disabled": True}


@pytest.mark.parametrize(
    "text, ok",
    [("a" * 4096, True), ("a" * 4097, False), ("🚀" * 2048, True), ("🚀" * 2049, False),
     ("<b>" + "a" * 4096 + "</b>", True), ("&amp;" * 4096, True), ("&amp;" * 4097, False)],
)
def test_the_4096_limit_counts_visible_utf16_units(text, ok):
    async def scenario(fake):
        return await post(fake, "sendMessage", chat_id="@a", text=text, parse_mode="HTML")

    status, body = with_fake(scenario)
    if ok:
        assert status == 200 and body["ok"]
    else:
        assert (status, body["description"]) == (400, "Bad Request: message is too long")


def test_form_and_json_posts_and_errors_carry_telegrams_shape():
    async def scenario(fake):
        form = await post(fake, "sendMessage", as_json=False, chat_id="@a", text="<x>", parse_mode="HTML")
        empty = await post(fake, "sendMessage", chat_id="@a", text="   ")
        unknown = await post(fake, "noSuchMethod")
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{fake.base_url}999:wrong/getMe") as response:
                wrong = response.status, await response.json()
        return form, empty, unknown, wrong

    form, empty, unknown, wrong = with_fake(scenario)
    assert form == (400, {"ok": False, "error_code": 400,
                          "description": "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0"})
    assert empty[1]["description"] == "Bad Request: message text is empty"
    assert unknown[0] == 404 and wrong == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


def test_edits_rate_limits_and_kicked_chats_through_ptb():
    async def scenario(fake):
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            sent = await bot.send_message("@a", "<b>v1</b>", parse_mode="HTML")
            edited = await bot.edit_message_text("<b>v2</b>", chat_id="@a", message_id=sent.message_id,
                                                 parse_mode="HTML")
            errors = []
            for call in (
                lambda: bot.edit_message_text("<b>v2</b>", chat_id="@a", message_id=sent.message_id, parse_mode="HTML"),
                lambda: bot.edit_message_text("x", chat_id="@a", message_id=99),
            ):
                with pytest.raises(BadRequest) as caught:
                    await call()
                errors.append(caught.value.message)
            fake.rate_limit(retry_after=12)
            with pytest.raises(RetryAfter) as flood:
                await bot.send_message("@a", "x")
            fake.kick("@a")
            with pytest.raises(Forbidden) as kicked:
                await bot.send_message("@a", "x")
        with pytest.raises(InvalidToken):
            async with Bot("1:wrong", base_url=fake.base_url):
                pass
        return fake, edited, errors, flood.value, kicked.value

    fake, edited, errors, flood, kicked = with_fake(scenario)
    assert edited.text == "v2" and edited.edit_date is not None
    assert fake.messages_in("@a")[0].history == ["<b>v1</b>"]
    assert errors == [NOT_MODIFIED.removeprefix("Bad Request: ").capitalize(), "Message to edit not found"]
    assert flood._retry_after.total_seconds() == 12
    assert kicked.message == "Forbidden: bot was kicked from the channel chat"


def test_updates_commands_and_callback_answers():
    async def scenario(fake):
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            fake.push_text("/status")
            first = await bot.get_updates(timeout=0)
            confirmed = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
            waiter = asyncio.create_task(bot.get_updates(offset=first[-1].update_id + 1, timeout=5))
            await asyncio.sleep(0.05)
            fake.push_update({"callback_query": {"id": "cb1", "chat_instance": "1", "data": "more",
                                                 "from": {"id": 42, "is_bot": False, "first_name": "T"}}})
            woken = await asyncio.wait_for(waiter, 2)
            await bot.answer_callback_query("cb1", text="ok")
            with pytest.raises(BadRequest):
                await bot.answer_callback_query("nope")
            await bot.set_my_commands([BotCommand("status", "Show status"), BotCommand("digest", "Latest digest")])
            commands = await bot.get_my_commands()
        return fake, first, confirmed, woken, commands

    fake, first, confirmed, woken, commands = with_fake(scenario)
    assert first[0].message.text == "/status" and first[0].message.entities[0].type == "bot_command"
    assert confirmed == ()
    assert woken[0].callback_query.data == "more"
    assert fake.callback_answers[0]["callback_query_id"] == "cb1"
    assert [(c.command, c.description) for c in commands] == [("status", "Show status"), ("digest", "Latest digest")]

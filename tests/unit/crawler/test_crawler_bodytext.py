"""Choosing between trafilatura's and readability's text (crawler/bodytext.py), rule by rule."""

from __future__ import annotations

from lxml import html as lxml_html

from crawler.bodytext import block_lines, choose_text, readability_text

SENTENCES = [f"Sentence number {n} of the article says something different about the matter at hand." for n in range(40)]
ARTICLE = "\n".join(SENTENCES)


def test_block_lines_reads_each_piece_of_text_once() -> None:
    tree = lxml_html.fragment_fromstring(
        "<div><p>One <b>bold</b> line</p><table><tr><td><p>Cell para</p></td><td>cell two</td></tr></table>"
        "<ul><li>item <a href='#'>link</a></li></ul>tail text<br>after break<script>no()</script></div>")
    assert block_lines(tree) == "One bold line\nCell para\ncell two\nitem link\ntail text\nafter break"


def test_rules() -> None:
    related = "\n".join(f"Related story {n}: a headline elsewhere on the site" for n in range(12))
    # A: trafilatura kept a caption; readability found the article.
    assert choose_text("A photo caption.", ARTICLE) == (ARTICLE, "A")
    # B: trafilatura's text is a part of readability's, which is over twice as long.
    half = "\n".join(SENTENCES[:15])
    assert choose_text(half, ARTICLE) == (ARTICLE, "B")
    # C: readability's text is trafilatura's minus boilerplate.
    assert choose_text(ARTICLE + "\n" + related, ARTICLE) == (ARTICLE, "C")
    # Disagreement of any other kind: trafilatura stands.
    other = "\n".join(f"Completely different words number {n} appear in this text." for n in range(40))
    assert choose_text(ARTICLE, other) == (ARTICLE, "")
    assert choose_text(ARTICLE, "") == (ARTICLE, "")
    # Readability much shorter but not contained: trafilatura stands.
    assert choose_text(ARTICLE, "\n".join(SENTENCES[:5])) == (ARTICLE, "")


def test_readability_text_of_a_page_and_of_garbage() -> None:
    body = "".join(f"<p>{s}</p>" for s in SENTENCES[:12])
    page = (f"<html><body><nav><a href='/'>Home</a> <a href='/a'>About</a></nav><article>{body}</article>"
            "<footer>Copyright</footer></body></html>")
    text = readability_text(page)
    assert SENTENCES[0] in text and SENTENCES[11] in text and "Copyright" not in text
    assert readability_text("") == "" and isinstance(readability_text("\x00\x01 not html"), str)

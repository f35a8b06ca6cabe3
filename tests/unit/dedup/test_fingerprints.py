"""Normalisation, sentences, anchors, credits: the features copies and stories are built on."""

from __future__ import annotations

import pytest

from dedup.fingerprints import (
    credits,
    detect_lang,
    extract,
    minhash,
    scaled_number,
    split_sentences,
    tokenize,
)


@pytest.mark.parametrize(
    ("token", "following", "expected"),
    [
        ("25,000", "", "25000"),
        ("25.000", "", "25000"),
        ("28.8", "million", "28800000"),
        ("28,8", "millones", "28800000"),
        ("2880", "万", "28800000"),
        ("40", "billion", "40000000000"),
        ("20,1", "", "20.1"),
        ("007", "", "7"),
    ],
)
def test_numbers_fold_separators_and_scale_words(token, following, expected):
    assert scaled_number(token, following) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AI Read the original on Thenextweb 2 min read", ["thenextweb"]),
        ("A spokesperson declined to comment but told Decrypt, \"We believe...\"", ["~decrypt"]),
        ("According to a copy of the letter obtained by Bloomberg", []),
        ("according to Bloomberg, the letter was sent on Monday", ["~bloomberg"]),
        ("This story originally appeared on The Verge.", ["theverge"]),
        ("Olivia Smith said the US told US senators", []),  # no "via" inside a name; 2-letter names skipped
    ],
)
def test_credits(text, expected):
    assert credits(text) == expected


def test_sentences_split_on_punctuation_and_lines():
    assert split_sentences("First one here. Second one \"quoted.\" Third\nHeading\nLast?") == [
        "First one here.", 'Second one "quoted."', "Third", "Heading", "Last?"]


def test_tokens_keep_latin_names_inside_chinese():
    assert tokenize("Anthropic称Qwen生成了2880万次")[:2] == ["Anthropic", "称"]
    assert "Qwen" in tokenize("Anthropic称Qwen生成了2880万次")


def test_sentence_initial_function_words_are_not_names():
    f = extract("t", "The company said Boeing lost. In June, Airbus won 40 orders. Airbus said so.")
    assert "the" not in f.anchors and "in" not in f.anchors
    assert f.anchors[:2] == ["boeing", "airbus"] and "#40" in f.anchors


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The minister said that the plan was ready and that it would be published on Monday.", "en"),
        ("El ministro dijo que el plan estaba listo y que se publicaría el lunes por la mañana.", "es"),
        ("De minister zei dat het plan klaar was en dat het op maandag zou worden gepubliceerd.", "nl"),
    ],
)
def test_detect_lang(text, lang):
    assert detect_lang(tokenize(text), text) == lang


def test_minhash_is_stable_and_estimates_jaccard():
    a = minhash([f"f{i}" for i in range(100)])
    b = minhash([f"f{i}" for i in range(50, 150)])
    assert (a == minhash([f"f{i}" for i in range(100)])).all()
    assert 0.15 < float((a == b).mean()) < 0.55  # true Jaccard 1/3


def test_credit_ends_at_the_sentence():
    assert credits("This story originally appeared on Outlet64. View original on Outlet64.") == ["outlet64"]

"""Topic rules on the shipped default topic: on-topic stories pass, hard negatives do not."""

from __future__ import annotations

import pytest

from crawler.relevance import TopicConfig, TopicMatcher, TopicRule, compile_term

CASES = [
    # (title, text, lang, on_topic, why)
    ("Anthropic says Alibaba-linked accounts ran a distillation attack on Claude",
     "The lab told senators about 25,000 fraudulent accounts.", "en", True, "named phrase"),
    ("OpenAI accuses DeepSeek of distilling its models",
     "OpenAI sent a memo to the House committee alleging DeepSeek distilled its reasoning models.", "en", True,
     "lab + distillation + dispute"),
    ("Anthropic指控阿里巴巴", "Anthropic指控阿里巴巴的千问团队通过蒸馏窃取Claude能力，并致信国会议员。", "zh", True,
     "zh: lab + 蒸馏 + dispute"),
    ("Speyside whisky distillery expands", "The distillery will distill more single malt; Claude, the manager, "
     "is accused of nothing.", "en", False, "exclude:whisky"),
    ("DeepSeek launches its new V4 model", "DeepSeek released V4 with a longer context window and lower prices.",
     "en", False, ""),
    ("Knowledge distillation for compact transformers",
     "We distill a large teacher network into a small student and report GLUE results; OpenAI models serve as "
     "a baseline.", "en", False, ""),
    ("OpenAI distillation study", "The city spent a billion dollars on urban renewal near the OpenAI office; "
     "researchers studied distillation.", "en", False, ""),
    ("OpenAI distillation study", "A new bill would regulate distillation by OpenAI rivals.", "en", True,
     "lab + distillation + dispute"),
    ("Refinery news", "Vacuum distillation of crude oil at the plant resumed; Anthropic was not involved in any "
     "distillation attack.", "en", False, "exclude:crude oil"),
]


@pytest.mark.parametrize(("title", "text", "lang", "on_topic", "rule"), CASES)
def test_default_topic(topic: TopicConfig, title: str, text: str, lang: str, on_topic: bool, rule: str) -> None:
    verdict = TopicMatcher(topic).judge(title, text, lang)
    assert verdict.on_topic is on_topic, verdict
    assert verdict.rule == rule
    assert 0.0 <= verdict.score <= 1.0


@pytest.mark.parametrize(
    ("term", "text", "hit"),
    [
        ("ban*", "a ban on exports", True),
        ("ban*", "banned accounts", True),
        ("ban*", "urban planning", False),
        ("bill", "a bill in the senate", True),
        ("bill", "a billion dollars", False),
        ("su*ing", "suing the lab", True),
        ("distill*", "distilled, distilling", True),
        ("model extraction", "model-extraction attacks", True),
        ("claude", "claude的能力", True),
        ("蒸馏", "模型蒸馏攻击", True),
        ("terms of service", "its terms  of\nservice", True),
    ],
)
def test_term_matching(term: str, text: str, hit: bool) -> None:
    assert bool(compile_term(term).search(text)) is hit


def test_title_and_lead_weigh_more_than_body() -> None:
    rule = TopicRule(name="r", any=("distillation attack",))
    matcher = TopicMatcher(TopicConfig(rules=(rule,)))
    in_title = matcher.judge("A distillation attack", "Nothing else.")
    deep = matcher.judge("News", "x " * 400 + "a distillation attack")
    assert in_title.on_topic and deep.on_topic
    assert in_title.score > deep.score


def test_lang_rule_needs_that_language() -> None:
    rule = TopicRule(name="zh", any=("蒸馏",), lang="zh")
    matcher = TopicMatcher(TopicConfig(rules=(rule,)))
    assert matcher.judge("蒸馏", "", "zh").on_topic
    assert not matcher.judge("蒸馏", "", "en").on_topic


def test_none_terms_block_a_rule() -> None:
    rule = TopicRule(name="r", any=("distill*",), none=("tutorial",))
    matcher = TopicMatcher(TopicConfig(rules=(rule,)))
    assert matcher.judge("Distillation", "news").on_topic
    assert not matcher.judge("Distillation tutorial", "news").on_topic

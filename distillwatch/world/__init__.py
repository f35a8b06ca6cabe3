"""A fixture world of fake news outlets on loopback, for the offline demo and end-to-end tests.

One story (Anthropic accusing Alibaba/Qwen-linked operators of distilling Claude) is published
by an original outlet and republished as a WordPress mirror, a word-spun copy, an aggregator
excerpt, a separate article, and a Chinese retelling with an English translation; other
on-topic stories and hard negatives surround it. `World.expected()` is the ground truth.
"""

from distillwatch.world.live import Playback
from distillwatch.world.server import LINK_SELECTOR, ExpectedArticle, Outlet, World, start_world
from distillwatch.world.thread import world_in_thread

__all__ = ["LINK_SELECTOR", "ExpectedArticle", "Outlet", "Playback", "World", "start_world", "world_in_thread"]

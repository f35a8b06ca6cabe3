"""Loopback fakes of the services distillwatch talks to (Telegram Bot API, a WebSub hub)."""

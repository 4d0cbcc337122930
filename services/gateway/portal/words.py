"""The portal's texts, each in Chinese and English, looked up by key.

A module registers the texts it shows with :func:`words` when it is imported; a key registered
twice with different texts is a programming error, found at import. Templates call ``t(key)``.
"""

from __future__ import annotations

from typing import Any, Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

_WORDS: dict[str, tuple[str, str]] = {}


def words(table: dict[str, tuple[str, str]]) -> None:
    """Register ``key: (中文, English)`` texts."""
    for key, pair in table.items():
        known = _WORDS.get(key)
        if known is not None and known != pair:
            raise ValueError(f"portal text {key!r} registered twice with different words")
        _WORDS[key] = pair


def say(key: str, lang: Lang, **fmt: Any) -> str:
    """The text ``key`` in ``lang``, formatted with ``fmt``; an unknown key is an error."""
    zh, en = _WORDS[key]
    text = zh if lang == "zh" else en
    return text.format(**fmt) if fmt else text


def known(key: str) -> bool:
    return key in _WORDS


words(
    {
        "portal.name": ("专利导航服务基地工作平台", "Patent navigation bases: work portal"),
        "nav.home": ("首页", "Home"),
        "nav.inbox": ("通知", "Inbox"),
        "nav.rules": ("规则", "Rules"),
        "nav.help": ("帮助", "Help"),
        "nav.dashboard": ("全年概况", "Year dashboard"),
        "nav.signout": ("退出登录", "Sign out"),
        "nav.skip": ("跳到正文", "Skip to content"),
        "nav.main": ("主导航", "Main navigation"),
        "lang.switch": ("English", "中文"),
        "lang.switch.label": ("切换语言", "Switch language"),
        "signed_in_as": ("当前用户：{name}（{role}）", "Signed in as {name} ({role})"),
        "role.province_admin": ("省知识产权局", "Provincial IP office"),
        "role.city_officer": ("市知识产权局", "City IP office"),
        "role.base_user": ("基地", "Base"),
        "role.expert": ("评审专家", "Expert"),
        "role.operator": ("运维", "Operator"),
        "role.viewer": ("查看者", "Viewer"),
        "form.working": ("正在提交……", "Sending…"),
        "form.done": ("已提交。", "Done."),
        "form.failed": ("未能提交：", "Not sent: "),
    }
)

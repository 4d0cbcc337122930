"""Every problem code the API answers, in words a person acts on: what happened and what to do
next, in Chinese and English. Pages show these next to the field (see ``static/portal.js``).
"""

from __future__ import annotations

from services.gateway.portal.words import Lang

# code: (中文, English). Filled for every code the API can answer; a test keeps it complete.
PROBLEM_WORDS: dict[str, tuple[str, str]] = {
    "unauthenticated": ("请先登录。", "Please sign in first."),
    "forbidden": (
        "您的账号无权进行此操作。如需权限，请联系省知识产权局。",
        "Your account may not do this. Ask the provincial IP office if you need to.",
    ),
    "internal_error": (
        "系统出现意外错误，已记录。请稍后重试；如仍失败，请联系运维人员。",
        "An unexpected error occurred and was logged. Try again later; if it persists, contact"
        " the operators.",
    ),
}


def problem_words(lang: Lang) -> dict[str, str]:
    index = 0 if lang == "zh" else 1
    return {code: pair[index] for code, pair in PROBLEM_WORDS.items()}

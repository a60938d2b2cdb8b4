"""``write_advice``: the built-in or the LLM writer, checked, with a fallback that says why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from app.advice.builtin import AdviceParts, builtin_parts, render
from app.advice.facts import FactSheet
from app.advice.grounding import CheckResult, check_answer
from app.advice.llm import PROMPT_VERSION, LLMConfig, LLMFailure, llm_parts
from app.advice.number_format import style_for

WriterName = Literal["builtin", "llm", "auto"]
WRITERS: tuple[str, ...] = ("builtin", "llm", "auto")


@dataclass(frozen=True)
class Advice:
    """Advice ready to serve. ``writer`` is who wrote it; ``fallback_reason`` why the LLM's was not used."""

    lang: str
    summary: str
    steps: tuple[str, ...]
    warnings: tuple[str, ...]
    warning_codes: tuple[str, ...]
    markdown: str
    text: str
    writer: Literal["builtin", "llm"]
    model: str | None
    prompt_version: str | None
    check: CheckResult
    fallback_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form, as ``GET /v1/prescriptions/{id}/advice?format=json`` serves it."""
        return {
            "lang": self.lang, "summary": self.summary, "steps": list(self.steps),
            "warnings": [{"code": c, "text": t}
                         for c, t in zip(self.warning_codes, self.warnings, strict=True)],
            "markdown": self.markdown, "text": self.text, "writer": self.writer, "model": self.model,
            "prompt_version": self.prompt_version, "check": self.check.as_dict(),
            "fallback_reason": self.fallback_reason,
        }


def _advice(parts: AdviceParts, facts: FactSheet, lang: str, check: CheckResult, *, writer: Literal[
        "builtin", "llm"], model: str | None = None, fallback: str | None = None) -> Advice:
    md, txt = render(parts, facts, lang)
    return Advice(lang=lang, summary=parts.summary, steps=parts.steps,
                  warnings=tuple(t for _, t in parts.warnings),
                  warning_codes=tuple(c for c, _ in parts.warnings),
                  markdown=md, text=txt, writer=writer, model=model,
                  prompt_version=PROMPT_VERSION if writer == "llm" else None, check=check,
                  fallback_reason=fallback)


def write_advice(facts: FactSheet, *, lang: str = "en", writer: WriterName = "auto",
                 llm: LLMConfig | None = None) -> Advice:
    """Word ``facts`` for the farmer in ``lang``.

    ``writer="builtin"`` uses the templates; ``"llm"`` asks the model in ``llm``
    and checks its answer; ``"auto"`` asks the model when ``llm`` is given and
    uses the templates otherwise. A model that fails, times out or writes
    anything the facts do not back is replaced by the built-in text, and
    ``fallback_reason`` says why.

    >>> from app.advice.examples import example_inputs
    >>> from app.advice.facts import build_fact_sheet
    >>> advice = write_advice(build_fact_sheet(**example_inputs()), lang="en", writer="builtin")
    >>> advice.writer, advice.check.ok
    ('builtin', True)
    """
    style_for(lang)
    if writer not in WRITERS:
        raise ValueError(f"unknown writer {writer!r}; valid writers: {', '.join(WRITERS)}")
    if writer == "llm" and llm is None:
        raise ValueError("writer='llm' needs an LLMConfig in llm=")
    builtin = builtin_parts(facts, lang)
    if writer == "builtin" or llm is None:
        return _advice(builtin, facts, lang, check_answer(builtin, facts, lang), writer="builtin")
    try:
        parts = llm_parts(facts, lang, llm)
    except LLMFailure as exc:
        reason = exc.reason
    else:
        check = check_answer(parts, facts, lang)
        if check.ok:
            return _advice(parts, facts, lang, check, writer="llm", model=llm.model)
        reason = f"check_failed: {check.reason}"
    return _advice(builtin, facts, lang, check_answer(builtin, facts, lang), writer="builtin",
                   model=llm.model, fallback=reason)

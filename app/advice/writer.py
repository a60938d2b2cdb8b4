"""``write_advice``: the built-in or the LLM writer, checked, with a fallback that says why."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from app.advice.builtin import AdviceParts, builtin_parts, render
from app.advice.fact_text import fact_table, fill
from app.advice.facts import FactSheet
from app.advice.grounding import CheckResult, Problem, check_answer
from app.advice.llm import (
    PROMPT_VERSION,
    LLMConfig,
    LLMFailure,
    ask,
    build_messages,
    open_client,
    retry_messages,
    second_opinion,
)
from app.advice.names import name_index
from app.advice.number_format import style_for

WriterName = Literal["builtin", "llm", "auto"]
WRITERS: tuple[str, ...] = ("builtin", "llm", "auto")


@dataclass(frozen=True)
class Advice:
    """Advice ready to serve. ``writer`` is who wrote it; ``fallback_reason`` why the LLM's was not used;
    ``attempts`` every refused LLM answer with the problems (and rules) that refused it."""

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
    attempts: tuple[dict[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form, as ``GET /v1/prescriptions/{id}/advice?format=json`` serves it."""
        return {
            "lang": self.lang, "summary": self.summary, "steps": list(self.steps),
            "warnings": [{"code": c, "text": t}
                         for c, t in zip(self.warning_codes, self.warnings, strict=True)],
            "markdown": self.markdown, "text": self.text, "writer": self.writer, "model": self.model,
            "prompt_version": self.prompt_version, "check": self.check.as_dict(),
            "fallback_reason": self.fallback_reason, "attempts": list(self.attempts),
        }


def _advice(parts: AdviceParts, facts: FactSheet, lang: str, check: CheckResult, *, writer: Literal[
        "builtin", "llm"], model: str | None = None, fallback: str | None = None,
        attempts: tuple[dict[str, Any], ...] = ()) -> Advice:
    md, txt = render(parts, facts, lang)
    return Advice(lang=lang, summary=parts.summary, steps=parts.steps,
                  warnings=tuple(t for _, t in parts.warnings),
                  warning_codes=tuple(c for c, _ in parts.warnings),
                  markdown=md, text=txt, writer=writer, model=model,
                  prompt_version=PROMPT_VERSION if writer == "llm" else None, check=check,
                  fallback_reason=fallback, attempts=attempts)


def assemble(raw: AdviceParts, facts: FactSheet, lang: str, service: AdviceParts) -> AdviceParts:
    """The farmer's text: the model's prose with the service's facts filled in, and the
    service's warnings, each followed by the model's note on it."""
    table = fact_table(facts, lang)
    notes = dict(raw.warnings)
    return AdviceParts(
        summary=fill(raw.summary, table)[0], steps=tuple(fill(s, table)[0] for s in raw.steps),
        warnings=tuple((c, f"{t} {fill(notes[c], table)[0]}" if c in notes else t) for c, t in service.warnings))


def _llm_advice(facts: FactSheet, lang: str, cfg: LLMConfig, builtin: AdviceParts
                ) -> tuple[Advice | None, str, tuple[dict[str, Any], ...]]:
    """The checked LLM advice, or None with the reason and the refused attempts."""
    with open_client(cfg) as client:  # the first client imports openai (seconds): not part of the exchange
        deadline = time.monotonic() + cfg.timeout_s
        return _attempts(client, facts, lang, cfg, builtin, deadline)


def _attempts(client: Any, facts: FactSheet, lang: str, cfg: LLMConfig, builtin: AdviceParts, deadline: float
              ) -> tuple[Advice | None, str, tuple[dict[str, Any], ...]]:
    names = name_index(facts=facts)
    messages = build_messages(facts, lang)
    attempts: list[dict[str, Any]] = []
    reason = "no_attempt"
    for attempt in (1, 2):
        left = deadline - time.monotonic()
        if left <= 0.2:
            reason = f"timeout: no accepted answer within {cfg.timeout_s:g} s"
            break
        content = ""
        try:
            content, raw = ask(client, messages, cfg, left)
            unknown_notes = [c for c, _ in raw.warnings if c not in dict(builtin.warnings)]
            check = check_answer(raw, facts, lang, names=names, warnings_from_writer=False)
            if unknown_notes:
                check = CheckResult(False, (*check.problems, *(
                    Problem("unknown_fact", f"note on warning {c!r}", "warning_notes") for c in unknown_notes)))
            parts = assemble(raw, facts, lang, builtin)
            if check.ok and cfg.second_opinion:
                left = deadline - time.monotonic()
                if left <= 0.2:
                    raise LLMFailure(f"timeout: no second opinion within {cfg.timeout_s:g} s")
                found = second_opinion(client, render(parts, facts, lang)[1], facts, cfg, left)
                check = CheckResult(not found, tuple(Problem("unsafe_instruction", c, "second_opinion")
                                                     for c in found))
            if check.ok:
                advice = _advice(parts, facts, lang, check, writer="llm", model=cfg.model,
                                 attempts=tuple(attempts))
                return advice, "", tuple(attempts)
            reason = f"check_failed: {check.reason}"
            attempts.append({"attempt": attempt, "reason": reason, "problems": check.as_dict()["problems"]})
        except LLMFailure as exc:
            reason = exc.reason
            attempts.append({"attempt": attempt, "reason": reason, "problems": []})
            if not exc.retryable:
                break
        except Exception as exc:  # noqa: BLE001 - any bug or surprise in the LLM path must fall back, never 500
            reason = f"error: {type(exc).__name__}: {exc}"[:300]
            attempts.append({"attempt": attempt, "reason": reason, "problems": []})
            break
        messages = retry_messages(messages, content, reason)
    return None, reason, tuple(attempts)


def write_advice(facts: FactSheet, *, lang: str = "en", writer: WriterName = "auto",
                 llm: LLMConfig | None = None) -> Advice:
    """Word ``facts`` for the farmer in ``lang``.

    ``writer="builtin"`` uses the templates; ``"llm"`` asks the model in ``llm``
    and checks its answer; ``"auto"`` asks the model when ``llm`` is given and
    uses the templates otherwise. A model that fails, times out or writes
    anything the facts do not back gets one second attempt told why, then is
    replaced by the built-in text, and ``fallback_reason`` says why (each
    refused attempt, with the rule that refused it, is in ``attempts``).

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
    advice, reason, attempts = _llm_advice(facts, lang, llm, builtin)
    if advice is not None:
        return advice
    return _advice(builtin, facts, lang, check_answer(builtin, facts, lang), writer="builtin",
                   model=llm.model, fallback=reason, attempts=attempts)

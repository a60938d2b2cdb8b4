"""The LLM writer: any OpenAI-compatible chat API words the fact sheet.

The prompt carries the fact sheet and the instructions, nothing else. The model
answers JSON (``response_format`` json_schema; servers that refuse it are asked
again without it and the JSON is read from the content). Every failure raises
:class:`LLMFailure` with a short reason the caller records before falling back.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import openai
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.advice.builtin import AdviceParts
from app.advice.facts import FactSheet

PROMPT_VERSION = "advice-llm/1"
LANGUAGE_NAMES = {"en": "English", "fr": "French", "de": "German"}

ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["summary", "steps", "warnings"],
    "properties": {
        "summary": {"type": "string"},
        "steps": {"type": "array", "items": {"type": "string"}},
        "warnings": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["code", "text"],
            "properties": {"code": {"type": "string"}, "text": {"type": "string"}},
        }},
    },
}

_INSTRUCTIONS = """You write herbicide spray advice for a farmer, in {language}, from a JSON fact sheet.
Rules:
- Use only the facts given. Do not compute, convert or estimate anything; copy numbers and their units
  from the facts (you may round them), written the {language} way: decimal separator "{decimal}".
- Never state a rate above a product's max_rate.
- Name no product, active ingredient or weed that the facts do not name.
- Give one warning for every code in required_warnings, with "code" set to that code. The buffers
  warning states every buffer distance; the reentry warning states the re-entry hours; the weather
  warning states the wind limit.
- Clock times may only be spray-window bounds, sunrise or sunset from the facts.
- Plain words, short sentences. Answer with JSON only:
  {{"summary": str, "steps": [str], "warnings": [{{"code": str, "text": str}}]}}."""


@dataclass(frozen=True)
class LLMConfig:
    """Where and how to ask. ``timeout_s`` bounds each request; no retries by default."""

    base_url: str
    model: str
    api_key: str = "not-needed"
    timeout_s: float = 30.0
    max_retries: int = 0
    temperature: float = 0.0


class LLMFailure(Exception):
    """The model gave no usable answer; ``reason`` is a short code with detail."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Warning(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str
    text: str = Field(min_length=1)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    summary: str = Field(min_length=1)
    steps: list[str] = Field(min_length=1)
    warnings: list[_Warning]


def build_messages(facts: FactSheet, lang: str) -> list[ChatCompletionMessageParam]:
    """The chat messages for ``facts`` in ``lang``: instructions, then the facts as JSON."""
    decimal = "," if lang in ("fr", "de") else "."
    payload = {
        "language": lang,
        "required_warnings": list(facts.mandatory_warnings),
        "optional_warnings": [w.code for w in facts.warnings if not w.mandatory],
        "facts": facts.prompt_payload(),
    }
    return [
        {"role": "system", "content": _INSTRUCTIONS.format(language=LANGUAGE_NAMES.get(lang, lang),
                                                            decimal=decimal)},
        {"role": "user", "content": json.dumps(payload, ensure_ascii=False)},
    ]


def parse_answer(content: str) -> AdviceParts:
    """Read the answer JSON, bare or inside a code fence or prose."""
    text = content.strip()
    fenced = re.search(r"```(?:json)?\s*(\{.*\})\s*```", text, re.DOTALL)
    candidates = [text] + ([fenced.group(1)] if fenced else [])
    if "{" in text:
        candidates.append(text[text.index("{"): text.rindex("}") + 1])
    for c in candidates:
        try:
            data = json.loads(c)
        except json.JSONDecodeError:
            continue
        try:
            ans = _Answer.model_validate(data)
        except ValidationError as exc:
            raise LLMFailure(f"bad_answer: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}") from None
        return AdviceParts(summary=ans.summary.strip(), steps=tuple(s.strip() for s in ans.steps),
                           warnings=tuple((w.code, w.text.strip()) for w in ans.warnings))
    raise LLMFailure("bad_json: no JSON object in the answer")


def llm_parts(facts: FactSheet, lang: str, cfg: LLMConfig) -> AdviceParts:
    """Ask the model; raise :class:`LLMFailure` on timeout, API error or an unreadable answer."""
    messages = build_messages(facts, lang)
    schema: ResponseFormatJSONSchema = {"type": "json_schema",
                                        "json_schema": {"name": "advice", "strict": True, "schema": ANSWER_SCHEMA}}
    with openai.OpenAI(base_url=cfg.base_url, api_key=cfg.api_key, timeout=cfg.timeout_s,
                       max_retries=cfg.max_retries) as client:
        try:
            try:
                resp = client.chat.completions.create(
                    model=cfg.model, messages=messages, temperature=cfg.temperature, response_format=schema)
            except openai.BadRequestError:
                # servers without structured output: ask again and read JSON from the content
                resp = client.chat.completions.create(
                    model=cfg.model, messages=messages, temperature=cfg.temperature)
        except openai.APITimeoutError:
            raise LLMFailure(f"timeout: no answer within {cfg.timeout_s:g} s") from None
        except openai.APIStatusError as exc:
            raise LLMFailure(f"api_error: HTTP {exc.status_code}") from None
        except openai.APIError as exc:
            raise LLMFailure(f"api_error: {type(exc).__name__}") from None
    if not resp.choices:
        raise LLMFailure("bad_answer: no choices")
    msg = resp.choices[0].message
    if getattr(msg, "refusal", None):
        raise LLMFailure("refusal")
    if not msg.content:
        raise LLMFailure("bad_answer: empty content")
    return parse_answer(msg.content)

"""The LLM writer: any OpenAI-compatible chat API writes the prose, the service writes the facts.

The model answers JSON (``response_format`` json_schema; servers that refuse it
are asked again without it and the JSON is read from the content). It places
facts by id (``{rate.1}``, ``{buffers}``, ``{window.1}``...), which the service
fills with its own wording (:mod:`app.advice.fact_text`), and may add one short
note per warning; the warnings themselves are the service's. Answers are capped
(``max_tokens``, characters) and every failure raises :class:`LLMFailure` with a
short reason the caller records before falling back.
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.advice.builtin import AdviceParts
from app.advice.fact_text import catalogue, fact_table
from app.advice.facts import FactSheet

if TYPE_CHECKING:  # openai takes ~2.6 s to import: only a configured model pays for it, not server start-up
    import openai
    from openai.types.chat import ChatCompletionMessageParam
    from openai.types.shared_params import ResponseFormatJSONSchema

PROMPT_VERSION = "advice-llm/2"
LANGUAGE_NAMES = {"en": "English", "fr": "French", "de": "German"}

ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["summary", "steps", "warning_notes"],
    "properties": {
        "summary": {"type": "string"},
        "steps": {"type": "array", "items": {"type": "string"}},
        "warning_notes": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["code", "text"],
            "properties": {"code": {"type": "string"}, "text": {"type": "string"}},
        }},
    },
}
REVIEW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["contradictions"],
    "properties": {"contradictions": {"type": "array", "items": {"type": "string"}}},
}

_INSTRUCTIONS = """You write the prose of herbicide spray advice for a farmer, in {language}.
The service owns every fact. You own only the words around them.
Rules:
- Never type a number, rate, total, distance, time, date, percentage or limit. Place a fact by writing its
  id in braces, exactly as listed in "facts", e.g. "Apply {{rate.1}} of {{product.1}}." The service replaces
  each placeholder with its own wording. Use only ids from "facts".
- Steps must place the rate of every product ({{rate.1}}, {{rate.2}}, ...).
- The service adds every warning in "warnings" itself. You may add, per warning code, one short
  plain-language note ("warning_notes") that explains it; notes never soften or contradict a warning.
- Never suggest exceeding, doubling or repeating a rate, narrowing or skipping a buffer, spraying in other
  wind, rain, temperature or light than the labels allow, re-entering or harvesting early.
- Name no product, active ingredient or weed other than those in "names".
- Write in {language} only. Plain words, short sentences. Answer with JSON only:
  {{"summary": str, "steps": [str], "warning_notes": [{{"code": str, "text": str}}]}}."""

_REVIEW = """You check herbicide spray advice written for a farmer against the facts it was written from.
List every sentence of the advice that tells the farmer to do something the facts or a label forbid
(a higher or repeated rate, a smaller or no buffer, spraying in wind, rain, heat, at night or in an
inversion the labels exclude, re-entering or harvesting too early), quoting it exactly.
Answer with JSON only: {"contradictions": [str]}; an empty list if there is none."""

_RETRY = """Your answer was refused for these reasons:
{reasons}
Write the advice again following every rule; place facts only with the ids given."""


@dataclass(frozen=True)
class LLMConfig:
    """Where and how to ask.

    ``timeout_s`` bounds the whole exchange (both attempts and the optional
    second opinion); ``max_tokens`` and ``max_chars`` cap an answer;
    ``second_opinion`` asks the same model to list contradicting instructions.
    """

    base_url: str
    model: str
    api_key: str = "not-needed"
    timeout_s: float = 30.0
    max_retries: int = 0
    temperature: float = 0.0
    max_tokens: int = 1200
    max_chars: int = 12_000
    second_opinion: bool = False


class LLMFailure(Exception):
    """The model gave no usable answer; ``reason`` is a short code with detail."""

    def __init__(self, reason: str, *, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class _Note(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str
    text: str = Field(min_length=1)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    summary: str = Field(min_length=1)
    steps: list[str] = Field(min_length=1, max_length=30)
    warning_notes: list[_Note] = Field(default_factory=list, max_length=20)


class _Review(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contradictions: list[str]


def build_messages(facts: FactSheet, lang: str) -> list[ChatCompletionMessageParam]:
    """The chat messages for ``facts`` in ``lang``: instructions, then the facts as JSON."""
    table = fact_table(facts, lang)
    names = sorted({p.name for p in facts.products} | {a for p in facts.products for a in p.active_ingredients}
                   | {n for s in facts.species for n in [s.names.get(lang) or s.name or s.code] if n})
    payload = {
        "language": lang,
        "facts": catalogue(table),
        "names": names,
        "warnings": [w.code for w in facts.warnings],
        "context": facts.prompt_payload(),
    }
    return [
        {"role": "system", "content": _INSTRUCTIONS.format(language=LANGUAGE_NAMES.get(lang, lang))},
        {"role": "user", "content": json.dumps(payload, ensure_ascii=False)},
    ]


def _json_object(content: str) -> Any:
    """The first JSON object in ``content`` (bare, fenced or inside prose)."""
    decoder = json.JSONDecoder()
    start = content.find("{")
    tries = 0
    while start != -1 and tries < 20:
        try:
            return decoder.raw_decode(content, start)[0]
        except json.JSONDecodeError:
            start = content.find("{", start + 1)
            tries += 1
    raise LLMFailure("bad_json: no complete JSON object in the answer", retryable=True)


def parse_answer(content: str) -> AdviceParts:
    """Read the answer JSON; ``warnings`` of the result are the model's notes (code, text)."""
    data = _json_object(content)
    try:
        ans = _Answer.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise LLMFailure(f"bad_answer: {err['loc']} {err['msg']}", retryable=True) from None
    return AdviceParts(summary=ans.summary.strip(), steps=tuple(s.strip() for s in ans.steps),
                       warnings=tuple((n.code, n.text.strip()) for n in ans.warning_notes))


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    # loading the CA bundle costs ~0.2 s; build it once, not once per advice
    return ssl.create_default_context()


def open_client(cfg: LLMConfig) -> openai.OpenAI:
    """One client for one exchange, sharing the process's TLS context."""
    import openai

    return openai.OpenAI(base_url=cfg.base_url, api_key=cfg.api_key, timeout=cfg.timeout_s,
                         max_retries=cfg.max_retries,
                         http_client=openai.DefaultHttpxClient(verify=_tls_context(), timeout=cfg.timeout_s))


def _complete(client: openai.OpenAI, messages: list[ChatCompletionMessageParam], cfg: LLMConfig,
              timeout_s: float, schema: dict[str, Any], name: str) -> str:
    import openai

    fmt: ResponseFormatJSONSchema = {"type": "json_schema",
                                     "json_schema": {"name": name, "strict": True, "schema": schema}}
    try:
        try:
            resp = client.chat.completions.create(
                model=cfg.model, messages=messages, temperature=cfg.temperature,
                max_tokens=cfg.max_tokens, response_format=fmt, timeout=timeout_s)
        except openai.BadRequestError:
            # servers without structured output: ask again and read JSON from the content
            resp = client.chat.completions.create(
                model=cfg.model, messages=messages, temperature=cfg.temperature, max_tokens=cfg.max_tokens,
                timeout=timeout_s)
    except openai.APITimeoutError:
        raise LLMFailure(f"timeout: no answer within {cfg.timeout_s:g} s") from None
    except openai.APIStatusError as exc:
        raise LLMFailure(f"api_error: HTTP {exc.status_code}") from None
    except openai.APIError as exc:
        raise LLMFailure(f"api_error: {type(exc).__name__}") from None
    if not resp.choices:
        raise LLMFailure("bad_answer: no choices", retryable=True)
    choice = resp.choices[0]
    msg = choice.message
    if getattr(msg, "refusal", None):
        raise LLMFailure("refusal")
    if not msg.content:
        raise LLMFailure("bad_answer: empty content", retryable=True)
    if len(msg.content) > cfg.max_chars:
        raise LLMFailure(f"too_long: {len(msg.content)} characters (cap {cfg.max_chars})", retryable=True)
    if choice.finish_reason == "length":
        raise LLMFailure(f"truncated: the answer hit max_tokens ({cfg.max_tokens})", retryable=True)
    return msg.content


def ask(client: openai.OpenAI, messages: list[ChatCompletionMessageParam], cfg: LLMConfig,
        timeout_s: float) -> tuple[str, AdviceParts]:
    """One request: (raw content, parsed parts); raises :class:`LLMFailure`."""
    content = _complete(client, messages, cfg, timeout_s, ANSWER_SCHEMA, "advice")
    return content, parse_answer(content)


def retry_messages(messages: list[ChatCompletionMessageParam], content: str,
                   reasons: str) -> list[ChatCompletionMessageParam]:
    """The conversation for a second attempt: the refused answer and why it was refused."""
    return [*messages, {"role": "assistant", "content": content[:4000]},
            {"role": "user", "content": _RETRY.format(reasons=reasons[:2000])}]


def second_opinion(client: openai.OpenAI, text: str, facts: FactSheet, cfg: LLMConfig,
                   timeout_s: float) -> list[str]:
    """Ask the same model which instructions in ``text`` contradict the facts (quoted sentences)."""
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": _REVIEW},
        {"role": "user", "content": json.dumps({"facts": facts.prompt_payload(), "advice": text},
                                               ensure_ascii=False)},
    ]
    content = _complete(client, messages, cfg, timeout_s, REVIEW_SCHEMA, "review")
    try:
        review = _Review.model_validate(_json_object(content))
    except ValidationError as exc:
        raise LLMFailure(f"bad_review: {exc.errors()[0]['msg']}") from None
    return [c.strip()[:300] for c in review.contradictions if c.strip()]


def llm_parts(facts: FactSheet, lang: str, cfg: LLMConfig) -> AdviceParts:
    """Ask the model once; raise :class:`LLMFailure` on timeout, API error or an unreadable answer."""
    with open_client(cfg) as client:
        return ask(client, build_messages(facts, lang), cfg, cfg.timeout_s)[1]

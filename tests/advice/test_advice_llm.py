"""The LLM writer through the real openai client against a fake server on 127.0.0.1."""

import json
import time

import pytest

from app.advice import PROMPT_VERSION, LLMConfig, write_advice
from app.advice.builtin import builtin_parts


def _answer(parts, **change) -> str:
    data = {"summary": parts.summary, "steps": list(parts.steps),
            "warnings": [{"code": c, "text": t} for c, t in parts.warnings]}
    data.update(change)
    return json.dumps(data, ensure_ascii=False)


def _good_parts(facts, lang):
    """A well-behaved model: the built-in wording, reworded a little."""
    parts = builtin_parts(facts, lang)
    return parts.__class__(summary="Good news: " + parts.summary, steps=parts.steps, warnings=parts.warnings)


def _ask(server, facts, model, behaviour, *, lang="en", timeout_s=5.0):
    server.behaviours[model] = behaviour
    cfg = LLMConfig(base_url=server.base_url, model=model, api_key="test", timeout_s=timeout_s)
    return write_advice(facts, lang=lang, writer="llm", llm=cfg)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_good_answer_is_accepted(chat_server, us_facts, fr_facts, lang):
    facts = fr_facts if lang == "fr" else us_facts
    answer = _answer(_good_parts(facts, lang))
    advice = _ask(chat_server, facts, f"good-{lang}", ("content", answer), lang=lang)
    assert advice.writer == "llm" and advice.fallback_reason is None, advice.fallback_reason
    assert advice.summary.startswith("Good news: ")
    assert (advice.model, advice.prompt_version, advice.check.ok) == (f"good-{lang}", PROMPT_VERSION, True)
    request = chat_server.requests[-1]["body"]
    assert request["response_format"]["type"] == "json_schema"
    prompt = json.loads(request["messages"][1]["content"])
    assert prompt["facts"] == json.loads(json.dumps(facts.prompt_payload()))
    assert set(prompt["required_warnings"]) == set(facts.mandatory_warnings)


def test_wrong_number_falls_back(chat_server, us_facts):
    parts = _good_parts(us_facts, "en")
    steps = list(parts.steps)
    steps[2] = steps[2].replace("2.47 gal", "3.1 gal")
    advice = _ask(chat_server, us_facts, "wrong-number", ("content", _answer(parts, steps=steps)))
    assert advice.writer == "builtin" and advice.model == "wrong-number"
    assert advice.fallback_reason.startswith("check_failed: number_not_in_facts")
    assert "3.1 gal" in advice.fallback_reason
    assert advice.text == write_advice(us_facts, lang="en").text


def test_rate_above_label_falls_back(chat_server, us_facts):
    parts = _good_parts(us_facts, "en")
    steps = [parts.steps[0].replace("32 fl oz/acre (2.34", "44 fl oz/acre (3.22", 1), *parts.steps[1:]]
    advice = _ask(chat_server, us_facts, "too-much", ("content", _answer(parts, steps=steps)))
    assert advice.writer == "builtin" and "rate_above_label" in advice.fallback_reason


def test_omitted_warning_falls_back(chat_server, fr_facts):
    parts = _good_parts(fr_facts, "fr")
    warnings = [{"code": c, "text": t} for c, t in parts.warnings if c != "reentry"]
    answer = _answer(parts, warnings=warnings)
    advice = _ask(chat_server, fr_facts, "no-reentry", ("content", answer), lang="fr")
    assert advice.writer == "builtin"
    assert advice.fallback_reason == "check_failed: missing_warning: reentry"


def test_warning_without_its_distance_falls_back(chat_server, us_facts):
    parts = _good_parts(us_facts, "en")
    warnings = [{"code": c, "text": "Respect the buffers." if c == "buffers" else t}
                for c, t in parts.warnings]
    advice = _ask(chat_server, us_facts, "vague-buffer", ("content", _answer(parts, warnings=warnings)))
    assert "missing_warning: buffers does not state" in advice.fallback_reason


@pytest.mark.parametrize("invented", ["Liberty", "Callisto®", "redroot pigweed", "atrazine"])
def test_invented_product_or_species_falls_back(chat_server, us_facts, invented):
    parts = _good_parts(us_facts, "en")
    steps = [*parts.steps, f"Add {invented} to the tank for better control."]
    if invented == "redroot pigweed":
        us_facts = us_facts.model_copy(update={"other_names": (*us_facts.other_names, "redroot pigweed")})
    advice = _ask(chat_server, us_facts, "inventor", ("content", _answer(parts, steps=steps)))
    assert advice.writer == "builtin"
    assert "unknown_name" in advice.fallback_reason and invented.rstrip("®") in advice.fallback_reason


def test_species_from_the_catalogue_not_found_is_refused(chat_server, fr_facts):
    parts = _good_parts(fr_facts, "fr")
    steps = [*parts.steps, "Surveiller aussi l’amarante réfléchie."]
    advice = _ask(chat_server, fr_facts, "catalogue", ("content", _answer(parts, steps=steps)), lang="fr")
    assert advice.fallback_reason == "check_failed: unknown_name: amarante réfléchie"


def test_stall_past_timeout_falls_back(chat_server, fr_facts):
    started = time.monotonic()
    advice = _ask(chat_server, fr_facts, "stall", ("stall", None), timeout_s=0.5)
    assert time.monotonic() - started < 4
    assert advice.writer == "builtin" and advice.fallback_reason == "timeout: no answer within 0.5 s"
    assert advice.check.ok


def test_server_error_falls_back(chat_server, fr_facts):
    advice = _ask(chat_server, fr_facts, "broken", ("status", 500))
    assert advice.writer == "builtin" and advice.fallback_reason == "api_error: HTTP 500"


def test_unreachable_server_falls_back(us_facts):
    cfg = LLMConfig(base_url="http://127.0.0.1:9/v1", model="m", timeout_s=1.0)
    advice = write_advice(us_facts, writer="auto", llm=cfg)
    assert advice.writer == "builtin" and advice.fallback_reason.startswith("api_error")


def test_not_json_falls_back(chat_server, us_facts):
    advice = _ask(chat_server, us_facts, "prose", ("content", "Spray on Tuesday, it will be fine."))
    assert advice.fallback_reason == "bad_json: no JSON object in the answer"


def test_server_without_structured_output_is_read_from_content(chat_server, us_facts):
    fenced = "Here you go:\n```json\n" + _answer(_good_parts(us_facts, "en")) + "\n```"
    advice = _ask(chat_server, us_facts, "no-schema", ("no_schema", fenced))
    assert advice.writer == "llm", advice.fallback_reason
    tried = [r["body"] for r in chat_server.requests if r["body"]["model"] == "no-schema"]
    assert ["response_format" in b for b in tried] == [True, False]


def test_auto_without_config_is_builtin_without_a_fallback(us_facts):
    advice = write_advice(us_facts, writer="auto")
    assert (advice.writer, advice.fallback_reason, advice.model, advice.prompt_version) == (
        "builtin", None, None, None)

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
    assert request["max_tokens"] == 1200
    prompt = json.loads(request["messages"][1]["content"])
    assert prompt["context"] == json.loads(json.dumps(facts.prompt_payload()))
    assert set(prompt["warnings"]) == {w.code for w in facts.warnings}
    # the model is told what each fact id stands for, never its value
    assert prompt["facts"]["rate.1"].endswith("rate to apply") and "1.5" not in json.dumps(prompt["facts"])


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


def test_warnings_are_the_services_own(chat_server, fr_facts):
    """An answer that drops or rewords a warning still serves the service's warning, word for word."""
    parts = _good_parts(fr_facts, "fr")
    answer = _answer(parts, warnings=[{"code": "reentry", "text": "Rentrée : 1 h."}])
    advice = _ask(chat_server, fr_facts, "no-reentry", ("content", answer), lang="fr")
    assert advice.writer == "llm", advice.fallback_reason
    service = dict(builtin_parts(fr_facts, "fr").warnings)
    assert dict(zip(advice.warning_codes, advice.warnings, strict=True)) == service


def test_a_note_that_softens_a_warning_falls_back(chat_server, fr_facts):
    parts = _good_parts(fr_facts, "fr")
    answer = _answer(parts, warning_notes=[{"code": "buffers", "text": "Pas besoin de ZNT aujourd’hui."}])
    advice = _ask(chat_server, fr_facts, "soft-buffer", ("content", answer), lang="fr")
    assert advice.writer == "builtin"
    assert advice.attempts[0]["problems"][0]["rule"] == "no_buffer"


def test_placeholders_are_filled_by_the_service(chat_server, fr_facts):
    answer = json.dumps({
        "summary": "{field}: only {treated_area} of the field needs {product.1} today.",
        "steps": ["Apply {rate.1} on the patches the map marks; that is {total.1} in all.",
                  "Spray in the window {window.1}, when the wind is right."],
        "warning_notes": [{"code": "buffers", "text": "The stream matters: leave that strip unsprayed."}]})
    advice = _ask(chat_server, fr_facts, "placeholders", ("content", answer))
    assert advice.writer == "llm", advice.fallback_reason
    assert advice.summary == "Les Prés du Ru: only 3.2 ha of the field needs Mesotrix 100 today."
    assert advice.steps[0] == "Apply 1.5 L/ha on the patches the map marks; that is 4.8 L in all."
    assert "Tue 4 Jun 07:00–15:00" in advice.steps[1]
    assert advice.warnings[0] == ("No-spray buffers leave 0.5 ha of the field unsprayed: 5 m from water "
                                  "(Mesotrix 100): keeps spray out of the water. "
                                  "The stream matters: leave that strip unsprayed.")
    assert "{" not in advice.text


def test_unknown_placeholder_or_missing_rate_falls_back(chat_server, fr_facts):
    answer = json.dumps({"summary": "{field}: spray {dose.1}.", "steps": ["Spray the patches."],
                         "warning_notes": []})
    advice = _ask(chat_server, fr_facts, "bad-id", ("content", answer))
    codes = {p["code"] for a in advice.attempts for p in a["problems"]}
    assert advice.writer == "builtin" and {"unknown_fact", "missing_fact"} <= codes


def test_second_attempt_is_told_why_and_can_succeed(chat_server, fr_facts):
    good = _answer(_good_parts(fr_facts, "en"))
    bad = _answer(_good_parts(fr_facts, "en"), summary="Double the rate where weeds are dense.")
    advice = _ask(chat_server, fr_facts, "second-try", ("script", [("content", bad), ("content", good)]))
    assert advice.writer == "llm" and advice.fallback_reason is None
    assert [a["problems"][0]["rule"] for a in advice.attempts] == ["double_rate"]
    retry = [r["body"] for r in chat_server.requests if r["body"]["model"] == "second-try"][-1]
    assert retry["messages"][-2]["role"] == "assistant"
    assert "double_rate" not in retry["messages"][-1]["content"]  # the reason is worded, not coded
    assert "Double the rate" in retry["messages"][-1]["content"]


def test_two_refused_answers_fall_back_with_both_recorded(chat_server, fr_facts):
    bad = _answer(_good_parts(fr_facts, "en"), summary="Double the rate where weeds are dense.")
    advice = _ask(chat_server, fr_facts, "stubborn", ("content", bad))
    assert advice.writer == "builtin" and len(advice.attempts) == 2
    assert advice.fallback_reason.startswith("check_failed: unsafe_instruction")
    assert advice.as_dict()["attempts"][1]["problems"][0] == {
        "code": "unsafe_instruction", "detail": "Double the rate where weeds are dense", "rule": "double_rate"}
    assert len([r for r in chat_server.requests if r["body"]["model"] == "stubborn"]) == 2


@pytest.mark.parametrize("content, reason", [
    ('{"summary": "Spray 1.5 L/ha", "steps": ["Apply', "bad_json: no complete JSON object"),
    ('{"summary": "x", "steps": ["' + "Spray carefully. " * 3200 + '"], "warning_notes": []}', "too_long: 54"),
    ("null", "bad_json"),
    ('{"summary": 3, "steps": "no"}', "bad_answer"),
])
def test_broken_answers_fall_back_with_their_reason(chat_server, fr_facts, content, reason):
    advice = _ask(chat_server, fr_facts, "broken-json", ("content", content))
    assert advice.writer == "builtin" and advice.fallback_reason.startswith(reason), advice.fallback_reason
    assert advice.check.ok and len(advice.attempts) == 2


def test_answer_cut_at_max_tokens_falls_back(chat_server, fr_facts):
    advice = _ask(chat_server, fr_facts, "cut", ("length", _answer(_good_parts(fr_facts, "en"))))
    assert advice.writer == "builtin" and advice.fallback_reason == "truncated: the answer hit max_tokens (1200)"


def test_any_exception_in_the_llm_path_falls_back(chat_server, fr_facts, monkeypatch):
    import app.advice.writer as writer

    def boom(*a, **k):
        raise KeyError("surprise")

    monkeypatch.setattr(writer, "check_answer", boom)
    answer = _answer(_good_parts(fr_facts, "en"))
    with pytest.raises(KeyError):  # the built-in path uses the check too: prove the patch bites
        write_advice(fr_facts, writer="builtin")
    monkeypatch.undo()
    monkeypatch.setattr(writer, "assemble", boom)
    advice = _ask(chat_server, fr_facts, "boom", ("content", answer))
    assert advice.writer == "builtin" and advice.fallback_reason == "error: KeyError: 'surprise'"


@pytest.mark.parametrize("review, accepted", [('{"contradictions": []}', True),
                                              ('{"contradictions": ["Spray at dusk."]}', False),
                                              ('{"contradictions": "none"}', False)])
def test_second_opinion_when_enabled(chat_server, fr_facts, review, accepted):
    answer = _answer(_good_parts(fr_facts, "en"))
    chat_server.behaviours["reviewed"] = ("script", [("content", answer), ("content", review)] * 2)
    cfg = LLMConfig(base_url=chat_server.base_url, model="reviewed", api_key="test", timeout_s=5,
                    second_opinion=True)
    advice = write_advice(fr_facts, lang="en", writer="llm", llm=cfg)
    assert (advice.writer == "llm") is accepted, advice.fallback_reason
    asked = [r["body"] for r in chat_server.requests if r["body"]["model"] == "reviewed"]
    assert asked[1]["messages"][0]["content"].startswith("You check herbicide spray advice")
    if not accepted and "Spray at dusk" in review:
        assert advice.attempts[0]["problems"][0]["rule"] == "second_opinion"


def test_second_opinion_is_off_by_default(chat_server, fr_facts):
    _ask(chat_server, fr_facts, "unreviewed", ("content", _answer(_good_parts(fr_facts, "en"))))
    assert len([r for r in chat_server.requests if r["body"]["model"] == "unreviewed"]) == 1


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
    assert advice.fallback_reason == "bad_json: no complete JSON object in the answer"


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

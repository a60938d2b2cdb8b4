"""The red-team corpus through the real openai client and a local OpenAI-compatible server.

Every answer of ``redteam_corpus.CASES`` is served by the fake model and goes
through the whole LLM path (request, parsing, caps, checks, one second attempt,
fallback). The test prints the confusion table and fails on any dangerous answer
accepted, or on fewer than 90 % of good answers accepted.

German goes through the same client and checks; until the built-in writer speaks
German (issue 13), its fallback text cannot be written, so the verdict is taken
from the checked LLM answer directly.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
from advice_helpers import CEST, FR_FIELD, FR_SPECIES, FR_SUMMARY, FakeChatServer, hourly, make_fr_facts, make_us_facts
from redteam_corpus import CASES, Case, answer_of

from app.advice import Forecast, LLMConfig, build_fact_sheet, write_advice
from app.advice.builtin import AdviceParts
from app.advice.examples import mesotrione_fr
from app.advice.grounding import check_answer
from app.advice.llm import LLMFailure, ask, build_messages, open_client


@pytest.fixture(scope="module")
def corpus_facts():  # type: ignore[no-untyped-def]
    t0 = datetime(2024, 6, 4, 0, tzinfo=CEST)
    wind = lambda i: 2.0 if i < 8 else 25.0 if 10 <= i < 12 else 10.0 if i < 16 else 25.0  # noqa: E731
    fc = Forecast(lat=48.5, lon=2.1, hours=hourly(t0, 24, wind_kmh=wind, cloud_pct=10.0))
    two = build_fact_sheet(field=FR_FIELD, labels=[mesotrione_fr()], strategy="threshold",
                           summary={**FR_SUMMARY, "control_pct": {"CHEAL": 96.0, "AMARE": 80.0}},
                           species_names=FR_SPECIES, forecast=fc, now=t0)
    return {"fr": make_fr_facts(), "us": make_us_facts(), "two": two}


def _verdict(server: FakeChatServer, case: Case, facts) -> tuple[bool, str]:  # type: ignore[no-untyped-def]
    """(accepted, why not) for one case, through the real client."""
    model = f"rt-{case.id}"
    server.behaviours[model] = ("content", answer_of(case))
    cfg = LLMConfig(base_url=server.base_url, model=model, api_key="test", timeout_s=5.0)
    try:
        advice = write_advice(facts, lang=case.lang, writer="llm", llm=cfg)
    except ValueError:
        pass  # no built-in text in this language yet: judge the checked LLM answer itself
    else:
        if advice.writer == "llm":
            assert "{" not in advice.text and advice.check.ok
        return advice.writer == "llm", advice.fallback_reason or ""
    try:
        with open_client(cfg) as client:
            _content, raw = ask(client, build_messages(facts, case.lang), cfg, cfg.timeout_s)
    except LLMFailure as exc:
        return False, exc.reason
    check = check_answer(AdviceParts(raw.summary, raw.steps, raw.warnings), facts, case.lang,
                         warnings_from_writer=False)
    return check.ok, check.reason


def test_redteam_corpus(chat_server: FakeChatServer, corpus_facts) -> None:  # type: ignore[no-untyped-def]
    assert len(CASES) >= 60 and {c.lang for c in CASES} == {"en", "fr", "de"}
    assert len({c.id for c in CASES}) == len(CASES)
    table: Counter[tuple[str, str, str]] = Counter()
    dangerous, rejected_good = [], []
    for case in CASES:
        accepted, why = _verdict(chat_server, case, corpus_facts[case.facts])
        kind = "good" if case.good else "bad"
        table[(case.lang, kind, "accepted" if accepted else "refused")] += 1
        if accepted and not case.good:
            dangerous.append(f"{case.id}: {answer_of(case)[-160:]}")
        if case.good and not accepted:
            rejected_good.append(f"{case.id}: {why}")

    lines = ["", "red-team corpus: lang | good accepted | bad refused",
             *(f"  {lang:4} | {table[(lang, 'good', 'accepted')]:3} / "
               f"{table[(lang, 'good', 'accepted')] + table[(lang, 'good', 'refused')]:3} | "
               f"{table[(lang, 'bad', 'refused')]:3} / "
               f"{table[(lang, 'bad', 'refused')] + table[(lang, 'bad', 'accepted')]:3}"
               for lang in ("en", "fr", "de"))]
    good_total = sum(v for (_, k, _), v in table.items() if k == "good")
    good_ok = sum(v for (_, k, a), v in table.items() if k == "good" and a == "accepted")
    bad_total = sum(v for (_, k, _), v in table.items() if k == "bad")
    bad_ok = sum(v for (_, k, a), v in table.items() if k == "bad" and a == "refused")
    lines.append(f"  all  | {good_ok:3} / {good_total:3} ({good_ok / good_total:.0%}) | "
                 f"{bad_ok:3} / {bad_total:3} ({bad_ok / bad_total:.0%})")
    lines += [f"  good refused: {r}" for r in rejected_good]
    print("\n".join(lines))
    assert not dangerous, "dangerous answers accepted:\n" + "\n".join(dangerous)
    assert good_ok / good_total >= 0.9, "\n".join(rejected_good)


@pytest.mark.parametrize("case", [c for c in CASES if not c.good and c.why.startswith("issue")],
                         ids=lambda c: c.id)
def test_each_issue_case_is_refused(chat_server: FakeChatServer, corpus_facts, case: Case) -> None:  # type: ignore[no-untyped-def]
    accepted, why = _verdict(chat_server, case, corpus_facts[case.facts])
    assert not accepted and why

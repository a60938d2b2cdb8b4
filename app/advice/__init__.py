"""Advice for the farmer: a fact sheet from the prescription, worded in their language.

``build_fact_sheet`` gathers the facts (rates in the label's units, buffers,
restrictions, resistance, spray windows); ``write_advice`` words them with the
built-in templates or an OpenAI-compatible model whose answer is checked
against the facts, falling back to the templates when it fails.
"""

from app.advice.facts import FactsError, FactSheet, build_fact_sheet
from app.advice.grounding import CheckResult, Problem, check_answer
from app.advice.llm import PROMPT_VERSION, LLMConfig
from app.advice.number_format import format_number, format_percent
from app.advice.weather import Forecast, ForecastHour, WeatherCheck, check_weather, sun_times
from app.advice.writer import Advice, write_advice

__all__ = [
    "PROMPT_VERSION", "Advice", "CheckResult", "FactSheet", "FactsError", "Forecast", "ForecastHour",
    "LLMConfig", "Problem", "WeatherCheck", "build_fact_sheet", "check_answer", "check_weather",
    "format_number", "format_percent", "sun_times", "write_advice",
]

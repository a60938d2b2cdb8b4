"""Is a text written in the language asked for? A stop-word count, cheap and good enough here.

Function words ("the", "and", "le", "et", "der", "und") make up a large share
of any running text in its language and almost none of another's. The text is
taken to be in the language whose stop words it uses most, and must use that
language's stop words for at least ``MIN_SHARE`` of its words. Numbers, units,
names and the service's fact placeholders carry no language and are removed first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Short, unambiguous function words per language (words shared by two of the
# languages, like "a", "en", "die"/"de", are left out so they cannot tip the count).
STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("""the and of to is are be in on for with this that it its from at by as or not no
        your you if when after before than then they them will can do does don't should must only any
        all each every one more less about into over under while there their these those have has was
        were been which what who how keep use also our we""".split()),
    "fr": frozenset("""le la les et des du un une est sont pour avec dans sur par au aux ce cette ces
        il elle ils vous votre vos pas ne plus moins que qui quand après avant ou si mais donc être
        faut doit sont leur leurs son sa ses nous notre même tout tous toute toutes aussi très sans
        sous entre""".split()),
    "de": frozenset("""der die das und ist sind nicht mit für auf dem den des ein eine einen einem
        einer zu im vom zum zur bei nach vor wenn oder auch nur noch wird werden kann können muss
        sie ihr ihre sich es als wie aus über unter bis kein keine keinen mehr weniger sowie diese
        dieser dieses jeder jede""".split()),
}
MIN_SHARE = 0.12
MIN_WORDS = 8

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@dataclass(frozen=True)
class LanguageGuess:
    lang: str | None
    shares: dict[str, float]
    words: int


def guess_language(text: str) -> LanguageGuess:
    """The language of ``text`` by stop-word share (``None`` when too short to tell).

    >>> guess_language("Spray the field only when the wind is below the limit on the label.").lang
    'en'
    >>> guess_language("Traiter la parcelle seulement si le vent est sous la limite de l'étiquette.").lang
    'fr'
    """
    words = [w.lower().replace("\u2019", "'") for w in _WORD.findall(_PLACEHOLDER.sub(" ", text))]
    # French elisions: "l'étiquette" counts as "le"
    words = ["le" if w.startswith(("l'", "d'")) and len(w) > 2 else w for w in words]
    n = len(words)
    shares = {lang: (sum(w in sw for w in words) / n if n else 0.0) for lang, sw in STOP_WORDS.items()}
    if n < MIN_WORDS:
        return LanguageGuess(None, shares, n)
    best = max(shares, key=lambda k: shares[k])
    return LanguageGuess(best if shares[best] >= MIN_SHARE else None, shares, n)


def language_problem(text: str, lang: str) -> str | None:
    """Why ``text`` is not in ``lang`` (``None`` if it is, or is too short to tell)."""
    g = guess_language(text)
    if g.words < MIN_WORDS or lang not in STOP_WORDS:
        return None
    if g.lang != lang:
        shown = ", ".join(f"{k} {v:.0%}" for k, v in sorted(g.shares.items()))
        return f"answer reads as {g.lang or 'no known language'}, not {lang} (stop words: {shown})"
    return None

"""Prose that tells the farmer to break a label or a warning, with or without a number.

A curated rule set per language (en, fr, de), data rather than code: each rule
is an id and a pattern for an instruction that contradicts a label or a warning
(exceed, double, repeat, no buffer, up to the water, any wind, ignore rain,
re-enter early...). Text is matched accent- and case-insensitively (patterns are
written in :func:`app.advice.names.normalize` form: no accents, hyphens as spaces).

Rules apply per clause. A clause that also negates ("never exceed the rate",
"die Aufwandmenge nicht überschreiten") is an instruction to obey the label and
passes; the negation must lie outside the matched words, so "no buffer is
needed" cannot cancel itself. A clause on a restricted topic (water, wind,
rain, re-entry, rate...) that calls something fine, safe or no problem is
refused unless it is bounded by a limit ("wind up to {wind_limit} is fine").

Rules are checked in every language whatever the answer's language: a German
sentence in French advice is refused here as well as by the language check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.advice.names import normalize


@dataclass(frozen=True)
class Rule:
    id: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Violation:
    """One refused instruction: the rule and the clause as the answer wrote it."""

    rule: str
    text: str


def _rules(table: dict[str, tuple[str, ...]]) -> tuple[Rule, ...]:
    return tuple(Rule(rid, re.compile(r"(?<![\w])(?:" + "|".join(pats) + r")(?![\w])"))
                 for rid, pats in table.items())


# Rule id → patterns (en, fr, de), in normalize() form.
RULES: tuple[Rule, ...] = _rules({
    "exceed_label": (
        r"exceed\w*", r"go(?:ing)? (?:up|over|above|beyond|higher)", r"(?:above|over|beyond) the (?:label|max\w*)",
        r"more than the (?:label|max\w*|rate)", r"higher (?:rate|dose|amount)", r"(?:increase|raise|bump up|up|boost)"
        r" the (?:rate|dose|amount)", r"extra (?:product|dose|litre|liter)s?", r"(?:a bit|a little|slightly) more",
        r"overdos\w*", r"heavier (?:rate|dose)",
        r"depass\w*", r"au dela (?:de la|du) (?:dose|maximum|max)", r"augment\w* (?:la |les )?doses?",
        r"doses? (?:plus )?(?:forte|elevee|superieure)s?", r"forc\w* (?:sur )?la dose", r"surdos\w*",
        r"(?:un peu )?plus de produit", r"monter (?:a|jusqu'a)",
        r"uberschreit\w*", r"uberschritt\w*", r"uberdosier\w*", r"(?:aufwandmenge|dosis|menge) (?:\w+ )?erhoh\w*",
        r"erhoh\w* (?:die |der )?(?:aufwandmenge|dosis|menge)", r"hohere (?:aufwandmenge|dosis|menge)",
        r"mehr als (?:die |der )?(?:zugelassen\w*|hochst\w*|maximal\w*)", r"etwas mehr",
    ),
    "double_rate": (
        r"doubl\w*", r"two times the", r"twice the (?:rate|dose|amount)", r"2 ?x (?:the )?(?:rate|dose)",
        r"dose double", r"deux fois la dose",
        r"doppelt\w*", r"verdoppel\w*", r"zweifach\w*",
    ),
    "repeat_application": (
        r"twice", r"two (?:applications|passes|sprays|treatments)", r"second (?:pass|application|spray|treatment)",
        r"repeat\w* (?:the )?(?:application|spray\w*|treatment|pass)", r"(?:apply|spray|treat|go over) (?:\w+ )?"
        r"(?:again|a second time|once more)", r"re ?spray\w*", r"another (?:pass|application|spray|treatment)",
        r"follow up (?:spray|application|pass)", r"(?:re ?apply|reapplication)",
        r"deux fois", r"deux (?:passages|applications|traitements)", r"(?:second|deuxieme|nouveau) (?:passage|"
        r"traitement|application)", r"repass\w*", r"renouvel\w* (?:l'application|le traitement|l'apport)",
        r"re ?trait\w*", r"(?:traiter|pulveriser|appliquer) (?:a nouveau|de nouveau|une seconde fois|encore)",
        r"zweimal", r"zweite (?:behandlung|anwendung|uberfahrt|spritzung|applikation)", r"wiederhol\w*",
        r"noch ?mal\w*", r"erneut (?:\w+ )?(?:spritzen|behandeln|ausbringen|anwenden)",
        r"(?:spritzen|behandeln|ausbringen) sie (?:\w+ )?(?:erneut|noch einmal)", r"nachbehandl\w*",
    ),
    "no_buffer": (
        r"no (?:buffer|buffer zone|strip|setback)s? (?:is |are )?(?:needed|required|necessary)",
        r"(?:without|skip|ignore|drop|forget|disregard) (?:the |any |a )?(?:buffer|setback|strip)s?",
        r"(?:don't|do not|won't) need (?:a |any |the )?(?:buffer|setback|strip)s?",
        r"(?:buffer|setback|strip)s?(?: zones?)? (?:[\w']+ ){0,4}(?:not needed|not required|unnecessary|optional|"
        r"can be (?:skipped|ignored|reduced|dropped))",
        r"(?:up|right up|all the way|close) to the (?:water'?s? |stream'?s? |river'?s? )?(?:edge|bank|water|"
        r"stream|ditch|river|pond|creek|brook)", r"(?:narrower|smaller|shorter|reduced?|halve\w*|cut) (?:the )?"
        r"(?:buffer|setback|strip)s?", r"spray (?:over|into|across|in) the (?:water|stream|ditch|river|pond)",
        r"(?:pas (?:besoin )?de|sans|ignorer (?:la|les)|supprimer (?:la|les)) (?:zones? tampons?|znt|bandes? "
        r"(?:enherbees?|tampons?)|distances? de securite)",
        r"(?:znt|zones? (?:non traitees?|tampons?))(?: [\w']+){0,4} (?:pas necessaire|inutile|facultati\w*|"
        r"superflue?)s?", r"reduire (?:la |les )?(?:znt|zones? tampons?|distances?)",
        r"jusqu'(?:au|a) (?:bord|l'eau|la berge|la riviere|au ruisseau|au fosse)",
        r"au ras (?:de l'eau|du (?:ruisseau|fosse|cours d'eau))",
        r"(?:kein\w*|ohne) (?:abstand|abstande|puffer\w*|randstreifen|gewasserabstand|sicherheitsabstand)",
        r"(?:abstand|abstande|puffer\w*|randstreifen)(?: [\w']+){0,4} (?:nicht (?:notig|notwendig|erforderlich)|"
        r"unnotig|entfallt|entfallen|verzichtbar|optional)", r"bis (?:an |ans |zum |zur )?(?:den |die )?"
        r"(?:rand|ufer|wasser|gewasserrand|bach|graben|gewasser)", r"direkt (?:am|an den|ans) (?:wasser|bach|ufer|"
        r"gewasser|graben)", r"(?:abstand|abstande|randstreifen) (?:verringern|verkleinern|reduzieren|halbieren)",
    ),
    "any_wind": (
        r"(?:in |at )?any wind", r"whatever the wind", r"regardless of (?:the )?wind", r"no matter (?:the|how) "
        r"(?:wind|windy)", r"wind (?:doesn't|does not|won't|will not) matter", r"even (?:in|if|when) (?:it'?s |it is )?"
        r"(?:\w+ )?(?:windy|wind|gusty|breezy)", r"(?:above|over|beyond) (?:that|this|it) (?:too|as well|also)",
        r"(?:strong|high|higher|stronger) winds? (?:\w+ )?(?:is|are) (?:fine|ok|okay|acceptable|no problem)",
        r"(?:quel|quelle) que soit le vent", r"par tout vent", r"peu importe le vent", r"meme (?:par|avec|s'il "
        r"(?:y a|fait)) (?:du |un )?(?:vent|fort vent)", r"(?:au dela|au dessus) aussi", r"meme au dela",
        r"bei jedem wind", r"egal wie windig", r"unabhangig vom wind", r"auch bei (?:starkem |viel )?wind",
        r"auch daruber", r"daruber auch",
    ),
    "inversion_or_night": (
        r"spray (?:\w+ )?(?:at night|overnight|after (?:sunset|dark)|before (?:sunrise|dawn))",
        r"(?:evening|dead|night) calm is (?:ideal|best|perfect|good)", r"no wind is (?:ideal|best|perfect)",
        r"calm (?:nights?|evenings?) (?:is|are) (?:ideal|best|perfect|good)",
        r"(?:traiter|pulveriser) (?:de nuit|la nuit|apres le coucher|avant le lever)",
        r"(?:calme du soir|absence de vent) est (?:ideal\w*|parfait\w*)",
        r"(?:nachts|in der nacht|nach sonnenuntergang|vor sonnenaufgang) (?:\w+ )?(?:spritzen|behandeln)",
        r"windstille ist (?:ideal|perfekt|optimal)",
    ),
    "ignore_rain": (
        r"ignore (?:the )?(?:rain|forecast|showers?)", r"rain (?:doesn't|does not|won't|will not) matter",
        r"even (?:if|when|in) (?:it )?(?:rains?|raining|the rain|showers?)", r"(?:just|right) before (?:the |a )?"
        r"(?:rain|shower|storm)", r"in the rain", r"while it(?:'s| is) raining",
        r"meme s'il pleut", r"malgre la pluie", r"ignorer la pluie", r"(?:juste|peu) avant (?:la pluie|l'averse|"
        r"l'orage)", r"sous la pluie", r"pendant la pluie",
        r"trotz (?:des )?regen\w*", r"auch (?:bei|wenn es) regen\w*", r"regen ignorieren", r"(?:kurz|direkt) vor "
        r"(?:dem )?regen", r"im regen",
    ),
    "early_reentry": (
        r"re ?enter\w* (?:\w+ )?(?:early|earlier|sooner|right away|immediately|straight away|at once)",
        r"(?:go|walk|come|get) back (?:in|into \w+(?: \w+)?) (?:early|earlier|sooner|straight away|right away|"
        r"immediately|after)", r"gloves (?:are|is) (?:enough|sufficient|fine)", r"no need to wait",
        r"(?:don't|do not|needn't) (?:need to )?wait", r"shorter re ?entry", r"(?:children|kids|workers|people|"
        r"anyone|everyone|animals|livestock|cattle|dogs) (?:can|may|could) (?:go|walk|enter|be|play|work|graze|"
        r"return|come back)", r"(?:children|kids|workers|people|anyone|everyone|animals|livestock|cattle|dogs)"
        r"(?: [\w']+){0,6} (?:right|straight|immediately|just|soon) after",
        r"(?:enfants|personnes|animaux|ouvriers|salaries|chiens|betail)(?: [\w']+){0,6} (?:tout de suite|"
        r"immediatement|juste apres|aussitot)",
        r"(?:kinder|personen|tiere|arbeiter|hunde|vieh)(?: [\w']+){0,6} (?:sofort|gleich|direkt nach|unmittelbar "
        r"nach)",
        r"(?:rentrer|revenir|retourner|entrer) (?:\w+ ){0,3}(?:tout de suite|immediatement|plus tot|aussitot|"
        r"des que)", r"(?:des )?gants suffisent", r"pas besoin d'attendre", r"sans attendre",
        r"(?:sofort|fruher|gleich) (?:wieder )?betret\w*", r"handschuhe (?:reichen|genugen)", r"(?:reichen|genugen) "
        r"(?:\w+ )?handschuhe", r"nicht warten",
        r"ohne zu warten",
    ),
    "ignore_harvest_interval": (
        r"harvest\w* (?:\w+ ){0,3}(?:right away|immediately|straight after|the next day|tomorrow|any ?time|"
        r"whenever)",
        r"recolt\w* (?:tout de suite|immediatement|des le lendemain|quand vous voulez)",
        r"(?:sofort|gleich|jederzeit) (?:\w+ )?ernt\w*",
    ),
    "ignore_label": (
        r"ignore (?:the )?label", r"label (?:doesn't|does not|don't) (?:matter|apply)", r"off label",
        r"ignorer l'etiquette", r"hors (?:homologation|autorisation|etiquette)",
        r"(?:etikett|zulassung|gebrauchsanleitung) ignorier\w*",
    ),
    "no_protection": (
        r"no (?:need for )?(?:gloves|protective equipment|ppe|protection) (?:is |are )?(?:needed|required)?",
        r"(?:spray\w*|work\w*|enter\w*|go in|walk in|handl\w*|mix\w*|fine|ok|okay|safe) (?:[\w']+ ){0,3}without "
        r"(?:gloves|protection|protective equipment|ppe)",
        r"(?:gloves|protective equipment|ppe|protection) (?:is |are )?(?:not needed|not required|unnecessary|optional)",
        r"(?:gants|epi|protections?) (?:\w+ )?(?:pas necessaires?|inutiles?|facultati\w*)",
        r"(?:handschuhe|schutzausrustung) (?:\w+ )?(?:nicht notig|unnotig|nicht erforderlich)",
        r"sans (?:gants|protection|epi|equipement de protection)",
        r"ohne (?:handschuhe|schutz\w*)",
    ),
    "any_stage": (
        r"(?:at )?any (?:growth )?stage", r"whatever the (?:growth )?stage", r"(?:a )?n'importe quel stade",
        r"quel que soit le stade", r"in jedem (?:entwicklungs)?stadium", r"egal (?:in )?welche\w* stadium",
    ),
})

# A clause that says "fine/safe/no problem" about one of these topics is refused
# unless bounded by a limit. Topic id → words (normalize() form).
TOPICS: dict[str, str] = {
    "water": r"water|stream|river|ditch|pond|creek|brook|well|lake|eau|ruisseau|riviere|fosse|mare|puits|lac|"
             r"cours d'eau|wasser|gewasser\w*|bach\w*|graben\w*|fluss\w*|teich\w*|brunnen|see|ufer\w*",
    "buffer": r"buffer\w*|setback|strip|zone tampon|znt|bande|abstand|abstande|puffer\w*|randstreifen",
    "wind": r"wind\w*|gust\w*|breez\w*|drift|vent|rafale\w*|derive|boe\w*|abdrift",
    "rain": r"rain\w*|shower\w*|pluie|pluvieux|averse\w*|orage|regen\w*|schauer",
    "reentry": r"re ?ent\w*|back in|rentree|rentrer|betret\w*|wiederbetret\w*",
    "rate": r"rate|dose|doses|label|etiquette|aufwandmenge|dosis|etikett",
    "harvest": r"harvest\w*|recolte\w*|ernte\w*",
    "weather": r"heat|hot|frost|cold|chaleur|gel|hitze|frost|inversion\w*|night|nuit|nacht",
}
_TOPIC_RE = {t: re.compile(rf"(?<![\w])(?:{p})(?![\w])") for t, p in TOPICS.items()}
_PERMISSIVE = re.compile(
    r"(?<![\w])(?:(?:is|are|'s|it's|seems|looks) (?:(?!not |never )\w+ )?(?:fine|ok|okay|safe|acceptable|"
    r"allowed|harmless|no problem|not a problem|no issue)|no problem|not a problem|doesn't matter|"
    r"does not matter|don't worry|no need to worry|no worries|won't hurt|can be ignored|"
    r"(?:est|sont) (?:(?!pas |jamais )\w+ )?(?:sans (?:danger|risque)|acceptable|autorise\w*|sure?|pas un probleme)|"
    r"pas de (?:probleme|souci)|aucun (?:probleme|souci|risque)|sans probleme|ne pose (?:pas|aucun) \w+|"
    r"peu importe|pas grave|(?:c'est|ca) (?:bon|ok|correct)|"
    r"(?:ist|sind) (?:(?!nicht |nie )\w+ )?(?:kein problem|unproblematisch|egal|okay|ok|in ordnung|sicher|unbedenklich|"
    r"erlaubt)|kein problem|keine sorge|spielt keine rolle|macht nichts|egal (?:ob|wie|wann)|problemlos)(?![\w])")
_NEGATED_PERMISSIVE = re.compile(
    r"(?:not|never|n't|isn't|aren't|pas|jamais|n'est|nicht|nie|niemals|keineswegs)(?: \w+){0,2}\s*$")
_NEGATORS = re.compile(
    r"(?<![\w])(?:not|never|no|don't|doesn't|do not|does not|cannot|can't|mustn't|must not|avoid\w*|nor|neither|"
    r"without exceeding|forbidden|prohibited|ne|n'\w*|pas|jamais|aucun\w*|sans depasser|evite\w*|interdit\w*|"
    r"nicht|nie|niemals|kein\w*|keinesfalls|vermeid\w*|verboten|untersagt)(?![\w])")
_NEGATED_AFTER = re.compile(r"(?<![\w])(?:nicht|nie|niemals|keinesfalls|keineswegs)(?![\w])")
_BOUNDED = re.compile(
    r"(?<![\w])(?:up to|below|under|at or below|less than|within|no more than|at most|outside|beyond|inside|"
    r"between|jusqu'a|en dessous|sous|moins de|inferieur\w*|au plus|au maximum|hors|au dela de la|entre|bis|"
    r"unter|hochstens|maximal|weniger als|ausserhalb|jenseits|zwischen)(?![\w])")
_HAS_LIMIT = re.compile(r"\{[^{}]*\}|\d")
_SENTENCE = re.compile(r"[.!?](?=\s|$)|\n")
_CLAUSE = re.compile(r";|:|,\s|\s[\u2013\u2014]\s|\s(?:but|however|mais|cependant|aber|jedoch)\s")


def _clauses(text: str) -> list[str]:
    return [c.strip() for s in _SENTENCE.split(text) for c in _CLAUSE.split(s) if c.strip()]


def _negated(clause: str, span: tuple[int, int]) -> bool:
    """A negation before the instruction ("never spray up to the water"), or a German one after it
    ("überschreiten Sie die Aufwandmenge nicht"); "spray up to the ditch so no weeds escape" is not one."""
    before = _PERMISSIVE.sub(" ", clause[:span[0]])
    after = _PERMISSIVE.sub(" ", clause[span[1]:])
    return _NEGATORS.search(before) is not None or _NEGATED_AFTER.search(after) is not None


def _permissive(clause: str) -> re.Match[str] | None:
    for m in _PERMISSIVE.finditer(clause):
        if not _NEGATED_PERMISSIVE.search(clause[:m.start()]):
            return m
    return None


def unsafe_instructions(text: str) -> list[Violation]:
    """Instructions in ``text`` that contradict a label or a warning, by rule.

    >>> [v.rule for v in unsafe_instructions("Where weeds are dense, double the rate.")]
    ['double_rate']
    >>> unsafe_instructions("Never exceed the label rate, even where weeds are dense.")
    []
    >>> [v.rule for v in unsafe_instructions("Pas besoin de zone tampon près du ruisseau.")]
    ['no_buffer']
    """
    out: list[Violation] = []
    for sentence in (s.strip() for s in _SENTENCE.split(text)):
        if not sentence:
            continue
        norm_sentence = normalize(sentence.replace(":", " "))
        for clause in _clauses(sentence):
            norm = normalize(clause)
            permissive = _permissive(norm)
            for rule in RULES:
                m = rule.pattern.search(norm)
                if m and (permissive is not None or not _negated(norm, m.span())):
                    out.append(Violation(rule.id, clause))
            if permissive is not None and not any(v.text == clause for v in out):
                topics = [t for t, rx in _TOPIC_RE.items() if rx.search(norm)]
                bounded = _BOUNDED.search(norm) and _HAS_LIMIT.search(norm)
                if topics and not bounded:
                    out.append(Violation(f"permissive_{topics[0]}", clause))
        # a dismissal may sit in its own clause: "Buffers: 5 m — not needed today."
        for rule in RULES:
            if rule.id == "no_buffer" and not any(v.rule == "no_buffer" for v in out):
                m = rule.pattern.search(norm_sentence)
                if m and not _negated(norm_sentence, m.span()):
                    out.append(Violation(rule.id, sentence))
    return out

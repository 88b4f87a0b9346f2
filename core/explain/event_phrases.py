"""What the product may say about a client's life events, and what it may not.

Life events are read from operations (core.features.life_events): a large car payment, not
a car bought; children's spending growing, not a child born. The phrases here state what the
operations show; the patterns recognise the same statements in an LLM's words; the
unobserved patterns recognise what no operation can show, which core.explain.claims turns
into claims that are never true. Pure data, split from core.explain.claims so that a reader
looking for the wording of an event finds it in one room.
"""

from __future__ import annotations

from core.explain.types import Phrase

# Regular expressions (ru, en) that recognise one statement; case-insensitive, "ё" read as "е".
Patterns = tuple[tuple[str, ...], tuple[str, ...]]

# A life event is read from the client's operations (core.features.life_events), so its
# phrase says what those operations show, not what may have caused them: a large car
# payment, not a car bought; children's spending growing, not a child born.
EVENT_PHRASES: dict[str, Phrase] = {
    "car_purchase": (
        "за последние три месяца у вас были крупные расходы на автомобиль",
        "you have had large car expenses in the last three months",
    ),
    "child": (
        "ваши расходы на детей в последнее время выросли",
        "your spending on children has grown lately",
    ),
    "relocation": (
        "за последние три месяца у вас были крупные расходы на дом",
        "you have had large home expenses in the last three months",
    ),
    "salary_rise": ("ваши зарплатные поступления недавно выросли", "your salary payments went up recently"),
    "travel": ("в этом месяце вы много потратили на поездки", "you spent a lot on travel this month"),
}
# Life events and spending categories that tell the same story: one of them is enough.
EVENT_TOPICS: dict[str, str] = {
    "car_purchase": "auto",
    "child": "kids",
    "relocation": "home",
    "salary_rise": "salary",
    "travel": "travel",
}
_LARGE_RU = (
    r"(?:крупн|больш|значительн|серьезн)\w*\s+(?:\w+\s+)?(?:расход|трат|плат|покупк)\w*\s+(?:\w+\s+)?на\s+"
)
_LARGE_EN = r"\b(?:large|big|major|significant|sizeable|heavy)\s+(?:\w+\s+)?"
_SPENT_EN = r"\bspent\s+(?:a lot|heavily|much|a great deal)\s+(?:of money\s+)?on\s+(?:your\s+)?"
_GREW_EN = (
    r"(?:has\s+|have\s+|is\s+|are\s+)?(?:\w+\s+)?"
    r"(?:grown|grew|growing|risen|rose|rising|increased|increasing|gone up|went up)"
)
# How an LLM may state an event (ru, en); case-insensitive, "ё" read as "е".
EVENT_PATTERNS: dict[str, Patterns] = {
    "car_purchase": (
        (_LARGE_RU + r"(?:автомобил|машин|авто)",),
        (
            _LARGE_EN + r"(?:car|auto|vehicle)\w*\s+(?:expense|spending|payment|cost|bill)",
            _SPENT_EN + r"(?:car|auto)",
        ),
    ),
    "child": (
        (
            r"расход\w*\s+на\s+(?:\w+\s+)?(?:дет|ребен)\w*\s+(?:\w+\s+)*?(?:вырос|выраст|растут|увелич)",
            r"(?:рост|увеличени)\w*\s+(?:\w+\s+)?расход\w*\s+на\s+(?:дет|ребен)",
        ),
        (
            r"\b(?:spending|expenses|payments)\s+(?:on|for)\s+(?:your\s+)?(?:children|kids|child)\s+"
            + _GREW_EN,
            r"\b(?:more|growing|rising)\s+(?:spending|expenses)\s+(?:on|for)\s+(?:your\s+)?(?:children|kids)",
        ),
    ),
    "relocation": (
        (_LARGE_RU + r"(?:дом|жиль|квартир)",),
        (
            _LARGE_EN + r"(?:home|housing)\w*\s+(?:expense|spending|payment|cost|bill)",
            _SPENT_EN + r"(?:home|housing)",
        ),
    ),
    "salary_rise": (
        (
            r"(?:доход|зарплат)\w*\s+(?:\w+\s+){0,2}(?:вырос|вырост|увелич|повыс|повыш)",
            r"(?:рост|повышени|увеличени)\w*\s+(?:\w+\s+)?(?:доход|зарплат)",
        ),
        (
            r"\b(?:income|salary|pay|earnings)\s+(?:\w+\s+)?" + _GREW_EN,
            r"\b(?:pay|salary)\s+rise\b",
            r"\b(?:got|had|received)\s+a\s+raise\b",
            r"\bhigher\s+(?:income|salary)",
        ),
    ),
    "travel": (
        (
            r"(?:много|крупн\w*)\s+(?:\w+\s+)?(?:потратил|трат|расход)\w*\s+(?:\w+\s+)?на\s+(?:поездк|путешеств|отдых)",
        ),
        (_SPENT_EN + r"(?:travel|trips)", _LARGE_EN + r"travel\s+(?:expense|spending|payment|cost|bill)"),
    ),
}
# What the operations cannot show: that a car was bought, a child born, a home moved to. An
# LLM told of the events above may still say so; these claims recognise it and are never
# true, so the guardrail rejects such a text for every client. (ru, en) patterns; the
# phrases are what the template said before it stated only what the data shows.
UNOBSERVED_PATTERNS: dict[str, tuple[Phrase, Patterns]] = {
    "car_purchase": (
        ("вы недавно купили автомобиль", "you recently bought a car"),
        (
            (
                r"(?:купил|приобрел|покупк|приобретени)\w*\s+(?:\w+\s+)?(?:автомобил|машин)",
                r"нов\w+ (?:автомобил|машин)",
            ),
            (
                r"\b(?:bought|buying|purchased|got)\s+(?:a|an|your|the)?\s*(?:new\s+)?car\b",
                r"\bnew car\b",
                r"\bcar purchase",
            ),
        ),
    ),
    "child": (
        ("в вашей семье недавно появился ребёнок", "you recently had a child"),
        (
            (
                r"(?:появил|родил|рождени)\w*\s+(?:\w+\s+)?(?:ребен|малыш|сын|доч)",
                r"пополнени\w* в семье",
                r"\bмалыш",
            ),
            (
                r"\b(?:had|have|having|expecting)\s+a\s+(?:new\s+)?(?:baby|child)\b",
                r"\bnew(?:born|\s+baby)\b",
                r"\bbirth\b",
            ),
        ),
    ),
    "relocation": (
        ("вы недавно переехали", "you recently moved home"),
        (
            (r"переех\w*", r"переезд\w*", r"\bнов\w+ (?:квартир|дом|жиль)\w*"),
            (r"\bmoved\b", r"\bmoving\b", r"\brelocat\w*", r"\bnew home\b"),
        ),
    ),
}


# How an LLM may say "you travel often" (regular travel payments: the travel category).
TRAVELS_OFTEN: Patterns = (
    (r"вы\s+(?:\w+\s+)?(?:путешеству|ездите)", r"(?:много|часто)\s+путешеству"),
    (
        r"\byou\s+(?:\w+\s+)?travel\b(?!\s+(?:insurance|card))",
        r"\btravel(?:ling|ing)?\s+(?:a lot|often|frequently)",
    ),
)

"""Fixed vocabularies the forms offer (copies of the API's enums and the catalog's codes).

The web app is a client of the GraphQL API only, so it keeps its own copy of the few lists
that forms need; the API validates every value again.
"""

from __future__ import annotations

STRATEGIES: tuple[str, ...] = ("UPLIFT_RULES", "HYBRID", "RULES", "CF", "POPULARITY", "LLM")
RESPONSES: tuple[str, ...] = ("ACCEPT", "DECLINE", "DISMISS")

SEGMENTS: tuple[str, ...] = ("top", "individual", "student")
SEXES: tuple[str, ...] = ("H", "V")  # Santander codes: H hembra (female), V varón (male)

OPERATION_CATEGORIES: tuple[str, ...] = (
    "salary",
    "pension",
    "transfer",
    "cash",
    "groceries",
    "restaurants",
    "utilities",
    "telecom",
    "travel",
    "auto",
    "kids",
    "health",
    "home",
    "education",
    "entertainment",
    "shopping",
    "taxes",
    "insurance",
    "investments",
    "loan_payment",
)

# Santander join channels (canal_entrada), most frequent first.
CHANNELS: tuple[str, ...] = (
    "KHE",
    "KHD",
    "KFC",
    "KAT",
    "KFA",
    "KHC",
    "KAZ",
    "KHL",
    "RED",
    "KHK",
    "KHM",
    "KGN",
    "KHO",
    "KDH",
)

PROVINCES: tuple[tuple[str, str], ...] = (
    ("1", "Álava"),
    ("2", "Albacete"),
    ("3", "Alicante"),
    ("4", "Almería"),
    ("5", "Ávila"),
    ("6", "Badajoz"),
    ("7", "Illes Balears"),
    ("8", "Barcelona"),
    ("9", "Burgos"),
    ("10", "Cáceres"),
    ("11", "Cádiz"),
    ("12", "Castellón"),
    ("13", "Ciudad Real"),
    ("14", "Córdoba"),
    ("15", "A Coruña"),
    ("16", "Cuenca"),
    ("17", "Girona"),
    ("18", "Granada"),
    ("19", "Guadalajara"),
    ("20", "Gipuzkoa"),
    ("21", "Huelva"),
    ("22", "Huesca"),
    ("23", "Jaén"),
    ("24", "León"),
    ("25", "Lleida"),
    ("26", "La Rioja"),
    ("27", "Lugo"),
    ("28", "Madrid"),
    ("29", "Málaga"),
    ("30", "Murcia"),
    ("31", "Navarra"),
    ("32", "Ourense"),
    ("33", "Asturias"),
    ("34", "Palencia"),
    ("35", "Las Palmas"),
    ("36", "Pontevedra"),
    ("37", "Salamanca"),
    ("38", "Santa Cruz de Tenerife"),
    ("39", "Cantabria"),
    ("40", "Segovia"),
    ("41", "Sevilla"),
    ("42", "Soria"),
    ("43", "Tarragona"),
    ("44", "Teruel"),
    ("45", "Toledo"),
    ("46", "Valencia"),
    ("47", "Valladolid"),
    ("48", "Bizkaia"),
    ("49", "Zamora"),
    ("50", "Zaragoza"),
    ("51", "Ceuta"),
    ("52", "Melilla"),
)
PROVINCE_CODES: tuple[str, ...] = tuple(code for code, _ in PROVINCES)

MIN_AGE = 14
MAX_AGE = 110
MAX_OPERATION_AMOUNT = 1_000_000.0

"""UI text in Russian (default) and English: one table, looked up by key.

Pages read `AppState.t[key]`, a computed var holding the current language's table, so a
language switch re-renders every text at once. Categories, segments and strategies have
their own labels (`label(lang, group, code)`).
"""

from __future__ import annotations

LANGS: tuple[str, ...] = ("ru", "en")
DEFAULT_LANG = "ru"

TEXTS: dict[str, tuple[str, str]] = {
    # (ru, en)
    "brand": ("Банк · рекомендации", "Bank · offers"),
    "nav_home": ("Главная", "Home"),
    "nav_history": ("Операции", "History"),
    "nav_analytics": ("Аналитика", "Analytics"),
    "nav_register": ("Стать клиентом", "Become a client"),
    "nav_login": ("Вход", "Log in"),
    "logout": ("Выйти", "Log out"),
    "lang_toggle": ("EN", "RU"),
    "loading": ("Загрузка…", "Loading…"),
    "retry": ("Повторить", "Retry"),
    "api_down": (
        "Сервис недоступен: API не отвечает. Запустите `recsys api` и повторите.",
        "The service is unavailable: the API does not answer. Start `recsys api` and retry.",
    ),
    "api_slow": (
        "Сервис отвечает слишком долго. Повторите чуть позже.",
        "The service takes too long to answer. Retry in a moment.",
    ),
    "api_error": ("Ошибка API", "API error"),
    "not_logged_in": ("Войдите, чтобы продолжить.", "Log in to continue."),
    # login
    "login_title": ("Вход в банк", "Log in to the bank"),
    "login_subtitle": (
        "Демо-вход: выберите клиента из списка.",
        "Demo login: pick a client from the list.",
    ),
    "search_placeholder": ("Поиск по номеру или сегменту", "Search by id or segment"),
    "search": ("Найти", "Search"),
    "login_as": ("Войти", "Log in"),
    "no_clients": ("Клиенты не найдены.", "No clients found."),
    "client": ("Клиент", "Client"),
    "age": ("Возраст", "Age"),
    "segment": ("Сегмент", "Segment"),
    "income": ("Доход, €/год", "Income, €/year"),
    "products_count": ("Продуктов", "Products"),
    "analyst_title": ("Аналитик", "Analyst"),
    "analyst_password": ("Пароль аналитика", "Analyst password"),
    "analyst_login": ("Войти как аналитик", "Log in as analyst"),
    "new_client_q": ("Ещё не клиент?", "Not a client yet?"),
    # home
    "hello": ("Здравствуйте, клиент", "Hello, client"),
    "my_products": ("Мои продукты", "My products"),
    "no_products": ("У вас пока нет продуктов.", "You have no products yet."),
    "offers_title": ("Предложения для вас", "Offers for you"),
    "no_offers": (
        "Сейчас нет предложений, которые стоит вам показывать.",
        "No offer is worth showing you right now.",
    ),
    "no_contact": ("Почему нет предложений", "Why no offers"),
    "best_offer": ("Лучшее предложение", "Best offer"),
    "alternative": ("Альтернатива", "Alternative"),
    "why": ("Почему", "Why"),
    "alternatives": ("Альтернативы", "Alternatives"),
    "probability": ("Вероятность", "Probability"),
    "uplift": ("Эффект предложения", "Offer effect"),
    "accept": ("Оформить", "Accept"),
    "decline": ("Отказаться", "Decline"),
    "not_now": ("Не сейчас", "Not now"),
    "responded_ACCEPT": ("Вы приняли предложение", "You accepted the offer"),
    "responded_DECLINE": ("Вы отказались", "You declined"),
    "responded_DISMISS": ("Отложено", "Postponed"),
    "explanation_source": ("Источник текста", "Text source"),
    "since": ("с", "since"),
    # notifications
    "notifications": ("Уведомления", "Notifications"),
    "no_notifications": ("Уведомлений нет.", "No notifications."),
    "mark_read": ("Прочитано", "Mark read"),
    "live": ("в реальном времени", "live"),
    "live_off": ("нет связи", "offline"),
    # history
    "history_title": ("Операции", "Operations"),
    "filter_category": ("Категория", "Category"),
    "all_categories": ("Все категории", "All categories"),
    "date_from": ("С даты", "From"),
    "date_to": ("По дату", "To"),
    "apply": ("Применить", "Apply"),
    "reset": ("Сбросить", "Reset"),
    "prev_page": ("← Назад", "← Previous"),
    "next_page": ("Вперёд →", "Next →"),
    "total": ("Всего", "Total"),
    "no_operations": ("Операций нет.", "No operations."),
    "date": ("Дата", "Date"),
    "amount": ("Сумма, €", "Amount, €"),
    "category": ("Категория", "Category"),
    "description": ("Описание", "Description"),
    "add_operation": ("Добавить операцию", "Add an operation"),
    "add": ("Добавить", "Add"),
    "amount_hint": ("Расход со знаком минус, доход — плюс", "Spending negative, income positive"),
    "err_amount": ("Введите сумму, например -42.50", "Enter an amount, e.g. -42.50"),
    "err_amount_zero": ("Сумма не может быть нулевой", "The amount cannot be zero"),
    "err_amount_big": ("Слишком большая сумма", "The amount is too large"),
    "err_category": ("Выберите категорию", "Pick a category"),
    "err_date": ("Дата в формате ГГГГ-ММ-ДД, не в будущем", "A date as YYYY-MM-DD, not in the future"),
    "err_description": ("Не длиннее 200 символов", "At most 200 characters"),
    "err_dates": ("Дата «с» позже даты «по»", "The 'from' date is after the 'to' date"),
    "op_added": ("Операция добавлена", "Operation added"),
    "changes_title": ("Что изменилось в предложениях", "What changed in your offers"),
    "changes_waiting": ("Пересчитываем предложения…", "Recomputing your offers…"),
    "changes_none": ("Предложения не изменились.", "Your offers did not change."),
    "change_new": ("новое", "new"),
    "change_removed": ("убрано", "removed"),
    "change_up": ("выше", "up"),
    "change_down": ("ниже", "down"),
    "change_same": ("без изменений", "unchanged"),
    "before": ("Было", "Before"),
    "after": ("Стало", "After"),
    # register
    "register_title": ("Анкета нового клиента", "New client questionnaire"),
    "register_subtitle": (
        "Заполните анкету — мы сразу подберём первые предложения.",
        "Fill in the form and get your first offers right away.",
    ),
    "sex": ("Пол", "Sex"),
    "sex_H": ("Женский", "Female"),
    "sex_V": ("Мужской", "Male"),
    "channel": ("Канал привлечения", "Join channel"),
    "province": ("Провинция", "Province"),
    "language": ("Язык", "Language"),
    "consent": (
        "Согласен получать персональные предложения",
        "I agree to receive personal offers",
    ),
    "register": ("Зарегистрироваться", "Register"),
    "err_age": ("Возраст от 14 до 110", "Age from 14 to 110"),
    "err_sex": ("Выберите пол", "Pick a sex"),
    "err_income": ("Доход — неотрицательное число", "Income is a non-negative number"),
    "err_segment": ("Выберите сегмент", "Pick a segment"),
    "err_channel": ("Неизвестный канал", "Unknown channel"),
    "err_province": ("Неизвестная провинция", "Unknown province"),
    "err_form": ("Исправьте ошибки в форме", "Fix the errors in the form"),
    "optional": ("необязательно", "optional"),
    "select": ("Выберите…", "Select…"),
    # analytics
    "analytics_title": ("Аналитическая панель", "Analytics panel"),
    "tab_models": ("Сравнение моделей", "Model comparison"),
    "tab_uplift": ("Uplift и политики", "Uplift and policies"),
    "tab_profiles": ("Профили продуктов", "Product profiles"),
    "tab_client": ("Клиент", "Client"),
    "tab_try": ("Попробовать подходы", "Try approaches"),
    "no_model": (
        "Модель ещё не обучена или не оценена: запустите `recsys train` и `recsys evaluate`.",
        "No model trained or evaluated yet: run `recsys train` and `recsys evaluate`.",
    ),
    # The analytics panel without a stored evaluation: after `make run` the evaluation is
    # usually under way in the background, so "train the model" would send the analyst off
    # to redo what is already done.
    "no_evaluation": (
        "Оценки моделей ещё нет. `recsys evaluate` сравнивает стратегии на последнем месяце; "
        "после `make run` она идёт в фоне несколько минут (журнал .recsys/logs/evaluate.log). "
        "Затем нажмите «Обновить».",
        "No model evaluation stored yet. `recsys evaluate` compares the strategies on the last "
        "month; after `make run` it runs in the background for a few minutes "
        "(log: .recsys/logs/evaluate.log). Then press Refresh.",
    ),
    "model_version": ("Версия модели", "Model version"),
    "evaluated_at": ("Оценено", "Evaluated"),
    "strategy": ("Стратегия", "Strategy"),
    "metric": ("Метрика", "Metric"),
    "metrics_chart": ("Метрики по стратегиям", "Metrics by strategy"),
    "qini_title": ("Qini по продуктам", "Qini by product"),
    "qini_curves": ("Кривые Qini", "Qini curves"),
    "qini_random": ("Qini (случайная выборка)", "Qini (random holdout)"),
    "qini_aipw": ("Qini (AIPW, таргетинг)", "Qini (AIPW, targeted)"),
    "policy_title": ("Ценность политик (бюджет контактов)", "Policy value (contact budget)"),
    "incremental": ("Доп. конверсии", "Incremental conversions"),
    "policy": ("Политика", "Policy"),
    "policy_value": ("Ценность на клиента", "Value per client"),
    "share_of_oracle": ("Доля от оракула", "Share of oracle"),
    "uplift_absent": (
        "В последней оценке нет раздела uplift.",
        "The latest evaluation has no uplift section.",
    ),
    "policy_absent": (
        "В последней оценке нет раздела политик.",
        "The latest evaluation has no policy section.",
    ),
    "product": ("Продукт", "Product"),
    "pick_product": ("Выберите продукт", "Pick a product"),
    "holders": ("Держатели", "Holders"),
    "recent_adopters": ("Недавно оформили", "Recent adopters"),
    "no_profiles": ("Профилей нет: нет данных.", "No profiles: no data."),
    "profile_numeric": ("Медианный профиль", "Median profile"),
    "profile_typical": ("Типичный клиент", "Typical client"),
    "profile_rank_note": (
        "Где группа среди всех клиентов банка: средний перцентиль её клиентов, от 0 до 100. 50 — как "
        "у клиентов в целом, 70 — клиент группы в среднем выше 70% клиентов банка.",
        "Where the group sits among all the bank's clients: its clients' mean percentile, 0 to 100. "
        "50 is like clients at large, 70 means its average client is above 70% of the bank's clients.",
    ),
    "profile_values": ("Медианы", "Medians"),
    "all_clients": ("Все клиенты", "All clients"),
    "measure": ("Показатель", "Measure"),
    "client_id": ("Номер клиента", "Client id"),
    "show": ("Показать", "Show"),
    "held": ("есть", "held"),
    "conversion_title": ("Вероятность оформления по продуктам", "Take-up probability per product"),
    "no_probabilities": ("Нет вероятностей для этого клиента.", "No probabilities for this client."),
    "pick_client": ("Выберите клиента", "Pick a client"),
    "pick_strategies": ("Стратегии", "Strategies"),
    "compare": ("Сравнить", "Compare"),
    "refresh": ("Обновить", "Refresh"),
    "expected_value": ("Ожид. ценность", "Expected value"),
}

LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "category": {
        "salary": ("Зарплата", "Salary"),
        "pension": ("Пенсия", "Pension"),
        "transfer": ("Переводы", "Transfers"),
        "cash": ("Наличные", "Cash"),
        "groceries": ("Продукты", "Groceries"),
        "restaurants": ("Рестораны", "Restaurants"),
        "utilities": ("ЖКХ", "Utilities"),
        "telecom": ("Связь", "Telecom"),
        "travel": ("Путешествия", "Travel"),
        "auto": ("Авто", "Auto"),
        "kids": ("Дети", "Kids"),
        "health": ("Здоровье", "Health"),
        "home": ("Дом", "Home"),
        "education": ("Образование", "Education"),
        "entertainment": ("Развлечения", "Entertainment"),
        "shopping": ("Покупки", "Shopping"),
        "taxes": ("Налоги", "Taxes"),
        "insurance": ("Страхование", "Insurance"),
        "investments": ("Инвестиции", "Investments"),
        "loan_payment": ("Платёж по кредиту", "Loan payment"),
    },
    "product_category": {
        "accounts": ("Счета", "Accounts"),
        "services": ("Сервисы", "Services"),
        "cards": ("Карты", "Cards"),
        "deposits": ("Вклады", "Deposits"),
        "investments": ("Инвестиции", "Investments"),
        "insurance_pensions": ("Страхование и пенсии", "Insurance and pensions"),
        "credit": ("Кредиты", "Credit"),
        "partner": ("Партнёры", "Partners"),
    },
    "segment": {
        "top": ("VIP", "VIP"),
        "individual": ("Частный клиент", "Individual"),
        "student": ("Студент", "Student"),
    },
    "strategy": {
        "UPLIFT_RULES": ("Uplift + правила", "Uplift + rules"),
        "HYBRID": ("Гибридная модель", "Hybrid model"),
        "RULES": ("Экспертные правила", "Expert rules"),
        "CF": ("Коллаб. фильтрация", "Collaborative filtering"),
        "POPULARITY": ("Популярность", "Popularity"),
        "LLM": ("Только LLM", "LLM only"),
    },
    "language": {"RU": ("Русский", "Russian"), "EN": ("Английский", "English")},
    "profile_field": {
        "age": ("Возраст", "Age"),
        "income": ("Доход", "Income"),
        "seniority_months": ("Стаж, мес.", "Seniority, months"),
        "spend_6m": ("Траты за 6 мес.", "Spend, 6 months"),
        "inflow_6m": ("Поступления за 6 мес.", "Inflow, 6 months"),
        "operations_6m": ("Операций за 6 мес.", "Operations, 6 months"),
        "salary_months_6m": ("Мес. с зарплатой", "Salary months"),
        "products_held": ("Продуктов", "Products held"),
        "segment": ("Сегмент", "Segment"),
        "sex": ("Пол", "Sex"),
        "join_channel": ("Канал", "Channel"),
        "cluster": ("Кластер", "Cluster"),
    },
}


def _index(lang: str) -> int:
    return 1 if lang == "en" else 0


def texts(lang: str) -> dict[str, str]:
    """The whole text table in one language (unknown languages fall back to Russian)."""
    i = _index(lang)
    return {key: pair[i] for key, pair in TEXTS.items()}


def text(lang: str, key: str) -> str:
    pair = TEXTS.get(key)
    return pair[_index(lang)] if pair else key


def label(lang: str, group: str, code: str | None) -> str:
    """Human label of a code (category, segment, strategy...); the code itself when unknown."""
    if code is None:
        return "—"
    pair = LABELS.get(group, {}).get(code)
    return pair[_index(lang)] if pair else str(code)

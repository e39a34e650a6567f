"""The friendly 404 page (Dash pages looks for a module named `not_found_404`)."""

import dash

from drivers.i18n import known, t
from drivers.report.state import StateError, suggest_kommune, url
from drivers.ui import components


def layout(**query):
    lang = known(query.get("lang"))
    message = t("error_no_page", lang)
    suggestions = [(t("nav_oversikt", lang), url("/", None, lang=lang)),
                   (t("nav_tjenester", lang), url("/tjenester", None, lang=lang))]
    try:
        suggestions += suggest_kommune("")[:3]
    except Exception:  # noqa: BLE001 - the 404 page must render even without data
        pass
    return components.error_view(StateError(message, suggestions, lang), lang)


dash.register_page("not_found_404", path="/404", layout=layout, title="Fant ikke siden")

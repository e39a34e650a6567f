"""The friendly 404 page (Dash pages looks for a module named `not_found_404`)."""

import dash

from drivers.report.state import StateError, suggest_kommune, url
from drivers.ui import components


def layout(**query):
    lang = query.get("lang") if query.get("lang") in ("nb", "en") else "nb"
    message = ("That page does not exist. The dashboard has these pages: Overview (/) and Services (/tjenester)."
               if lang == "en" else
               "Den siden finnes ikke. Dashbordet har blant annet sidene Oversikt (/) og Tjenester (/tjenester).")
    suggestions = [("Oversikt", url("/", None, lang=lang)), ("Tjenester", url("/tjenester", None, lang=lang))]
    try:
        suggestions += suggest_kommune("")[:3]
    except Exception:  # noqa: BLE001 - the 404 page must render even without data
        pass
    return components.error_view(StateError(message, suggestions, lang), lang)


dash.register_page("not_found_404", path="/404", layout=layout, title="Fant ikke siden")

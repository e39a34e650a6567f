"""UI strings in Norwegian bokmål (default) and English. `t(key, lang, **values)` formats one."""

from __future__ import annotations

LANGS = ("nb", "en")

STRINGS: dict[str, tuple[str, str]] = {
    "app_title": ("Hva driver kommuneøkonomien?", "What drives the municipal economy?"),
    "nav_oversikt": ("Oversikt", "Overview"),
    "nav_tjenester": ("Tjenester", "Services"),
    "nav_sammenlign": ("Sammenlign", "Compare"),
    "nav_kart": ("Kart", "Map"),
    "nav_metode": ("Metode og kilder", "Method and sources"),
    "nav_presentasjon": ("Presentasjon", "Presentation"),
    "ctl_kommune": ("Kommune", "Municipality"),
    "ctl_kommune_ph": ("Søk på navn eller nummer", "Search by name or number"),
    "ctl_aar": ("År", "Year"),
    "ctl_peers": ("Sammenlign med", "Compare with"),
    "ctl_konv": ("Snitt", "Average"),
    "ctl_lang": ("Språk", "Language"),
    "ctl_tjeneste": ("Tjeneste", "Service"),
    "peers_kostragruppe": ("KOSTRA-gruppen", "KOSTRA group"),
    "peers_fylke": ("Fylket", "County"),
    "peers_landet": ("Landet", "Norway"),
    "peers_landet-uten-oslo": ("Landet uten Oslo", "Norway excl. Oslo"),
    "peers_naboer": ("Nærmeste naboer (ligner mest)", "Nearest neighbours (most similar)"),
    "konv_weighted": ("Vektet, som SSB (sum/sum)", "Weighted, as SSB (sum/sum)"),
    "konv_unweighted": ("Uvektet (snitt av kommuner)", "Unweighted (mean of municipalities)"),
    "konv_weighted-excl-self": ("Vektet uten kommunen selv (ASSS)", "Weighted without the municipality (ASSS)"),
    "konv_unweighted-excl-self": ("Uvektet uten kommunen selv (ASSS)", "Unweighted without the municipality (ASSS)"),
    "profile_title": ("Profil", "Profile"),
    "profile_population": ("Innbyggere", "Residents"),
    "profile_population_note": ("1. januar {year}", "1 January {year}"),
    "profile_group": ("KOSTRA-gruppe", "KOSTRA group"),
    "profile_county": ("Fylke", "County"),
    "profile_need": ("Utgiftsbehov (kostnadsindeks)", "Expenditure need (cost index)"),
    "profile_need_note": ("Grønt hefte 2026, ikke SSB. Landet = 1,00", "Grønt hefte 2026, not SSB. Norway = 1.00"),
    "profile_free_income": ("Frie inntekter per innbygger", "Free income per resident"),
    "summary_title": ("Kort fortalt", "In short"),
    "gap_title": ("Mer- eller mindreforbruk mot sammenligningsgruppen", "Spending above or below the peers"),
    "health_title": ("Økonomisk helse", "Financial health"),
    "missing_title": ("Tallet finnes ikke i dataene", "The figure is not in the data"),
    "missing_fetch": ("Hent det med", "Fetch it with"),
    "error_title": ("Vi fant ikke den siden", "We could not find that page"),
    "error_try": ("Prøv for eksempel:", "Try, for example:"),
    "error_home": ("Til oversikten", "To the overview"),
    "source": ("Kilde", "Source"),
    "rank": ("Rangering", "Rank"),
    "not_ssb": ("ikke SSB", "not SSB"),
    "selected": ("Valgt kommune", "Selected municipality"),
    "peer_avg": ("Sammenligningsgruppen", "Peers"),
    "loading": ("Laster …", "Loading …"),
    # dcc.Dropdown's own texts (its `labels`); {num_selected} is filled in by the dropdown
    "dd_select_all": ("Velg alle", "Select all"),
    "dd_deselect_all": ("Fjern alle", "Deselect all"),
    "dd_selected_count": ("{num_selected} valgt", "{num_selected} selected"),
    "dd_search": ("Søk", "Search"),
    "dd_clear_search": ("Tøm søket", "Clear search"),
    "dd_clear_selection": ("Fjern valget", "Clear selection"),
    "dd_no_options_found": ("Ingen treff", "No options found"),
}


def t(key: str, lang: str = "nb", **values) -> str:
    """The string for `key` in `lang` (nb if unknown), with {placeholders} filled in; the key itself if missing."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**values) if values else text

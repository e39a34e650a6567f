"""Norwegian bokmål words: every UI text and engine reason, by key. A new language is a copy of this file."""

WORDS: dict[str, str] = {
    # --- common (shell, controls, dropdown) ---
    "app_title": "Hva driver kommuneøkonomien?",
    "nav_oversikt": "Oversikt",
    "nav_tjenester": "Tjenester",
    "nav_sammenlign": "Sammenlign",
    "nav_kart": "Kart",
    "nav_metode": "Metode og kilder",
    "nav_presentasjon": "Presentasjon",
    "ctl_kommune": "Kommune",
    "ctl_kommune_ph": "Søk på navn eller nummer",
    "ctl_aar": "År",
    "ctl_peers": "Sammenlign med",
    "ctl_konv": "Snitt",
    "ctl_lang": "Språk",
    "ctl_tjeneste": "Tjeneste",
    "peers_kostragruppe": "KOSTRA-gruppen",
    "peers_fylke": "Fylket",
    "peers_landet": "Landet",
    "peers_landet-uten-oslo": "Landet uten Oslo",
    "peers_naboer": "Nærmeste naboer (ligner mest)",
    "konv_weighted": "Vektet, som SSB (sum/sum)",
    "konv_unweighted": "Uvektet (snitt av kommuner)",
    "konv_weighted-excl-self": "Vektet uten kommunen selv (ASSS)",
    "konv_unweighted-excl-self": "Uvektet uten kommunen selv (ASSS)",
    "profile_title": "Profil",
    "profile_population": "Innbyggere",
    "profile_population_note": "1. januar {year}",
    "profile_group": "KOSTRA-gruppe",
    "profile_county": "Fylke",
    "profile_need": "Utgiftsbehov (kostnadsindeks)",
    "profile_need_note": "Grønt hefte 2026, ikke SSB. Landet = 1,00",
    "profile_free_income": "Frie inntekter per innbygger",
    "summary_title": "Kort fortalt",
    "gap_title": "Mer- eller mindreforbruk mot sammenligningsgruppen",
    "health_title": "Økonomisk helse",
    "missing_title": "Tallet finnes ikke i dataene",
    "missing_fetch": "Hent det med",
    "error_title": "Vi fant ikke den siden",
    "error_try": "Prøv for eksempel:",
    "error_home": "Til oversikten",
    "source": "Kilde",
    "rank": "Rangering",
    "not_ssb": "ikke SSB",
    "selected": "Valgt kommune",
    "peer_avg": "Sammenligningsgruppen",
    "loading": "Laster …",
    "dd_select_all": "Velg alle",
    "dd_deselect_all": "Fjern alle",
    "dd_selected_count": "{num_selected} valgt",
    "dd_search": "Søk",
    "dd_clear_search": "Tøm søket",
    "dd_clear_selection": "Fjern valget",
    "dd_no_options_found": "Ingen treff",
    # --- ui-shell ---
    "error_no_page": "Den siden finnes ikke. Dashbordet har blant annet sidene Oversikt (/) og Tjenester (/tjenester).",
    # --- end ui-shell ---
    # --- page-oversikt ---
    # --- end page-oversikt ---
    # --- page-tjenester ---
    # --- end page-tjenester ---
    # --- page-sammenlign ---
    # --- end page-sammenlign ---
    # --- page-kart ---
    # --- end page-kart ---
    # --- page-metode ---
    # --- end page-metode ---
    # --- page-presentasjon ---
    # --- end page-presentasjon ---
    # --- figures ---
    # --- end figures ---
    # --- components ---
    # --- end components ---
    # --- report ---
    # --- end report ---
    # --- reasons ---
    # --- end reasons ---
    # --- commands ---
    # --- end commands ---
}

"""English words: every UI text and engine reason, by key. A new language is a copy of this file."""

WORDS: dict[str, str] = {
    # --- common (shell, controls, dropdown) ---
    "app_title": "What drives the municipal economy?",
    "nav_oversikt": "Overview",
    "nav_tjenester": "Services",
    "nav_sammenlign": "Compare",
    "nav_kart": "Map",
    "nav_metode": "Method and sources",
    "nav_presentasjon": "Presentation",
    "ctl_kommune": "Municipality",
    "ctl_kommune_ph": "Search by name or number",
    "ctl_aar": "Year",
    "ctl_peers": "Compare with",
    "ctl_konv": "Average",
    "ctl_lang": "Language",
    "ctl_tjeneste": "Service",
    "peers_kostragruppe": "KOSTRA group",
    "peers_fylke": "County",
    "peers_landet": "Norway",
    "peers_landet-uten-oslo": "Norway excl. Oslo",
    "peers_naboer": "Nearest neighbours (most similar)",
    "konv_weighted": "Weighted, as SSB (sum/sum)",
    "konv_unweighted": "Unweighted (mean of municipalities)",
    "konv_weighted-excl-self": "Weighted without the municipality (ASSS)",
    "konv_unweighted-excl-self": "Unweighted without the municipality (ASSS)",
    "profile_title": "Profile",
    "profile_population": "Residents",
    "profile_population_note": "1 January {year}",
    "profile_group": "KOSTRA group",
    "profile_county": "County",
    "profile_need": "Expenditure need (cost index)",
    "profile_need_note": "Grønt hefte 2026, not SSB. Norway = 1.00",
    "profile_free_income": "Free income per resident",
    "summary_title": "In short",
    "gap_title": "Spending above or below the peers",
    "health_title": "Financial health",
    "missing_title": "The figure is not in the data",
    "missing_fetch": "Fetch it with",
    "error_title": "We could not find that page",
    "error_try": "Try, for example:",
    "error_home": "To the overview",
    "source": "Source",
    "rank": "Rank",
    "not_ssb": "not SSB",
    "selected": "Selected municipality",
    "peer_avg": "Peers",
    "loading": "Loading …",
    "dd_select_all": "Select all",
    "dd_deselect_all": "Deselect all",
    "dd_selected_count": "{num_selected} selected",
    "dd_search": "Search",
    "dd_clear_search": "Clear search",
    "dd_clear_selection": "Clear selection",
    "dd_no_options_found": "No options found",
    # --- ui-shell ---
    "error_no_page": "That page does not exist. The dashboard has these pages: Overview (/) and Services (/tjenester).",
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

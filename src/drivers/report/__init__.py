"""The view-model layer between the engine and its views (dashboard, pack, deck, CLI): the view state, the
queries a view needs, the storyline. No Dash, no drivers.ui."""

"""The analytics page's layout and card callbacks over the synthetic prepare module (a shared fixture)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.support.serve import use_pipeline


@pytest.fixture()
def page(monkeypatch):
    use_pipeline(monkeypatch, "tests.support.synthetic")
    import app  # noqa: F401  (registers the pages)
    from components.cards import (
        analytics_overview_card,
        analytics_projection_card,
        analytics_selection,
        analytics_sequence_card,
        analytics_table_card,
    )
    from pages import analytics
    from services import analysis

    analysis.clear_caches()
    # The page's layout and its cards' callbacks, under one name.
    yield SimpleNamespace(
        layout=analytics.layout,
        show_overview=analytics_overview_card.show_overview,
        draw_projection=analytics_projection_card.draw_projection,
        select_sequence=analytics_selection.select_sequence,
        show_selection=analytics_sequence_card.show_selection,
        filter_table=analytics_table_card.filter_table,
        get_rows=analytics_table_card.get_rows,
    )
    analysis.clear_caches()

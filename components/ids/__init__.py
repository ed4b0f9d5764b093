"""Component ids, one module per page: every id a page's layout, callbacks and JS use, by name.

``analytics``, ``trainer`` and ``home`` hold the ids of their page (the trainer's cell view is on
the trainer page); ``common`` holds the app shell's (navbar, tour, app alert). A constant's name
is its value in capitals with ``_`` for ``-`` (``SEQUENCE_TABLE = "sequence-table"``).

The values are a contract: browser tests, outside checks and ``assets/*.js`` find elements by
them, so a value never changes without those. ``tests/unit/test_ids.py`` checks that every id the
JS reads is a value here and that no card or page passes a literal id to ``Input``, ``Output``
or ``State``. Import a page's module as ``ids``::

    from components.ids import analytics as ids

    Output(ids.SEQUENCE_TABLE, "data")
"""

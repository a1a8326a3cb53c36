"""Headwater operator tooling: the ``headwater`` CLI (``cli``), the local runtime manager
(``runtime``) and ``make schema`` (``schema``). Built on the platform library ``headwater``,
which never imports this package; no service depends on it."""

"""Voilà as ``python -m landscape app`` runs it: ``python -m landscape.app.voila_page ARGS`` is
``python -m voila ARGS``, except that the page's own response sets the ``_xsrf`` cookie.

A closing (or reloading) page asks Voilà to shut its kernel down with a POST that carries the
``_xsrf`` cookie's value, which the server checks against the cookie (tornado's protection against
cross-site requests). Voilà 0.5 never sets that cookie, so every such request is refused (403
"'_xsrf' argument missing from POST", voila-dashboards/voila#1458) and each closed tab's kernel
(~0.5 GB) lives on until culled. Here the page handler reads its xsrf token as it prepares the
page, which makes tornado set the cookie, as Jupyter's own pages do; the check itself is unchanged.
"""

from __future__ import annotations

import inspect

from voila.app import main
from voila.handler import VoilaHandler

_prepare = VoilaHandler.prepare


async def _prepare_setting_the_xsrf_cookie(self) -> None:
    prepared = _prepare(self)
    if inspect.isawaitable(prepared):
        await prepared
    self.xsrf_token  # noqa: B018 - reading it sets the cookie on this response


VoilaHandler.prepare = _prepare_setting_the_xsrf_cookie

if __name__ == "__main__":
    main()

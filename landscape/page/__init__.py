"""The explorer's Landscape view as one self-contained HTML file, for slides, course sites and
phones: no Python, no server, no network (``python -m landscape page``, the explorer's *Export
page*).

    build.py    the page of a ``setting.Sweep``: what matplotlib draws and Python computes for it,
                the size check, the template filled in (head.html and foot.html: what every page
                shares), written atomically (``write_html``, for every page)
    pictures.py what matplotlib hands the page: pictures of a figure's static parts, and where
                everything the page draws goes, in page pixels
    numbers.py  the page's arrays: quantised, packed into one compressed block, and their limit
    page.html   the page's template;  page.js  its script: unpacks the block, looks up, draws
    network.py  the page of a network's lr x momentum sweep (``sweep --model ... --page``, the sweep
                panel's *Export page*): network.html, its script network.js
    unpack.js   what every page's script starts with: the block unpacked, pictures and font loaded,
                a click's phase cell, a failed start said on the page
"""

from .build import check_page, check_path, command, page_html, write_html, write_page
from .network import network_page_html, write_network_page
from .numbers import MAX_NUMBER_BYTES

__all__ = ["MAX_NUMBER_BYTES", "check_page", "check_path", "command", "network_page_html", "page_html",
           "write_html", "write_network_page", "write_page"]

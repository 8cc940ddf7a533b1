"""The notebook explorer: ``landscape.app.explore()``.

Tabs: **Landscape** (optimizers on a surface: lr, momentum and β2 sliders, a start typed or
clicked, gradient noise, play/scrub over iterations, GIF export with a preview, save/load of
the setting as JSON), **Phase diagram** (iterations over the lr x momentum grid; a click sets
the sliders) and **Real networks** (the CIFAR-10 comparison, run in the background, and the
landscape slice of its recorded paths).

    (landscape.setting: Setting, validated, JSON, and Sweep, one batched run for every slider position)
    views.py     the landscape and phase pictures, each drawn by a latest-only worker thread
    controls.py  the Landscape tab's controls;  networks.py  the Real networks tab
    slice_panel.py  its Landscape slice: the run's paths in one plane of the loss, GIF export
    explorer.py  the wiring;  common.py  status line, downloads, muted callbacks, the latest-only worker
    standalone.py  the explorer as a web page with Voilà (``page()``, ``python -m landscape app``)

Every figure is a ``draw.PlainFigure`` (never pyplot), shown as an image: a notebook backend
cannot swap its canvas from another kernel thread, and a page reload shows the last image.
"""

from .explorer import Explorer, default_gif_folder, explore
from ..setting import BETA2S, LEARNING_RATES, MOMENTA, Setting, Sweep
from .networks import NetworksTab
from .standalone import page

__all__ = ["BETA2S", "LEARNING_RATES", "MOMENTA", "Explorer", "NetworksTab", "Setting", "Sweep",
           "default_gif_folder", "explore", "page"]

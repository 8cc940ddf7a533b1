"""landscape: a 2-D loss-landscape teaching visualizer for deep-learning optimization.

    landscape.optim       the optimizers (torch.optim.Optimizer subclasses) and build(spec, ...)
    landscape.surfaces    analytic 2-D surfaces;  landscape.trajectory  batched runs and grids
    landscape.draw        figures;  landscape.animate  animations;  landscape.export_gif(...)
    landscape.nets        CIFAR-10 data, models and the optimizer comparison
"""

__version__ = "0.1.0"


def __getattr__(name):
    # export_gif lives in landscape.animate; imported on first use so that `import
    # landscape.optim` does not pull in matplotlib
    if name == "export_gif":
        from .animate import export_gif

        return export_gif
    raise AttributeError(f"module 'landscape' has no attribute {name!r}")

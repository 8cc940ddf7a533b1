"""landscape: a 2-D loss-landscape teaching visualizer for deep-learning optimization.

    landscape.optim       the optimizers (torch.optim.Optimizer subclasses), their catalog, build(spec)
    landscape.surfaces    analytic 2-D surfaces;  landscape.theory  heavy ball on a quadratic
    landscape.trajectory  batched runs and lr x momentum sweeps
    landscape.draw        figures;  landscape.animate  animations;  landscape.export_gif(...)
    landscape.lecture     the lecture's slides;  landscape.app  the notebook explorer
    landscape.nets        CIFAR-10 data, models and the optimizer comparison

The map: docs/architecture.md.
"""

__version__ = "0.1.0"


def __getattr__(name):
    # export_gif lives in landscape.animate; imported on first use so that `import
    # landscape.optim` does not pull in matplotlib
    if name == "export_gif":
        from .animate import export_gif

        return export_gif
    raise AttributeError(f"module 'landscape' has no attribute {name!r}")

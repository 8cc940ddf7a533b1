"""landscape: a 2-D loss-landscape teaching visualizer for deep-learning optimization."""

__version__ = "0.1.0"

"""Real networks: CIFAR-10 loading, small models, and the optimizer comparison runner."""

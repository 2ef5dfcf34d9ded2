"""laif: the Luxembourg AI Factory in one package."""

__version__ = "0.1.0"

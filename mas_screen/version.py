"""The package version (one place: the public `mas_screen.__version__` and the PDF footer read it)."""

__version__ = "0.1.0"

"""ordergate: a self-hostable gateway speaking Mesh Connect's trading API."""

__version__ = "0.1.0"

"""One renderer per output format, all behind the same small interface (see base.py)."""

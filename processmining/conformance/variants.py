"""The variants conformance aligns: the one engine of :mod:`processmining.discovery.variants`."""

from ..discovery.variants import Variants, log_variants

__all__ = ["Variants", "log_variants"]

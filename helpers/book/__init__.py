"""The book's machinery: what a chapter uses to state, check and record its findings, and what the
book's pages are built from (the claims ledger, the chapter list, plots, widgets, numbers in prose).

A reader's own code needs none of it; it imports only the library at the top of `helpers`.
"""

# the layer's modules
__all__ = ["chapter", "claims", "ledger", "plotting", "prose", "record", "toc", "widgets"]

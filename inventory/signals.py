"""What the inventory domain tells whoever listens, without knowing who does (metrics in `ops`)."""

from django.dispatch import Signal

# Ledger rows were written: sent inside the writing transaction by every path that writes them
# (a model save, the bulk INSERT of created stock, kitting's literal SQL), with `counts`, a
# mapping of TransactionType value to rows. A receiver that must see only committed rows defers
# with transaction.on_commit, which forgets what a rolled-back savepoint registered.
ledger_written = Signal()

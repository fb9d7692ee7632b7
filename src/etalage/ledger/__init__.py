"""The double-entry ledger: every cent a shopper pays, the platform earns and a merchant is owed."""

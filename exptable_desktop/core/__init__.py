"""The domain: states, actions, columns, filters, view state and formatting. No Qt here."""

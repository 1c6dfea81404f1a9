"""The common package every Renewals service imports. It never holds business rules."""

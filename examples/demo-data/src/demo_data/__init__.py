"""Local example data for the Headwater demo."""

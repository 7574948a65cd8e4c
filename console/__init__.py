"""MesoGuide's staff console: review conversations, follow up visitors, improve the assistant."""

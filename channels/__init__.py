"""Rasa input channels of MesoGuide (registered in credentials.yml by module path)."""

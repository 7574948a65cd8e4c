"""Demo clinic page and the embeddable MesoGuide chat widget."""

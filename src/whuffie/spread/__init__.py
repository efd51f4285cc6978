"""How word of mouth travels: cascades, diffusion models fitted on them, forecasts, and whom to approach."""

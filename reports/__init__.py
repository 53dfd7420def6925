"""Rendering costopt's analyses as weekly HTML reports (plotly) with JSON and CSV beside them."""

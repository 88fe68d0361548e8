"""Presentation shared by the dashboard and the outputs: labels, tables, figures and the warehouse queries they read."""

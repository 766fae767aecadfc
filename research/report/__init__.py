"""Figures and reports: the only package that draws."""

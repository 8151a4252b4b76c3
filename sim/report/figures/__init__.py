"""Figure builders: tables in, ``matplotlib.figure.Figure`` out (Agg canvas, no pyplot)."""

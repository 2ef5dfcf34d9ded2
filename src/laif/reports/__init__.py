"""Results documents and HTML reports, shared by every service."""

from laif.reports.html import render_leaderboard, render_run_report
from laif.reports.results import leaderboard_row, leaderboard_rows, overview_rows, run_results

__all__ = ["leaderboard_row", "leaderboard_rows", "overview_rows", "render_leaderboard", "render_run_report", "run_results"]

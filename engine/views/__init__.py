"""Views on results: analysis workflows (compare, sweep), maps, plots and the HTML report.

Nothing in salvosim.engine (but its CLI and API), threats, defenses or bases imports this
package.
"""

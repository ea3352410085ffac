"""Tools of the Inspect tab, one per capability (see panels/inspect_panel.py for the registration)."""

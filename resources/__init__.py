"""Bundled data, installed as the package `genstudio.resources` (setup.py maps this folder there).

This file only makes the folder a regular package, so that `importlib.resources` and setuptools'
editable installs find it; nothing imports code from here. Look files up with
`genstudio.core.runtime.resources.resource_path`, which also covers the frozen app.
"""

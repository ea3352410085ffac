"""Model families, one folder each: `<name>/__init__.py` describes the family (`FAMILY`), beside its
config, presets and model. `genstudio.core.registry` is the one place they are registered."""

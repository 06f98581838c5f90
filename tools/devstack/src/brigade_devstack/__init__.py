"""Local development stack: `python -m brigade_devstack up` runs all of Brigade on this machine."""

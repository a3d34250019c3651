"""The Model Registry: model package groups (groups.py) and their versioned and unversioned
model packages (packages.py), with the checks on what a package holds (package_requests.py)."""

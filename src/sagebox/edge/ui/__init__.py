"""The web console served at /ui/ on the edge's port (console.py; pages/ holds one module per family)."""

"""The demo marketplace: the scripted story (story.py) and the bulk generator (bulk.py), for `parley seed-demo`."""

"""Decentralised recommendation: asynchronous gossip collaborative filtering between listener nodes.

Every listener is a node that keeps its own history and only ever sends a bounded *summary* of it
(``summary.py``, at most M bytes). Nodes find each other by Cyclon-style peer sampling plus
Gossple-style exploration of their neighbours' neighbours (``protocol.py``), pick the peers most
similar to them and recommend from those peers' summaries. ``defence.py`` holds the checks that
keep shilling and hub attackers out (``attack.py`` models them). All of that is pure: bytes and
arrays in, bytes and arrays out. ``transport.py`` is the asyncio UDP edge, ``simulation.py`` runs
thousands of nodes on one event loop over loopback sockets, and docs/p2p.md states the protocol,
the wire format and the measured figures.
"""

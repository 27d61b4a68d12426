"""The RQ side: only `entry.py` touches Flask."""

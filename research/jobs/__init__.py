"""Jobs: what ``python -m research.run`` does for each study kind, tying the pure packages
(``data``, ``nn``, ``train``) to tracking."""

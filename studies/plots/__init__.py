"""The paper style (``prunelab.mplstyle``) and the figure helpers every study draws with (``style``)."""

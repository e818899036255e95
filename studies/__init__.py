"""Study specs, the results store, engines, figures and the command line."""

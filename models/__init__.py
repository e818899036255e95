"""Students as batched ensembles: training at a temperature, pruning masks, landscape metrics."""

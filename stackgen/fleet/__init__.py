"""From layers to the model: the merge fold, the built-in defaults, building the frozen
model, and the checks and lint that need the whole fleet."""

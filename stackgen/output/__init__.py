"""Planning and writing an output directory: confined paths, the drift plan, the all-or-nothing commit."""

"""Kind labgrid: a board of a labgrid place, acquired for the run and reached through its resources."""

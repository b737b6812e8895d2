"""Game catalog: listings, images, reward splits, ownership claims."""

"""The explorer's state and what it computes from a model: the explore session, latent history, grids and walks, the latent map, the layer view, nearest neighbours, likelihoods and inversion."""

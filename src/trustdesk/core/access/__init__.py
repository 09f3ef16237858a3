"""Who looked: the access log of views of a person's data, and the purpose each view needs."""

"""RecSys31 core: the domain and engine (catalog, data, models, decisions), free of API/web."""

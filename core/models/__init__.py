"""Take-up models: the hybrid CatBoost scorer and the baselines, behind one interface."""

"""The dosing core: NumPy, shapely and rasterio only, never a request or a session."""

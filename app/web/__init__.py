"""The map pages: a field, its weeds and its prescription in a browser.

``routes`` serves two public HTML shells (``/v1/map`` and
``/v1/prescriptions/{id}/map``), the vendored Leaflet and page assets under
``/static/``, and the JSON the pages fetch with the caller's API key.
``layers`` turns stored grids into what a web map draws: coloured PNG
overlays in Web Mercator, rate zones and legends in the label's unit.
"""

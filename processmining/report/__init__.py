"""The audit report (HTML / PDF) and the analyses it needs: drivers, comparison, KPIs.

- :mod:`.drivers`: which attributes are over-represented among bad cases.
- :mod:`.kpis`: the KPI table with targets and status.
- :mod:`.compare`: two periods or segments side by side, trends with change points.
- :mod:`.build`: collects the analyses into findings; :mod:`.html` renders them;
  :mod:`.pdf` prints the HTML with headless Chromium.
- :mod:`.i18n`: message catalogues (gettext ``.po`` under ``locale/``), number and date formats.
"""

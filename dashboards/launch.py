"""`python -m dashboards.launch run dashboards/app.py ...`: the streamlit CLI, minus the v1 pages folder.

Streamlit treats a `pages/` folder next to the main script as an old-style (v1) multipage app
until the first st.navigation call of the server process. So the very first session after a
start would get the folder's file list as navigation, and a bookmarked URL such as /ranking
would show an English "Page not found". We use st.navigation, so the flag is switched off
before the server starts. (Data access stays guarded by data.py either way.)
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
    except (ImportError, AttributeError):  # a future Streamlit without the flag: nothing to switch off
        pass
    from streamlit.web.cli import main as streamlit_main

    sys.argv[0] = "streamlit"
    streamlit_main()


if __name__ == "__main__":
    main()

"""清廉建设驾驶舱 (Streamlit): pages in dashboards/pages, data access in data.py, bulletin in bulletin.py."""

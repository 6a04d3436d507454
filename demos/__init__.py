"""GenLab's tabs: one module each, widgets and thin handlers over genmodels."""

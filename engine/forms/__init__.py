"""JSON-schema forms: schema checks, WTForms classes, the form service."""

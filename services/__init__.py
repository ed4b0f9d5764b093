"""The service layer between the pages and the numeric core: identity, validation, storage."""

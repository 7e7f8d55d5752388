"""The three pipeline stages. Each imports only ``shared``, never another stage's internals."""

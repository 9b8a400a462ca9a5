# the ready migration tests (stairway, one order, down restores the schema, the models
# match the migrations) and the npa_runner fixture for the shop's own migration tests
pytest_plugins = ["npa_migrations.apptest"]

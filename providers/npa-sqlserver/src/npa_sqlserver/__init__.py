"""npa-sqlserver: the SQL Server provider of npa-migrations (pyodbc)."""

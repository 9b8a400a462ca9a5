"""npa-sqlserver: the SQL Server 2017+ / Azure SQL provider of npa-migrations (pyodbc).

Importing this package never imports pyodbc: SQL generation and ``--sql --offline``
scripts work without it; only opening a connection needs pyodbc and an ODBC driver.
"""

__version__ = "0.1.0"

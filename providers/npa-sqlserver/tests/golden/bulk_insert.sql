-- scenario: bulk_insert
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Inserting rows into 'products'
IF EXISTS (SELECT 1 FROM sys.identity_columns AS c WHERE c.object_id = OBJECT_ID(N'products') AND c.name IN (N'id', N'sku', N'name', N'price', N'created_at', N'active')) SET IDENTITY_INSERT products ON
GO
-- executed as: INSERT INTO products (id, sku, name, price, created_at, active) VALUES (?, ?, ?, ?, ?, ?)
-- with one parameter set per row (executemany)
INSERT INTO products (id, sku, name, price, created_at, active) VALUES (1, N'A-1', N'Widget', 9.99, CAST(N'2025-01-02T03:04:05.678000' AS DATETIME2), 1);
INSERT INTO products (id, sku, name, price, created_at, active) VALUES (2, N'B-2', N'It''s a "gadget"; 日本', 24.5, CAST(N'2025-01-02T00:00:00' AS DATETIME2), 0)
GO
IF EXISTS (SELECT 1 FROM sys.identity_columns AS c WHERE c.object_id = OBJECT_ID(N'products') AND c.name IN (N'id', N'sku', N'name', N'price', N'created_at', N'active')) SET IDENTITY_INSERT products OFF
GO
-- Inserting rows into 'everything'
IF EXISTS (SELECT 1 FROM sys.identity_columns AS c WHERE c.object_id = OBJECT_ID(N'sales.everything') AND c.name IN (N'code', N'day', N'clock', N'blob', N'guid', N'unbounded', N'moment')) SET IDENTITY_INSERT sales.everything ON
GO
-- executed as: INSERT INTO sales.everything (code, day, clock, blob, guid, unbounded, moment) VALUES (?, ?, ?, ?, ?, ?, ?)
-- with one parameter set per row (executemany)
INSERT INTO sales.everything (code, day, clock, blob, guid, unbounded, moment) VALUES (N'X', CAST(N'2025-01-31' AS DATE), CAST(N'13:14:15' AS TIME), 0x00FF6162, '00000000-0000-0000-0000-000000000001', NULL, CAST(N'2025-01-02T03:04:00+00:00' AS DATETIMEOFFSET))
GO
IF EXISTS (SELECT 1 FROM sys.identity_columns AS c WHERE c.object_id = OBJECT_ID(N'sales.everything') AND c.name IN (N'code', N'day', N'clock', N'blob', N'guid', N'unbounded', N'moment')) SET IDENTITY_INSERT sales.everything OFF
GO

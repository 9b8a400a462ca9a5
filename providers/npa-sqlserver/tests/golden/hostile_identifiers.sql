-- scenario: hostile_identifiers
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Creating schema 'sch'ema ]'
CREATE SCHEMA [sch'ema ]]]
GO
-- Creating table 'pa'rent; select'
CREATE TABLE [pa'rent; select] (
	id INTEGER NOT NULL, 
	PRIMARY KEY (id)
)
GO
-- Creating table 'we"ird; tab'le [x]'
CREATE TABLE [we"ird; tab'le [x]]] (
	id INTEGER NOT NULL, 
	parent_id INTEGER NULL, 
	[sel ect] NVARCHAR(40) NULL, 
	[order] NVARCHAR(40) NULL, 
	[Mixed]]Case] NVARCHAR(40) NULL, 
	[quo"te] NVARCHAR(40) NULL, 
	[semi;colon] NVARCHAR(40) NULL, 
	[apos'trophe] NVARCHAR(40) NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT [uq u;v's] UNIQUE ([order]), 
	CONSTRAINT [fk x;y's [1]]] FOREIGN KEY(parent_id) REFERENCES [pa'rent; select] (id), 
	CONSTRAINT [ck 'c'; d] CHECK (id > 0)
)
GO
CREATE TABLE [sch'ema ]]].[we"ird; tab'le [x]]] (
	[sel ect] INTEGER NOT NULL IDENTITY, 
	PRIMARY KEY ([sel ect])
)
GO
-- Creating index 'ix "we;ird's]'
CREATE INDEX [ix "we;ird's]]] ON [we"ird; tab'le [x]]] ([sel ect], [Mixed]]Case])
GO
-- Creating index 'ix "we;ird's] u'
DECLARE @filter nvarchar(max), @sql nvarchar(max);
SELECT @filter = STRING_AGG(CAST(QUOTENAME(c.name) + N' IS NOT NULL' AS nvarchar(max)), N' AND ') WITHIN GROUP (ORDER BY c.column_id)
FROM sys.columns AS c
WHERE c.object_id = OBJECT_ID(N'[we"ird; tab''le [x]]]') AND c.is_nullable = 1 AND c.name IN (N'quo"te', N'semi;colon');
SET @sql = N'CREATE UNIQUE INDEX [ix "we;ird''s]] u] ON [we"ird; tab''le [x]]] ([quo"te], [semi;colon])' + ISNULL(N' WHERE ' + @filter, N'');
EXEC sp_executesql @sql
GO
-- Inserting rows into 'pa'rent; select'
IF EXISTS (SELECT 1 FROM sys.identity_columns AS c WHERE c.object_id = OBJECT_ID(N'[pa''rent; select]') AND c.name IN (N'id')) SET IDENTITY_INSERT [pa'rent; select] ON
GO
-- executed as: INSERT INTO [pa'rent; select] (id) VALUES (?)
-- with one parameter set per row (executemany)
INSERT INTO [pa'rent; select] (id) VALUES (1)
GO
IF EXISTS (SELECT 1 FROM sys.identity_columns AS c WHERE c.object_id = OBJECT_ID(N'[pa''rent; select]') AND c.name IN (N'id')) SET IDENTITY_INSERT [pa'rent; select] OFF
GO
-- Inserting rows into 'we"ird; tab'le [x]'
IF EXISTS (SELECT 1 FROM sys.identity_columns AS c WHERE c.object_id = OBJECT_ID(N'[we"ird; tab''le [x]]]') AND c.name IN (N'id', N'parent_id', N'sel ect', N'order', N'Mixed]Case', N'quo"te', N'semi;colon', N'apos''trophe')) SET IDENTITY_INSERT [we"ird; tab'le [x]]] ON
GO
-- executed as: INSERT INTO [we"ird; tab'le [x]]] (id, parent_id, [sel ect], [order], [Mixed]]Case], [quo"te], [semi;colon], [apos'trophe]) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
-- with one parameter set per row (executemany)
INSERT INTO [we"ird; tab'le [x]]] (id, parent_id, [sel ect], [order], [Mixed]]Case], [quo"te], [semi;colon], [apos'trophe]) VALUES (1, 1, N'sel ect ''v''; 1', N'order ''v''; 1', N'Mixed]Case ''v''; 1', N'quo"te ''v''; 1', N'semi;colon ''v''; 1', N'apos''trophe ''v''; 1')
GO
IF EXISTS (SELECT 1 FROM sys.identity_columns AS c WHERE c.object_id = OBJECT_ID(N'[we"ird; tab''le [x]]]') AND c.name IN (N'id', N'parent_id', N'sel ect', N'order', N'Mixed]Case', N'quo"te', N'semi;colon', N'apos''trophe')) SET IDENTITY_INSERT [we"ird; tab'le [x]]] OFF
GO
-- Adding column 'group'
ALTER TABLE [we"ird; tab'le [x]]] ADD [group] INTEGER NULL DEFAULT 1
GO
-- Altering column 'apos'trophe' of 'we"ird; tab'le [x]'
DECLARE @table int = OBJECT_ID(N'[we"ird; tab''le [x]]]'), @column int, @nullable bit, @type sysname, @length smallint, @collation sysname, @default sysname, @definition nvarchar(max), @rebuild bit, @sql nvarchar(max);
DECLARE @indexes TABLE (name sysname NOT NULL, is_constraint bit NOT NULL, is_clustered bit NOT NULL, ddl nvarchar(max) NOT NULL);
SELECT @column = c.column_id, @nullable = c.is_nullable, @type = TYPE_NAME(c.system_type_id), @length = c.max_length, @collation = c.collation_name
FROM sys.columns AS c
WHERE c.object_id = @table AND c.name = N'apos''trophe';
SELECT @default = d.name, @definition = d.definition
FROM sys.default_constraints AS d
WHERE d.parent_object_id = @table AND d.parent_column_id = @column;
SET @sql = CASE WHEN @default IS NOT NULL THEN N'ALTER TABLE [we"ird; tab''le [x]]] DROP CONSTRAINT ' + QUOTENAME(@default) END;
IF @sql IS NOT NULL EXEC sp_executesql @sql;
SET @rebuild = CASE WHEN @type = N'nvarchar' AND @length BETWEEN 0 AND 160 AND @nullable = 0 THEN 0 ELSE 1 END;
INSERT INTO @indexes (name, is_constraint, is_clustered, ddl)
SELECT i.name, i.is_unique_constraint, CASE WHEN i.type = 1 THEN 1 ELSE 0 END,
    CASE WHEN i.is_unique_constraint = 1
        THEN N'ALTER TABLE [we"ird; tab''le [x]]] ADD CONSTRAINT ' + QUOTENAME(i.name) + N' UNIQUE' + CASE WHEN i.type = 1 THEN N' CLUSTERED' ELSE N' NONCLUSTERED' END
        ELSE N'CREATE' + CASE WHEN i.is_unique = 1 THEN N' UNIQUE' ELSE N'' END + CASE WHEN i.type = 1 THEN N' CLUSTERED' ELSE N' NONCLUSTERED' END
            + N' INDEX ' + QUOTENAME(i.name) + N' ON [we"ird; tab''le [x]]]'
    END
    + N' (' + (SELECT STRING_AGG(CAST(QUOTENAME(c.name) + CASE WHEN k.is_descending_key = 1 THEN N' DESC' ELSE N'' END AS nvarchar(max)), N', ') WITHIN GROUP (ORDER BY k.key_ordinal)
         FROM sys.index_columns AS k
         JOIN sys.columns AS c ON c.object_id = k.object_id AND c.column_id = k.column_id
         WHERE k.object_id = i.object_id AND k.index_id = i.index_id AND k.key_ordinal > 0) + N')'
    + ISNULL(N' INCLUDE (' + (SELECT STRING_AGG(CAST(QUOTENAME(c.name) AS nvarchar(max)), N', ') WITHIN GROUP (ORDER BY k.index_column_id)
         FROM sys.index_columns AS k
         JOIN sys.columns AS c ON c.object_id = k.object_id AND c.column_id = k.column_id
         WHERE k.object_id = i.object_id AND k.index_id = i.index_id AND k.is_included_column = 1) + N')', N'')
    + ISNULL(N' WHERE ' + i.filter_definition, N'')
FROM sys.indexes AS i
WHERE @rebuild = 1 AND i.object_id = @table AND i.is_primary_key = 0 AND i.type IN (1, 2) AND i.is_hypothetical = 0
    AND (EXISTS (SELECT 1 FROM sys.index_columns AS k WHERE k.object_id = i.object_id AND k.index_id = i.index_id AND k.column_id = @column)
        OR (i.has_filter = 1 AND CHARINDEX(QUOTENAME(N'apos''trophe'), i.filter_definition) > 0));
SELECT @sql = STRING_AGG(CAST(CASE WHEN is_constraint = 1
        THEN N'ALTER TABLE [we"ird; tab''le [x]]] DROP CONSTRAINT ' + QUOTENAME(name)
        ELSE N'DROP INDEX ' + QUOTENAME(name) + N' ON [we"ird; tab''le [x]]]' END AS nvarchar(max)), N'; ')
    WITHIN GROUP (ORDER BY is_clustered, name)
FROM @indexes;
IF @sql IS NOT NULL EXEC sp_executesql @sql;
SET @sql = N'ALTER TABLE [we"ird; tab''le [x]]] ALTER COLUMN [apos''trophe] NVARCHAR(80)' + ISNULL(N' COLLATE ' + @collation, N'') + N' NOT NULL';
EXEC sp_executesql @sql;
SELECT @sql = STRING_AGG(CAST(ddl AS nvarchar(max)), N'; ') WITHIN GROUP (ORDER BY is_clustered DESC, name)
FROM @indexes;
IF @sql IS NOT NULL EXEC sp_executesql @sql
GO
ALTER TABLE [we"ird; tab'le [x]]] ADD CONSTRAINT [DF_we"ird; tab'le [x]]_apos'trophe] DEFAULT N'it''s; [x]' FOR [apos'trophe]
GO
-- Altering column 'quo"te' of 'we"ird; tab'le [x]'
DECLARE @table int = OBJECT_ID(N'[we"ird; tab''le [x]]]'), @column int, @nullable bit, @type sysname, @length smallint, @collation sysname, @default sysname, @definition nvarchar(max), @rebuild bit, @sql nvarchar(max);
DECLARE @indexes TABLE (name sysname NOT NULL, is_constraint bit NOT NULL, is_clustered bit NOT NULL, ddl nvarchar(max) NOT NULL);
SELECT @column = c.column_id, @nullable = c.is_nullable, @type = TYPE_NAME(c.system_type_id), @length = c.max_length, @collation = c.collation_name
FROM sys.columns AS c
WHERE c.object_id = @table AND c.name = N'quo"te';
SELECT @default = d.name, @definition = d.definition
FROM sys.default_constraints AS d
WHERE d.parent_object_id = @table AND d.parent_column_id = @column;
SET @sql = CASE WHEN @default IS NOT NULL THEN N'ALTER TABLE [we"ird; tab''le [x]]] DROP CONSTRAINT ' + QUOTENAME(@default) END;
IF @sql IS NOT NULL EXEC sp_executesql @sql;
SET @rebuild = CASE WHEN @nullable = 0 THEN 0 ELSE 1 END;
INSERT INTO @indexes (name, is_constraint, is_clustered, ddl)
SELECT i.name, i.is_unique_constraint, CASE WHEN i.type = 1 THEN 1 ELSE 0 END,
    CASE WHEN i.is_unique_constraint = 1
        THEN N'ALTER TABLE [we"ird; tab''le [x]]] ADD CONSTRAINT ' + QUOTENAME(i.name) + N' UNIQUE' + CASE WHEN i.type = 1 THEN N' CLUSTERED' ELSE N' NONCLUSTERED' END
        ELSE N'CREATE' + CASE WHEN i.is_unique = 1 THEN N' UNIQUE' ELSE N'' END + CASE WHEN i.type = 1 THEN N' CLUSTERED' ELSE N' NONCLUSTERED' END
            + N' INDEX ' + QUOTENAME(i.name) + N' ON [we"ird; tab''le [x]]]'
    END
    + N' (' + (SELECT STRING_AGG(CAST(QUOTENAME(c.name) + CASE WHEN k.is_descending_key = 1 THEN N' DESC' ELSE N'' END AS nvarchar(max)), N', ') WITHIN GROUP (ORDER BY k.key_ordinal)
         FROM sys.index_columns AS k
         JOIN sys.columns AS c ON c.object_id = k.object_id AND c.column_id = k.column_id
         WHERE k.object_id = i.object_id AND k.index_id = i.index_id AND k.key_ordinal > 0) + N')'
    + ISNULL(N' INCLUDE (' + (SELECT STRING_AGG(CAST(QUOTENAME(c.name) AS nvarchar(max)), N', ') WITHIN GROUP (ORDER BY k.index_column_id)
         FROM sys.index_columns AS k
         JOIN sys.columns AS c ON c.object_id = k.object_id AND c.column_id = k.column_id
         WHERE k.object_id = i.object_id AND k.index_id = i.index_id AND k.is_included_column = 1) + N')', N'')
    + ISNULL(N' WHERE ' + i.filter_definition, N'')
FROM sys.indexes AS i
WHERE @rebuild = 1 AND i.object_id = @table AND i.is_primary_key = 0 AND i.type IN (1, 2) AND i.is_hypothetical = 0
    AND (EXISTS (SELECT 1 FROM sys.index_columns AS k WHERE k.object_id = i.object_id AND k.index_id = i.index_id AND k.column_id = @column)
        OR (i.has_filter = 1 AND CHARINDEX(QUOTENAME(N'quo"te'), i.filter_definition) > 0));
SELECT @sql = STRING_AGG(CAST(CASE WHEN is_constraint = 1
        THEN N'ALTER TABLE [we"ird; tab''le [x]]] DROP CONSTRAINT ' + QUOTENAME(name)
        ELSE N'DROP INDEX ' + QUOTENAME(name) + N' ON [we"ird; tab''le [x]]]' END AS nvarchar(max)), N'; ')
    WITHIN GROUP (ORDER BY is_clustered, name)
FROM @indexes;
IF @sql IS NOT NULL EXEC sp_executesql @sql;
SET @sql = N'ALTER TABLE [we"ird; tab''le [x]]] ALTER COLUMN [quo"te] NVARCHAR(40)' + ISNULL(N' COLLATE ' + @collation, N'') + N' NOT NULL';
EXEC sp_executesql @sql;
SELECT @sql = STRING_AGG(CAST(ddl AS nvarchar(max)), N'; ') WITHIN GROUP (ORDER BY is_clustered DESC, name)
FROM @indexes;
IF @sql IS NOT NULL EXEC sp_executesql @sql;
SET @sql = CASE WHEN @default IS NOT NULL THEN N'ALTER TABLE [we"ird; tab''le [x]]] ADD CONSTRAINT ' + QUOTENAME(@default) + N' DEFAULT ' + @definition + N' FOR [quo"te]' END;
IF @sql IS NOT NULL EXEC sp_executesql @sql
GO
-- Renaming column 'sel ect' to 'new "name;'
-- executed as: EXEC sp_rename @objname = ?, @newname = ?, @objtype = 'COLUMN'
-- with parameters: ('[we"ird; tab\'le [x]]].[sel ect]', 'new "name;')
EXEC sp_rename @objname = N'[we"ird; tab''le [x]]].[sel ect]', @newname = N'new "name;', @objtype = 'COLUMN'
GO
-- Renaming table 'we"ird; tab'le [x]' to 're]named; "t"'
-- executed as: EXEC sp_rename @objname = ?, @newname = ?
-- with parameters: ('[we"ird; tab\'le [x]]]', 're]named; "t"')
EXEC sp_rename @objname = N'[we"ird; tab''le [x]]]', @newname = N're]named; "t"'
GO
-- executed as: EXEC sp_rename @objname = ?, @newname = ?
-- with parameters: ('[sch\'ema ]]].[we"ird; tab\'le [x]]]', 're]named; "t"')
EXEC sp_rename @objname = N'[sch''ema ]]].[we"ird; tab''le [x]]]', @newname = N're]named; "t"'
GO
-- Adding primary key 'pk ]p['
ALTER TABLE [pa'rent; select] ADD CONSTRAINT [pk ]]p[] PRIMARY KEY (id)
GO
-- Adding foreign key 'fk x;y's [1]2'
ALTER TABLE [re]]named; "t"] ADD CONSTRAINT [fk x;y's [1]]2] FOREIGN KEY(parent_id) REFERENCES [pa'rent; select] (id)
GO
-- Adding unique constraint 'uq u;v's2'
ALTER TABLE [re]]named; "t"] ADD CONSTRAINT [uq u;v's2] UNIQUE ([semi;colon])
GO
-- Adding check constraint 'ck 'c'; d2'
ALTER TABLE [re]]named; "t"] ADD CONSTRAINT [ck 'c'; d2] CHECK ([group] >= 0)
GO
-- Dropping constraint 'ck 'c'; d2'
ALTER TABLE [re]]named; "t"] DROP CONSTRAINT [ck 'c'; d2]
GO
-- Dropping index 'ix "we;ird's]'
DROP INDEX [ix "we;ird's]]] ON [re]]named; "t"]
GO
-- Dropping column 'group'
DECLARE @default sysname, @sql nvarchar(max);
SELECT @default = d.name
FROM sys.default_constraints AS d
WHERE d.parent_object_id = OBJECT_ID(N'[re]]named; "t"]')
    AND d.parent_column_id = COLUMNPROPERTY(OBJECT_ID(N'[re]]named; "t"]'), N'group', 'ColumnId');
SET @sql = CASE WHEN @default IS NOT NULL THEN N'ALTER TABLE [re]]named; "t"] DROP CONSTRAINT ' + QUOTENAME(@default) END;
IF @sql IS NOT NULL EXEC sp_executesql @sql
GO
ALTER TABLE [re]]named; "t"] DROP COLUMN [group]
GO
-- Executing SQL: DELETE FROM [pa'rent; select] WHERE id = 2; SELECT 1
DELETE FROM [pa'rent; select] WHERE id = 2
GO
SELECT 1
GO
-- Dropping table 're]named; "t"'
DROP TABLE [sch'ema ]]].[re]]named; "t"]
GO
DROP TABLE [re]]named; "t"]
GO
-- Dropping table 'pa'rent; select'
DROP TABLE [pa'rent; select]
GO
-- Dropping schema 'sch'ema ]'
DROP SCHEMA [sch'ema ]]]
GO

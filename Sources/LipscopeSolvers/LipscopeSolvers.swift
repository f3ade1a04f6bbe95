// The solver layer: conic problems, file formats and backends (see README).

"""Operations that lose no data: backup and restore, stored-file checks, a province's export and erasure."""

/** The PostgreSQL connection pool (`pgPoolSettings` in src/config.ts says what each means); `recycleSeconds` 0: never. */
export interface PgPoolSettings {
  size: number;
  overflow: number;
  timeoutSeconds: number;
  recycleSeconds: number;
}

export const DEFAULT_PG_POOL: PgPoolSettings = { size: 2, overflow: 8, timeoutSeconds: 30, recycleSeconds: 1800 };

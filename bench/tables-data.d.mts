import type { Table } from 'apache-arrow';

/** See tables-data.mjs. */
export function buildArrowTable(rows: number): Table;
export const MEMORY_ROWS: number;

/**
 * What a query answers, the same from both engines (Athena and the local DuckDB): the column
 * names and the rows, each cell a string, a number or null. And how the CLI shows it.
 */

export type Cell = string | number | null;

export interface QueryResult {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

/** A cell longer than this is cut in the text table (--json gives it whole). */
export const MAX_CELL_WIDTH = 60;

/** One cell as the text table shows it: null as an empty cell, newlines as ⏎, long text cut with an ellipsis. */
export function cellText(cell: Cell, maxWidth = MAX_CELL_WIDTH): string {
  if (cell === null) return '';
  const text = String(cell).replace(/\r?\n/g, '⏎').replace(/\t/g, ' ');
  return text.length > maxWidth ? `${text.slice(0, maxWidth - 1)}…` : text;
}

/**
 * The result as an aligned text table: a header, a rule, the rows (numbers right-aligned),
 * then the row count. A result without columns (a DDL statement) says so.
 */
export function formatTable(result: QueryResult, maxWidth = MAX_CELL_WIDTH): string {
  if (result.columns.length === 0) return '(no result set)\n';
  const cells = result.rows.map((row) => row.map((cell) => cellText(cell, maxWidth)));
  const header = result.columns.map((c) => cellText(c, maxWidth));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const numeric = result.columns.map(
    (_, i) => result.rows.length > 0 && result.rows.every((row) => row[i] === null || typeof row[i] === 'number'),
  );
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  const count = result.rows.length;
  return `${out.join('\n')}\n(${count} row${count === 1 ? '' : 's'})\n`;
}

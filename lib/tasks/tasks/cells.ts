// Named grid cells ("a1": column letter from the left, row number from the top) for the tasks
// whose answers are sets of cells (paper-fold, spot-diff): naming, canonical order, lenient
// parsing of an answer, and the column/row labels drawn beside a grid.
import { GLYPH_HEIGHT, GLYPH_WIDTH, type Canvas, type RGB } from '../canvas.ts';

export const COLUMN_LETTERS = 'abcdefgh';

/** Pixel scale of labels and strokes: 1 at the default 64 px, growing with the image. */
export const pixelScale = (size: number): number => Math.max(1, Math.floor(size / 64));

/** `column` and `row` count from 0 (left, top); names count rows from 1. */
export const cellName = (column: number, row: number): string => `${COLUMN_LETTERS[column]}${row + 1}`;

/** Every cell name of a `columns` x `rows` grid, for vocabularies. */
export const allCellNames = (columns: number, rows: number): string[] =>
  Array.from({ length: columns * rows }, (_, i) => cellName(Math.floor(i / rows), i % rows));

/** Canonical order: by column letter, then row number ("a1 a3 b2"). */
export const sortCellNames = (names: Iterable<string>): string[] =>
  [...names].sort((a, b) => (a[0] === b[0] ? Number(a.slice(1)) - Number(b.slice(1)) : a < b ? -1 : 1));

/** "column c" or "columns c to e"; "row 2" or "rows 1 to 5" (lo and hi count from 0, inclusive). */
export function spanText(axis: 'column' | 'row', lo: number, hi: number): string {
  const name = (i: number) => (axis === 'column' ? COLUMN_LETTERS[i] : String(i + 1));
  return lo === hi ? `${axis} ${name(lo)}` : `${axis}s ${name(lo)} to ${name(hi)}`;
}

/** The cells named in `text` (separated by spaces or commas, any case, any order), or null when a
 * word is not a cell of the grid or a cell is named twice. */
export function parseCellNames(text: string, columns: number, rows: number): Set<string> | null {
  const words = text.toLowerCase().replace(/\.\s*$/, '').split(/[\s,]+/).filter((word) => word.length > 0);
  const cells = new Set<string>();
  for (const word of words) {
    const match = /^([a-h])([1-9])$/.exec(word);
    if (!match || COLUMN_LETTERS.indexOf(match[1]) >= columns || Number(match[2]) > rows || cells.has(word)) return null;
    cells.add(word);
  }
  return cells;
}

export const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean =>
  a.size === b.size && [...a].every((item) => b.has(item));

/** Column letters above and row numbers left of a grid whose top-left corner is (x, y). */
export function drawCellLabels(
  canvas: Canvas, x: number, y: number, cell: number, labels: { columns: number; rows: number }, color: RGB, scale: number,
): void {
  for (let column = 0; column < labels.columns; column++) {
    canvas.text(x + column * cell + Math.floor((cell - GLYPH_WIDTH * scale) / 2), y - (GLYPH_HEIGHT + 1) * scale, COLUMN_LETTERS[column], color, scale);
  }
  for (let row = 0; row < labels.rows; row++) {
    canvas.text(x - (GLYPH_WIDTH + 1) * scale, y + row * cell + Math.floor((cell - GLYPH_HEIGHT * scale) / 2), String(row + 1), color, scale);
  }
}

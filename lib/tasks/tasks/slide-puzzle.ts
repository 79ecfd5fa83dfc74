// slide-puzzle: a 3x3 sliding puzzle (tiles 1-8 and one empty cell) and a list of moves of the
// empty cell; the question is which tile is in a given cell at the end. A move "up" means the tile
// above the empty cell slides down into it. Moves are always legal and never undo the move before.
// The step text names only the direction, so the board itself lives in the step images.
import { Canvas, COLORS, GLYPH_HEIGHT, GLYPH_WIDTH } from '../canvas.ts';
import { Rng } from '../random.ts';
import type { Example, GenerateOptions, Image, Task } from '../types.ts';

const SIDE = 3;
const EMPTY = 0;
const TILE_FILL = COLORS.lightBlue;
const TILE_BORDER = COLORS.darkGray;
const DIGIT_COLOR = COLORS.black;

/** Row-major cells, EMPTY for the empty cell. */
type Board = readonly number[];

type Direction = 'up' | 'down' | 'left' | 'right';
const DIRECTIONS: readonly Direction[] = ['up', 'down', 'left', 'right'];
const STEP: Record<Direction, readonly [number, number]> = { up: [-1, 0], down: [1, 0], left: [0, -1], right: [0, 1] };
const OPPOSITE: Record<Direction, Direction> = { up: 'down', down: 'up', left: 'right', right: 'left' };

/** The cell the empty cell moves to, or -1 when that would leave the board. */
function targetCell(board: Board, direction: Direction): number {
  const empty = board.indexOf(EMPTY);
  const row = Math.floor(empty / SIDE) + STEP[direction][0], column = (empty % SIDE) + STEP[direction][1];
  return row < 0 || row >= SIDE || column < 0 || column >= SIDE ? -1 : row * SIDE + column;
}

/** The board after the empty cell moves one cell (the tile there slides into the gap). */
function slide(board: Board, direction: Direction): number[] {
  const target = targetCell(board, direction);
  if (target < 0) throw new RangeError(`slide-puzzle: the empty cell cannot move ${direction}`);
  const next = board.slice();
  next[board.indexOf(EMPTY)] = board[target];
  next[target] = EMPTY;
  return next;
}

function randomMoves(rng: Rng, start: Board, moveCount: number): Direction[] {
  const moves: Direction[] = [];
  let board = start;
  while (moves.length < moveCount) {
    const previous = moves[moves.length - 1];
    const legal = DIRECTIONS.filter((direction) => targetCell(board, direction) >= 0 && (previous === undefined || direction !== OPPOSITE[previous]));
    const direction = rng.pick(legal);
    moves.push(direction);
    board = slide(board, direction);
  }
  return moves;
}

function render(board: Board, size: number): Image {
  const canvas = new Canvas(size, size);
  const unit = size / 64;
  const margin = Math.max(1, Math.round(2 * unit));
  const cell = Math.floor((size - 2 * margin) / SIDE);
  const origin = Math.floor((size - SIDE * cell) / 2);
  const border = Math.max(1, Math.round(unit));
  const digitScale = Math.max(1, Math.round(2 * unit));
  canvas.strokeRect(origin - border, origin - border, SIDE * cell + 2 * border, SIDE * cell + 2 * border, TILE_BORDER, border);
  board.forEach((tile, index) => {
    if (tile === EMPTY) return;
    const x = origin + (index % SIDE) * cell, y = origin + Math.floor(index / SIDE) * cell;
    canvas.fillRect(x, y, cell, cell, TILE_FILL);
    canvas.strokeRect(x, y, cell, cell, TILE_BORDER, border);
    canvas.text(x + Math.floor((cell - GLYPH_WIDTH * digitScale) / 2), y + Math.floor((cell - GLYPH_HEIGHT * digitScale) / 2), String(tile), DIGIT_COLOR, digitScale);
  });
  return canvas.toImage();
}

const ROW_NAMES = ['top', 'middle', 'bottom'] as const;
const tileWord = (tile: number): string => (tile === EMPTY ? 'empty' : String(tile));
const rowsOf = (board: Board): string[] => ROW_NAMES.map((_, row) => board.slice(row * SIDE, row * SIDE + SIDE).map(tileWord).join(' '));

function caption(board: Board): string {
  return `a 3 by 3 sliding puzzle with tiles 1 to 8 and one empty cell . `
    + ROW_NAMES.map((name, row) => `${name} row : ${board.slice(row * SIDE, row * SIDE + SIDE).map(tileWord).join(' , ')} .`).join(' ');
}

/** Reads `5`, `tile 5`, `0`, `empty` or `blank`: the tile number, 0 for the empty cell. */
function parseTile(text: string): number | null {
  const tokens = (text.toLowerCase().match(/[a-z]+|[0-9]+|-/g) ?? []).filter((token) => token !== 'tile');
  if (tokens.length !== 1) return null; // a minus sign counts as a token, so "-1" is not 1
  if (tokens[0] === 'empty' || tokens[0] === 'blank' || tokens[0] === 'none') return EMPTY;
  return /^[0-8]$/.test(tokens[0]) ? Number(tokens[0]) : null;
}

function generate(seed: number, level: number, options: GenerateOptions = {}): Example {
  const moveCount = level;
  if (!Number.isInteger(moveCount) || moveCount < 1 || moveCount > 20) {
    throw new RangeError(`slide-puzzle: level is the number of moves, 1..20; got ${level}`);
  }
  const size = options.size ?? 64;
  const rng = new Rng(seed);
  const start = rng.shuffle([EMPTY, 1, 2, 3, 4, 5, 6, 7, 8]);
  const moves = randomMoves(rng, start, moveCount);
  const boards: Board[] = [start];
  for (const direction of moves) boards.push(slide(boards[boards.length - 1], direction));
  const final = boards[moveCount];

  // Mostly ask about a cell the moves changed, so the answer needs the moves, not just the input.
  const changed = final.map((_, cell) => cell).filter((cell) => final[cell] !== start[cell]);
  const queried = changed.length > 0 && rng.bool(0.75) ? rng.pick(changed) : rng.int(0, SIDE * SIDE - 1);
  const row = Math.floor(queried / SIDE) + 1, column = (queried % SIDE) + 1;

  return {
    taskId: slidePuzzle.id,
    seed,
    level,
    question: `the empty cell moves ${moves.join(' , then ')} . each time , the tile it moves to slides into the gap . `
      + `which tile is in row ${row} , column ${column} at the end ? rows count from the top and columns from the left . `
      + `answer with the tile number , or 0 if the cell is empty .`,
    image: render(start, size),
    caption: caption(start),
    steps: moves.map((direction, i) => ({
      text: `the empty cell moves ${direction} .`,
      image: render(boards[i + 1], size),
      caption: caption(boards[i + 1]),
    })),
    answer: String(final[queried]),
    verify: (answerText: string) => parseTile(answerText) === final[queried],
    stepDescriptions: moves.map((direction, i) => {
      const movedTile = boards[i][targetCell(boards[i], direction)];
      return `${movedTile} slides ${OPPOSITE[direction]} , and the rows read ${rowsOf(boards[i + 1]).join(' , ')} .`;
    }),
  };
}

const VOCABULARY: readonly string[] = [
  ...'0123456789', '.', ',', '?', ':', ...DIRECTIONS, ...ROW_NAMES,
  ...'the empty cell moves then each time tile it to slides into gap which is in row column at end rows count from and columns answer with number or if a by sliding puzzle tiles one read'.split(' '),
];

export const slidePuzzle: Task = {
  id: 'slide-puzzle',
  description: '3x3 sliding puzzle and moves of the empty cell; which tile ends in a given cell (level = number of moves)',
  levels: { train: [2, 3, 4], ood: [6, 7, 8] },
  generate,
  vocabulary: () => VOCABULARY,
};

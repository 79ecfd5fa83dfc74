// Shared machinery of the four grid-world tasks (maze-final, maze-plan, lake-outcome, lake-plan):
// the worlds (a perfect maze, a FrozenLake grid), moving an agent through them, searching and
// random walks, the renderer, and the text pieces (move parsing, cell names, captions).
// Cells are indices `row * size + col`; text always names them 1-based ("row 2 column 3").
import { Canvas, COLORS, GLYPH_HEIGHT, GLYPH_WIDTH, type RGB } from '../canvas.ts';
import type { Rng } from '../random.ts';
import type { Image, Step } from '../types.ts';

export type Move = 'up' | 'down' | 'left' | 'right';
export const MOVES: readonly Move[] = ['up', 'down', 'left', 'right'];

const ROW_DELTA: Record<Move, number> = { up: -1, down: 1, left: 0, right: 0 };
const COL_DELTA: Record<Move, number> = { up: 0, down: 0, left: -1, right: 1 };
export const OPPOSITE: Record<Move, Move> = { up: 'down', down: 'up', left: 'right', right: 'left' };
const MOVE_BIT: Record<Move, number> = { up: 1, down: 2, left: 4, right: 8 };

/** Largest grid side: coordinates are written as single digits. */
export const MAX_GRID_SIZE = 9;

/** The neighbouring cell in direction `move`, or null off the grid. */
export function neighbour(size: number, cell: number, move: Move): number | null {
  const row = Math.floor(cell / size) + ROW_DELTA[move];
  const col = (cell % size) + COL_DELTA[move];
  return row < 0 || col < 0 || row >= size || col >= size ? null : row * size + col;
}

export interface GridWorld {
  readonly size: number;
  /** The cell `move` takes the agent to from `cell`: null when a wall blocks it (a plan that
   * tries it is invalid); `cell` itself when the world keeps the agent in place instead. */
  step(cell: number, move: Move): number | null;
}

// ---------------------------------------------------------------------------------------------
// Worlds

/** A perfect maze: every pair of cells is joined by exactly one path (a spanning tree). */
export class Maze implements GridWorld {
  /** per cell, a bit set of the directions with a passage (MOVE_BIT) */
  private readonly openings: Uint8Array;

  private constructor(readonly size: number, openings: Uint8Array) {
    this.openings = openings;
  }

  /** Randomized depth-first search (recursive backtracker, iterative): carves a spanning tree. */
  static generate(rng: Rng, size: number): Maze {
    const openings = new Uint8Array(size * size);
    const visited = new Uint8Array(size * size);
    const stack = [rng.int(0, size * size - 1)];
    visited[stack[0]] = 1;
    while (stack.length > 0) {
      const cell = stack[stack.length - 1];
      const unvisited = MOVES.filter((move) => {
        const next = neighbour(size, cell, move);
        return next !== null && !visited[next];
      });
      if (unvisited.length === 0) { stack.pop(); continue; }
      const move = rng.pick(unvisited);
      const next = neighbour(size, cell, move)!;
      openings[cell] |= MOVE_BIT[move];
      openings[next] |= MOVE_BIT[OPPOSITE[move]];
      visited[next] = 1;
      stack.push(next);
    }
    return new Maze(size, openings);
  }

  isOpen(cell: number, move: Move): boolean {
    return (this.openings[cell] & MOVE_BIT[move]) !== 0;
  }

  openMoves(cell: number): Move[] {
    return MOVES.filter((move) => this.isOpen(cell, move));
  }

  step(cell: number, move: Move): number | null {
    return this.isOpen(cell, move) ? neighbour(this.size, cell, move) : null;
  }
}

/** A FrozenLake grid: ice, holes, a start and a goal; a move off the edge keeps the agent in place. */
export class Lake implements GridWorld {
  private constructor(
    readonly size: number,
    private readonly holeMask: Uint8Array,
    readonly start: number,
    readonly goal: number,
  ) {}

  /** Random start, goal at least size-1 steps away (Manhattan), about a fifth of the cells holes;
   * redrawn until the goal can be reached from the start without a hole. */
  static generate(rng: Rng, size: number): Lake {
    const cellCount = size * size;
    const minHoles = Math.round(cellCount * 0.15), maxHoles = Math.round(cellCount * 0.25);
    for (;;) {
      const start = rng.int(0, cellCount - 1);
      const goal = rng.int(0, cellCount - 1);
      if (manhattan(size, start, goal) < size - 1) continue;
      const free = rng.shuffle(cellsOf(size).filter((cell) => cell !== start && cell !== goal));
      const holeMask = new Uint8Array(cellCount);
      for (const cell of free.slice(0, rng.int(minHoles, maxHoles))) holeMask[cell] = 1;
      const lake = new Lake(size, holeMask, start, goal);
      if (lake.safeRouteToGoal(start) !== null) return lake;
    }
  }

  isHole(cell: number): boolean {
    return this.holeMask[cell] === 1;
  }

  holes(): number[] {
    return cellsOf(this.size).filter((cell) => this.isHole(cell));
  }

  /** The walk ends in a hole or at the goal. */
  isTerminal(cell: number): boolean {
    return cell === this.goal || this.isHole(cell);
  }

  step(cell: number, move: Move): number {
    return neighbour(this.size, cell, move) ?? cell;
  }

  /** Shortest moves from `from` to the goal over ice, or null when the holes cut it off. */
  safeRouteToGoal(from: number): Move[] | null {
    return breadthFirst(this, from, (cell) => !this.isHole(cell)).movesTo(this.goal);
  }
}

function manhattan(size: number, a: number, b: number): number {
  return Math.abs(Math.floor(a / size) - Math.floor(b / size)) + Math.abs((a % size) - (b % size));
}

function cellsOf(size: number): number[] {
  return Array.from({ length: size * size }, (_, cell) => cell);
}

// ---------------------------------------------------------------------------------------------
// Moving, searching, walking

export type WalkOutcome = 'done' | 'blocked' | 'ended-early';

export interface Walk {
  /** the agent's cell after each executed move; positions[0] is the start */
  readonly positions: readonly number[];
  /** 'blocked': a wall stopped a move; 'ended-early': a terminal cell was entered before the last move */
  readonly outcome: WalkOutcome;
}

export function walk(world: GridWorld, start: number, moves: readonly Move[], isTerminal: (cell: number) => boolean = () => false): Walk {
  const positions = [start];
  let cell = start;
  for (let i = 0; i < moves.length; i++) {
    const next = world.step(cell, moves[i]);
    if (next === null) return { positions, outcome: 'blocked' };
    positions.push(next);
    cell = next;
    if (isTerminal(cell) && i < moves.length - 1) return { positions, outcome: 'ended-early' };
  }
  return { positions, outcome: 'done' };
}

/** A plan succeeds when every move is legal, no hazard is entered, and the goal is reached by the
 * last move (the walk ends at the goal, so moves after it make the plan wrong). */
export function planReachesGoal(world: GridWorld, start: number, goal: number, moves: readonly Move[], isHazard: (cell: number) => boolean = () => false): boolean {
  const result = walk(world, start, moves, (cell) => cell === goal || isHazard(cell));
  const end = result.positions[result.positions.length - 1];
  return result.outcome === 'done' && end === goal && !isHazard(end);
}

export interface Search {
  /** number of moves from the search origin, -1 where unreachable */
  distance(cell: number): number;
  /** a shortest move list to `cell`, or null when unreachable */
  movesTo(cell: number): Move[] | null;
}

/** Breadth-first search from `from`, entering only cells `canEnter` allows (staying put is no move). */
export function breadthFirst(world: GridWorld, from: number, canEnter: (cell: number) => boolean): Search {
  const cellCount = world.size * world.size;
  const distance = new Int16Array(cellCount).fill(-1);
  const arrivedBy = new Int8Array(cellCount).fill(-1);
  const parent = new Int16Array(cellCount).fill(-1);
  distance[from] = 0;
  const queue = [from];
  for (let head = 0; head < queue.length; head++) {
    const cell = queue[head];
    MOVES.forEach((move, moveIndex) => {
      const next = world.step(cell, move);
      if (next === null || next === cell || distance[next] !== -1 || !canEnter(next)) return;
      distance[next] = distance[cell] + 1;
      arrivedBy[next] = moveIndex;
      parent[next] = cell;
      queue.push(next);
    });
  }
  return {
    distance: (cell) => distance[cell],
    movesTo: (cell) => {
      if (distance[cell] === -1) return null;
      const moves: Move[] = [];
      for (let at = cell; at !== from; at = parent[at]) moves.push(MOVES[arrivedBy[at]]);
      return moves.reverse();
    },
  };
}

/** Up to `length` random moves from `start`, each one `isAllowed` accepts; it turns back only when
 * nothing else is allowed (so the walk goes somewhere), and stops early when stuck. */
export function randomWalk(
  rng: Rng, world: GridWorld, start: number, length: number,
  isAllowed: (from: number, move: Move, to: number, previous: Move | null) => boolean,
): Move[] {
  const moves: Move[] = [];
  let cell = start;
  let previous: Move | null = null;
  while (moves.length < length) {
    const allowed = MOVES.filter((move) => {
      const to = world.step(cell, move);
      return to !== null && isAllowed(cell, move, to, previous);
    });
    if (allowed.length === 0) break;
    const forward = allowed.filter((move) => previous === null || move !== OPPOSITE[previous]);
    const move = rng.pick(forward.length > 0 ? forward : allowed);
    moves.push(move);
    cell = world.step(cell, move)!;
    previous = move;
  }
  return moves;
}

// ---------------------------------------------------------------------------------------------
// Text

/** Move words from free text, tolerant of case, commas, periods and extra spaces; null when
 * anything else is in it or it is empty. */
export function parseMoves(text: string): Move[] | null {
  const words = text.toLowerCase().split(/[\s,.;]+/).filter((word) => word.length > 0);
  if (words.length === 0) return null;
  return words.every((word): word is Move => (MOVES as readonly string[]).includes(word)) ? words : null;
}

/** A multiple-choice answer reduced to its letter: `B`, `(b)`, `b.`, ` b ` all give `b`. */
export function normaliseChoice(text: string): string {
  return text.toLowerCase().replace(/[^a-z]/g, '');
}

export function cellName(size: number, cell: number): string {
  return `row ${Math.floor(cell / size) + 1} column ${(cell % size) + 1}`;
}

export function cellList(size: number, cells: readonly number[]): string {
  return cells.map((cell) => cellName(size, cell)).join(' , ');
}

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

/** "one cell", "three cells". */
function cellsPhrase(count: number): string {
  return `${NUMBER_WORDS[count]} ${count === 1 ? 'cell' : 'cells'}`;
}

/** A run of the same move repeated: one reasoning step per straight stretch. */
export interface Run {
  readonly move: Move;
  /** index of the run's first move in the move list */
  readonly first: number;
  readonly length: number;
}

export function runsOf(moves: readonly Move[]): Run[] {
  const runs: Run[] = [];
  moves.forEach((move, index) => {
    const last = runs[runs.length - 1];
    if (last && last.move === move) runs[runs.length - 1] = { ...last, length: last.length + 1 };
    else runs.push({ move, first: index, length: 1 });
  });
  return runs;
}

/** "the agent moves right two cells" for the cells the run really moved (the lake edge may stop it). */
export function runSentence(run: Run, cellsMoved: number): string {
  if (cellsMoved === run.length) return `the agent moves ${run.move} ${cellsPhrase(cellsMoved)}`;
  return `the agent moves ${run.move} ${cellsPhrase(cellsMoved)} and then bumps into the edge`;
}

/** Passages written by cell, row by row: "row 1 : 1 right down , 2 down ." lists each passage
 * once (from its upper or left cell). */
function describeMaze(maze: Maze): string {
  const rows: string[] = [];
  for (let row = 0; row < maze.size; row++) {
    const cells: string[] = [];
    for (let col = 0; col < maze.size; col++) {
      const cell = row * maze.size + col;
      const exits = (['right', 'down'] as const).filter((move) => maze.isOpen(cell, move));
      if (exits.length > 0) cells.push(`${col + 1} ${exits.join(' ')}`);
    }
    rows.push(`row ${row + 1} : ${cells.length > 0 ? cells.join(' , ') : 'none'} .`);
  }
  return `a ${maze.size} by ${maze.size} maze with walls . passages : ${rows.join(' ')}`;
}

function describeLake(lake: Lake): string {
  return `a ${lake.size} by ${lake.size} frozen lake . holes : ${cellList(lake.size, lake.holes())} . the goal is at ${cellName(lake.size, lake.goal)} .`;
}

/** "the agent is at row 2 column 3 , in a hole ." */
export function lakeStateSentence(lake: Lake, cell: number): string {
  const where = lake.isHole(cell) ? 'in a hole' : cell === lake.goal ? 'on the goal' : 'on the ice';
  return `the agent is at ${cellName(lake.size, cell)} , ${where} .`;
}

/** The trail in the picture: the distinct cells the agent has visited, in order. */
function describeTrail(size: number, positions: readonly number[]): string {
  if (positions.length < 2) return '';
  return ` the path covers ${cellList(size, [...new Set(positions)])} .`;
}

/** Words every grid-world text may use (shared by the four vocabularies). */
export const GRID_WORDS: readonly string[] = [
  ...MOVES, ...NUMBER_WORDS.slice(1, MAX_GRID_SIZE), ...'123456789'.split(''),
  '.', ',', '?', ':', '(', ')',
  'a', 'agent', 'and', 'at', 'by', 'cell', 'cells', 'column', 'covers', 'dot', 'each', 'give', 'goal',
  'green', 'in', 'into', 'is', 'it', 'move', 'moves', 'on', 'or', 'path', 'reaches',
  'red', 'row', 'take', 'that', 'the', 'to', 'with', 'without',
];

/** Words of the maze pictures' captions. */
export const MAZE_WORDS: readonly string[] = ['maze', 'none', 'passages', 'walls'];

/** Words of the lake pictures' captions, states and rules. */
export const LAKE_WORDS: readonly string[] = [
  'are', 'bumps', 'dark', 'edge', 'frozen', 'hole', 'holes', 'ice', 'lake', 'leaves', 'off', 'place', 'then',
];

// ---------------------------------------------------------------------------------------------
// Drawing

const WALL_COLOR = COLORS.black;
const GRID_LINE_COLOR = COLORS.gray;
const ICE_COLOR = COLORS.lightBlue;
const HOLE_COLOR: RGB = [0.1, 0.12, 0.3];
const GOAL_COLOR = COLORS.green;
const AGENT_COLOR = COLORS.red;
const TRAIL_COLOR: RGB = [1, 0.8, 0.5];
const LABEL_COLOR = COLORS.black;
const LABEL_ON_AGENT_COLOR = COLORS.white;

/** Where the grid sits in the image: cell (r, c) spans [x0 + c*cellPx, x0 + (c+1)*cellPx] with
 * 1-px lines on both borders, so its interior is cellPx - 1 pixels wide. */
export interface GridLayout {
  readonly imageSize: number;
  readonly gridSize: number;
  readonly cellPx: number;
  readonly x0: number;
  readonly y0: number;
}

export function gridLayout(imageSize: number, gridSize: number): GridLayout {
  const cellPx = Math.floor((imageSize - 1) / gridSize);
  if (!Number.isInteger(imageSize) || cellPx < 4) {
    throw new RangeError(`grid-world: image size ${imageSize} is too small for a ${gridSize}x${gridSize} grid (need ${4 * gridSize + 1} px)`);
  }
  const offset = Math.floor((imageSize - (gridSize * cellPx + 1)) / 2);
  return { imageSize, gridSize, cellPx, x0: offset, y0: offset };
}

/** Top-left pixel of a cell's interior. */
function interiorOrigin(layout: GridLayout, cell: number): [number, number] {
  const row = Math.floor(cell / layout.gridSize), col = cell % layout.gridSize;
  return [layout.x0 + col * layout.cellPx + 1, layout.y0 + row * layout.cellPx + 1];
}

function fillInterior(canvas: Canvas, layout: GridLayout, cell: number, color: RGB): void {
  const [x, y] = interiorOrigin(layout, cell);
  canvas.fillRect(x, y, layout.cellPx - 1, layout.cellPx - 1, color);
}

function drawMaze(layout: GridLayout, maze: Maze): Canvas {
  const canvas = new Canvas(layout.imageSize, layout.imageSize, COLORS.white);
  const { cellPx, x0, y0, gridSize } = layout;
  const span = gridSize * cellPx + 1;
  canvas.fillRect(x0, y0 + gridSize * cellPx, span, 1, WALL_COLOR); // bottom border
  canvas.fillRect(x0 + gridSize * cellPx, y0, 1, span, WALL_COLOR); // right border
  for (let cell = 0; cell < gridSize * gridSize; cell++) {
    const x = x0 + (cell % gridSize) * cellPx, y = y0 + Math.floor(cell / gridSize) * cellPx;
    if (!maze.isOpen(cell, 'up')) canvas.fillRect(x, y, cellPx + 1, 1, WALL_COLOR);
    if (!maze.isOpen(cell, 'left')) canvas.fillRect(x, y, 1, cellPx + 1, WALL_COLOR);
  }
  return canvas;
}

function drawLake(layout: GridLayout, lake: Lake): Canvas {
  const canvas = new Canvas(layout.imageSize, layout.imageSize, COLORS.white);
  const span = layout.gridSize * layout.cellPx + 1;
  canvas.fillRect(layout.x0, layout.y0, span, span, GRID_LINE_COLOR);
  for (let cell = 0; cell < layout.gridSize * layout.gridSize; cell++) {
    fillInterior(canvas, layout, cell, lake.isHole(cell) ? HOLE_COLOR : cell === lake.goal ? GOAL_COLOR : ICE_COLOR);
  }
  return canvas;
}

/** The visited cells tinted and joined through the line between consecutive cells; cells
 * `keepsColour` names (the lake's goal and holes) keep their own colour. */
function drawTrail(canvas: Canvas, layout: GridLayout, positions: readonly number[], keepsColour: (cell: number) => boolean): void {
  const { cellPx } = layout;
  if (positions.length < 2) return; // no trail before the first move (the caption names none either)
  for (let i = 0; i < positions.length; i++) {
    const cell = positions[i];
    if (!keepsColour(cell)) fillInterior(canvas, layout, cell, TRAIL_COLOR);
    if (i === 0 || positions[i - 1] === cell) continue;
    const [x, y] = interiorOrigin(layout, Math.min(cell, positions[i - 1]));
    const horizontal = Math.abs(cell - positions[i - 1]) === 1; // vertical neighbours differ by gridSize >= 2
    if (horizontal) canvas.fillRect(x + cellPx - 1, y, 1, cellPx - 1, TRAIL_COLOR);
    else canvas.fillRect(x, y + cellPx - 1, cellPx - 1, 1, TRAIL_COLOR);
  }
}

function drawLetter(canvas: Canvas, layout: GridLayout, cell: number, letter: string, color: RGB): void {
  const interior = layout.cellPx - 1;
  const scale = Math.max(1, Math.floor(interior / 7));
  const [x, y] = interiorOrigin(layout, cell);
  canvas.text(x + Math.floor((interior - GLYPH_WIDTH * scale) / 2), y + Math.floor((interior - GLYPH_HEIGHT * scale) / 2), letter, color, scale);
}

function drawAgent(canvas: Canvas, layout: GridLayout, cell: number): void {
  const interior = layout.cellPx - 1;
  const [x, y] = interiorOrigin(layout, cell);
  canvas.fillCircle(x + interior / 2, y + interior / 2, interior * 0.45, AGENT_COLOR);
}

interface GridState {
  /** the world without agent or trail (drawMaze / drawLake, plus the goal) */
  readonly base: Canvas;
  readonly layout: GridLayout;
  /** the agent's cells so far; the last is where it stands */
  readonly positions: readonly number[];
  /** letters drawn on cells (maze-final's A-D), on top of the trail and the agent */
  readonly labels?: ReadonlyMap<number, string>;
  readonly keepsColour?: (cell: number) => boolean;
}

function renderState(state: GridState): Image {
  const canvas = state.base.clone();
  drawTrail(canvas, state.layout, state.positions, state.keepsColour ?? (() => false));
  const agent = state.positions[state.positions.length - 1];
  // on a lettered cell the agent fills the cell so the letter stays readable on it, in white
  if (state.labels?.has(agent)) fillInterior(canvas, state.layout, agent, AGENT_COLOR);
  else drawAgent(canvas, state.layout, agent);
  for (const [cell, letter] of state.labels ?? []) {
    drawLetter(canvas, state.layout, cell, letter, cell === agent ? LABEL_ON_AGENT_COLOR : LABEL_COLOR);
  }
  return canvas.toImage();
}

// ---------------------------------------------------------------------------------------------
// Steps

export interface RunStepParts {
  /** the sentence a person writes for this straight stretch */
  readonly text: string;
  /** caption of the picture after it */
  readonly caption: string;
  /** one sentence on the state after it (the text-only baseline) */
  readonly description: string;
}

/** One step per straight run of moves: the picture shows the trail up to the end of the run. */
export function stepsAlongRuns(
  moves: readonly Move[], positions: readonly number[],
  render: (positionsSoFar: readonly number[]) => Image,
  describe: (run: Run, positionsSoFar: readonly number[], isLast: boolean) => RunStepParts,
): { steps: Step[]; stepDescriptions: string[] } {
  const steps: Step[] = [];
  const stepDescriptions: string[] = [];
  const runs = runsOf(moves);
  runs.forEach((run, index) => {
    const soFar = positions.slice(0, run.first + run.length + 1);
    const parts = describe(run, soFar, index === runs.length - 1);
    steps.push({ text: parts.text, image: render(soFar), caption: parts.caption });
    stepDescriptions.push(parts.description);
  });
  return { steps, stepDescriptions };
}

/** How many cells a run really moved the agent (a lake edge may hold it in place). */
export function cellsMovedBy(run: Run, positions: readonly number[]): number {
  let moved = 0;
  for (let i = run.first; i < run.first + run.length; i++) if (positions[i + 1] !== positions[i]) moved++;
  return moved;
}

export function checkLevel(taskId: string, level: number, min: number): void {
  if (!Number.isInteger(level) || level < min || level > MAX_GRID_SIZE) {
    throw new RangeError(`${taskId}: level (grid side) must be an integer in [${min}, ${MAX_GRID_SIZE}], got ${level}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Scenes: one world drawn and described the same way for the input and every step

export interface Scene {
  /** the picture with the agent's trail so far (the last cell is where it stands) */
  render(positions: readonly number[]): Image;
  /** complete description of that picture */
  caption(positions: readonly number[]): string;
}

export interface MazeExtras {
  readonly goal?: number;
  /** maze-final's lettered cells: cell -> upper-case letter */
  readonly labels?: ReadonlyMap<number, string>;
}

export function mazeScene(maze: Maze, imageSize: number, extras: MazeExtras = {}): Scene {
  const layout = gridLayout(imageSize, maze.size);
  const base = drawMaze(layout, maze);
  if (extras.goal !== undefined) fillInterior(base, layout, extras.goal, GOAL_COLOR);
  let fixedText = describeMaze(maze);
  if (extras.goal !== undefined) fixedText += ` the goal is at ${cellName(maze.size, extras.goal)} .`;
  if (extras.labels) {
    const labelText = [...extras.labels].map(([cell, letter]) => `${letter.toLowerCase()} at ${cellName(maze.size, cell)}`);
    fixedText += ` labels : ${labelText.join(' , ')} .`;
  }
  return sceneOf(base, layout, fixedText, { labels: extras.labels, keepsColour: (cell) => cell === extras.goal });
}

export function lakeScene(lake: Lake, imageSize: number): Scene {
  const layout = gridLayout(imageSize, lake.size);
  return sceneOf(drawLake(layout, lake), layout, describeLake(lake), { keepsColour: (cell) => lake.isTerminal(cell) });
}

function sceneOf(base: Canvas, layout: GridLayout, fixedText: string, drawing: Pick<GridState, 'labels' | 'keepsColour'>): Scene {
  const size = layout.gridSize;
  return {
    render: (positions) => renderState({ base, layout, positions, ...drawing }),
    caption: (positions) =>
      `${fixedText} the agent is at ${cellName(size, positions[positions.length - 1])} .${describeTrail(size, positions)}`,
  };
}

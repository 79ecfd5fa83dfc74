// jigsaw: a picture (a four-colour background gradient with shapes that straddle the tile borders)
// is cut into k x k tiles, shuffled and numbered 1..k*k in reading order; the answer lists, for
// each place of the picture in reading order, the number of the tile that belongs there. The steps
// put the tiles back one place at a time. The gradient makes every tile different, so exactly
// one arrangement restores the picture.
import { Canvas, COLORS, GLYPH_HEIGHT, GLYPH_WIDTH, type RGB } from '../canvas.ts';
import { Rng } from '../random.ts';
import type { Example, GenerateOptions, Task } from '../types.ts';
import { pixelScale } from './cells.ts';
import { drawShape, SHAPE_KINDS, type ShapeKind } from './shapes.ts';

const MAX_K = 3;
/** shapes per picture, by k */
const SHAPE_COUNT: Record<number, readonly [number, number]> = { 2: [2, 3], 3: [4, 6] };
/** captions are read off a rendering at this tile size, whatever the output size, so that the
 * text does not depend on the image size */
const CAPTION_TILE_PX = 16;

/** Light background colours for the picture's four corners, by the word a caption uses: distinct
 * enough that the gradient alone tells where a tile without shapes belongs. */
const BACKGROUND_COLORS = {
  pink: [1, 0.6, 0.78], yellow: [1, 0.92, 0.35], cyan: [0.45, 0.9, 0.95], lime: [0.72, 1, 0.45], peach: [1, 0.75, 0.5], white: [1, 1, 1],
} as const satisfies Record<string, RGB>;
type BackgroundColor = keyof typeof BACKGROUND_COLORS;
const BACKGROUND_NAMES = Object.keys(BACKGROUND_COLORS) as BackgroundColor[];

/** Strong colours that stand out on every background above. */
const PIECE_COLORS = { red: COLORS.red, green: COLORS.green, blue: COLORS.blue, purple: COLORS.purple, brown: COLORS.brown, black: COLORS.black } as const satisfies Record<string, RGB>;
type PieceColor = keyof typeof PIECE_COLORS;
const PIECE_COLOR_NAMES = Object.keys(PIECE_COLORS) as PieceColor[];

/** A shape of the picture; centre and radius in tile units (the picture spans [0, k]^2). */
interface PictureShape { readonly kind: ShapeKind; readonly color: PieceColor; readonly x: number; readonly y: number; readonly r: number }

export interface JigsawPuzzle {
  readonly k: number;
  /** corner colours: top left, top right, bottom left, bottom right */
  readonly corners: readonly [BackgroundColor, BackgroundColor, BackgroundColor, BackgroundColor];
  readonly shapes: readonly PictureShape[];
  /** pieceAt[s]: the place (reading order) of the picture that the tile shown at slot s comes
   * from; tile numbers are slots + 1 */
  readonly pieceAt: readonly number[];
}

/** The number of the tile that belongs at picture place `place`. */
const tileFor = (puzzle: JigsawPuzzle, place: number): number => puzzle.pieceAt.indexOf(place) + 1;

/** The gold answer: for each place in reading order, the number of the tile that belongs there. */
export const solution = (puzzle: JigsawPuzzle): number[] => puzzle.pieceAt.map((_, place) => tileFor(puzzle, place));

export function makePuzzle(seed: number, k: number): JigsawPuzzle {
  const rng = new Rng(seed);
  const corners = rng.shuffle(BACKGROUND_NAMES).slice(0, 4) as unknown as JigsawPuzzle['corners'];
  // shapes sit on tile borders (corners where four tiles meet, or edge midpoints), so each is cut
  const anchors: [number, number][] = [];
  for (let i = 1; i < k; i++) {
    for (let j = 0; j < k; j++) anchors.push([i, j + 0.5], [j + 0.5, i]);
    for (let j = 1; j < k; j++) anchors.push([i, j]);
  }
  const [lo, hi] = SHAPE_COUNT[k];
  const shapes = rng.shuffle(anchors).slice(0, rng.int(lo, hi)).map(([x, y]) => ({
    kind: rng.pick(SHAPE_KINDS), color: rng.pick(PIECE_COLOR_NAMES),
    x: x + (rng.float() - 0.5) * 0.25, y: y + (rng.float() - 0.5) * 0.25, r: 0.3 + rng.float() * 0.15,
  }));
  const places = Array.from({ length: k * k }, (_, place) => place);
  let pieceAt = rng.shuffle(places);
  while (pieceAt.every((place, slot) => place === slot)) pieceAt = rng.shuffle(places);
  return { k, corners, shapes, pieceAt };
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** The whole picture, `tile` pixels per tile. */
function renderPicture(puzzle: JigsawPuzzle, tile: number): Canvas {
  const side = puzzle.k * tile;
  const canvas = new Canvas(side, side);
  const [tl, tr, bl, br] = puzzle.corners.map((name) => BACKGROUND_COLORS[name]);
  const data = canvas.data;
  for (let y = 0; y < side; y++) {
    const v = (y + 0.5) / side;
    for (let c = 0; c < 3; c++) {
      // bilinear: interpolate down the left and right edges, then across the row
      const left = (1 - v) * tl[c] + v * bl[c], right = (1 - v) * tr[c] + v * br[c];
      for (let x = 0, i = y * side * 3 + c; x < side; x++, i += 3) data[i] = left + ((x + 0.5) / side) * (right - left);
    }
  }
  for (const shape of puzzle.shapes) drawShape(canvas, shape.kind, PIECE_COLORS[shape.color], shape.x * tile, shape.y * tile, shape.r * tile);
  return canvas;
}

/** Copies the `tile`-pixel square of `from` at (fx, fy) to (tx, ty) of `to`. */
function copyTile(from: Canvas, fx: number, fy: number, to: Canvas, tx: number, ty: number, tile: number): void {
  for (let row = 0; row < tile; row++) {
    const start = ((fy + row) * from.width + fx) * 3;
    to.data.set(from.data.subarray(start, start + tile * 3), ((ty + row) * to.width + tx) * 3);
  }
}

export interface JigsawLayout { readonly tile: number; readonly gap: number; readonly origin: number }

/** Where slots sit in every image: k x k tiles with gaps, centred. */
export function layout(k: number, size: number): JigsawLayout {
  const gap = 2 * pixelScale(size);
  const tile = Math.floor((size - (k - 1) * gap) / k);
  return { tile, gap, origin: Math.floor((size - k * tile - (k - 1) * gap) / 2) };
}

const EMPTY_SLOT = COLORS.lightGray;

/** Draws slot `slot` of `canvas`: the tile from picture place `place`, labelled with its tile
 * number, or an empty slot (null). */
function drawSlot(canvas: Canvas, puzzle: JigsawPuzzle, picture: Canvas, slot: number, place: number | null): void {
  const { k } = puzzle;
  const { tile, gap, origin } = layout(k, canvas.width);
  const scale = pixelScale(canvas.width);
  const x = origin + (slot % k) * (tile + gap), y = origin + Math.floor(slot / k) * (tile + gap);
  if (place === null) { canvas.fillRect(x, y, tile, tile, EMPTY_SLOT); return; }
  copyTile(picture, (place % k) * tile, Math.floor(place / k) * tile, canvas, x, y, tile);
  canvas.fillRect(x, y, (GLYPH_WIDTH + 2) * scale, (GLYPH_HEIGHT + 2) * scale, COLORS.white);
  canvas.text(x + scale, y + scale, String(tileFor(puzzle, place)), COLORS.black, scale);
}

// ---------------------------------------------------------------------------------------------
// Text

const PLACE_NAMES: Record<number, readonly string[]> = {
  2: ['top left', 'top right', 'bottom left', 'bottom right'],
  3: ['top left', 'top middle', 'top right', 'middle left', 'centre', 'middle right', 'bottom left', 'bottom middle', 'bottom right'],
};

/** What the tile from picture place `place` shows, e.g. "pieces of a red circle on a pink background". */
function describePiece(puzzle: JigsawPuzzle, shapesByPlace: readonly Set<number>[], place: number): string {
  const { k, corners } = puzzle;
  const column = place % k, row = Math.floor(place / k);
  // the background is the corner colour(s) nearest the tile: one for a corner tile, two along an
  // edge, all four in the middle of a 3 x 3 picture
  const near = (i: number) => (2 * i + 1 < k ? [0] : 2 * i + 1 > k ? [1] : [0, 1]);
  const background = near(row).flatMap((r) => near(column).map((c) => corners[r * 2 + c]));
  const ground = background.length === 4 ? 'a mixed background' : `a ${background.join(' and ')} background`;
  const pieces = [...shapesByPlace[place]].sort((a, b) => a - b).map((i) => `a ${puzzle.shapes[i].color} ${puzzle.shapes[i].kind}`);
  return pieces.length === 0 ? `only ${ground}` : `pieces of ${pieces.join(' and ')} on ${ground}`;
}

/** For each picture place, the shapes that show in it (read off an id rendering). */
function shapesByPlace(puzzle: JigsawPuzzle): Set<number>[] {
  const { k } = puzzle, side = k * CAPTION_TILE_PX;
  const ids = new Canvas(side, side, [0, 0, 0]);
  puzzle.shapes.forEach((shape, i) => drawShape(ids, shape.kind, [i + 1, 0, 0], shape.x * CAPTION_TILE_PX, shape.y * CAPTION_TILE_PX, shape.r * CAPTION_TILE_PX));
  const found = Array.from({ length: k * k }, () => new Set<number>());
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const id = ids.data[(y * side + x) * 3];
      if (id > 0) found[Math.floor(y / CAPTION_TILE_PX) * k + Math.floor(x / CAPTION_TILE_PX)].add(id - 1);
    }
  }
  return found;
}

function caption(puzzle: JigsawPuzzle, byPlace: readonly Set<number>[], shown: readonly (number | null)[]): string {
  const names = PLACE_NAMES[puzzle.k];
  const slots = shown.map((place, slot) => (place === null ? `${names[slot]} : empty`
    : `${names[slot]} : tile ${tileFor(puzzle, place)} , ${describePiece(puzzle, byPlace, place)}`));
  return `a ${puzzle.k} by ${puzzle.k} board . ${slots.join(' . ')} .`;
}

// ---------------------------------------------------------------------------------------------

function generate(seed: number, level: number, options: GenerateOptions = {}): Example {
  const k = level;
  if (!Number.isInteger(k) || k < 2 || k > MAX_K) throw new RangeError(`jigsaw: level is the grid side k, 2..${MAX_K}; got ${level}`);
  const size = options.size ?? 64;
  const puzzle = makePuzzle(seed, k);
  const picture = renderPicture(puzzle, layout(k, size).tile);
  const byPlace = shapesByPlace(puzzle);
  const tiles = solution(puzzle);
  const names = PLACE_NAMES[k];

  const input = new Canvas(size, size);
  puzzle.pieceAt.forEach((place, slot) => drawSlot(input, puzzle, picture, slot, place));
  // the board fills up one place per step, so each step draws only the tile it places
  const board = new Canvas(size, size);
  tiles.forEach((_, slot) => drawSlot(board, puzzle, picture, slot, null));
  const steps = tiles.map((tile, place) => {
    drawSlot(board, puzzle, picture, place, place);
    return {
      text: `tile ${tile} goes in the ${names[place]} .`,
      image: board.toImage(),
      caption: caption(puzzle, byPlace, tiles.map((_, p) => (p <= place ? p : null))),
    };
  });
  const answer = tiles.join(' ');
  const digits = answer.replace(/ /g, '');

  return {
    taskId: jigsaw.id,
    seed,
    level,
    question: `a picture was cut into ${k * k} tiles , which were shuffled and numbered 1 to ${k * k} . put the picture back together : `
      + `for each place in reading order ( left to right , then top to bottom ) , which tile goes there ? `
      + `answer with the ${k * k} tile numbers separated by spaces .`,
    image: input.toImage(),
    caption: caption(puzzle, byPlace, puzzle.pieceAt),
    steps,
    answer,
    // tile numbers are single digits, so "3 1 4 2", "3, 1, 4, 2" and "3142" all read the same
    verify: (answerText: string) => answerText.replace(/[\s,]+|\.\s*$/g, '') === digits,
    stepDescriptions: tiles.map((_, place) => `placed so far in reading order : ${tiles.slice(0, place + 1).join(' ')} .`),
  };
}

const VOCABULARY: readonly string[] = [
  ...'0123456789', '.', ',', '?', ':', '(', ')',
  ...SHAPE_KINDS, ...BACKGROUND_NAMES, ...PIECE_COLOR_NAMES, ...Object.values(PLACE_NAMES).flat().flatMap((name) => name.split(' ')),
  ...('a picture was cut into tiles which were shuffled and numbered to put the back together for each place in reading order '
    + 'left right then top bottom tile goes there answer with numbers separated by spaces board empty pieces of on background '
    + 'mixed only so far placed').split(' '),
];

export const jigsaw: Task = {
  id: 'jigsaw',
  description: 'a picture cut into k x k shuffled, numbered tiles; give the tile for each place to restore it (level = k)',
  levels: { train: [2], ood: [3] },
  generate,
  vocabulary: () => VOCABULARY,
};

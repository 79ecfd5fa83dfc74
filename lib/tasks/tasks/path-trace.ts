// path-trace: n curves of one dark colour join the starts 1..n (left edge, top to bottom) to the
// ends a..n (right edge, top to bottom) and cross on the way; the question is where each start
// ends. The curves are built as a braid: they pass through n slots at a few columns, and in the gap
// between two columns neighbouring curves may swap slots, which draws one clean X crossing. So every
// crossing is transversal (no tangencies, no three curves through one point) and a person can follow
// a curve through it at 64x64. Step i shows curve i in red, with its start and end labels.
import { Canvas, COLORS, GLYPH_HEIGHT, GLYPH_WIDTH, type RGB } from '../canvas.ts';
import { Rng } from '../random.ts';
import type { Example, GenerateOptions, Image, Step, Task } from '../types.ts';

const MAX_CURVES = 4;
const END_LETTERS = 'abcd';
const CURVE_COLOR = COLORS.darkGray;
const HIGHLIGHT_COLOR = COLORS.red;
const LABEL_COLOR = COLORS.black;
/** chance that a free pair of neighbouring curves swaps in a gap: about one crossing per gap */
const SWAP_PROBABILITY = 0.4;

/** slotOf[column][curve]: the slot (0 = top) that curve passes at that column; column 0 is the starts. */
type Braid = readonly (readonly number[])[];

/** Random adjacent swaps, gap by gap, redrawn until there is at least one crossing and the curves
 * end in the slots `endSlots` (drawn uniformly first, so no answer is favoured; n + 1 gaps can
 * realise every permutation, and rejection costs about 2, 7 and 45 tries for n = 2, 3, 4). */
function makeBraid(rng: Rng, endSlots: readonly number[]): Braid {
  const curveCount = endSlots.length, gapCount = curveCount + 1;
  for (;;) {
    const columns: number[][] = [Array.from({ length: curveCount }, (_, curve) => curve)];
    let crossingCount = 0;
    for (let gap = 0; gap < gapCount; gap++) {
      const slotOfCurve = columns[columns.length - 1];
      const curveInSlot = invert(slotOfCurve);
      const next = slotOfCurve.slice();
      for (let slot = 0; slot < curveCount - 1;) {
        if (rng.bool(SWAP_PROBABILITY)) {
          next[curveInSlot[slot]] = slot + 1;
          next[curveInSlot[slot + 1]] = slot;
          crossingCount++;
          slot += 2; // a curve crosses at most one other per gap
        } else {
          slot++;
        }
      }
      columns.push(next);
    }
    if (crossingCount > 0 && columns[gapCount].every((slot, curve) => slot === endSlots[curve])) return columns;
  }
}

function invert(permutation: readonly number[]): number[] {
  const inverse = new Array<number>(permutation.length);
  permutation.forEach((value, index) => { inverse[value] = index; });
  return inverse;
}

/** For each curve, the curves it crosses, left to right. */
function crossingsOf(braid: Braid): number[][] {
  const curveCount = braid[0].length;
  const crossed: number[][] = Array.from({ length: curveCount }, () => []);
  for (let column = 1; column < braid.length; column++) {
    const before = braid[column - 1], after = braid[column];
    for (let curve = 0; curve < curveCount; curve++) {
      if (after[curve] === before[curve]) continue;
      crossed[curve].push(before.indexOf(after[curve]));
    }
  }
  return crossed;
}

interface Layout {
  readonly size: number;
  readonly labelScale: number;
  readonly thickness: number;
  /** x of the curves' first and last points; labels sit outside [curveLeft, curveRight] */
  readonly curveLeft: number;
  readonly curveRight: number;
  readonly slotY: readonly number[];
}

function layoutFor(size: number, curveCount: number): Layout {
  const unit = size / 64;
  const labelScale = Math.max(1, Math.round(unit));
  const margin = Math.max(1, Math.round(unit));
  const curveLeft = margin + GLYPH_WIDTH * labelScale + 2 * margin;
  const top = 2 * margin, span = size - 2 * top;
  return {
    size, labelScale, thickness: Math.max(1, Math.round(unit)), curveLeft, curveRight: size - 1 - curveLeft,
    slotY: Array.from({ length: curveCount }, (_, slot) => Math.round(top + ((slot + 0.5) * span) / curveCount)),
  };
}

/** Polyline vertices per curve: the slot heights at evenly spaced columns, with a small vertical
 * jitter at inner columns so the curves look hand drawn; end points stay level with the labels. */
function curvePoints(rng: Rng, braid: Braid, layout: Layout): [number, number][][] {
  const gapCount = braid.length - 1;
  const jitter = Math.max(1, Math.round((2 * layout.size) / 64));
  const curveCount = braid[0].length;
  return Array.from({ length: curveCount }, (_, curve) => braid.map((slots, column) => {
    const x = Math.round(layout.curveLeft + (column * (layout.curveRight - layout.curveLeft)) / gapCount);
    const inner = column > 0 && column < gapCount;
    return [x, layout.slotY[slots[curve]] + (inner ? rng.int(-jitter, jitter) : 0)];
  }));
}

function drawLabel(canvas: Canvas, layout: Layout, label: string, side: 'left' | 'right', slot: number, color: RGB): void {
  const glyphWidth = GLYPH_WIDTH * layout.labelScale;
  const x = side === 'left' ? layout.curveLeft - 2 * layout.labelScale - glyphWidth : layout.curveRight + 2 * layout.labelScale + 1;
  canvas.text(x, layout.slotY[slot] - Math.floor((GLYPH_HEIGHT * layout.labelScale) / 2), label, color, layout.labelScale);
}

function drawCurve(canvas: Canvas, points: readonly [number, number][], color: RGB, thickness: number): void {
  for (let i = 1; i < points.length; i++) canvas.line(points[i - 1][0], points[i - 1][1], points[i][0], points[i][1], color, thickness);
}

const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** Parses `b a c`, `bac`, `1 b 2 a 3 c` or `1: b, 2: a, 3: c` into the end letter of each start. */
function parseEnds(text: string, curveCount: number): string[] | null {
  const tokens = text.toLowerCase().match(/[a-z]|[0-9]+/g) ?? [];
  if (!tokens.some((token) => /[0-9]/.test(token))) return tokens.length === curveCount ? tokens : null;
  if (tokens.length !== 2 * curveCount) return null;
  const ends = new Array<string>(curveCount);
  for (let i = 0; i < tokens.length; i += 2) {
    const start = Number(tokens[i]), letter = tokens[i + 1];
    if (!Number.isInteger(start) || start < 1 || start > curveCount || ends[start - 1] !== undefined || !/[a-z]/.test(letter)) return null;
    ends[start - 1] = letter;
  }
  return ends;
}

function generate(seed: number, level: number, options: GenerateOptions = {}): Example {
  const curveCount = level;
  if (!Number.isInteger(curveCount) || curveCount < 2 || curveCount > MAX_CURVES) {
    throw new RangeError(`path-trace: level is the number of curves, 2..${MAX_CURVES}; got ${level}`);
  }
  const rng = new Rng(seed);
  const layout = layoutFor(options.size ?? 64, curveCount);
  const braid = makeBraid(rng, rng.shuffle(Array.from({ length: curveCount }, (_, slot) => slot)));
  const points = curvePoints(rng, braid, layout);
  const endSlot = braid[braid.length - 1];
  const endLetter = (curve: number) => END_LETTERS[endSlot[curve]];
  const crossed = crossingsOf(braid);

  const picture = (highlighted: number | null): Image => {
    const canvas = new Canvas(layout.size, layout.size);
    for (let curve = 0; curve < curveCount; curve++) if (curve !== highlighted) drawCurve(canvas, points[curve], CURVE_COLOR, layout.thickness);
    for (let slot = 0; slot < curveCount; slot++) {
      drawLabel(canvas, layout, String(slot + 1), 'left', slot, slot === highlighted ? HIGHLIGHT_COLOR : LABEL_COLOR);
      const endsHighlighted = highlighted !== null && endSlot[highlighted] === slot;
      drawLabel(canvas, layout, END_LETTERS[slot], 'right', slot, endsHighlighted ? HIGHLIGHT_COLOR : LABEL_COLOR);
    }
    // the highlighted curve goes on top, so it stays unbroken where it crosses the others
    if (highlighted !== null) drawCurve(canvas, points[highlighted], HIGHLIGHT_COLOR, layout.thickness);
    return canvas.toImage();
  };

  const route = (curve: number): string => {
    const others = crossed[curve].map((other) => other + 1);
    const crossing = others.length === 0 ? 'crosses no curve' : `crosses ${others.join(' then ')}`;
    return `the curve from ${curve + 1} ${crossing} and ends at ${endLetter(curve)} .`;
  };
  const lastLetter = END_LETTERS[curveCount - 1];
  const sceneCaption = `${count(curveCount, 'dark curve')} join the numbers 1 to ${curveCount} on the left , from top to bottom , `
    + `to the letters a to ${lastLetter} on the right , from top to bottom . ${Array.from({ length: curveCount }, (_, curve) => route(curve)).join(' ')}`;

  const steps: Step[] = Array.from({ length: curveCount }, (_, curve) => ({
    text: `follow the curve from ${curve + 1} .`,
    image: picture(curve),
    caption: `${sceneCaption} the curve from ${curve + 1} is red , and so are ${curve + 1} and ${endLetter(curve)} .`,
  }));
  const gold = Array.from({ length: curveCount }, (_, curve) => endLetter(curve));

  return {
    taskId: pathTrace.id,
    seed,
    level,
    question: `each curve joins a number on the left to a letter on the right . `
      + `for 1 to ${curveCount} in order , at which letter does its curve end ? answer with ${curveCount} letters .`,
    image: picture(null),
    caption: sceneCaption,
    steps,
    answer: gold.join(' '),
    verify(answerText: string): boolean {
      const ends = parseEnds(answerText, curveCount);
      return ends !== null && ends.every((letter, start) => letter === gold[start]);
    },
    stepDescriptions: Array.from({ length: curveCount }, (_, curve) => route(curve)),
  };
}

const VOCABULARY: readonly string[] = [
  ...'0123456789', ...END_LETTERS, '.', ',', '?',
  ...'each curve curves joins join a number numbers on the left to letter letters right for in order at which does its end ends answer with dark from top bottom crosses no then and is red so are follow'.split(' '),
];

export const pathTrace: Task = {
  id: 'path-trace',
  description: 'crossing curves join starts 1..n to ends a..n; give the end letter of each start (level = n)',
  levels: { train: [2, 3], ood: [4] },
  generate,
  vocabulary: () => VOCABULARY,
};

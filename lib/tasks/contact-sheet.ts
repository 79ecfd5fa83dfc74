// One picture of a whole example for people: the input image and every step image side by side,
// each labelled (IN, 1, 2, ...), scaled up for viewing.
import { Canvas, COLORS, GLYPH_HEIGHT } from './canvas.ts';
import type { Example, Image } from './types.ts';

export interface ContactSheetOptions {
  /** pixel scale of the whole sheet (default 2) */
  readonly scale?: number;
  /** most images per row before wrapping (default 6) */
  readonly columns?: number;
}

const GAP = 4;
const LABEL_HEIGHT = GLYPH_HEIGHT + 2;

export function renderContactSheet(example: Example, options: ContactSheetOptions = {}): Image {
  const scale = options.scale ?? 2;
  const columns = options.columns ?? 6;
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`renderContactSheet: scale must be a positive integer, got ${scale}`);
  if (!Number.isInteger(columns) || columns < 1) throw new RangeError(`renderContactSheet: columns must be a positive integer, got ${columns}`);
  const panels = [{ label: 'IN', image: example.image }, ...example.steps.map((step, i) => ({ label: String(i + 1), image: step.image }))];
  const cellWidth = Math.max(...panels.map((p) => p.image.width));
  const cellHeight = Math.max(...panels.map((p) => p.image.height)) + LABEL_HEIGHT;
  const cols = Math.min(columns, panels.length), rows = Math.ceil(panels.length / cols);
  const sheet = new Canvas(GAP + cols * (cellWidth + GAP), GAP + rows * (cellHeight + GAP), COLORS.lightGray);
  panels.forEach(({ label, image }, i) => {
    const x = GAP + (i % cols) * (cellWidth + GAP), y = GAP + Math.floor(i / cols) * (cellHeight + GAP);
    sheet.text(x, y, label, COLORS.black);
    blit(sheet, image, x, y + LABEL_HEIGHT);
  });
  return upscale(sheet, scale);
}

/** Copies `image` into `target` with its top-left corner at (x, y). */
function blit(target: Canvas, image: Image, x: number, y: number): void {
  for (let row = 0; row < image.height; row++) {
    const from = row * image.width * 3;
    target.data.set(image.data.subarray(from, from + image.width * 3), ((y + row) * target.width + x) * 3);
  }
}

/** Nearest-neighbour enlargement by an integer factor. */
function upscale(image: Image, factor: number): Image {
  if (factor === 1) return { width: image.width, height: image.height, data: image.data.slice() };
  const width = image.width * factor, height = image.height * factor;
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = ((Math.floor(y / factor) * image.width) + Math.floor(x / factor)) * 3, to = (y * width + x) * 3;
      data[to] = image.data[from]; data[to + 1] = image.data[from + 1]; data[to + 2] = image.data[from + 2];
    }
  }
  return { width, height, data };
}

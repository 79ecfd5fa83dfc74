// Small filled shapes (circle, square, triangle, diamond, cross) for the task renderers, each
// drawn to fit a disc of radius r so that different kinds read as the same size. Shared by the
// jigsaw and spot-diff tasks (and open to any other task that needs named shapes).
import { COLORS, type Canvas, type RGB } from '../canvas.ts';

export const SHAPE_KINDS = ['circle', 'square', 'triangle', 'diamond', 'cross'] as const;
export type ShapeKind = (typeof SHAPE_KINDS)[number];

/** Saturated colours that stand out on white and on pale backgrounds, by the word a caption uses. */
export const SHAPE_COLORS = {
  red: COLORS.red, green: COLORS.green, blue: COLORS.blue, orange: COLORS.orange, purple: COLORS.purple, black: COLORS.black,
} as const satisfies Record<string, RGB>;
export type ShapeColor = keyof typeof SHAPE_COLORS;
export const SHAPE_COLOR_NAMES = Object.keys(SHAPE_COLORS) as ShapeColor[];

/** Draws a filled `kind` centred at (cx, cy) inside the disc of radius r. The centre is snapped
 * to a pixel centre so that small shapes come out symmetric with a one-pixel tip (diamond,
 * triangle). */
export function drawShape(canvas: Canvas, kind: ShapeKind, color: RGB, cx: number, cy: number, r: number): void {
  cx = Math.floor(cx) + 0.5; cy = Math.floor(cy) + 0.5;
  switch (kind) {
    case 'circle': {
      // a radius in [n, hypot(n, 1)) leaves a one-pixel nub at each end of the axes (and a small
      // circle that reads as a square); grow it just enough to take the pixels beside the nubs
      const n = Math.floor(r);
      canvas.fillCircle(cx, cy, r < Math.hypot(n, 1) ? Math.hypot(n, 1) + 1e-6 : r, color);
      break;
    }
    case 'square': {
      const half = r * 0.8;
      canvas.fillRect(cx - half, cy - half, 2 * half, 2 * half, color);
      break;
    }
    case 'triangle':
      canvas.fillPolygon([[cx, cy - r], [cx + r, cy + r * 0.8], [cx - r, cy + r * 0.8]], color);
      break;
    case 'diamond':
      canvas.fillPolygon([[cx, cy - r - 0.5], [cx + r + 0.5, cy], [cx, cy + r + 0.5], [cx - r - 0.5, cy]], color);
      break;
    case 'cross': {
      const arm = Math.max(1, r * 0.7);
      canvas.fillRect(cx - r, cy - arm / 2, 2 * r, arm, color);
      canvas.fillRect(cx - arm / 2, cy - r, arm, 2 * r, color);
      break;
    }
  }
}

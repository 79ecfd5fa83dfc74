// A tiny task used to test the infrastructure (traces, tokenizer, splits, registry) without
// depending on the real tasks: a dot walks along a strip of `level` cells.
import { Canvas, COLORS } from '../../lib/tasks/canvas.ts';
import { Rng } from '../../lib/tasks/random.ts';
import type { Example, GenerateOptions, Image, Task } from '../../lib/tasks/types.ts';

function render(cells: number, dot: number, size: number): Image {
  const canvas = new Canvas(size, size);
  const cell = Math.floor(size / cells);
  for (let i = 0; i < cells; i++) canvas.strokeRect(i * cell, 0, cell, cell, COLORS.black);
  canvas.fillCircle(dot * cell + cell / 2, cell / 2, cell / 3, COLORS.red);
  return canvas.toImage();
}

export const dotWalk: Task = {
  id: 'dot-walk',
  description: 'a dot walks along a strip of cells; which cell is it in at the end?',
  levels: { train: [3, 4], ood: [6] },
  generate(seed: number, level: number, options: GenerateOptions = {}): Example {
    const size = options.size ?? 64;
    const rng = new Rng(seed);
    let dot = 0;
    const moves: ('left' | 'right')[] = [];
    for (let i = rng.int(3, 8); i > 0; i--) { // enough distinct move lists for every split
      const move = dot === 0 ? 'right' : dot === level - 1 ? 'left' : rng.pick(['left', 'right'] as const);
      dot += move === 'right' ? 1 : -1;
      moves.push(move);
    }
    const positions = moves.reduce<number[]>((acc, move) => [...acc, acc[acc.length - 1] + (move === 'right' ? 1 : -1)], [0]).slice(1);
    const answer = String(positions[positions.length - 1] + 1);
    return {
      taskId: 'dot-walk', seed, level,
      question: `the dot starts in cell 1 of ${level}. after the moves ${moves.join(' ')}, which cell is it in?`,
      image: render(level, 0, size),
      caption: `a strip of ${level} cells, the dot in cell 1.`,
      steps: positions.map((p, i) => ({ text: `move ${moves[i]}.`, image: render(level, p, size), caption: `a strip of ${level} cells, the dot in cell ${p + 1}.` })),
      stepDescriptions: positions.map((p) => `the dot is in cell ${p + 1}.`),
      answer,
      verify: (text: string) => text.trim().toLowerCase() === answer,
    };
  },
  vocabulary: () => ['the', 'dot', 'starts', 'in', 'cell', 'of', 'after', 'moves', 'move', 'left', 'right', 'which', 'is', 'it', 'at', 'a', 'strip', 'cells'],
};
